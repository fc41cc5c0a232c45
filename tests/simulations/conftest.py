"""Shared worlds for the simulation tests (generated once per session: generation is deterministic)."""

from __future__ import annotations

import pytest

from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig

CLEAN = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=1, transactions=1_500)


@pytest.fixture(scope="session")
def clean_world() -> SimulatedWorld:
    return SimulatedWorld(CLEAN)
