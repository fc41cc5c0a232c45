"""A world too large for the generator's pools of people is refused up front with a clear
message (exit 2, no file), not an AssertionError (exit 70) after minutes of generating."""

from __future__ import annotations

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
