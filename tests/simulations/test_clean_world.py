"""A clean world (misuse rate 0) applies every record and raises no flag from any of the 27 rules —
also once every window of the year has closed (idle funds, ghost projects, year-end rush, S01)."""

from __future__ import annotations

import pytest

from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig


def test_a_clean_three_pilot_world_applies_everything(clean_world: SimulatedWorld) -> None:
    clean_world.flags()
    assert [o for o in clean_world.outcomes if o.status != "applied"] == []
    assert clean_world.truth["instances"] == [] and clean_world.truth["expected_blocked"] == 0


def test_a_clean_three_pilot_world_raises_no_flag(clean_world: SimulatedWorld) -> None:
    assert [(f["rule"], f["explanation"]) for f in clean_world.flags()] == []


@pytest.mark.parametrize("pilot, seed", [("ROAD", 2), ("AGRO", 3), ("LOCAL", 4)])
def test_a_clean_one_pilot_world_raises_no_flag(pilot: str, seed: int) -> None:
    world = SimulatedWorld(SimulationConfig(pilots=(pilot,), seed=seed, transactions=2_000))
    assert [(f["rule"], f["explanation"]) for f in world.flags()] == []
    assert all(o.status == "applied" for o in world.outcomes)
