"""The hypothesis strategies researchers use (`simulations.hypothesis`), used as documented."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulations.hypothesis import schemes, worlds, worlds_with_scheme
from simulations.runs import SimulatedWorld
from simulations.schemes import Scheme

SETTINGS = settings(max_examples=4, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@SETTINGS
@given(worlds(pilots=st.sampled_from([("ROAD",), ("AGRO",), ("LOCAL",), ("ROAD", "LOCAL")]),
              transactions=st.integers(150, 600)))
def test_clean_worlds_stay_silent(world: SimulatedWorld) -> None:
    assert world.flags() == []


@SETTINGS
@given(worlds_with_scheme(schemes(rules=("F09", "H01", "A01")), transactions=st.integers(200, 500)))
def test_schemes_are_detected_and_nothing_else_is_flagged(world: SimulatedWorld) -> None:
    result = world.evaluate()
    assert result.missed == []
    assert all(score.false_positives == 0 for score in result.rules)


@settings(max_examples=20, deadline=None, database=None)
@given(schemes(pilot="AGRO"))
def test_schemes_filter_by_pilot(scheme: Scheme) -> None:
    assert "AGRO" in scheme.pilots


@SETTINGS
@given(worlds(pilots=st.just(("LOCAL",)), transactions=st.just(400), misuse_rate=st.just("1")))
def test_worlds_with_misuse_inject_schemes(world: SimulatedWorld) -> None:
    assert world.truth["instances"]
    assert world.truth["misuse_rate"] == "1"


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(worlds_with_scheme(schemes(), transactions=st.integers(300, 900)))
def test_any_scheme_in_any_drawn_world_is_caught_by_its_rules_alone(world: SimulatedWorld) -> None:
    [instance] = world.truth["instances"]
    result = world.evaluate()
    assert result.missed == []
    assert [(f["rule"], f["explanation"]) for f in result.flags if f["rule"] not in instance["rules"]] == []
