"""Each misuse scheme, forced onto one project of a small clean world, is caught by its rules — every
expected rule flags it — and raises nothing else; attempts are blocked, and only they. Every rule
of the catalog has a scheme."""

from __future__ import annotations

from decimal import Decimal

import pytest

from projections.rules.registry import CATALOG_ORDER
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


def test_every_rule_of_the_catalog_has_a_scheme_named_after_it() -> None:
    assert {scheme.name.split("-")[0] for scheme in SCHEMES} == set(CATALOG_ORDER)


def test_scheme_names_start_with_their_rule() -> None:
    assert all(scheme.name.split("-")[0] in scheme.rules for scheme in SCHEMES)


@pytest.mark.parametrize("scheme, pilot", [("F03-pass-through-shell", "ROAD"), ("F03-pass-through-shell", "LOCAL")])
def test_an_instance_lists_the_second_rules_it_raises(scheme: str, pilot: str) -> None:
    """A shell is pass-through (F03) and pass-through subcontracting (S01); P01 only from 50 M KZT."""
    for seed in (7, 11):
        index = project_for_scheme(pilot, scheme, seed=seed, transactions=TRANSACTIONS)
        world = SimulatedWorld(SimulationConfig(pilots=(pilot,), seed=seed, transactions=TRANSACTIONS,
                                                forced=((pilot, index, scheme),)))
        [instance] = world.truth["instances"]
        contract = next(r for r in world.records if r["id"] == instance["transactions"][0])
        large = Decimal(contract["amount"]) >= 50_000_000
        assert instance["rules"] == (["F03", "S01", "P01"] if large else ["F03", "S01"])
        assert {f["rule"] for f in world.flags()} == set(instance["rules"])
