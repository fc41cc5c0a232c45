"""Anomaly flags as a projection: the rule engine's output, and its state, beside the events.

The engine's state is kept per key (`projections.rules.state`): one row per (section, key) in
`ledger_rule_state` — a party, a contract, a rule's lot or bucket — and one row per open window in
`ledger_rule_deadlines`. A catch-up loads the keys its events touch on first use and writes back
only those, with the projection's position, in the chunk's transaction: `flags` after N new
commands costs O(N) reads and writes, not a load and save of the whole history's state. A crash
rolls the chunk back; the next process continues from the saved rows. Thresholds are part of the
projection's version: flags computed under other thresholds are rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from domain import events as e
from projections.base import Projection, ViewDatabase, as_of_where
from projections.index import utc_text
from projections.rules.config import RulesConfig
from projections.rules.engine import ABSENT_VALUE, Deadline, Flag, RuleEngine, pack, unpack
from projections.rules.registry import all_rules
from projections.runner import POSITIONS_TABLE, ReadLog
from projections.sealing import PLAIN, Sealer

CODE_VERSION = 7  # 7: windows loaded as the clock nears them (a due column); 6: F09 keyed by (payer, invoice); 5: closed windows expire; 4: rule state saved per key (3: one module per rule, NamedTuple rule state, local dates)
SAVE_STATE_EVERY_EVENTS = 25_000
REPLAY_CHUNK_EVENTS = 5_000
CACHED_KEYS_MAX = 100_000  # keys of rule state kept in memory between saves (the rest are in SQL)
# ... and their size: packed bytes of the values read from SQL or written to it since the cache was
# last halved (objects in memory take about 4× their packed size). Values grow with history (a
# party's links, a color's flows), so a bound on keys alone let the cache grow with the store.
CACHED_BYTES_MAX = 16 << 20
_META = "engine.meta"  # the section holding the saved position and deadline counter


def key_text(key: Any) -> str:
    """A state key as text for the key column (sealed as an identifier: it may name a party)."""
    return "s" + key if isinstance(key, str) else "m" + pack(key).hex()


class SqlBacking:
    """Rule state rows of the flags projection's tables, read through the sealer."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer
        self.db: ViewDatabase | None = None  # the database of the current transaction
        self.held_bytes = 0  # packed size of the values fetched or saved since the cache was halved (an estimate)

    def fetch(self, section: str, key: Any) -> Any:
        assert self.db is not None, "rule state read outside a catch-up"
        rows = self.db.query("SELECT value FROM ledger_rule_state WHERE section = ? AND key = ?",
                             (section, self.sealer.seal_id(key_text(key))))
        if not rows:
            return ABSENT_VALUE
        blob = self.sealer.open_blob(bytes(rows[0][0]))
        self.held_bytes += len(blob)
        return unpack(blob)

    def load(self, after: tuple[int, int], upto_utc: int, limit: int) -> list[Deadline]:
        """Saved windows after `after` ((utc µs, seq)) due by `upto_utc`, in order (`DeadlineSource`)."""
        assert self.db is not None, "windows read outside a catch-up"
        rows = self.db.query("SELECT entry FROM ledger_rule_deadlines WHERE (due > ? OR (due = ? AND seq > ?)) AND due <= ? "
                             "ORDER BY due, seq LIMIT ?", (after[0], after[0], after[1], upto_utc, limit))
        return [tuple(unpack(self.sealer.open_blob(bytes(row[0])))) for row in rows]  # type: ignore[misc]


class Flags(Projection):
    """The rule engine as a projection. The keys its events changed are saved every
    `SAVE_STATE_EVERY_EVENTS` events and at the end of every catch-up, in the same transaction as
    the flags and the projection's position (a key changed by many chunks of a long catch-up is
    written once); a process whose engine is not at the projection's position (a crash, a failed
    chunk) starts a new engine from the saved rows and replays the events after the saved position
    through it (their flags are stored already)."""

    name = "flags"
    tables = ("ledger_flags", "ledger_rule_state", "ledger_rule_deadlines")
    compared_tables = ("ledger_flags",)

    def __init__(self, config: RulesConfig, sealer: Sealer = PLAIN) -> None:
        self.config = config
        self.version = f"{CODE_VERSION}:{config.digest}"
        super().__init__(sealer)  # flag ids and documents, and the saved state, are sealed with a key
        self.backing = SqlBacking(self.sealer)
        self.engine = self._new_engine(complete=True)
        self._engine_position = -1  # the engine has seen every event up to here (-1: unknown)
        self._saved_position = 0
        self._read_log: ReadLog | None = None
        self._seq: int | None = None  # flags stored, as of `_engine_position` (None: ask the table)

    def fresh(self) -> Flags:
        return Flags(self.config, self.sealer)

    def attach(self, read_log: ReadLog) -> None:
        self._read_log = read_log

    def _new_engine(self, complete: bool) -> RuleEngine:
        engine = RuleEngine(self.config, all_rules(self.config), self.backing, complete=complete)
        engine.load_deadlines_from(self.backing)
        return engine

    def create_tables(self, db: ViewDatabase) -> None:
        db.execute(
            "CREATE TABLE ledger_flags (flag_id TEXT PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL, "
            "pilot TEXT, color TEXT, at_utc TEXT NOT NULL, position BIGINT NOT NULL, seq BIGINT NOT NULL, "
            "document TEXT NOT NULL)"
        )
        db.execute("CREATE TABLE ledger_rule_state (section TEXT NOT NULL, key TEXT NOT NULL, value BYTEA NOT NULL, "
                   "PRIMARY KEY (section, key))")
        db.execute("CREATE TABLE ledger_rule_deadlines (seq BIGINT PRIMARY KEY, due BIGINT NOT NULL, entry BYTEA NOT NULL)")
        # read by due as the clock moves, during a rebuild too: built with the table, not deferred
        db.execute("CREATE INDEX ledger_rule_deadlines_by_due ON ledger_rule_deadlines (due, seq)")
        self.engine = self._new_engine(complete=True)  # nothing saved yet: a miss is a miss
        self._engine_position = self._saved_position = 0
        self._seq = 0

    def create_indexes(self, db: ViewDatabase) -> None:
        db.execute("CREATE INDEX ledger_flags_by_position ON ledger_flags (position, seq)")

    def _projected_position(self, db: ViewDatabase) -> int:
        rows = db.query(f"SELECT position FROM {POSITIONS_TABLE} WHERE name = ?", (self.name,))
        return int(rows[0][0]) if rows else 0

    def _sync(self, db: ViewDatabase, position: int) -> None:
        """Bring the engine to exactly `position`: open the saved state, replay what follows it."""
        self.backing.db = db
        if self._engine_position == position:
            return
        self.engine = self._new_engine(complete=False)
        self._seq = None
        meta = self.engine.keyed.section(_META)
        saved, sequence = meta.peek("position", 0), meta.peek("sequence", 0)
        assert saved <= position, (saved, position)
        self._saved_position = saved
        self.engine.sequence = sequence  # the open windows are read as the clock reaches them
        self._engine_position = -1
        while saved < position:
            assert self._read_log is not None, "the runner attaches the log before applying"
            chunk = [item for item in self._read_log(saved, REPLAY_CHUNK_EVENTS) if item[0] <= position]
            assert chunk, f"events up to {position} are missing from the log"
            for item_position, event in chunk:
                self.engine.process(item_position, event)  # their flags were stored when first applied
            saved = chunk[-1][0]
        self._engine_position = position

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        self._sync(db, self._projected_position(db))
        assert events[0][0] > self._engine_position
        self._engine_position = -1  # the engine moves on in memory: if this chunk's write fails, resync
        flags: list[Flag] = []
        for position, event in events:
            flags += self.engine.process(position, event)
        if flags:
            seq0 = self._next_seq(db)
            self._seq = seq0 + len(flags)
            db.executemany(
                "INSERT INTO ledger_flags VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flag_id) DO NOTHING",
                [(self.sealer.seal_id(f.flag_id), f.rule, f.severity, f.pilot, f.color, utc_text(datetime.fromisoformat(f.at)),
                  f.position, seq0 + i, self.sealer.seal_text(orjson.dumps(f.document()).decode())) for i, f in enumerate(flags)],
            )
        last = events[-1][0]
        # A rebuild never resumes from saved state (a killed rebuild starts over), so its state is
        # saved only when memory asks for it (to evict) and once at the end (`flush`); a catch-up
        # also every `SAVE_STATE_EVERY_EVENTS`, so a crash replays at most that many events. Memory
        # asks after any chunk: saving only every 25 000 events let a catch-up at 10^6 events
        # hold every key those events touched (747 MB, issue 11).
        if self.engine.keyed.cached() > CACHED_KEYS_MAX or self.backing.held_bytes > CACHED_BYTES_MAX or (
                not self.bulk and last - self._saved_position >= SAVE_STATE_EVERY_EVENTS):
            self._save(db, last)
        self._engine_position = last

    def _next_seq(self, db: ViewDatabase) -> int:
        """The number of flags stored (each flag's `seq` is the count before it): read once per
        engine through the (position, seq) index — not a count of the whole table per chunk."""
        if self._seq is None:
            rows = db.query("SELECT seq FROM ledger_flags ORDER BY position DESC, seq DESC LIMIT 1")
            self._seq = int(rows[0][0]) + 1 if rows else 0
        return self._seq

    def flush(self, db: ViewDatabase) -> None:
        """Save the changed keys at the projection's position (the runner calls this after catching up)."""
        position = self._projected_position(db)
        if self._engine_position == position and position > self._saved_position:
            self.backing.db = db
            self._save(db, position)

    def _save(self, db: ViewDatabase, position: int) -> None:
        """Write the keys and windows this chunk changed, and the position they are as of."""
        meta = self.engine.keyed.section(_META)
        meta["position"], meta["sequence"] = position, self.engine.sequence
        written, deleted = [], []
        for section, key, value in self.engine.keyed.changes():
            sealed_key = self.sealer.seal_id(key_text(key))
            if value is ABSENT_VALUE:
                deleted.append((section, sealed_key))
            else:
                packed = pack(value)
                self.backing.held_bytes += len(packed)
                written.append((section, sealed_key, self.sealer.seal_blob(packed)))
        if deleted:
            db.executemany("DELETE FROM ledger_rule_state WHERE section = ? AND key = ?", deleted)
        if written:
            db.executemany("INSERT INTO ledger_rule_state VALUES (?, ?, ?) ON CONFLICT (section, key) "
                           "DO UPDATE SET value = excluded.value", written)
        opened, closed = self.engine.deadline_changes()
        if closed:
            db.executemany("DELETE FROM ledger_rule_deadlines WHERE seq = ?", [(seq,) for seq in closed])
        if opened:
            db.executemany("INSERT INTO ledger_rule_deadlines VALUES (?, ?, ?)",
                           [(item[1], item[0], self.sealer.seal_blob(pack(item))) for item in opened])
        self.engine.saved()
        # room for the next chunks before memory asks again: half the keys, or fewer if they are large
        keyed, backing = self.engine.keyed, self.backing
        held = keyed.cached()
        keep = min(CACHED_KEYS_MAX // 2, held * (CACHED_BYTES_MAX // 2) // max(backing.held_bytes, 1))
        if held > keep:
            keyed.evict(keep)
            backing.held_bytes = backing.held_bytes * keyed.cached() // held
        self._saved_position = position

    def pending_until(self, db: ViewDatabase, moment: datetime) -> list[Flag]:
        """Flags whose windows close by `moment` but no later event has closed yet (not stored)."""
        position = self._projected_position(db)
        self._sync(db, position)
        held = self.backing.held_bytes
        try:
            return self.engine.fork().close_windows_until(moment, position)
        finally:
            self.backing.held_bytes = held  # what the fork read is not in this engine's memory


def stored_flags(db: ViewDatabase, sealer: Sealer, *, position: int | None = None, at_utc: str | None = None) -> list[dict[str, Any]]:
    """Stored flag documents in the order raised, up to a position and/or business time."""
    where, params = as_of_where(position, at_utc)
    sql = "SELECT document FROM ledger_flags" + where + " ORDER BY position, seq"
    return [orjson.loads(sealer.open_text(row[0])) for row in db.query(sql, params)]


def stored_flag(db: ViewDatabase, sealer: Sealer, flag_id: str) -> dict[str, Any] | None:
    """The stored document of one flag, by its id (None: no such flag stored)."""
    rows = db.query("SELECT document FROM ledger_flags WHERE flag_id = ?", (sealer.seal_id(flag_id),))
    return orjson.loads(sealer.open_text(rows[0][0])) if rows else None


def flags_between(db: ViewDatabase, sealer: Sealer, after: int, upto: int) -> list[tuple[int, dict[str, Any]]]:
    """(position, document) of the flags raised at positions in (after, upto], in the order raised."""
    rows = db.query("SELECT position, document FROM ledger_flags WHERE position > ? AND position <= ? ORDER BY position, seq",
                    (after, upto))
    return [(int(position), orjson.loads(sealer.open_text(document))) for position, document in rows]
