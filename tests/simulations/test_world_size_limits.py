"""A world too large for the generator's pools of people is refused up front with a clear
message (exit 2, no file), not an AssertionError (exit 70) after minutes of generating."""

from __future__ import annotations

from fractions import Fraction

import pytest

from domain.errors import InvalidValue
from ledger.cli import main
from simulations.world import SimulationConfig, World

ALL = ("ROAD", "AGRO", "LOCAL")


def test_a_world_beyond_the_pools_of_people_is_refused_naming_what_runs_out() -> None:
    World(SimulationConfig(pilots=ALL, seed=1, transactions=1_000_000))  # within the pools
    with pytest.raises(InvalidValue, match=r"needs [\d,]+ (directors|officials) and the generator has [\d,]+"):
        World(SimulationConfig(pilots=ALL, seed=1, transactions=10_000_000))


def test_the_cli_refuses_it_with_exit_2_and_writes_nothing(tmp_path, capsys) -> None:
    out = tmp_path / "year.jsonl"
    code = main(["simulate", "road", "agro", "local", "--transactions", "10000000", "--out", str(out), "--progress", "none"])
    assert code == 2
    assert "simulate fewer transactions per run" in capsys.readouterr().err
    assert not out.exists()



@pytest.mark.parametrize("transactions", [4_700_000, 6_934_000, 10_000_000])
@pytest.mark.parametrize("pilots", [("ROAD",), ("AGRO",), ("LOCAL",), ALL])
def test_a_world_is_refused_up_front_or_can_make_the_last_party_of_every_pool(pilots, transactions) -> None:
    """The last party of each pool is where a pool overflows its range of identifiers (a road-only
    world of 6 934 000 transactions was accepted and then failed with AssertionError ('worker', 90000))."""
    try:
        world = World(SimulationConfig(pilots=pilots, seed=1, transactions=transactions))
    except InvalidValue as refused:
        assert "simulate fewer transactions per run" in str(refused)
        return
    for role, size in world.pools.items():
        first, last = world.party(role, 0), world.party(role, size - 1)
        assert len(last.party) == 12 and last.party.isdigit()
        assert size == 1 or last.party != first.party
        for director in last.directors:
            assert len(director) == 12 and director.isdigit()


def test_misuse_beyond_the_projects_schemes_fit_on_is_refused_up_front() -> None:
    """A road world of 6 934 000 transactions with --misuse-rate 0.01 once ran 7 minutes and then
    stopped with AssertionError 250233 (a scheme party's BIN serial out of range)."""
    World(SimulationConfig(pilots=("ROAD",), seed=1, transactions=6_934_000))  # no misuse: accepted
    with pytest.raises(InvalidValue, match=r"misuse schemes fit on the first 83,333 of a pilot"):
        World(SimulationConfig(pilots=("ROAD",), seed=1, transactions=6_934_000, misuse_rate=Fraction(1, 100)))
    with pytest.raises(InvalidValue, match=r"misuse schemes fit"):
        World(SimulationConfig(pilots=("ROAD",), seed=1, transactions=6_934_000, forced=(("ROAD", 90_000, "split"),)))
    World(SimulationConfig(pilots=("ROAD",), seed=1, transactions=6_934_000, forced=(("ROAD", 5, "split"),)))
    World(SimulationConfig(pilots=ALL, seed=1, transactions=3_000_000, misuse_rate=Fraction(1, 100)))
