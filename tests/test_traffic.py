"""Traffic: the recipients of fan-out documents are distinct, never the sender, and drawn uniformly."""
from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from simulator.clock import OpenClock
from simulator.scenario import load_scenario
from simulator.topology import build_topology
from simulator.traffic import DocumentStream

from .conftest import hub_spoke_text

#: Chi-square quantiles at 0.999 (a fixed seed: the test is deterministic; the level says how unusual a pass is).
CHI2_999 = {4: 18.47}


def chi_square(counts: list[int]) -> float:
    """Pearson's statistic of counts against equal expected counts."""
    expected = sum(counts) / len(counts)
    return sum((c - expected) ** 2 / expected for c in counts)


def fanout_stream(extra: str, agency: int = 2, agencies: int = 6) -> DocumentStream:
    scenario = load_scenario(hub_spoke_text(agencies=agencies, rate="200/h", horizon="200h", warmup="0s",
                                            extra=extra))
    topology = build_topology(scenario)
    return DocumentStream(agency, scenario, topology, OpenClock(scenario.calendar, scenario.run.horizon),
                          np.random.SeedSequence(3))


def test_fanout_recipients_are_distinct_others_drawn_uniformly():
    """Fan-out to 3 of the other 5 agencies: every document's recipients are 3 distinct agencies other than the
    sender (agency 2), each of the 5 as often as the others (chi-square, 4 degrees of freedom, 0.999)."""
    stream = fanout_stream("[[traffic.fanout]]\nshare = 1.0\nrecipients = 3\n")
    documents = list(stream)
    assert len(documents) > 30_000
    reached = Counter()
    for document in documents:
        recipients = document[3]
        assert len(recipients) == 3 == len(set(recipients)) and 2 not in recipients and document[4] == 0
        reached.update(recipients)
    assert sorted(reached) == [0, 1, 3, 4, 5]
    assert chi_square(list(reached.values())) < CHI2_999[4]


def test_fanout_to_all_reaches_every_other_member_once():
    """Fan-out to "all": every other agency, once each."""
    stream = fanout_stream('[[traffic.fanout]]\nshare = 1.0\nrecipients = "all"\n', agency=0)
    for document in itertools.islice(stream, 200):
        assert sorted(document[3]) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("agency", [0, 3, 19])
def test_fanout_draws_as_choosing_from_the_other_members(agency):
    """17 of the 19 others: the recipients are those NumPy's ``choice`` draws from the group less the sender, with
    the same generator state (the positions drawn are mapped past the sender's); distinct, never the sender."""
    stream = fanout_stream("[[traffic.fanout]]\nshare = 1.0\nrecipients = 17\n", agency=agency, agencies=20)
    group = np.arange(20)
    for seed in range(50):
        drawn = stream._fanout(np.random.default_rng(seed), (0.0, 1, 1.0), 0, -1)
        expected = np.random.default_rng(seed).choice(group[group != agency], 17, replace=False).tolist()
        assert list(drawn[3]) == expected and drawn[4] == 0 and agency not in drawn[3] and len(set(drawn[3])) == 17
