"""Each misuse scheme, forced onto one project of a small clean world, is caught by its rules — every
expected rule flags it — and raises nothing else; attempts are blocked, and only they."""

from __future__ import annotations

import pytest

from simulations.runs import SimulatedWorld, project_for_scheme
from simulations.schemes import SCHEMES
from simulations.world import SimulationConfig

CASES = [(scheme.name, pilot) for scheme in SCHEMES for pilot in sorted(scheme.pilots)]
TRANSACTIONS = 400
SEED = 11


@pytest.mark.parametrize("scheme, pilot", CASES)
def test_the_scheme_is_detected_by_its_rules_and_nothing_else(scheme: str, pilot: str) -> None:
    index = project_for_scheme(pilot, scheme, seed=SEED, transactions=TRANSACTIONS)
    assert index is not None, f"no project of a {pilot} world takes {scheme}"
    world = SimulatedWorld(SimulationConfig(pilots=(pilot,), seed=SEED, transactions=TRANSACTIONS,
                                            forced=((pilot, index, scheme),)))
    [instance] = world.truth["instances"]
    assert instance["scheme"] == scheme and instance["transactions"], instance
    result = world.evaluate()
    assert result.missed == []
    unexpected = [(f["rule"], f["explanation"]) for f in result.flags if f["rule"] not in instance["rules"]]
    assert unexpected == []
    assert all(score.false_positives == 0 for score in result.rules)
    blocked = [o.command_id for o in world.outcomes if o.status == "blocked"]
    assert len(blocked) == instance["blocked"] == world.truth["expected_blocked"]
    assert set(blocked) <= set(instance["transactions"])


def test_every_rule_family_so_far_has_a_scheme() -> None:
    covered = {rule for scheme in SCHEMES for rule in scheme.rules}
    assert {"F01", "F07", "F09", "R01", "R03", "R04", "A01", "L01", "H01"} <= covered


def test_scheme_names_start_with_their_rule() -> None:
    assert all(scheme.name.split("-")[0] in scheme.rules for scheme in SCHEMES)
