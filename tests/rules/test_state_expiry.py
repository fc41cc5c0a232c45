"""Rule state is bounded: state kept only for a window (F04's lots, F09's same-amount payments) is
deleted once the color's business time has passed the window, and the flags are exactly those of
an engine that keeps everything — on simulated worlds with every scheme, built in one run and
incrementally in chunks with the state saved, evicted and reloaded in between."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import projections.flags as flags_module
import projections.rules.engine as engine_module
from ledger.app import Ledger
from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig

ALL_PILOTS = ("ROAD", "AGRO", "LOCAL")
AS_OF = "2026-06-30T00:00:00+05:00"  # after every window of the simulated year has closed
WORLDS = [SimulationConfig(pilots=ALL_PILOTS, seed=3, transactions=2_000, misuse_rate=Fraction(1)),
          SimulationConfig(pilots=("ROAD", "LOCAL"), seed=8, transactions=1_500, misuse_rate=Fraction(1, 2))]


def _run(world: SimulatedWorld, url: str, chunk_events: int | None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Flags as of AS_OF and state rows per section, caught up in one go or in chunks of `chunk_events`."""
    ledger = Ledger(url)
    try:
        ledger.execute(world.commands())
        read = ledger.read_side()
        now = ledger.position()
        if chunk_events is None:
            read.rebuild()
        else:
            read.runner.catch_up(until=now, chunk_events=chunk_events)
        flags = read.flags(now, now, AS_OF)
        rows = {str(section): int(count) for section, count in
                read.db.query("SELECT section, COUNT(*) FROM ledger_rule_state GROUP BY section")}
        return flags, rows
    finally:
        ledger.close()


@pytest.mark.parametrize("config", WORLDS, ids=lambda c: f"seed{c.seed}-{c.transactions}")
def test_closed_windows_expire_and_the_flags_stay_the_same(config: SimulationConfig, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    world = SimulatedWorld(config)
    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "EXPIRE_CLOSED_WINDOWS", False)
        kept_flags, kept_rows = _run(world, f"sqlite:///{tmp_path / 'kept.sqlite'}", None)
    expired_flags, expired_rows = _run(world, f"sqlite:///{tmp_path / 'expired.sqlite'}", None)
    assert expired_flags == kept_flags and kept_flags
    for section in ("F04.lots", "F09.amounts"):
        assert expired_rows.get(section, 0) < kept_rows[section] // 2, (section, expired_rows.get(section), kept_rows[section])
    # incrementally, saving, evicting and reloading the state (and its pending expiries) every chunk
    monkeypatch.setattr(flags_module, "SAVE_STATE_EVERY_EVENTS", 1)
    monkeypatch.setattr(flags_module, "CACHED_KEYS_MAX", 0)
    chunked_flags, chunked_rows = _run(world, f"sqlite:///{tmp_path / 'chunked.sqlite'}", 97)
    assert chunked_flags == kept_flags
    assert chunked_rows == expired_rows, "the same keys are left, whether built at once or in chunks"
