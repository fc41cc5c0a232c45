"""The lean write path (issue 11): a batch's rows written with `executemany` and explicit positions.

eventsourcing's SQLite recorder inserts a batch's events one `execute` at a time to learn each
row's position (`lastrowid`), and `Application.save` wraps every stored event in a `Recording` the
ledger never reads. The lean path writes the very same rows, so a store written by it is read by
eventsourcing's normal path (`Ledger.events.get`, the notification log) as any other:

- the events table's position is SQLite's `rowid`, and the table has no `AUTOINCREMENT`: a plain
  insert takes `max(rowid) + 1`. The batch's first event is inserted plainly (which also takes the
  store's write lock, if the keys did not take it already), and the others with the positions that
  follow it, in one `executemany`: the positions row-by-row inserts would have given.
- the keys, the read-version checks, the absent-key checks and the chain rows are those of
  `LedgerSQLiteRecorder._insert_events`, in the same transaction and the same order, so a failure
  at any point rolls back the whole batch (kill -9 leaves whole batches only).

`Ledger.save` (ledger/app.py) encodes each event once with the application's mapper (transcoder,
cipher) and hands the stored events to the recorder's `insert_events` directly. On PostgreSQL the
SQL is the recorder's own (`LedgerPostgresRecorder._insert_all`: a table lock orders positions
there, and its insert already sends all rows at once); only the `Application.save` wrapping is
skipped. `tests/property/test_lean_write_path.py` keeps both paths' rows equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor

from ledger.store.chain import chain_rows


def sqlite_stream_versions(c: SQLiteCursor, events_table: str, streams: Sequence[UUID]) -> dict[UUID, int]:
    """Each stream's last version (streams without events left out), one indexed `MAX` per stream.

    SQLite answers `SELECT MAX(version) ... WHERE originator_id = ?` from the primary key's last
    entry; the `IN (...) GROUP BY` form it replaces walks every event of each stream (10 000 per
    color in the bench: 1.4 s of a 100 000-command import went there)."""
    statement = f"SELECT MAX(originator_version) FROM {events_table} WHERE originator_id = ?"
    found: dict[UUID, int] = {}
    for stream in streams:
        c.execute(statement, (stream.hex,))
        row = c.fetchone()
        if row is not None and row[0] is not None:
            found[stream] = int(row[0])
    return found


PREFETCH_CHUNK_MAX = 400  # streams per statement (two parameters each: well under SQLite's limit)


def sqlite_select_for_load(c: SQLiteCursor, events_table: str, snapshots_table: str, snapshot_streams: Sequence[UUID],
                           streams: Sequence[UUID]) -> tuple[dict[UUID, StoredEvent], dict[UUID, list[StoredEvent]]]:
    """What loading `streams` one by one reads (`Ledger._fresh`), in a few statements of one read
    transaction: the latest snapshot of each of `snapshot_streams`, and each stream's events from
    its snapshot's version on (all of them for a stream without one), in version order."""
    snapshots: dict[UUID, StoredEvent] = {}
    by_hex = {stream.hex: stream for stream in streams}
    for start in range(0, len(snapshot_streams), PREFETCH_CHUNK_MAX):
        chunk = [stream.hex for stream in snapshot_streams[start:start + PREFETCH_CHUNK_MAX]]
        c.execute(f"SELECT originator_id, originator_version, topic, state FROM {snapshots_table} "
                  f"WHERE originator_id IN ({','.join('?' * len(chunk))})", chunk)
        for row in c.fetchall():
            stream = by_hex[row[0]]
            found = snapshots.get(stream)
            if found is None or row[1] > found.originator_version:
                snapshots[stream] = StoredEvent(stream, row[1], row[2], row[3])
    events: dict[UUID, list[StoredEvent]] = {stream: [] for stream in streams}
    for start in range(0, len(streams), PREFETCH_CHUNK_MAX):
        chunk = streams[start:start + PREFETCH_CHUNK_MAX]
        params: list[Any] = []
        for stream in chunk:
            snapshot = snapshots.get(stream)
            params += (stream.hex, snapshot.originator_version if snapshot is not None else 0)
        c.execute(f"WITH wanted(i, v) AS (VALUES {','.join(['(?,?)'] * len(chunk))}) "
                  f"SELECT e.originator_id, e.originator_version, e.topic, e.state FROM wanted "
                  f"JOIN {events_table} AS e ON e.originator_id = wanted.i AND e.originator_version >= wanted.v "
                  "ORDER BY e.originator_id, e.originator_version", params)
        for row in c.fetchall():
            stream = by_hex[row[0]]
            events[stream].append(StoredEvent(stream, row[1], row[2], row[3]))
    return snapshots, events


def _stream_text(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def sqlite_insert_events(c: SQLiteCursor, events_table: str, stored_events: Sequence[StoredEvent]) -> list[int]:
    """Insert the events, in order, at the positions row-by-row inserts would give them."""
    if not stored_events:
        return []
    first, *rest = stored_events
    c.execute(f"INSERT INTO {events_table} VALUES (?,?,?,?)",
              (_stream_text(first.originator_id), first.originator_version, first.topic, first.state))
    start = c.lastrowid
    assert isinstance(start, int) and start > 0
    if rest:
        c.executemany(f"INSERT INTO {events_table} (rowid, originator_id, originator_version, topic, state) VALUES (?,?,?,?,?)",
                      [(start + offset, _stream_text(s.originator_id), s.originator_version, s.topic, s.state)
                       for offset, s in enumerate(rest, 1)])
    return list(range(start, start + len(stored_events)))


def sqlite_insert_batch(recorder: Any, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                        keys: Sequence[tuple[str, bytes, str]], read_versions: dict[UUID, int],
                        absent_keys: Sequence[str]) -> list[int]:
    """Keys, events, checks and chain rows of one batch, as `LedgerSQLiteRecorder._insert_events`
    writes them (`recorder` is one), with `executemany` throughout."""
    # the recorders' own checks (imported here: `ledger.store.recorders` imports this module)
    from ledger.store.recorders import LOOKUP_CHUNK_MAX, _check_absent, _check_read_versions

    if keys:
        c.executemany(f"INSERT INTO {recorder.keys_table} VALUES (?,?,?)", keys)
    positions = sqlite_insert_events(c, recorder.events_table_name, stored_events)
    if read_versions:  # the write lock is held now: what we read is what others committed
        _check_read_versions(read_versions, sqlite_stream_versions(c, recorder.events_table_name, list(read_versions)))
    for start in range(0, len(absent_keys), LOOKUP_CHUNK_MAX):
        chunk = list(absent_keys[start:start + LOOKUP_CHUNK_MAX])
        c.execute(f"SELECT key FROM {recorder.keys_table} WHERE key IN ({','.join('?' * len(chunk))})", chunk)
        _check_absent([row[0] for row in c.fetchall()])
    if not recorder.chained or not positions:
        return positions
    c.execute(f"SELECT leaf_index, chain_hash FROM {recorder.chain_table} ORDER BY position DESC LIMIT 1")
    last = c.fetchone()
    chained = chain_rows((last[0], bytes(last[1])) if last else None, positions, stored_events)
    c.executemany(f"INSERT INTO {recorder.chain_table} VALUES (?,?,?,?)", chained)
    return positions
