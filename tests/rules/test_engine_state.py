"""Rule state is saved and restored exactly, NamedTuples included; saved state of an older shape is
never loaded: the flags projection's version changes with it, so the flags are rebuilt from the log."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ledger.app import Ledger
from projections.flags import CODE_VERSION
from projections.rules.config import default_config
from projections.rules.engine import RuleEngine, state_record
from projections.rules.f04_circular_flow import Hop, Portion
from projections.rules.registry import all_rules
from projections.runner import POSITIONS_TABLE
from tests.rules.baseline import Baseline
from tests.rules.test_assets import rush


def engine() -> RuleEngine:
    config = default_config()
    return RuleEngine(config, all_rules(config))


def test_named_tuples_in_rule_state_come_back_as_themselves() -> None:
    first = engine()
    hop = Hop("T-1", "A", "B", "2025-03-01T10:00:00+05:00", 100, None)
    first.rules[2].state = {"lots": {"T-1": [Portion(100, (hop,))]}, "seen": {("a", 1)}}
    second = engine()
    second.load(first.dump())
    [portion] = second.rules[2].state["lots"]["T-1"]
    assert type(portion) is Portion and type(portion.route[0]) is Hop and portion.route[0].payee == "B"
    assert second.rules[2].state["seen"] == {("a", 1)}


def test_an_unregistered_named_tuple_cannot_be_saved() -> None:
    class Loose(NamedTuple):
        value: int

    broken = engine()
    broken.rules[0].state = {"x": Loose(1)}
    with pytest.raises(AssertionError, match="not registered"):
        broken.dump()
    assert state_record(Loose) is Loose  # registering makes it savable
    broken.dump()


def test_saved_state_without_this_version_is_refused() -> None:
    import msgpack

    with pytest.raises(AssertionError, match="another version"):
        engine().load(msgpack.packb({"world": {}, "raised": [], "deadlines": [], "sequence": 0, "rules": {}}))


def test_flags_saved_by_an_older_engine_are_rebuilt_from_the_log(tmp_path: Path) -> None:
    world = Baseline()
    rush(world)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = world.run(url)
    read = ledger.read_side()
    now = read.catch_up()
    expected = read.flags(now, now, "2026-01-01T00:00:00+05:00")
    assert any(flag["rule"] == "L03" for flag in expected)
    read.db.execute(f"UPDATE {POSITIONS_TABLE} SET version = ? WHERE name = 'flags'", (f"{CODE_VERSION - 1}:old",))
    read.db.execute("UPDATE ledger_rule_state SET state = ?", (b"\x80",))  # an old engine's state, unreadable now
    ledger.close()
    again = Ledger(url)
    try:
        read = again.read_side()
        now = read.catch_up()
        assert read.flags(now, now, "2026-01-01T00:00:00+05:00") == expected
    finally:
        again.close()
