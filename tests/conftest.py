"""Shared fixtures: small scenarios written as TOML text, and a headless matplotlib."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

from simulator.scenario import Scenario, load_scenario
from simulator.topology import build_topology
from simulator.verification import hub_and_spoke_text


hub_spoke_text = hub_and_spoke_text  # the scenario the Jackson reference case uses


@pytest.fixture
def mm_network() -> Scenario:
    """Six agencies at 20/h, gateways at rho 0.67, a two-server hub."""
    return load_scenario(hub_spoke_text())


@pytest.fixture
def seed() -> np.random.SeedSequence:
    """A fixed replication seed."""
    return np.random.SeedSequence(12345)


def built(scenario: Scenario):
    """(scenario, topology) pair."""
    return scenario, build_topology(scenario)
