"""Shared fixtures: small scenarios written as TOML text, and a headless matplotlib."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

from simulator.scenario import Scenario, load_scenario
from simulator.topology import build_topology


def hub_spoke_text(agencies: int = 6, rate: str = "20/h", gateway_mean: str = "72s", hub_servers: int = 2,
                   hub_mean: str = "7.2s", horizon: str = "2000h", warmup: str = "100h", extra: str = "") -> str:
    """An open Jackson network: Poisson sources, exponential gateways (agency stations), an M/M/c hub."""
    text = f"""
[run]
horizon = "{horizon}"
warmup = "{warmup}"
[network.agency]
service = {{ distribution = "exponential", mean = "{gateway_mean}" }}
[network.hub]
servers = {hub_servers}
service = {{ distribution = "exponential", mean = "{hub_mean}" }}
[kinds.agency]
rate = "{rate}"
[traffic]
recipients = "uniform"
{extra}
"""
    return text + "".join(f'[[agencies]]\nid = "A{i}"\n' for i in range(agencies))


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
