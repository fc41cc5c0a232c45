"""The ceilings the ledger is compared with, measured on the very rows a run produced.

- `RawRows.write`: every row the import wrote (events, keys, chain — whatever tables the store
  holds), written into a fresh SQLite file with the same schema by plain `executemany`, one
  transaction per `RAW_COMMIT_ROWS` rows: what the same rows cost without the ledger around them.
- `read_and_decode`: every stored event read with one `SELECT` and its payload decoded (the store's
  msgpack transcoder when it can be imported, plain msgpack otherwise): what reading the log costs
  before any projection work.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

RAW_COMMIT_ROWS = 10_000
EVENTS_TABLE = "stored_events"  # eventsourcing's table; its notification id is the store position


class RawRows:
    """The schema and all rows of a SQLite store, held in memory to be written again."""

    def __init__(self, store: Path) -> None:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            master = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid").fetchall()
            self.schema = [sql for _, _, sql in master]
            self.tables = [(name, db.execute(f'SELECT * FROM "{name}"').fetchall())
                           for kind, name, _ in master if kind == "table"]
        finally:
            db.close()
        self.row_count = sum(len(rows) for _, rows in self.tables)

    def write(self, target: Path, *, keep: bool = False) -> float:
        """Write every row into a fresh file at `target`; the seconds it took (the file is removed
        afterwards unless `keep`)."""
        for stale in target.parent.glob(target.name + "*"):
            stale.unlink()
        started = time.perf_counter()
        db = sqlite3.connect(target, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        for sql in self.schema:
            db.execute(sql)
        for name, rows in self.tables:
            if not rows:
                continue
            insert = f'INSERT INTO "{name}" VALUES ({",".join("?" * len(rows[0]))})'
            for start in range(0, len(rows), RAW_COMMIT_ROWS):
                db.execute("BEGIN")
                db.executemany(insert, rows[start:start + RAW_COMMIT_ROWS])
                db.execute("COMMIT")
        db.close()
        seconds = time.perf_counter() - started
        if not keep:
            for written in target.parent.glob(target.name + "*"):
                written.unlink()
        return seconds


def _decoder() -> Callable[[bytes], Any]:
    try:
        from ledger.store.transcoder import MsgpackTranscoder
    except ImportError:  # the store's format moved: fall back to plain msgpack (no extension types)
        return lambda data: msgpack.unpackb(data, raw=False, strict_map_key=False)
    return MsgpackTranscoder().decode


def read_and_decode(store: Path) -> tuple[int, float]:
    """(events, seconds) to read every stored event in order and decode its payload."""
    decode = _decoder()
    started = time.perf_counter()
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    events = 0
    try:
        for _, _, _, state in db.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} ORDER BY rowid"):
            decode(state)
            events += 1
    finally:
        db.close()
    return events, time.perf_counter() - started


def count_events(store: Path) -> int:
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}").fetchone()[0])
    finally:
        db.close()
