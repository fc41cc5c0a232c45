"""Rule state is saved and restored exactly, NamedTuples included; saved state of an older shape is
never loaded: the flags projection's version changes with it, so the flags are rebuilt from the log.
The state is kept per key: a catch-up reads and writes only the keys its events touch."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytest

from ledger.app import Ledger
from projections.flags import CODE_VERSION
from projections.rules.config import default_config
from projections.rules.engine import RuleEngine, state_record, unpack
from projections.rules.f04_circular_flow import Hop, Portion
from projections.rules.registry import all_rules
from projections.rules.state import ABSENT, KeyedState
from projections.runner import POSITIONS_TABLE
from tests.rules.baseline import Baseline
from tests.rules.test_assets import rush


def record_after(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, record: Callable[[Any], Any]) -> list[Any]:
    """Wrap the method `owner.name` so that after each call `record(self)` is appended to the list returned."""
    seen: list[Any] = []
    original = getattr(owner, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        seen.append(record(self))
        return result

    monkeypatch.setattr(owner, name, wrapped)
    return seen


AS_OF_NEW_YEAR = "2026-01-01T00:00:00+05:00"


def rushed() -> tuple[Baseline, str, list[dict[str, Any]]]:
    """The year-end rush world, the moment after its year, and its flags then by the baseline's plain engine
    (asked before a test changes the engine's constants)."""
    world = Baseline()
    rush(world)
    return world, AS_OF_NEW_YEAR, world.flags(AS_OF_NEW_YEAR)


@contextmanager
def imported(world: Baseline, tmp_path: Path) -> Iterator[tuple[Ledger, Any, int]]:
    """`world`'s commands imported into a fresh SQLite ledger: the ledger, its read side, its last position."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    try:
        ledger.execute(world.commands())
        yield ledger, ledger.read_side(), ledger.position()
    finally:
        ledger.close()


def engine() -> RuleEngine:
    config = default_config()
    return RuleEngine(config, all_rules(config))


def test_named_tuples_in_rule_state_come_back_as_themselves() -> None:
    first = engine()
    hop = Hop("T-1", "A", "B", "2025-03-01T10:00:00+05:00", 100, None)
    first.rules[2].state.setdefault("lots", {})["T-1"] = [Portion(100, (hop,))]
    first.rules[2].state.setdefault("seen", set()).add(("a", 1))
    second = engine()
    second.load(first.dump())
    [portion] = second.rules[2].state["lots"]["T-1"]
    assert type(portion) is Portion and type(portion.route[0]) is Hop and portion.route[0].payee == "B"
    assert ("a", 1) in second.rules[2].state["seen"] and ("a", 2) not in second.rules[2].state["seen"]


def test_an_unregistered_named_tuple_cannot_be_saved() -> None:
    class Loose(NamedTuple):
        value: int

    broken = engine()
    broken.rules[0].state["x"]["k"] = Loose(1)
    with pytest.raises(AssertionError, match="not registered"):
        broken.dump()
    assert state_record(Loose) is Loose  # registering makes it savable
    broken.dump()


def test_saved_state_without_this_version_is_refused() -> None:
    import msgpack

    with pytest.raises(AssertionError, match="another version"):
        engine().load(msgpack.packb({"version": 2, "world": {}, "raised": [], "deadlines": [], "sequence": 0, "rules": {}}))


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
    read.db.execute("UPDATE ledger_rule_state SET value = ?", (b"\x80",))  # an old engine's state, unreadable now
    ledger.close()
    again = Ledger(url)
    try:
        read = again.read_side()
        now = read.catch_up()
        assert read.flags(now, now, "2026-01-01T00:00:00+05:00") == expected
    finally:
        again.close()


class Stored:
    """A backing that counts what it is asked (as the SQL table would be)."""

    def __init__(self, rows: dict[tuple[str, Any], Any]) -> None:
        self.rows = rows
        self.asked: list[tuple[str, Any]] = []

    def fetch(self, section: str, key: Any) -> Any:
        self.asked.append((section, key))
        return self.rows.get((section, key), ABSENT)


def test_a_lazy_section_loads_a_key_once_and_saves_only_what_changed() -> None:
    stored = Stored({("F03.lots", "L-1"): {"moved": 0}, ("F03.lots", "L-2"): {"moved": 5}, ("P01.paid", "P-1"): True})
    keyed = KeyedState(stored, complete=False)
    lots, paid = keyed.section("F03.lots"), keyed.section("P01.paid")
    lots.get("L-1")["moved"] += 7  # a rule mutates what it reads: it is saved
    assert lots.get("L-1") == {"moved": 7} and "P-1" in paid and "P-9" not in paid and "P-9" not in paid
    paid.add("P-2")
    del lots["L-2"]
    assert stored.asked == [("F03.lots", "L-1"), ("P01.paid", "P-1"), ("P01.paid", "P-9"), ("F03.lots", "L-2")]
    assert sorted(keyed.changes(), key=repr) == [("F03.lots", "L-1", {"moved": 7}), ("F03.lots", "L-2", ABSENT), ("P01.paid", "P-2", True)]
    keyed.saved()
    assert list(keyed.changes()) == []
    with pytest.raises(AssertionError, match="cannot be iterated"):
        list(lots.items())


def test_eviction_forgets_clean_keys_and_asks_the_store_again() -> None:
    stored = Stored({("A01.vins", "V"): [1]})
    keyed = KeyedState(stored, complete=False)
    vins = keyed.section("A01.vins")
    assert vins.peek("V") == [1] and keyed.cached() == 1
    keyed.evict(keep_at_most=1)
    assert keyed.cached() == 1  # within the bound: kept
    keyed.evict(keep_at_most=0)
    assert keyed.cached() == 0
    assert vins.peek("V") == [1] and stored.asked == [("A01.vins", "V"), ("A01.vins", "V")]


def test_eviction_keeps_the_keys_loaded_last_and_never_a_dirty_one() -> None:
    stored = Stored({("F04.lots", f"L-{n}"): [n] for n in range(10)} | {("world.parties", f"P-{n}"): {} for n in range(10)})
    keyed = KeyedState(stored, complete=False)
    lots, parties = keyed.section("F04.lots"), keyed.section("world.parties", track_reads=False)
    for n in range(10):
        lots.peek(f"L-{n}")
        parties.peek(f"P-{n}")
    lots.get("L-0")  # read by a rule: dirty until saved, whatever its age
    keyed.evict(keep_at_most=6)  # 20 held: 3 of each section's 10 are kept, the keys loaded last
    assert list(lots.cache) == ["L-0", "L-7", "L-8", "L-9"] and list(parties.cache) == ["P-7", "P-8", "P-9"]
    asked = len(stored.asked)
    assert lots.peek("L-9") == [9] and len(stored.asked) == asked  # kept: not asked again
    assert lots.peek("L-3") == [3] and stored.asked[-1] == ("F04.lots", "L-3")  # forgotten: asked again


# bytes: nothing is measured before the first save (the key bound asks for it); after it, the byte
# bound keeps far fewer keys than the key bound alone would (100 to 200)
@pytest.mark.parametrize(("keys_max", "bytes_max", "held_max"), [(40, 1 << 30, 40), (200, 2_000, 20)], ids=["keys", "bytes"])
def test_a_catch_up_saves_and_evicts_whenever_the_cache_outgrows_its_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys_max: int, bytes_max: int, held_max: int) -> None:
    """Memory, not only the event count, decides when a catch-up saves: the rule state held after
    each chunk stays near the bound (in keys, or in their packed bytes) however many events pass
    between the periodic saves."""
    import projections.flags as flags_module

    world, as_of, expected = rushed()
    monkeypatch.setattr(flags_module, "SAVE_STATE_EVERY_EVENTS", 10**9)  # never for the count
    monkeypatch.setattr(flags_module, "CACHED_KEYS_MAX", keys_max)
    monkeypatch.setattr(flags_module, "CACHED_BYTES_MAX", bytes_max)
    held = record_after(monkeypatch, flags_module.Flags, "apply", lambda flags: flags.engine.keyed.cached())
    with imported(world, tmp_path) as (ledger, read, last):
        read.runner.catch_up(until=last, chunk_events=5)
        first_drop = next((n + 1 for n, (a, b) in enumerate(zip(held, held[1:])) if b < a), len(held))
        assert len(held) > 5 and max(held if keys_max <= held_max else held[first_drop:]) <= held_max
        assert read.flags(last, last, as_of) == expected


def test_a_fork_reads_the_state_but_never_changes_it() -> None:
    first = engine()
    first.rules[0].state["vins"]["V"] = [1]
    fork = first.fork()
    fork.rules[0].state["vins"]["V"].append(2)
    fork.rules[0].state["vins"]["W"] = [3]
    assert first.rules[0].state["vins"]["V"] == [1] and "W" not in first.rules[0].state["vins"]


def _recording(read: Any) -> list[tuple[str, int]]:
    """Record (sql, rows) of every statement touching the rule state tables."""
    calls: list[tuple[str, int]] = []
    query, executemany = read.db.query, read.db.executemany

    def recorded_query(sql: str, params: Any = ()) -> Any:
        rows = query(sql, params)
        if "ledger_rule_" in sql:
            calls.append((sql, len(rows)))
        return rows

    def recorded_many(sql: str, rows: Any) -> None:
        if "ledger_rule_" in sql:
            calls.append((sql, len(rows)))
        executemany(sql, rows)

    read.db.query, read.db.executemany = recorded_query, recorded_many
    return calls


def test_a_catch_up_reads_and_writes_only_the_state_its_events_touch(tmp_path: Path) -> None:
    world = Baseline()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    before = world.commands()
    ledger = Ledger(url)
    ledger.execute(before)
    read = ledger.read_side()
    read.catch_up()
    stored_rows = int(read.db.query("SELECT COUNT(*) FROM ledger_rule_state")[0][0])
    ledger.close()
    rush(world)
    [new] = [command for command in world.commands() if command not in before]
    again = Ledger(url)
    try:
        again.execute([new])
        read = again.read_side()
        calls = _recording(read)
        now = read.catch_up()
        keys_read = sum(1 for sql, _ in calls if sql.startswith("SELECT value FROM ledger_rule_state"))
        keys_written = sum(rows for sql, rows in calls if sql.startswith(("INSERT INTO ledger_rule_state", "DELETE FROM ledger_rule_state")))
        assert 0 < keys_read < stored_rows // 3 and 0 < keys_written < stored_rows // 3, (keys_read, keys_written, stored_rows)
        assert not any(sql.startswith("SELECT") and "ledger_rule_state" in sql and "WHERE" not in sql for sql, _ in calls)  # never all
        assert any(flag["rule"] == "L03" for flag in read.flags(now, now, "2026-01-01T00:00:00+05:00"))
    finally:
        again.close()


def test_a_process_that_stops_before_saving_is_continued_from_the_saved_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The state is saved at the end of a catch-up: a process that applied chunks but died before
    saving leaves the position ahead of the saved keys, and the next replays the events between."""
    from projections.flags import Flags

    world = Baseline()
    expected = world.flags("2026-01-01T00:00:00+05:00")
    commands = world.commands()
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    half = len(commands) // 2
    first = Ledger(url)
    first.execute(commands[:half])
    first.read_side().catch_up()
    first.close()
    second = Ledger(url)
    second.execute(commands[half:])
    with monkeypatch.context() as patch:
        patch.setattr(Flags, "flush", lambda self, db: None)  # dies before the end-of-catch-up save
        read = second.read_side()
        read.catch_up()
        [[saved]] = read.db.query("SELECT value FROM ledger_rule_state WHERE section = 'engine.meta' AND key = 'sposition'")
        [[projected]] = read.db.query(f"SELECT position FROM {POSITIONS_TABLE} WHERE name = 'flags'")
    second.close()
    assert 0 < unpack(bytes(saved)) < projected  # the keys were saved at the first process's end only
    third = Ledger(url)
    try:
        read = third.read_side()
        now = read.catch_up()
        assert read.flags(now, now, "2026-01-01T00:00:00+05:00") == expected
    finally:
        third.close()


def test_after_evicting_a_state_it_wrote_whole_a_process_asks_the_store_only_for_keys_it_saved() -> None:
    stored = Stored({})
    keyed = KeyedState(stored, complete=True)  # a rebuild: the store holds nothing this process did not write
    lots = keyed.section("F04.lots")
    lots["saved-early"] = [1]
    keyed.saved()
    keyed.evict(keep_at_most=0)
    lots["saved-later"] = [2]
    keyed.saved()
    keyed.evict(keep_at_most=0)
    stored.rows = {("F04.lots", "saved-early"): [1], ("F04.lots", "saved-later"): [2]}
    assert "never-saved" not in lots and stored.asked == []  # certainly not stored: not asked
    assert lots.peek("saved-early") == [1] and lots.peek("saved-later") == [2]
    assert stored.asked == [("F04.lots", "saved-early"), ("F04.lots", "saved-later")]


def test_flags_are_the_same_when_the_state_is_saved_and_evicted_after_every_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import projections.flags as flags_module

    world, as_of, expected = rushed()
    monkeypatch.setattr(flags_module, "SAVE_STATE_EVERY_EVENTS", 1)
    monkeypatch.setattr(flags_module, "CACHED_KEYS_MAX", 0)
    with imported(world, tmp_path) as (ledger, read, last):
        read.runner.catch_up(until=last, chunk_events=7)  # save, forget, reload by key every 7 events
        assert read.flags_projection.engine.keyed.stored is not None  # the rebuild did evict
        assert read.flags(last, last, as_of) == expected


def keys_read_by_rules(rules_dir: Path) -> set[str]:
    """Every `["key"]` / `.get("key"` a rule module reads (the world, which writes them, aside)."""
    import re

    pattern = re.compile(r"""(?:\[|\.get\()\s*["']([a-z_]+)["']""")
    return {key for path in rules_dir.glob("*.py") if path.name != "world.py"
            for key in pattern.findall(path.read_text(encoding="utf-8"))}


def test_the_world_keeps_of_a_contract_only_what_a_rule_reads() -> None:
    """Saved per contract and loaded per event: a field no rule reads (the items, assets, beneficiary
    and method, which rules take from the events) is memory and I/O for nothing."""
    import projections.rules.world as world_module

    world = Baseline()
    ledger = world.run()
    first = engine()
    for notification in ledger.recorder.select_notifications(start=1, limit=100_000):
        first.process(notification.id, ledger.mapper.to_domain_event(notification))
    road = first.world.contracts.peek("C-ROAD-1")
    assert road is not None and road["road"] is not None, "the baseline's road contract, with its geometry"
    read = keys_read_by_rules(Path(world_module.__file__).parent)
    assert set(road) - read == set()
    assert {"items", "assets", "beneficiary", "method"} & read == set()  # so the check above would catch them


def test_a_fork_that_spills_what_it_changed_raises_the_same_pending_flags_and_leaves_the_parent_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flags as of a late moment fire every open deadline in a fork; spilling the fork's changes
    after every deadline (packed, its cache emptied) changes no flag, and the keys the fork read
    from SQL are not kept in the parent's memory."""
    import projections.rules.engine as engine_module

    world = Baseline()
    rush(world)
    with imported(world, tmp_path) as (ledger, read, last):
        read.catch_up()
        projection = read.flags_projection
        with read.db.transaction():
            projection.flush(read.db)
        moment = datetime(2027, 1, 1, tzinfo=timezone.utc)
        whole = [flag.document() for flag in projection.pending_until(read.db, moment)]
        assert whole  # the world has deadlines this moment passes
        projection._engine_position = -1  # a new process: the engine holds only what it loads
        spilled = record_after(monkeypatch, engine_module._ForkBacking, "spill", lambda backing: len(backing.spilled))
        monkeypatch.setattr(engine_module, "FORK_SPILL_EVERY", 1)
        projection._sync(read.db, last)
        held, held_bytes = projection.engine.keyed.cached(), projection.backing.held_bytes
        assert [flag.document() for flag in projection.pending_until(read.db, moment)] == whole
        assert spilled and spilled[-1] > 0
        # the fork's reads left the parent's memory, and its measure of it, alone
        assert (projection.engine.keyed.cached(), projection.backing.held_bytes) == (held, held_bytes)


def test_windows_wait_in_the_table_until_the_clock_nears_them_and_flag_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the windows due within a business day of the clock (two at a time) are held in memory;
    the rest wait in `ledger_rule_deadlines` and are loaded as the clock reaches them. The flags, as
    of the head and as of a later moment (a fork firing every open window), are those of the
    baseline's plain engine."""
    import projections.flags as flags_module
    import projections.rules.engine as engine_module

    world, as_of, expected = rushed()
    monkeypatch.setattr(engine_module, "DEADLINES_LOADED_AT_ONCE", 2)
    monkeypatch.setattr(engine_module, "DEADLINES_AHEAD_US", 86_400_000_000)
    monkeypatch.setattr(flags_module, "SAVE_STATE_EVERY_EVENTS", 5)
    held = record_after(monkeypatch, engine_module.RuleEngine, "_load_deadlines", lambda engine: len(engine.deadlines))
    scheduled = record_after(monkeypatch, engine_module.RuleEngine, "schedule", lambda engine: engine.sequence)
    with imported(world, tmp_path) as (ledger, read, last):
        read.runner.catch_up(until=last, chunk_events=7)
        assert read.flags(last, last, as_of) == expected
        assert len(scheduled) > 4 and max(held) <= 4  # never more than a few windows at once
        assert any(row[0] for row in read.db.query("SELECT count(*) FROM ledger_rule_deadlines"))
