"""Trace log: the exchange log a traced run writes, one row per document copy and per status message.

The :class:`Tracer` keeps a small record for each job in transit (what it is
and the hops it has crossed), turns a record into a row when the copy or
status message ends, and streams the rows to disk in batches: Parquet row
groups (``pyarrow.parquet.ParquetWriter``) or CSV. Memory holds only the jobs
in transit and one batch, so it does not grow with the horizon.

Columns (:data:`TRACE_COLUMNS`; times in seconds from the start of the run,
``*_at`` the same instants as timestamps in Asia/Ho_Chi_Minh when
``run.start`` gives day 0 a date, else empty):

document, type, status, sender, recipient, urgent, size_bytes, created,
created_at, outcome, delivered, delivered_at, resends, hops, then for hop
``k`` = 1 ... 7: station_k, arrival_k, start_k, departure_k.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..scenario import Scenario
from ..topology import Topology
from .flow import STATUS, Job

__all__ = ["Tracer", "TraceOptions", "TRACE_COLUMNS", "MAX_HOPS", "TIMEZONE", "trace_schema"]

#: Most stations a copy crosses: the sender's system, its platform, its backbone link (when links can be cut),
#: the hub, the recipient's backbone link, platform and system.
MAX_HOPS = 7
#: Time zone of the absolute timestamps (Vietnam, UTC+7 all year).
TIMEZONE = "Asia/Ho_Chi_Minh"
_UTC_OFFSET = datetime.timezone(datetime.timedelta(hours=7))
#: Rows per Parquet row group (and per CSV batch).
BATCH_ROWS = 65_536
_HOP_FIELDS = ("station", "arrival", "start", "departure")
TRACE_COLUMNS: tuple[str, ...] = (
    "document", "type", "status", "sender", "recipient", "urgent", "size_bytes", "created", "created_at", "outcome",
    "delivered", "delivered_at", "resends", "hops",
    *(f"{field}_{k}" for k in range(1, MAX_HOPS + 1) for field in _HOP_FIELDS))

# a record: [document, status code index (-1: a document copy), sender, recipient, urgent, size, created, hops]
_DOC, _CODE, _SENDER, _RECIPIENT, _URGENT, _SIZE, _CREATED, _HOPS = range(8)


def trace_schema() -> Any:
    """The Arrow schema of the trace (:data:`TRACE_COLUMNS` with their types)."""
    import pyarrow as pa

    stamp = pa.timestamp("us", tz=TIMEZONE)
    fields = [("document", pa.int64()), ("type", pa.string()), ("status", pa.string()), ("sender", pa.string()),
              ("recipient", pa.string()), ("urgent", pa.bool_()), ("size_bytes", pa.float64()),
              ("created", pa.float64()), ("created_at", stamp), ("outcome", pa.string()),
              ("delivered", pa.float64()), ("delivered_at", stamp), ("resends", pa.int32()), ("hops", pa.int8())]
    for k in range(1, MAX_HOPS + 1):
        fields += [(f"station_{k}", pa.string()), (f"arrival_{k}", pa.float64()), (f"start_{k}", pa.float64()),
                   (f"departure_{k}", pa.float64())]
    return pa.schema(fields)


class Tracer:
    """Records the jobs of one traced run and writes their rows to ``path`` as they end.

    The file is written as ``path`` + ``.part`` and renamed by :meth:`close`,
    so a run that fails leaves no trace that looks complete.

    Parameters
    ----------
    path : str or Path
        The trace file to write.
    scenario : Scenario
    topology : Topology
    fmt : {"parquet", "csv"}
    """

    def __init__(self, path: str | Path, scenario: Scenario, topology: Topology,
                 fmt: Literal["parquet", "csv"] = "parquet"):
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.fmt = fmt
        self.stations = [s.node for s in topology.stations]
        self.agencies = list(topology.agencies.ids)
        self.codes = [s.code for s in scenario.traffic.statuses]
        start = scenario.run.start
        self.epoch_us: int | None = None
        if start is not None:
            midnight = datetime.datetime(start.year, start.month, start.day, tzinfo=_UTC_OFFSET)
            self.epoch_us = int(midnight.timestamp() * 1_000_000)
        self.records: dict[Job, list] = {}
        self.next_document = 0
        self.current: tuple = ()
        self.parent: list | None = None
        self.answered: list | None = None
        self.rows: list[tuple] = []
        self.rows_written = 0
        self._writer: Any = None

    # ------------------------------------------------------------------ called by the tracing flow and stations

    def created(self, agency: int, document: tuple) -> None:
        """A document is created: number it; its paper copies end here (rows with outcome ``paper``)."""
        at, prio, size, _electronic, paper, _reason = document
        number = self.next_document
        self.next_document += 1
        self.current = (number, agency, prio == 0, size, at)
        for _ in range(paper):
            self._row(number, -1, agency, -1, prio == 0, size, at, "paper", None, 0, ())

    def launch(self, job: Job) -> None:
        """A job sets out: a new document (or a fan-out branch, which inherits its trunk's hops)."""
        if job in self.records:
            return
        parent = self.parent
        if parent is not None:
            self.records[job] = [*parent[:_HOPS], list(parent[_HOPS])]
            return
        number, agency, urgent, size, at = self.current
        self.records[job] = [number, -1, agency, -1, urgent, size, at, []]

    def branching(self, job: Job) -> None:
        """``job`` splits at a fan-out point: the branches launched next inherit its record."""
        self.parent = self.records.pop(job)

    def branched(self, job: Job) -> None:
        """The branches of ``job`` have set out."""
        self.parent = None

    def status(self, message: Job, previous: Job | None) -> None:
        """A status message is scheduled: the first answers the copy just delivered, the others follow ``previous``."""
        if previous is None:
            answered = self.answered
            assert answered is not None
            number, code = answered[_DOC], 0
        else:
            before = self.records[previous]
            number, code = before[_DOC], before[_CODE] + 1
        self.records[message] = [number, code, message.origin, message.route.recipient, message.prio == 0,
                                 message.size, message.created, []]

    def arrive(self, job: Job, station: int, now: float) -> None:
        """``job`` arrives at ``station`` (again, after a refusal: the hop starts afresh)."""
        hops = self.records[job][_HOPS]
        if hops and hops[-4] == station and hops[-2] is None:
            hops[-3] = now
        else:
            hops += (station, now, None, None)

    def begin(self, job: Job, start: float) -> None:
        """``job``'s service starts at ``start``."""
        self.records[job][_HOPS][-2] = start

    def depart(self, job: Job, end: float) -> None:
        """``job``'s service ends at ``end``: it leaves the station."""
        self.records[job][_HOPS][-1] = end

    def finishing(self, job: Job, now: float) -> None:
        """A copy or status message is delivered at ``now``."""
        record = self.records.pop(job)
        record[_RECIPIENT] = job.route.recipient
        if job.doc is not STATUS:
            self.answered = record
        self._end(record, "delivered", now, job.resends)

    def dead(self, job: Job, now: float, paper: bool) -> None:
        """``job`` was refused for the last time: its copies are dropped, or go on paper (``fallback``)."""
        record = self.records.pop(job)
        outcome = "fallback" if paper and job.doc is not STATUS else "dropped"
        for recipient in _recipients(job.route):
            record[_RECIPIENT] = recipient
            self._end(record, outcome, None, job.resends)

    # ------------------------------------------------------------------ rows and files

    def _end(self, record: list, outcome: str, delivered: float | None, resends: int) -> None:
        self._row(record[_DOC], record[_CODE], record[_SENDER], record[_RECIPIENT], record[_URGENT], record[_SIZE],
                  record[_CREATED], outcome, delivered, resends, record[_HOPS])

    def _row(self, number: int, code: int, sender: int, recipient: int, urgent: bool, size: float, created: float,
             outcome: str, delivered: float | None, resends: int, hops: Any) -> None:
        self.rows.append((number, code, sender, recipient, urgent, size, created, outcome, delivered, resends,
                          tuple(hops)))
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def close(self, horizon: float) -> Path:
        """Write the jobs still in transit at ``horizon`` (outcome ``in_flight``), close the file and rename it.

        Status messages not yet sent at the horizon are not written.
        """
        for job, record in self.records.items():
            if record[_CREATED] < horizon:
                for recipient in _recipients(job.route):
                    record[_RECIPIENT] = recipient
                    self._end(record, "in_flight", None, job.resends)
        self.records.clear()
        self.flush(final=True)
        self._writer.close()
        os.replace(self.part, self.path)
        return self.path

    def abort(self) -> None:
        """Close and remove the partial file (the run failed)."""
        if self._writer is not None:
            self._writer.close()
        self.part.unlink(missing_ok=True)

    def flush(self, final: bool = False) -> None:
        """Write the buffered rows as one row group (or CSV batch)."""
        if not self.rows and not final:
            return
        batch = self._batch(self.rows)
        self.rows = []
        if self._writer is None:
            self._writer = self._open(batch.schema)
        if batch.num_rows or self.rows_written == 0:
            self._writer.write_batch(batch) if self.fmt == "csv" else self._writer.write_table(_table(batch))
        self.rows_written += batch.num_rows

    def _open(self, schema: Any) -> Any:
        self.part.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "csv":
            import pyarrow.csv as pacsv

            return pacsv.CSVWriter(str(self.part), schema)
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(self.part), schema, compression="zstd")

    def _batch(self, rows: list[tuple]) -> Any:
        """The rows as an Arrow record batch."""
        import numpy as np
        import pyarrow as pa

        schema = trace_schema()
        stations, agencies, codes = self.stations, self.agencies, self.codes
        created = np.array([r[6] for r in rows], dtype=float)
        delivered = pa.array([r[8] for r in rows], type=pa.float64())
        columns: dict[str, Any] = {
            "document": pa.array([r[0] for r in rows], type=pa.int64()),
            "type": pa.array(["document" if r[1] < 0 else "status" for r in rows]),
            "status": pa.array([None if r[1] < 0 else codes[r[1]] for r in rows], type=pa.string()),
            "sender": pa.array([agencies[r[2]] for r in rows], type=pa.string()),
            "recipient": pa.array([agencies[r[3]] if r[3] >= 0 else None for r in rows], type=pa.string()),
            "urgent": pa.array([r[4] for r in rows], type=pa.bool_()),
            "size_bytes": pa.array([r[5] for r in rows], type=pa.float64()),
            "created": pa.array(created, type=pa.float64()),
            "created_at": self._stamps(pa.array(created, type=pa.float64())),
            "outcome": pa.array([r[7] for r in rows], type=pa.string()),
            "delivered": delivered,
            "delivered_at": self._stamps(delivered),
            "resends": pa.array([r[9] for r in rows], type=pa.int32()),
            "hops": pa.array([len(r[10]) // 4 for r in rows], type=pa.int8()),
        }
        for k in range(MAX_HOPS):
            at = 4 * k
            columns[f"station_{k + 1}"] = pa.array([stations[r[10][at]] if len(r[10]) > at else None for r in rows],
                                                   type=pa.string())
            for offset, field in enumerate(_HOP_FIELDS[1:], start=1):
                columns[f"{field}_{k + 1}"] = pa.array(
                    [r[10][at + offset] if len(r[10]) > at else None for r in rows], type=pa.float64())
        return pa.RecordBatch.from_pydict(columns, schema=schema)

    def _stamps(self, seconds: Any) -> Any:
        """Seconds from the start as timestamps in Vietnam's time zone (null without ``run.start``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        stamp = pa.timestamp("us", tz=TIMEZONE)
        if self.epoch_us is None:
            return pa.nulls(len(seconds), type=stamp)
        micros = pc.add(pc.cast(pc.round(pc.multiply(seconds, 1e6)), pa.int64()), self.epoch_us)
        return pc.cast(micros, stamp)


def _table(batch: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([batch])


def _recipients(route: Any) -> list[int]:
    """The recipients a path's copies reach (its leaves)."""
    if not route.tails:
        return [route.recipient]
    return [r for tail in route.tails for r in _recipients(tail)]


class TraceOptions(NamedTuple):
    """Where and how a traced run writes its exchange log."""

    path: Path  #: the trace file
    format: Literal["parquet", "csv"] = "parquet"  #: file format
