"""Regenerate the built-in administrative structures in simulator/data/ from vietnamadminunits.

Run once, offline from the simulator (the package is not a runtime dependency):

    python -m venv /tmp/vau && /tmp/vau/bin/pip install vietnamadminunits==1.0.4
    /tmp/vau/bin/python scripts/build_datasets.py

Provinces, districts and communes come from vietnamadminunits (MIT licence; its SQLite
``dataset.db``: ``admin_units`` for the 34 provinces and 3,321 communes from 1 July 2025,
``admin_units_legacy`` for the 63 provinces, 696 districts and 10,035 communes as of early 2025,
before the merger) and its ``converter_2025.json`` (which old provinces formed each new one).
The central bodies are entered here from docs/sources.md section 9, with their sources; the
departments of a province from the decrees named below.
"""
from __future__ import annotations

import csv
import json
import unicodedata
from collections import defaultdict
from importlib import metadata
from pathlib import Path

from vietnamadminunits.database import query

DATA = Path(__file__).resolve().parents[1] / "simulator" / "data"
PACKAGE = "vietnamadminunits"


def slug(text: str) -> str:
    """ASCII identifier from a Vietnamese name: 'Bộ Tài chính' -> 'bo-tai-chinh'."""
    text = text.replace("Đ", "D").replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


# Central bodies, 2016-2021 term (the 2020 baseline): 18 ministries + 4 ministerial-level agencies + 8 government
# agencies [C] (sggpnews.org.vn 93468; cocc.edu.vn), plus a placeholder for the unidentified 31st central node on the
# axis (ictvietnam: 31 central nodes, ~Apr 2020). successor: the 2025 body that took over (Resolution 176/2025/QH15
# and the mergers listed in docs/sources.md section 9 [C]; the placement of the government agencies marked uncertain).
CENTRAL_2020 = [
    # name, kind, successor (name in 2025), uncertain
    ("Bộ Quốc phòng", "ministry", "Bộ Quốc phòng", ""),
    ("Bộ Công an", "ministry", "Bộ Công an", ""),
    ("Bộ Ngoại giao", "ministry", "Bộ Ngoại giao", ""),
    ("Bộ Nội vụ", "ministry", "Bộ Nội vụ", ""),
    ("Bộ Tư pháp", "ministry", "Bộ Tư pháp", ""),
    ("Bộ Kế hoạch và Đầu tư", "ministry", "Bộ Tài chính", ""),
    ("Bộ Tài chính", "ministry", "Bộ Tài chính", ""),
    ("Bộ Công Thương", "ministry", "Bộ Công Thương", ""),
    ("Bộ Nông nghiệp và Phát triển nông thôn", "ministry", "Bộ Nông nghiệp và Môi trường", ""),
    ("Bộ Giao thông vận tải", "ministry", "Bộ Xây dựng", ""),
    ("Bộ Xây dựng", "ministry", "Bộ Xây dựng", ""),
    ("Bộ Tài nguyên và Môi trường", "ministry", "Bộ Nông nghiệp và Môi trường", ""),
    ("Bộ Thông tin và Truyền thông", "ministry", "Bộ Khoa học và Công nghệ", ""),
    ("Bộ Lao động - Thương binh và Xã hội", "ministry", "Bộ Nội vụ", ""),
    ("Bộ Văn hóa, Thể thao và Du lịch", "ministry", "Bộ Văn hóa, Thể thao và Du lịch", ""),
    ("Bộ Khoa học và Công nghệ", "ministry", "Bộ Khoa học và Công nghệ", ""),
    ("Bộ Giáo dục và Đào tạo", "ministry", "Bộ Giáo dục và Đào tạo", ""),
    ("Bộ Y tế", "ministry", "Bộ Y tế", ""),
    ("Ủy ban Dân tộc", "ministerial-agency", "Bộ Dân tộc và Tôn giáo", ""),
    ("Ngân hàng Nhà nước Việt Nam", "ministerial-agency", "Ngân hàng Nhà nước Việt Nam", ""),
    ("Thanh tra Chính phủ", "ministerial-agency", "Thanh tra Chính phủ", ""),
    ("Văn phòng Chính phủ", "ministerial-agency", "Văn phòng Chính phủ", ""),
    ("Đài Truyền hình Việt Nam", "government-agency", "Đài Truyền hình Việt Nam", ""),
    ("Đài Tiếng nói Việt Nam", "government-agency", "Đài Tiếng nói Việt Nam", ""),
    ("Thông tấn xã Việt Nam", "government-agency", "Thông tấn xã Việt Nam", ""),
    ("Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "government-agency", "Viện Hàn lâm Khoa học và Công nghệ Việt Nam", ""),
    ("Viện Hàn lâm Khoa học xã hội Việt Nam", "government-agency", "Viện Hàn lâm Khoa học xã hội Việt Nam", ""),
    ("Bảo hiểm xã hội Việt Nam", "government-agency", "Bộ Tài chính", "successor: placed under the Ministry of Finance in 2025 (no source found)"),
    ("Ban Quản lý Lăng Chủ tịch Hồ Chí Minh", "government-agency", "Bộ Quốc phòng", "successor: placed under the Ministry of Defence in 2025 (no source found)"),
    ("Ủy ban Quản lý vốn nhà nước tại doanh nghiệp", "government-agency", "Bộ Tài chính", ""),
    ("Cơ quan trung ương thứ 31 (chưa xác định)", "central-other", "Văn phòng Chính phủ",
     "placeholder: the 31st central node of 2019-2020 is not identified in any source found"),
]

# From 1 March 2025 (Resolution 176/2025/QH15): 14 ministries + 3 ministerial-level agencies + 5 government
# agencies [C] (vietnamnews 1692425; laodong 1469868); the five government agencies per cocc.edu.vn's reading.
CENTRAL_2025 = [
    ("Bộ Quốc phòng", "ministry", ""), ("Bộ Công an", "ministry", ""), ("Bộ Ngoại giao", "ministry", ""),
    ("Bộ Nội vụ", "ministry", ""), ("Bộ Tư pháp", "ministry", ""), ("Bộ Tài chính", "ministry", ""),
    ("Bộ Công Thương", "ministry", ""), ("Bộ Nông nghiệp và Môi trường", "ministry", ""),
    ("Bộ Xây dựng", "ministry", ""), ("Bộ Văn hóa, Thể thao và Du lịch", "ministry", ""),
    ("Bộ Khoa học và Công nghệ", "ministry", ""), ("Bộ Giáo dục và Đào tạo", "ministry", ""),
    ("Bộ Y tế", "ministry", ""), ("Bộ Dân tộc và Tôn giáo", "ministry", ""),
    ("Ngân hàng Nhà nước Việt Nam", "ministerial-agency", ""), ("Thanh tra Chính phủ", "ministerial-agency", ""),
    ("Văn phòng Chính phủ", "ministerial-agency", ""),
    ("Đài Truyền hình Việt Nam", "government-agency", "the exact five government agencies: cocc.edu.vn's reading"),
    ("Đài Tiếng nói Việt Nam", "government-agency", "the exact five government agencies: cocc.edu.vn's reading"),
    ("Thông tấn xã Việt Nam", "government-agency", "the exact five government agencies: cocc.edu.vn's reading"),
    ("Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "government-agency", "the exact five government agencies: cocc.edu.vn's reading"),
    ("Viện Hàn lâm Khoa học xã hội Việt Nam", "government-agency", "the exact five government agencies: cocc.edu.vn's reading"),
]

# Specialised agencies of a provincial People's Committee. 2020: Decree 24/2014/ND-CP (17 common to every
# province; a few provinces have more, e.g. Sở Ngoại vụ, Ban Dân tộc, which are left out). 2025: Decree
# 45/2025/ND-CP after the merger of departments (13 common ones, as recalled: to be checked against the decree).
DEPARTMENTS = {
    "2020": ["Văn phòng Ủy ban nhân dân", "Sở Nội vụ", "Sở Tư pháp", "Sở Kế hoạch và Đầu tư", "Sở Tài chính",
             "Sở Công Thương", "Sở Nông nghiệp và Phát triển nông thôn", "Sở Giao thông vận tải", "Sở Xây dựng",
             "Sở Tài nguyên và Môi trường", "Sở Thông tin và Truyền thông", "Sở Lao động - Thương binh và Xã hội",
             "Sở Văn hóa, Thể thao và Du lịch", "Sở Khoa học và Công nghệ", "Sở Giáo dục và Đào tạo", "Sở Y tế",
             "Thanh tra tỉnh"],
    "2025": ["Văn phòng Ủy ban nhân dân", "Sở Nội vụ", "Sở Tư pháp", "Sở Tài chính", "Sở Công Thương",
             "Sở Nông nghiệp và Môi trường", "Sở Xây dựng", "Sở Văn hóa, Thể thao và Du lịch",
             "Sở Khoa học và Công nghệ", "Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Dân tộc và Tôn giáo", "Thanh tra tỉnh"],
}


def write(name: str, header: list[str], rows: list[list[object]], notes: list[str]) -> None:
    with open(DATA / name, "w", encoding="utf-8", newline="") as handle:
        for note in notes:
            handle.write(f"# {note}\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    version = metadata.version(PACKAGE)
    source = f"{PACKAGE} {version} (MIT), dataset.db"
    mapping = json.loads((Path(__import__(PACKAGE).__file__).parent / "data" / "converter_2025.json")
                         .read_text(encoding="utf-8"))["DICT_PROVINCE"]
    old = query("select provinceCode code, province name, provinceShort short, provinceKey key, "
                "count(distinct districtCode) districts, count(distinct wardCode) communes "
                "from admin_units_legacy group by provinceCode order by provinceCode")
    new = query("select provinceCode code, province name, provinceShort short, provinceKey key, "
                "count(*) communes from admin_units group by provinceCode order by provinceCode")
    old_by_key = {row["key"]: row for row in old}
    successor = {old_key: new_key for new_key, olds in mapping.items() for old_key in olds}
    old_ids = {row["key"]: slug(row["short"]) for row in old}
    new_ids = {row["key"]: slug(row["short"]) for row in new}
    mean_old = sum(r["communes"] for r in old) / len(old)
    write("provinces-2020.csv", ["id", "code", "name", "districts", "communes", "size", "successor_2025"],
          [[old_ids[r["key"]], r["code"], r["name"], r["districts"], r["communes"], round(r["communes"] / mean_old, 4),
            new_ids[successor[r["key"]]]] for r in old],
          [f"The 63 provincial-level units before the 1 July 2025 merger, from {source}, table admin_units_legacy",
           "(names as of early 2025: Thừa Thiên Huế appears as Thành phố Huế, a city since 1 January 2025).",
           "size: communes / mean communes per province, the proxy for a province's document volume (no population",
           "data ships with the source; the number of subordinate units is the documented stand-in).",
           "successor_2025: the 2025 province it became part of (converter_2025.json DICT_PROVINCE)."])
    predecessors = defaultdict(list)
    for old_key, new_key in successor.items():
        predecessors[new_key].append(old_key)
    legacy_communes = {key: sum(old_by_key[o]["communes"] for o in olds) for key, olds in predecessors.items()}
    mean_new = sum(legacy_communes.values()) / len(new)
    write("provinces-2025.csv", ["id", "code", "name", "communes", "size", "predecessors_2020"],
          [[new_ids[r["key"]], r["code"], r["name"], r["communes"], round(legacy_communes[r["key"]] / mean_new, 4),
            ";".join(sorted(old_ids[o] for o in predecessors[r["key"]]))] for r in new],
          [f"The 34 provincial-level units from 1 July 2025, from {source}, table admin_units.",
           "size: communes of the pre-merger provinces it absorbed / their mean over the 34 (the 2020 proxy, summed).",
           "predecessors_2020: the pre-merger provinces it was formed from (converter_2025.json DICT_PROVINCE)."])
    districts = query("select distinct districtCode code, provinceKey province, district name, districtType type "
                      "from admin_units_legacy order by districtCode")
    write("districts-2020.csv", ["id", "code", "province", "name", "type"],
          [[f"h{d['code']}", d["code"], old_ids[d["province"]], d["name"], d["type"]] for d in districts],
          [f"The 696 district-level units before 1 July 2025 (abolished then), from {source}, table admin_units_legacy.",
           "The 2020 count was about 705-713 (docs/sources.md section 8); the source holds the early-2025 list."])
    communes = query("select wardCode code, min(provinceKey) province, min(districtCode) district, min(ward) name, "
                     "min(wardType) type from admin_units_legacy where wardCode is not null "
                     "group by wardCode order by wardCode")
    write("communes-2020.csv", ["id", "code", "province", "district", "name", "type"],
          [[f"x{c['code']}", c["code"], old_ids[c["province"]], f"h{c['district']}", c["name"], c["type"] or ""]
           for c in communes],
          [f"The 10,035 commune-level units before 1 July 2025, from {source}, table admin_units_legacy",
           "(distinct ward codes; about 10,600 in 2020, docs/sources.md section 8)."])
    wards = query("select wardCode code, provinceKey province, ward name, wardType type, wardAreaKm2 area "
                  "from admin_units order by wardCode")
    write("communes-2025.csv", ["id", "code", "province", "name", "type", "area_km2"],
          [[f"x{w['code']}", w["code"], new_ids[w["province"]], w["name"], w["type"], w["area"]] for w in wards],
          [f"The 3,321 commune-level units from 1 July 2025 (2,621 xã, 687 phường, 13 đặc khu), from {source},",
           "table admin_units."])
    write("central-2020.csv", ["id", "name", "kind", "successor_2025", "uncertain"],
          [[slug(n), n, k, slug(s), u] for n, k, s, u in CENTRAL_2020],
          ["Central bodies on the axis in 2019-2020 (31 central nodes): 18 ministries + 4 ministerial-level agencies",
           "+ 8 government agencies (2016-2021 term) [C] sggpnews.org.vn 93468, cocc.edu.vn; see docs/sources.md section 9.",
           "The 31st node is a placeholder: no source found identifies it.",
           "successor_2025: the body that took over from 1 March 2025 (Resolution 176/2025/QH15; mergers in docs/sources.md section 9)."])
    write("central-2025.csv", ["id", "name", "kind", "uncertain"],
          [[slug(n), n, k, u] for n, k, u in CENTRAL_2025],
          ["Central bodies from 1 March 2025: 14 ministries + 3 ministerial-level agencies + 5 government agencies",
           "(Resolution 176/2025/QH15) [C] vietnamnews 1692425, laodong 1469868; see docs/sources.md section 9."])
    write("departments.csv", ["era", "name"],
          [[era, name] for era, names in DEPARTMENTS.items() for name in names],
          ["Specialised agencies of every provincial People's Committee. 2020: Decree 24/2014/ND-CP (the 17 common",
           "to all provinces). 2025: Decree 45/2025/ND-CP after the merger of departments (13; as recalled, to be",
           "checked against the decree's text)."])
    (DATA / "SOURCES.md").write_text(
        "# Built-in administrative structures\n\n"
        f"Generated by `scripts/build_datasets.py` from **{PACKAGE} {version}** (MIT licence; "
        "https://github.com/tranngocminhhieu/vietnamadminunits): its SQLite `dataset.db` (tables `admin_units`, "
        "34 provinces and 3,321 communes from 1 July 2025; `admin_units_legacy`, 63 provinces, 696 districts and "
        "10,035 communes before the merger) and `converter_2025.json` (the old provinces each new one was formed "
        "from). The package is not a dependency of the simulator; rerun the script to regenerate the files.\n\n"
        "Central bodies (`central-2020.csv`, `central-2025.csv`) and provincial departments (`departments.csv`) are "
        "entered in the script from the sources it cites (docs/sources.md section 9; Decrees 24/2014 and "
        "45/2025); entries marked in the `uncertain` column are not confirmed by a source.\n\n"
        "Traffic weights: no population data ships with the source, so a province's `size` is its number of "
        "communes relative to the mean (for a 2025 province, the communes of the provinces it absorbed): a stand-in "
        "for the volume of documents its administration produces and receives.\n", encoding="utf-8")


if __name__ == "__main__":
    main()
