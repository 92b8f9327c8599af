"""Faults: stations that reject while down, resends with backoff, dead letters, paper fallback, failures by chance.

Exact event times on the micro-scenario of ``test_engine``: agencies A and B (deterministic 2 s, one server),
pass-through platforms, a hub (deterministic 1 s, one server), 0.5 s access links. A copy reaches the hub
at 2.5 s and, unhindered, B at 6 s.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.engine import simulate
from simulator.errors import ScenarioError
from simulator.scenario import load_scenario
from simulator.topology import build_topology

from .test_engine import MICRO, _doc

SEED = np.random.SeedSequence(5)
RETRY = '[network.retry]\nfirst = "2s"\nfactor = 2\nmax = "100s"\nattempts = {attempts}\njitter = 0.0\nfallback = "{fallback}"\n'


def _run(more: str, hub_extra: str, horizon: str = "60s"):
    scenario = load_scenario(MICRO.format(horizon=horizon, agency_extra="", hub_extra=hub_extra, more=more))
    return simulate(scenario, build_topology(scenario), SEED, keep_latencies=True)


def test_a_rejected_copy_is_resent_with_backoff_and_delivered_on_the_right_attempt():
    """Hub down 1-11 s and rejecting. Arrivals at 2.5 (refused), resend after 2 s + 0.5 s link: 5.0 (refused),
    after 4 s + 0.5: 9.5 (refused), after 8 s + 0.5: 18.0, served 18-19, link 0.5, B 19.5-21.5."""
    out = _run(_doc("0s") + RETRY.format(attempts=8, fallback="none"),
               'outages = [{ start = "1s", duration = "10s" }]\nwhile_down = "reject"')
    assert [21.5] == out.latencies
    ledger = out.ledger
    assert (3, {3: 1}, 0) == (ledger.resends_sent, ledger.resends, ledger.dead_letters)
    assert (1, 0) == (ledger.documents_delivered, ledger.documents_dropped)
    assert [3, 0, 0] == out.window.dropped.tolist()  # refusals, counted where they happen (the hub)


def test_holding_while_down_queues_instead_of_refusing():
    """The same outage with while_down = "hold": the copy waits at the hub until 11 s (no resend)."""
    out = _run(_doc("0s") + RETRY.format(attempts=8, fallback="none"), 'outages = [{ start = "1s", duration = "10s" }]')
    assert [14.5] == out.latencies
    assert 0 == out.ledger.resends_sent


@pytest.mark.parametrize("fallback, fallbacks, dropped", [("paper", 1, 0), ("none", 0, 1)])
def test_a_dead_letter_is_dropped_or_goes_on_paper(fallback: str, fallbacks: int, dropped: int):
    """Two resends (5.0, 9.5) meet a hub down until 100 s: the copy is a dead letter, on paper if the scenario says."""
    out = _run(_doc("0s") + RETRY.format(attempts=2, fallback=fallback),
               'outages = [{ start = "1s", duration = "99s" }]\nwhile_down = "reject"', horizon="200s")
    ledger = out.ledger
    assert (1, 2, {2: 1}) == (ledger.dead_letters, ledger.resends_sent, ledger.resends)
    assert (fallbacks, fallbacks, dropped, dropped) == (ledger.documents_fallback, ledger.copies_fallback,
                                                        ledger.documents_dropped, ledger.copies_dropped)
    assert (0, 0) == (ledger.documents_delivered, ledger.documents_in_flight)
    if fallback == "paper":  # refused at 9.5 s, then the default postal delay
        assert out.paper_latency.count == 1 and out.paper_latency.mean > 9.5


def test_without_retry_a_refused_copy_is_dropped_at_once():
    out = _run(_doc("0s"), 'outages = [{ start = "1s", duration = "10s" }]\nwhile_down = "reject"')
    assert (0, 0, 1) == (out.ledger.resends_sent, out.ledger.dead_letters, out.ledger.documents_dropped)


@pytest.mark.parametrize("interrupted, latency", [("resume", 16.0), ("restart", 16.5)])
def test_a_failure_pushes_back_the_service_in_progress(interrupted: str, latency: float):
    """The hub fails at 3 s (deterministic 3 s between failures, 10 s repairs) while serving the copy (2.5-3.5 s).
    resume: the remaining 0.5 s after the repair, service ends 13.5 s; restart: 1 s after 13 s, ends 14 s;
    then link 0.5 s and B 2 s. Down 3-13, 16-26, 29-39, 42-52, 55-60: 45 s of the 60 s run."""
    failures = ('failures = { between = { distribution = "deterministic", mean = "3s" }, '
                f'repair = {{ distribution = "deterministic", mean = "10s" }}, interrupted = "{interrupted}" }}')
    out = _run(_doc("0s"), failures)
    assert [latency] == out.latencies
    assert 45.0 == pytest.approx(out.outage_seconds[0])
    assert out.window.busy_area[0] == pytest.approx(11.0 if interrupted == "resume" else 11.5)  # held while repaired


def test_a_failure_while_idle_delays_the_next_arrival():
    """Failures at 1 s (repair 10 s): the copy reaching the hub at 2.5 s waits until 11 s, as with an outage."""
    failures = ('failures = { between = { distribution = "deterministic", mean = "1s" }, '
                'repair = { distribution = "deterministic", mean = "10s" } }')
    out = _run(_doc("0s"), failures, horizon="15s")
    assert [14.5] == out.latencies


def test_exponential_failures_give_the_expected_availability():
    """Mean time between failures 1 h, mean repair 15 min: availability 1 / (1 + 0.25) = 0.8 (within 3 %, 600 h)."""
    failures = 'failures = { between = { mean = "1h" }, repair = { mean = "15min" } }'
    out = _run("", failures, horizon="600h")
    assert 1.0 - out.outage_seconds[0] / (600 * 3600.0) == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize("setting", ['outages = [{ start = "1h", duration = "1h" }]', "servers = 2", "buffer = 5",
                                     'failures = { between = { mean = "1d" }, repair = { mean = "1h" } }',
                                     'while_down = "reject"'])
def test_a_setting_on_a_passthrough_station_is_an_error(setting: str):
    text = MICRO.format(horizon="60s", agency_extra="", hub_extra="", more="")
    text = text.replace('[network.hub]\nservice = { distribution = "deterministic", mean = "1s" }',
                        f"[network.hub]\npassthrough = true\n{setting}")
    with pytest.raises(ScenarioError) as error:
        load_scenario(text)
    message = str(error.value)
    assert "network.hub" in message and "pass-through" in message and setting.split(" ")[0] in message


def test_the_backlog_of_an_outage_and_its_drain():
    """Documents every 2 s from A reach the hub at 2.5, 4.5, 6.5, 8.5 and 10.5 s while it is down (1-11 s, hold).

    At 11 s, before the hub starts on them, five wait: the peak backlog. The backlog is read every minute from
    then on, and is empty at the next reading: drained at 71 s, 60 s after the end of the outage."""
    documents = "".join(_doc(f"{t}s") for t in range(0, 10, 2))
    out = _run(documents, 'outages = [{ start = "1s", duration = "10s" }]', horizon="200s")
    (recovery,) = out.recoveries
    assert (recovery.station, recovery.start, recovery.end) == (0, 1.0, 11.0)
    assert (recovery.backlog_before, recovery.peak_backlog, recovery.drained_at) == (0, 5, 71.0)
    assert 60.0 == recovery.drain_seconds


def test_rejected_documents_awaiting_resend_count_in_the_backlog():
    """With while_down = "reject", what the senders will resend is the backlog: read at 11 s, three of the
    five copies are still to be resent (first waits 2 s each)."""
    documents = "".join(_doc(f"{t}s") for t in range(0, 10, 2))
    out = _run(documents + RETRY.format(attempts=8, fallback="none"),
               'outages = [{ start = "1s", duration = "10s" }]\nwhile_down = "reject"', horizon="300s")
    (recovery,) = out.recoveries
    assert recovery.peak_backlog >= 3
    assert recovery.drained_at > 11.0
    assert out.ledger.documents_delivered == 5


def test_the_summary_gives_each_station_its_outages_drain_and_availability():
    import simulator

    documents = "".join(_doc(f"{t}s") for t in range(0, 10, 2))
    scenario = load_scenario(MICRO.format(horizon="200s", agency_extra="", more=documents,
                                          hub_extra='outages = [{ start = "1s", duration = "10s" }]'))
    hub = next(s for s in simulator.run(scenario, seed=1).summary["stations"] if s["id"] == "hub")
    assert (hub["outages"], hub["undrained"], hub["drain_max_seconds"], hub["peak_backlog"]) == (1, 0, 60.0, 5)
    assert hub["availability"] == pytest.approx(1 - 10 / 200)


# ---------------------------------------------------------------- check

_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _check(tmp_path: Path, body: str, capsys) -> tuple[int, str]:
    from simulator.cli import main

    path = tmp_path / "scenario.toml"
    path.write_text(f'name = "faults"\nextends = "{(_SCENARIOS / "national-2020.toml").as_posix()}"\n{body}',
                    encoding="utf-8")
    code = main(["check", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_gives_availability_and_the_load_on_up_time(tmp_path: Path, capsys):
    """Failures every 27 h on average, 3 h repairs, and a daily 1 h outage: availability (27/30)(23/24) = 86.25 %."""
    code, text = _check(tmp_path, '[network.hub]\nfailures = { between = { mean = "27h" }, repair = { mean = "3h" } }\n'
                        'outages = [{ start = "25h", duration = "1h", every = "1d" }]\n', capsys)
    assert 0 == code
    assert "Stations that go down (1)" in text and "86.25%" in text
    assert "cannot keep up" not in text


def test_check_gives_the_availability_of_service_with_a_standby(tmp_path: Path, capsys):
    """Failures every 27 h on average with 3 h repairs and a daily 1 h outage (availability 86.25 %); a standby
    serving 30 min after each goes down serves 2.5 h of each 30 h cycle and 0.5 h of each day: 8.33 % + 2.08 %,
    so service is available 96.67 % of the time. At the hub's own capacity the load is utilisation / 96.67 %;
    a standby of a quarter of the capacity (1 of 4 servers) counts its time at a quarter: / 88.85 %."""
    hub = ('[network.hub]\nfailures = { between = { mean = "27h" }, repair = { distribution = "deterministic", '
           'mean = "3h" } }\noutages = [{ start = "25h", duration = "1h", every = "1d" }]\n')
    standby = 'standby = {{ servers = {servers}, service = {{ distribution = "lognormal", mean = "250ms", cv = 1.5 }}, switchover = "30min" }}\n'
    from simulator.analytic import predict

    def hub_of(servers: int):
        code, text = _check(tmp_path, hub + standby.format(servers=servers), capsys)
        assert 0 == code
        row = next(line for line in text.splitlines() if "(hub)" in line and "86.25%" in line)
        scenario = load_scenario(tmp_path / "scenario.toml")
        (prediction,) = [s for s in predict(scenario, build_topology(scenario)).stations if s.kind == "hub"]
        return row.split(), prediction

    cells, full = hub_of(4)
    assert cells[-4:-2] == ["86.25%", "96.67%"]
    assert full.service_availability == pytest.approx(0.8625 + 2.5 / 30 + 0.5 / 24)
    assert full.load_when_up == pytest.approx(full.utilization / full.service_availability)
    cells, quarter = hub_of(1)
    assert cells[-4:-2] == ["86.25%", "96.67%"]
    assert quarter.load_when_up == pytest.approx(quarter.utilization / (0.8625 + (2.5 / 30 + 0.5 / 24) / 4))


@pytest.mark.parametrize("law", ["exponential", "lognormal", "gamma", "deterministic"])
def test_the_mean_repair_beyond_the_switchover_agrees_with_sampling(law: str):
    """E[max(0, R - s)] in closed form against a million draws (cv 1.5 for lognormal and gamma)."""
    from simulator.analytic import mean_excess
    from simulator.scenario import Distribution
    from simulator.traffic import draw

    repair = Distribution(distribution=law, mean=7200.0, **({"cv": 1.5} if law in ("lognormal", "gamma") else {}))
    sample = draw(repair, np.random.default_rng(11), 1_000_000)
    for switchover in (0.0, 300.0, 7200.0):
        assert mean_excess(repair, switchover) == pytest.approx(np.maximum(0.0, sample - switchover).mean(), rel=0.01)


def test_check_warns_when_a_station_cannot_keep_up_with_its_down_time(tmp_path: Path, capsys):
    """A hub up 40 % of the time at 8.6 % utilisation keeps up; at 10x the traffic (86 %) it cannot: warned, and
    refused (exit 2) unless --allow-unstable, the refusal saying the utilisation is of the time it is up."""
    failing = '[network.hub]\nfailures = { between = { mean = "2h" }, repair = { mean = "3h" } }\n'
    code, text = _check(tmp_path, failing + "[traffic]\nmultiplier = 10.0\n", capsys)
    assert 2 == code
    assert "WARNING: 1 station(s) cannot keep up on average with the time they are down" in text
    assert "of the time it is up" in text


def test_check_warns_about_an_outage_inside_the_warmup(tmp_path: Path, capsys):
    code, text = _check(tmp_path, '[network.hub]\noutages = [{ start = "8h", duration = "4h" }]\n', capsys)
    assert 0 == code
    assert "1 outage(s) begin inside the warm-up" in text and "8.0 h" in text


def test_hub_outage_monday_drains_and_balances():
    """The shipped scenario, one day: the hub's four-hour outage drains the same day, resends are counted and
    every document is accounted for (dead letters on paper)."""
    import simulator
    from simulator.scenario import apply_parameters

    scenario = apply_parameters(load_scenario(_SCENARIOS / "hub-outage-monday.toml"), {"run.horizon": "1d"})
    summary = simulator.run(scenario, seed=1).summary
    hub = next(s for s in summary["stations"] if s["id"] == "hub")
    assert (hub["outages"], hub["undrained"]) == (1, 0)
    assert 0 < hub["drain_max_seconds"] < 4 * 3600 and hub["peak_backlog"] > 1000
    assert hub["availability"] == pytest.approx(1 - 4 / 24)
    documents = summary["documents"]
    assert summary["resends"]["sent"] > 1000
    assert documents["electronic"] == (documents["delivered"] + documents["dropped"] + documents["fallback_paper"]
                                       + documents["in_flight"])


def test_a_parameter_that_makes_a_station_passthrough_takes_back_its_settings():
    """Sweeping network.hub.passthrough means "the hub as described, or left out": the hub's servers and outages
    from the file go with it, while a parameter setting both is still refused."""
    from simulator.scenario import apply_parameters

    base = load_scenario(_SCENARIOS / "covid-surge-2020.toml")  # hub: 4 servers, an outage
    left_out = apply_parameters(base, {"network.hub.passthrough": True}).network.hub
    assert (left_out.passthrough, left_out.servers, left_out.outages) == (True, 1, ())
    with pytest.raises(ScenarioError, match="servers cannot be set on a pass-through station"):
        apply_parameters(base, {"network.hub.passthrough": True, "network.hub.servers": 3})


def test_an_outage_can_start_at_a_weekday_and_time():
    """ "wed 14:30" is day 2 at 14:30 (day 0 is a Monday); with every = "1w" it repeats each Wednesday."""
    text = MICRO.format(horizon="3w", agency_extra="", more="",
                        hub_extra='outages = [{ start = "wed 14:30", duration = "1h", every = "1w" }]')
    (window,) = load_scenario(text).network.hub.outages
    assert (window.start, window.every) == (2 * 86400 + 14.5 * 3600, 7 * 86400)
    with pytest.raises(ScenarioError, match="weekday and time of the first week"):
        load_scenario(text.replace("wed 14:30", "wednesday 14:30"))


def test_a_weekday_counts_from_the_weekday_of_run_start():
    """With run.start a Wednesday (2020-03-25), "mon 08:00" is the first Monday: day 5 at 08:00, and "wed 14:30"
    is day 0; durations from the start do not move. Without run.start day 0 is a Monday (above)."""
    def start(moment: str, date: str | None) -> float:
        text = MICRO.format(horizon="3w", agency_extra="", more="",
                            hub_extra=f'outages = [{{ start = "{moment}", duration = "1h" }}]')
        if date is not None:
            text = text.replace("[run]\n", f'[run]\nstart = "{date}"\n', 1)
        (window,) = load_scenario(text).network.hub.outages
        return window.start

    assert start("mon 08:00", "2020-03-25") == 5 * 86400 + 8 * 3600
    assert start("wed 14:30", "2020-03-25") == 14.5 * 3600
    assert start("33h", "2020-03-25") == 33 * 3600
    assert start("mon 08:00", "2020-03-23") == start("mon 08:00", None) == 8 * 3600


def _dated(moment: str, date: str | None) -> str:
    text = MICRO.format(horizon="3w", agency_extra="", more="",
                        hub_extra=f'outages = [{{ start = "{moment}", duration = "1h" }}]')
    return text if date is None else text.replace("[run]\n", f'[run]\nstart = "{date}"\n', 1)


def test_an_outage_can_start_at_a_date_and_time():
    """With run.start 2020-03-25 (day 0 at 00:00, local time), "2020-03-26 08:00" is day 1 at 08:00 and
    "2020-03-25 00:00" is 0; the run then takes the hub down then: the copy sent at 0 s waits for it."""
    (window,) = load_scenario(_dated("2020-03-26 08:00", "2020-03-25")).network.hub.outages
    assert window.start == 86400 + 8 * 3600
    (window,) = load_scenario(_dated("2020-03-25T00:00", "2020-03-25")).network.hub.outages
    assert window.start == 0.0
    text = _dated("2020-03-25 00:00", "2020-03-25").replace('horizon = "3w"', 'horizon = "2h"') + _doc("0s")
    scenario = load_scenario(text)
    out = simulate(scenario, build_topology(scenario), SEED, keep_latencies=True)
    assert [3600.0 + 1.0 + 0.5 + 2.0] == out.latencies  # hub 3600-3601 s, access 0.5 s, B 2 s


@pytest.mark.parametrize("moment, date, words", [
    ("2020-03-26 08:00", None, "needs run.start"),
    ("2020-03-24 23:59", "2020-03-25", "is before day 0 (run.start = 2020-03-25)"),
    ("2020-02-30 08:00", "2020-03-25", "is not a calendar date and time"),
])
def test_a_date_and_time_is_refused_without_run_start_before_day_0_or_malformed(tmp_path: Path, capsys,
                                                                             moment: str, date: str | None,
                                                                             words: str):
    """Exit 2 naming the key path and the value."""
    from simulator.cli import main

    path = tmp_path / "dated.toml"
    path.write_text(_dated(moment, date), encoding="utf-8")
    assert 2 == main(["check", str(path)])
    err = capsys.readouterr().err
    assert f"network.hub.outages[0].start = '{moment}'" in err and words in err


def test_same_day_share_counts_paper_fallbacks_and_documents_sent_during_an_outage():
    """Hub down 1 s - 100 s, rejecting, two resends then paper. The document of 0 s (created before the outage) and
    the one of 3 s (during it) both end on paper: received, not the same day electronically. The one of 150 s
    (after) arrives electronically. Same-day share 1/3 over all, 0/1 for documents sent during the outage."""
    import simulator

    text = MICRO.format(horizon="300s", agency_extra="", more=_doc("0s") + _doc("3s") + _doc("150s")
                        + RETRY.format(attempts=2, fallback="paper"),
                        hub_extra='outages = [{ start = "1s", duration = "99s" }]\nwhile_down = "reject"')
    summary = simulator.run(load_scenario(text), seed=1).summary
    assert (summary["documents"]["fallback_paper"], summary["documents"]["delivered"]) == (2, 1)
    assert summary["same_day_share"] == pytest.approx(1 / 3)
    assert summary["same_day_share_in_outages"] == 0.0


# ---------------------------------------------------------------- regressions found in review

_THIRD = '[[agencies]]\nid = "C"\nname = "Cà Mau"\n'


def test_a_resend_before_a_fanout_point_counts_one_package():
    """A document to B and C refused once by the hub, before it splits: one resend of one package."""
    out = _run(_THIRD + _doc("0s", recipients='["B", "C"]') + RETRY.format(attempts=8, fallback="none"),
               'outages = [{ start = "1s", duration = "3s" }]\nwhile_down = "reject"')
    ledger = out.ledger
    assert (ledger.resends_sent, ledger.resends, ledger.copies_delivered) == (1, {1: 1}, 2)


def test_failures_need_positive_means():
    text = MICRO.format(horizon="60s", agency_extra="", more="",
                        hub_extra='failures = { between = { mean = "1h" }, repair = { distribution = "deterministic", '
                                  'mean = "0s" } }')
    with pytest.raises(ScenarioError, match="failures.repair.*mean above 0"):
        load_scenario(text)


def test_an_agency_station_made_passthrough_by_a_parameter():
    from simulator.scenario import apply_parameters

    text = MICRO.format(horizon="60s", agency_extra="", hub_extra="",
                        more='[agencies.station]\nservers = 2\nservice = { mean = "1s" }\n')
    base = load_scenario(text)
    assert base.agencies[1].station.servers == 2
    left_out = apply_parameters(base, {"agencies[B].station.passthrough": True}).agencies[1].station
    assert (left_out.passthrough, left_out.servers) == (True, 1)


def test_too_frequent_failures_are_refused_naming_the_failures():
    import simulator
    from simulator.workload import WorkloadError

    text = MICRO.format(horizon="7d", agency_extra="", more=_doc("0s"),
                        hub_extra='failures = { between = { mean = "1ms" }, repair = { mean = "1ms" } }')
    with pytest.raises(WorkloadError, match="network.hub.failures.between"):
        simulator.run(load_scenario(text), seed=1)


def test_a_busy_clock_fails_as_often_as_its_work_brings_and_is_not_refused_for_it():
    """The same failures after 1 ms of work: one copy brings 1 s of work to the hub, so about a thousand failures,
    not the six hundred million of the calendar; the run goes ahead, the copy delivered."""
    import simulator

    text = MICRO.format(horizon="7d", agency_extra="", more=_doc("0s"),
                        hub_extra='failures = { between = { mean = "1ms" }, repair = { mean = "1ms" }, clock = "busy" }')
    summary = simulator.run(load_scenario(text), seed=1).summary
    assert summary["documents"]["delivered"] == 1
    hub = next(s for s in summary["stations"] if s["id"] == "hub")
    assert 500 < hub["outages"] < 2000


# ---------------------------------------------------------------- standby

def _standby(service: str = "2s", switchover: str = "3s", servers: int = 1) -> str:
    return (f'standby = {{ servers = {servers}, service = {{ distribution = "deterministic", mean = "{service}" }}, '
            f'switchover = "{switchover}" }}')


def test_the_standby_takes_over_after_exactly_the_switchover():
    """Hub down 1-11 s (hold), standby after 3 s: from 4 s. The copy waiting at the hub since 2.5 s starts on the
    standby at 4 s (2 s), leaves at 6 s, link 0.5 s, B 6.5-8.5 s. The standby served 4-11 s, once."""
    out = _run(_doc("0s"), 'outages = [{ start = "1s", duration = "10s" }]\n' + _standby())
    assert [8.5] == out.latencies
    assert (out.switchovers[0], out.standby_seconds[0]) == (1, 7.0)
    assert out.window.busy_area[0] == pytest.approx(2.0)  # the standby's work counts at the station


def test_the_standby_hands_back_on_repair_and_finishes_what_it_started():
    """Hub down 1-5 s, standby (3 s service) from 3 s. The copy of 0 s (hub at 2.5 s) is served on the standby
    3-6 s, B 6.5-8.5 s: latency 8.5. The copy of 2 s (A 2-4, hub 4.5 s) waits: at 5 s the hub is back and serves
    it at once, 5-6 s (waiting for the standby would end at 9 s); B is busy until 8.5, 8.5-10.5: latency 8.5."""
    out = _run(_doc("0s") + _doc("2s"), 'outages = [{ start = "1s", duration = "4s" }]\n' + _standby("3s", "2s"))
    assert [8.5, 8.5] == out.latencies
    assert (out.switchovers[0], out.standby_seconds[0]) == (1, 2.0)
    assert out.window.busy_area[0] == pytest.approx(4.0)


def test_no_switchover_when_the_repair_is_quicker():
    """Hub down 1-3 s, switchover 5 s: the standby never serves; the copy waits until 3 s: 3-4, B 4.5-6.5."""
    out = _run(_doc("0s"), 'outages = [{ start = "1s", duration = "2s" }]\n' + _standby(switchover="5s"))
    assert [6.5] == out.latencies
    assert (out.switchovers[0], out.standby_seconds[0]) == (0, 0.0)


def test_the_standby_serves_during_failures_while_the_interrupted_copy_waits_for_the_repair():
    """Failures every 3 s after a repair, 10 s repairs: down 3-13, 16-26, 29-39, 42-52, 55-60; standby after 1 s.
    The copy in service at 3 s (2.5-3.5 s) stays with the hub and resumes at 13 s (ends 13.5, B 14-16: 16 s). The copy
    of 2 s reaches the hub at 4.5 s: the standby (since 4 s) serves it 4.5-6.5, B 7-9: latency 7 s. The standby
    served 4-13, 17-26, 30-39, 43-52 and 56-60: 40 s, five switchovers."""
    failures = ('failures = { between = { distribution = "deterministic", mean = "3s" }, '
                'repair = { distribution = "deterministic", mean = "10s" } }\n')
    out = _run(_doc("0s") + _doc("2s"), failures + _standby(switchover="1s"))
    assert [7.0, 16.0] == out.latencies
    assert (out.switchovers[0], out.standby_seconds[0]) == (5, pytest.approx(40.0))


def test_a_rejecting_hub_accepts_again_once_its_standby_serves():
    """Hub down 1-11 s and rejecting, standby after 1 s (from 2 s): the copy reaching the hub at 2.5 s is not
    refused; the standby serves it 2.5-4.5, B 5-7."""
    out = _run(_doc("0s") + RETRY.format(attempts=8, fallback="none"),
               'outages = [{ start = "1s", duration = "10s" }]\nwhile_down = "reject"\n' + _standby(switchover="1s"))
    assert [7.0] == out.latencies
    assert 0 == out.ledger.resends_sent


@pytest.mark.parametrize("setting, key, words", [
    ('standby = { service = { mean = "1s" }, switchover = "-5min" }', "network.hub.standby.switchover",
     "must not be negative"),
    ('standby = { servers = 0, service = { mean = "1s" } }', "network.hub.standby.servers", "greater than 0"),
    ('standby = { service = { mean = "1s" } }', "network.hub", "standby needs outages or failures"),
    ('standby = { servers = 1 }', "network.hub.standby.service", ""),
    ('standby = { service = { mean = "1s" }, swichover = "1s" }', "network.hub.standby.swichover", ""),
])
def test_a_bad_standby_is_an_error_naming_its_key(setting: str, key: str, words: str):
    text = MICRO.format(horizon="60s", agency_extra="", more="", hub_extra=setting)
    with pytest.raises(ScenarioError) as error:
        load_scenario(text)
    assert key in str(error.value) and words in str(error.value)


def test_the_summary_gives_time_on_standby_and_switchovers():
    import simulator

    scenario = load_scenario(MICRO.format(horizon="60s", agency_extra="", more=_doc("0s"),
                                          hub_extra='outages = [{ start = "1s", duration = "10s" }]\n' + _standby()))
    hub = next(s for s in simulator.run(scenario, seed=1).summary["stations"] if s["id"] == "hub")
    assert (hub["switchovers"], hub["standby_seconds"]) == (1, 7.0)


# ---------------------------------------------------------------- backbone cuts

_CUT = 'outages = [{ start = "1s", duration = "10s" }]\n'


def test_a_cut_backbone_holds_at_the_sender_until_it_returns():
    """Every backbone cut 1-11 s (latency 0.25 s). A's platform holds the copy it sends at 2.5 s until 11 s; the
    crossing then takes 0.25 s: hub 11.25-12.25; B's backbone is back, 0.25 s, access 0.5 s, B 13-15."""
    out = _run(_doc("0s") + '[network.backbone]\nlatency = "0.25s"\n' + _CUT, "")
    assert [15.0] == out.latencies
    topology = build_topology(load_scenario(MICRO.format(horizon="60s", agency_extra="", hub_extra="",
                                                         more='[network.backbone]\n' + _CUT)))
    links = [i for i, s in enumerate(topology.stations) if s.kind == "link"]
    assert [topology.stations[i].node for i in links] == ["link:A", "link:B"]
    assert out.outage_seconds[links].tolist() == [10.0, 10.0]
    held = {topology.stations[r.station].node: (r.peak_backlog, r.drained_at) for r in out.recoveries}
    assert held == {"link:A": (1, 11.0), "link:B": (0, 11.0)}  # one copy held at A's side, sent at once at 11 s


def test_one_province_cut_alone_the_hub_holds_what_it_must_send_there():
    """Only C's backbone is cut (1-11 s, latency 0.25 s). A's copy to C (A 0-2, hub 2.5-3.5) waits at the hub
    until 11 s, crosses 0.25 s, access 0.5 s: C 11.75-13.75. A's copy to B (A 2-4) is not held: hub 4.5-5.5,
    B 6-8. Latencies in delivery order 8 and 13.75."""
    third = '[[agencies]]\nid = "C"\nname = "Cà Mau"\nbackbone = { latency = "0.25s", outages = [{ start = "1s", duration = "10s" }] }\n'
    out = _run(third + _doc("0s", recipients='["C"]') + _doc("0s"), "")
    assert [8.0, 13.75] == out.latencies


def test_backbone_failures_by_chance_cut_both_ways():
    """Backbones fail every 1 s after a repair, repaired in 10 s: cut 1-11, 12-22, ... The copy is held at A's
    platform until 11 s, served at the hub 11-12, then held at the hub (B's backbone cut 12-22) until 22 s:
    access 0.5 s, B 22.5-24.5."""
    cuts = ('[network.backbone]\nfailures = { between = { distribution = "deterministic", mean = "1s" }, '
            'repair = { distribution = "deterministic", mean = "10s" } }\n')
    out = _run(_doc("0s") + cuts, "", horizon="30s")
    assert [24.5] == out.latencies


def _deterministic_failures(between: str) -> str:
    return ('failures = { between = { distribution = "deterministic", mean = "%s" }, '
            'repair = { distribution = "deterministic", mean = "10s" } }' % between)


def test_a_backbone_that_is_up_is_crossed_without_an_event_of_its_own():
    """Backbones (latency 0.25 s) cut 20-30 s, 50-60 s... The copy sent at 0 s crosses both while they are up:
    A 0-2, link A 2.5, hub 2.75-3.75, link B 3.75, B 4.5-6.5; the one sent at 19 s is held at A's link (cut
    at 21.5 s) until 30 s: hub 30.25-31.25, B's link is up, B 32-34. Each link counts its two crossings, yet a
    crossing of a link that is up costs no event: with cuts beyond the horizon the run has the events of the
    same run without links that can be cut, plus the start of each link's failure process."""
    backbone = '[network.backbone]\nlatency = "0.25s"\n'
    docs = _doc("0s") + _doc("19s")
    out = _run(docs + backbone + _deterministic_failures("20s") + "\n", "", horizon="40s")
    assert [6.5, 15.0] == out.latencies
    assert out.window.arrived.tolist() == [2, 2, 2, 2, 2]  # A, B, hub, link A, link B
    far = _run(docs + backbone + _deterministic_failures("1000s") + "\n", "", horizon="40s")
    plain = _run(docs + backbone, "", horizon="40s")
    assert far.latencies == plain.latencies == [6.5, 6.5]
    assert far.events == plain.events + 2


def test_a_service_that_ends_before_the_next_failure_costs_no_event_of_its_own():
    """The hub fails at 5 s (repair 10 s): the first copy's service (2.5-3.5 s) ends before and goes on at
    once (B 4-6); the second's (4.5-5.5 s) is interrupted and resumes after the repair, ends 15.5 s, B 16-18.
    With failures beyond the horizon the run has the events of a hub that never fails, plus the start of the
    failure process."""
    docs = _doc("0s") + _doc("2s")
    assert [6.0, 16.0] == _run(docs, _deterministic_failures("5s"), horizon="40s").latencies
    far = _run(docs, _deterministic_failures("1000s"), horizon="40s")
    plain = _run(docs, "", horizon="40s")
    assert far.latencies == plain.latencies == [6.0, 6.0]
    assert far.events == plain.events + 1


def _busy_failures(between: str, interrupted: str = "resume", clock: str = "busy") -> str:
    return ('failures = { between = { distribution = "deterministic", mean = "%s" }, '
            'repair = { distribution = "deterministic", mean = "10s" }, interrupted = "%s", clock = "%s" }'
            % (between, interrupted, clock))


@pytest.mark.parametrize("interrupted, latency, busy", [("resume", 16.0, 13.0), ("restart", 16.5, 13.5)])
def test_a_busy_clock_fails_after_so_much_work_and_idle_time_does_not_count(interrupted: str, latency: float,
                                                                           busy: float):
    """The hub fails after 2.5 s of work (repair 10 s). Copies sent at 0, 5 and 10 s are served 2.5-3.5, 7.5-8.5
    and from 12.5 s: the budget runs out half-way through the third service, at 13 s (the idle time between does
    not count). resume: the remaining 0.5 s after the repair, ends 23.5 s; restart: served again 23-24 s; then
    link 0.5 s and B 2 s. The next budget outlasts the work left: no other failure. The hub is held 10 s by the
    interrupted copy. On the calendar the same hub fails at 2.5, 15 and 27.5 s."""
    docs = _doc("0s") + _doc("5s") + _doc("10s")
    out = _run(docs, _busy_failures("2.5s", interrupted), horizon="40s")
    assert [6.0, 6.0, latency] == out.latencies
    assert [(13.0, 23.0)] == [(r.start, r.end) for r in out.recoveries]
    assert 10.0 == pytest.approx(out.outage_seconds[0])
    assert busy == pytest.approx(out.window.busy_area[0])
    calendar = _run(docs, _busy_failures("2.5s", interrupted, clock="calendar"), horizon="40s")
    assert [2.5, 15.0, 27.5] == [r.start for r in calendar.recoveries]


def test_a_busy_clock_wears_in_proportion_to_the_busy_servers():
    """Two servers, a failure after 1.5 s of work (repair 10 s). A copy alone (A to B, hub 2.5-3.5 s) does 1 s
    of work: no failure. Two copies at once (A to B and B to A) keep both servers busy from 2.5 s: the budget runs
    out at 3.25 s, both resume after the repair, end at 13.5 s, and reach their recipients at 16 s."""
    hub = "servers = 2\n" + _busy_failures("1.5s")
    alone = _run(_doc("0s"), hub, horizon="40s")
    assert ([6.0], []) == (alone.latencies, [r.start for r in alone.recoveries])
    both = _run(_doc("0s") + _doc("0s", origin="B", recipients='["A"]'), hub, horizon="40s")
    assert [16.0, 16.0] == both.latencies
    assert [(3.25, 13.25)] == [(r.start, r.end) for r in both.recoveries]


def test_a_busy_clock_that_does_not_run_out_costs_no_event():
    """A budget the run's work never uses up: the events and latencies of a hub that never fails (the busy clock
    has no process of its own, and a service it cannot interrupt goes on at once)."""
    docs = _doc("0s") + _doc("2s") + _doc("3s")
    far = _run(docs, _busy_failures("1000s"), horizon="40s")
    plain = _run(docs, "", horizon="40s")
    assert far.latencies == plain.latencies == [6.0, 6.0, 7.0]
    assert far.events == plain.events


def test_a_busy_clock_after_a_repair_counts_the_resumed_work():
    """A failure after 1.25 s of work (repair 10 s). Copies sent at 0 and 1 s reach the hub at 2.5 and 4.5 s:
    served 2.5-3.5 s, then from 4.5 s until the budget runs out at 4.75 s. Repaired at 14.75 s, the second
    resumes its 0.75 s (ends 15.5 s, B 16-18 s) and wears the next budget to 0.5 s; a third, sent at 12 s, has
    waited at the hub since 14.5 s: served from 15.5 s, it fails at 16 s and ends at 26.5 s (B 27-29 s)."""
    out = _run(_doc("0s") + _doc("1s") + _doc("12s"), _busy_failures("1.25s"), horizon="40s")
    assert [6.0, 17.0, 17.0] == out.latencies
    assert [(4.75, 14.75), (16.0, 26.0)] == [(r.start, r.end) for r in out.recoveries]


@pytest.mark.parametrize("clock, rate, up, stable", [("busy", 0.5, 0.9, True), ("calendar", 0.5, 10 / 12, True),
                                                     ("busy", 0.9, 0.82, False)])
def test_the_prediction_gives_a_busy_clock_the_availability_of_its_load(clock: str, rate: float, up: float,
                                                                        stable: bool):
    """An M/M/1 failing after 10 s of work (repair 2 s): at 0.5 it fails 0.05 times a second and is down 10 % of
    the time, against 1/6 on the calendar; at 0.9 it is down 18 % and cannot keep up (0.9 > 0.82: each job's
    completion time, 1.2 s on average, is more than the 1.11 s between arrivals)."""
    from simulator.analytic import predict
    from simulator.verification import _single_station

    failures = (f'failures = {{ between = {{ mean = 10.0 }}, repair = {{ mean = 2.0 }}, clock = "{clock}" }}\n'
                "[traffic.types]")
    text = _single_station(1, 1.0, rate, 1000.0, 0.0).replace("[traffic.types]", failures)
    scenario = load_scenario(text)
    hub = next(s for s in predict(scenario, build_topology(scenario)).stations if s.kind == "hub")
    assert (hub.availability, hub.stable) == (pytest.approx(up), stable)


def test_a_busy_clock_on_a_link_is_an_error(tmp_path: Path, capsys):
    """A backbone does no work: a busy clock would never cut it. Exit 2 naming the key."""
    from simulator.cli import main

    cuts = ('[network.backbone]\nfailures = { between = { mean = "1d" }, repair = { mean = "1h" }, '
            'clock = "busy" }\n')
    path = tmp_path / "busy-link.toml"
    path.write_text(MICRO.format(horizon="60s", agency_extra="", hub_extra="", more=cuts), encoding="utf-8")
    assert 2 == main(["check", str(path)])
    captured = capsys.readouterr()
    assert "network.backbone.failures" in captured.out + captured.err
    assert 'clock = "calendar"' in captured.out + captured.err
    with pytest.raises(ScenarioError, match=r"network\.backbone\.failures.*a link does none"):
        load_scenario(path.read_text(encoding="utf-8"))
    assert load_scenario(path.read_text(encoding="utf-8").replace('"busy"', '"calendar"'))


def test_a_backbone_on_an_agency_behind_another_platform_is_an_error(tmp_path: Path, capsys):
    """Only a top-level agency's platform has a backbone: exit 2 naming the key."""
    from simulator.cli import main

    child = '[[agencies]]\nid = "C"\nparent = "A"\nbackbone = { outages = [{ start = "1s", duration = "1s" }] }\n'
    path = tmp_path / "child.toml"
    path.write_text(MICRO.format(horizon="60s", agency_extra="", hub_extra="", more=child), encoding="utf-8")
    assert 2 == main(["check", str(path)])
    captured = capsys.readouterr()
    assert "agencies[2].backbone" in captured.out + captured.err and "has no effect" in captured.out + captured.err


def test_only_the_backbone_can_be_cut():
    text = MICRO.format(horizon="60s", agency_extra="", hub_extra="", more="").replace(
        '[network.access]\nlatency = "0.5s"', '[network.access]\nlatency = "0.5s"\n' + _CUT)
    with pytest.raises(ScenarioError, match=r"network\.access\.outages"):
        load_scenario(text)


# ---------------------------------------------------------------- acknowledgement timeout and duplicates

_ACK = '[[traffic.statuses]]\ncode = "01"\nafter = { distribution = "deterministic", mean = "1s" }\n'


def _acking(timeout: str, attempts: int = 8, fallback: str = "none", first: str = "2s") -> str:
    return (RETRY.format(attempts=attempts, fallback=fallback).replace('first = "2s"', f'first = "{first}"')
            + f'ack_timeout = "{timeout}"\n' + _ACK)


def test_a_late_acknowledgement_gives_exactly_one_duplicate_which_is_suppressed():
    """The copy is received at 6 s; its "01" is sent at 7 s (B 7-9, hub 9.5-10.5). At 10 s the sender has no "01":
    it sends again (A 10-12); the "01" reaches A at 11 s, waits, and is served 12-14: acknowledged at 14 s. The copy
    sent again (hub 12.5-13.5, B 14-16) is recognised at 16 s and counted, not received: one duplicate, one
    delivery; the timer of 20 s finds the acknowledgement."""
    out = _run(_doc("0s") + _acking("10s"), "")
    ledger = out.ledger
    assert [6.0] == out.latencies
    assert (ledger.ack_resends, ledger.duplicates, ledger.duplicates_lost) == (1, 1, 0)
    assert (ledger.copies_delivered, ledger.documents_delivered, ledger.documents_in_flight) == (1, 1, 0)
    assert (ledger.statuses_generated, out.status_latency.mean) == (1, 7.0)  # a duplicate is not acknowledged again
    assert out.window.served.tolist() == [3, 3, 3]  # hub, A, B: the copy twice and the "01" once each


def test_an_acknowledgement_in_time_sends_nothing_again():
    out = _run(_doc("0s") + _acking("14s"), "")
    assert (out.ledger.ack_resends, out.ledger.duplicates) == (0, 0)
    assert out.window.served.tolist() == [2, 2, 2]


def test_the_copy_sent_again_can_arrive_first_and_the_original_is_the_duplicate():
    """Hub down 1-4 s, rejecting; resends after 20 s. The original is refused at 2.5 s and comes back at 23 s. The
    timeout of 5 s sends it again (A 5-7, hub 7.5-8.5, B 9-11): received, latency 11 s; its "01" (sent 12 s, B 12-14,
    hub 14.5-15.5, A at 16 behind the copy sent again at 15, served 17-19) is acknowledged at 19 s. Sent again at
    10 s (received again at 16 s) and 15 s (at 21 s), and the original at 26.5 s: three duplicates."""
    out = _run(_doc("0s") + _acking("5s", first="20s"),
               'outages = [{ start = "1s", duration = "3s" }]\nwhile_down = "reject"')
    ledger = out.ledger
    assert [11.0] == out.latencies
    assert (ledger.ack_resends, ledger.duplicates, ledger.resends_sent) == (3, 3, 1)
    assert (ledger.documents_delivered, ledger.documents_in_flight, out.census.copies) == (1, 0, 0)


def test_copies_sent_again_that_die_do_not_end_the_copy_twice():
    """Hub rejecting 1-100 s, two resends then paper, timeout 3 s (two sends again at most). The original is refused
    at 2.5, 5.0 and 9.5 s: on paper. The two copies sent again (3 s, 6 s) die the same way: counted as lost, the
    document is on paper once."""
    out = _run(_doc("0s") + _acking("3s", attempts=2, fallback="paper"),
               'outages = [{ start = "1s", duration = "99s" }]\nwhile_down = "reject"', horizon="200s")
    ledger = out.ledger
    assert (ledger.ack_resends, ledger.duplicates_lost, ledger.duplicates) == (2, 2, 0)
    assert (ledger.documents_fallback, ledger.copies_fallback, ledger.dead_letters) == (1, 1, 1)
    assert (ledger.documents_delivered, ledger.documents_in_flight, ledger.copies_in_flight) == (0, 0, 0)


def test_a_fanout_copy_is_sent_again_alone():
    """A document to B and C (A 0-2, hub 2.5-3.5): B receives at 6 s, its "01" (sent 7 s) reaches A at 13 s; C's
    station is slow (5 s): C receives at 9 s, its "01" (C 10-15, hub 15.5-16.5) reaches A only at 19 s. At the
    timeout of 13.5 s the sender sends C's copy alone again (hub 16.5-17.5, C 18-23): one duplicate at C; B's copy
    is not sent again."""
    third = '[[agencies]]\nid = "C"\nname = "Cà Mau"\nstation = { service = { distribution = "deterministic", mean = "5s" } }\n'
    out = _run(third + _doc("0s", recipients='["B", "C"]') + _acking("13.5s"), "", horizon="120s")
    ledger = out.ledger
    assert (ledger.ack_resends, ledger.duplicates) == (1, 1)
    assert (ledger.copies_delivered, ledger.documents_delivered) == (2, 1)


def test_an_ack_timeout_needs_a_status_message():
    text = MICRO.format(horizon="60s", agency_extra="", hub_extra="",
                        more=RETRY.format(attempts=8, fallback="none") + 'ack_timeout = "1h"\n')
    with pytest.raises(ScenarioError, match=r"network\.retry\.ack_timeout.*needs traffic\.statuses"):
        load_scenario(text)


def test_the_summary_counts_duplicates():
    import simulator

    scenario = load_scenario(MICRO.format(horizon="60s", agency_extra="", hub_extra="", more=_doc("0s") + _acking("10s")))
    summary = simulator.run(scenario, seed=1).summary
    assert summary["duplicates"] == {"sent_again": 1, "suppressed": 1, "lost": 0}
    assert summary["documents"]["delivered"] == 1


# ---------------------------------------------------------------- against theory

def test_an_mm1_with_failures_agrees_with_the_completion_time_result():
    """verify's M/M/1 with failures (up 20 s, repair 2 s, resume), at half its horizon and 4 replications: the mean
    sojourn and the availability pass the suite's rule, and the interval excludes the M/G/1 of the completion time
    alone (2.667 s, without the wait of a first job that finds the idle server down), so the check can fail."""
    from simulator.verification import failing_mm1, reference_cases, verify

    (case,) = [c for c in reference_cases(scale=0.5) if "failures" in c.name]
    checks = verify(replications=4, cases=[case])
    assert [c.figure for c in checks if c.passed] == ["mean sojourn (s)", "availability"]
    figures = failing_mm1(0.5, 1.0, 20.0, 2.0)
    completion = figures["completion"]
    second = 2 * 1.1 ** 2 + 0.05 * 2 * 2 ** 2
    without_setup = 0.5 * second / (2 * (1 - 0.5 * completion)) + completion
    sojourn = checks[0]
    assert without_setup == pytest.approx(2.6667, abs=1e-4)
    assert not sojourn.interval.low <= without_setup <= sojourn.interval.high
    assert abs(sojourn.simulated - without_setup) > 0.0025 * without_setup


def test_an_mm1_failing_only_while_busy_agrees_with_the_mg1_of_its_completion_time():
    """verify's M/M/1 failing only while busy (10 s of work between failures, repair 2 s, resume), at its horizon
    and 4 replications: the mean sojourn (3.5 s) and the availability (0.9) pass the suite's rule, and their 99 %
    intervals exclude the same station failing on the calendar (3.83 s, 0.83), so the check can fail."""
    from simulator.verification import busy_failing_mm1, failing_mm1, reference_cases, verify

    (case,) = [c for c in reference_cases() if "only while busy" in c.name]
    checks = verify(replications=4, cases=[case])
    assert [c.figure for c in checks if c.passed] == ["mean sojourn (s)", "availability"]
    assert [c.exact for c in checks] == pytest.approx([3.5, 0.9])
    assert busy_failing_mm1(0.5, 1.0, 10.0, 2.0)["completion"] == pytest.approx(1.2)
    calendar = failing_mm1(0.5, 1.0, 10.0, 2.0)
    for check, other in zip(checks, (calendar["mean_sojourn"], calendar["availability"])):
        assert not check.interval.low <= other <= check.interval.high
        assert abs(check.simulated - other) > 0.0025 * other


def test_failures_2025_switches_to_the_standby_and_balances():
    """The shipped scenario, one day, the hub failing every 4 h on average (instead of 30 d) so that it does: the
    standby takes over, every document is accounted for, and the summary lists the outages."""
    import simulator
    from simulator.scenario import apply_parameters

    scenario = apply_parameters(load_scenario(_SCENARIOS / "failures-2025.toml"),
                                {"run.horizon": "1d", "run.warmup": "0s", "network.hub.failures.between.mean": "4h"})
    summary = simulator.run(scenario, seed=3).summary
    hub = next(s for s in summary["stations"] if s["id"] == "hub")
    assert hub["switchovers"] >= 1 and hub["standby_seconds"] > 0
    assert hub["standby_seconds"] <= hub["outage_seconds"] - 300 * hub["switchovers"] + 1e-6  # 5 min switchover each
    assert any(o["station"] == "hub" for o in summary["outages"])
    assert any(s["kind"] == "link" for s in summary["stations"])
    documents = summary["documents"]
    assert documents["electronic"] == (documents["delivered"] + documents["dropped"] + documents["fallback_paper"]
                                       + documents["in_flight"])
