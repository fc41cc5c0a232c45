"""Feeds the notification log to projections, exactly once, tracking positions atomically."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from domain import events as e
from domain.errors import StoreBusy
from projections.base import Projection, ViewDatabase

# read_log(after_position, limit) -> [(position, event)] with position > after_position, ascending
ReadLog = Callable[[int, int], Sequence[tuple[int, e.LedgerEvent]]]
# on_progress(position_reached, last_position)
OnProgress = Callable[[int, int], None]

POSITIONS_TABLE = "projection_positions"
CHUNK_EVENTS_DEFAULT = 2_000
REBUILD_CHUNK_EVENTS = 10_000  # a rebuild commits less often: its chunks are only for memory and progress
# While a rebuild fills a projection, its version in POSITIONS_TABLE carries this mark, and the
# rebuilding process holds the store's rebuild lock (`ViewDatabase.hold_rebuild_lock`, which dies
# with the process). Another process that meets a marked projection while the lock is held is busy
# (`RebuildInProgress`: it neither reads the half-built tables nor disturbs the rebuild); once the
# lock is free, the rebuild was killed part-way, and the next process to open the store resets the
# projection and builds it again (never a half-built projection that looks complete).
BUILDING_MARK = "~building"
# Live projection workers (`tenge-ledger project --follow`): each beats (wall-clock milliseconds,
# supplied by the caller) and the position its projections reached; queries read it to decide
# whether to leave the catch-up to the worker (ledger.read).
WORKERS_TABLE = "projection_workers"
WORKERS_DDL = (f"CREATE TABLE IF NOT EXISTS {WORKERS_TABLE} "
               "(worker TEXT PRIMARY KEY, beat_ms BIGINT NOT NULL, position BIGINT NOT NULL)")


class RebuildInterrupted(StoreBusy):
    """Another process reset a projection while this process was rebuilding it."""


class RebuildInProgress(StoreBusy):
    """Another live process is rebuilding a projection this process needs (busy: try again later)."""


class ProjectionRunner:
    """Keeps a set of projections up to date with the log."""

    def __init__(self, db: ViewDatabase, projections: Sequence[Projection], read_log: ReadLog) -> None:
        names = [p.name for p in projections]
        assert len(set(names)) == len(names) and all(names), names
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.read_log = read_log
        self._building: dict[str, str] = {}  # projections this runner is rebuilding: their marked versions
        for projection in projections:
            projection.attach(read_log)
        self._set_up()

    def _set_up(self) -> None:
        """Create or reset what is missing or stale; on a current store only reads (no DDL on open)."""
        if self._current():
            return
        with self.db.setup_transaction():  # once, however many processes open the store at once
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} "
                "(name TEXT PRIMARY KEY, version TEXT NOT NULL, position BIGINT NOT NULL)"
            )
            if self.db.kind == "postgresql":  # stores made before versions became text
                self.db.execute(f"ALTER TABLE {POSITIONS_TABLE} ALTER COLUMN version TYPE TEXT")
            rows = self._rows()
            self._refuse_live_rebuild(rows)
            known = {name: version for name, version, _ in rows}
            for projection in self.projections.values():
                if known.get(projection.name) != str(projection.version):
                    self._reset(projection)

    def _current(self) -> bool:
        if not self.db.has_table(POSITIONS_TABLE):
            return False
        known = {name: version for name, version, _ in self._rows()}
        return all(known.get(p.name) == str(p.version) for p in self.projections.values())

    def _rows(self, lock: bool = False) -> list[tuple[str, str, int]]:
        suffix = " FOR UPDATE" if lock and self.db.kind == "postgresql" else ""
        return [(r[0], str(r[1]), int(r[2])) for r in self.db.query(f"SELECT name, version, position FROM {POSITIONS_TABLE}{suffix}")]

    def _reset(self, projection: Projection, bulk: bool = False) -> None:
        projection.drop(self.db)
        version = str(projection.version)
        if bulk:
            projection.begin_bulk(self.db)
            version = self._building[projection.name] = version + BUILDING_MARK
        else:
            projection.create(self.db)
        self.db.execute(
            f"INSERT INTO {POSITIONS_TABLE} (name, version, position) VALUES (?, ?, 0) "
            "ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = 0",
            (projection.name, version),
        )

    def _refuse_live_rebuild(self, rows: Sequence[tuple[str, str, int]]) -> None:
        """Raise `RebuildInProgress` if another live process is rebuilding one of these projections."""
        marked = sorted(name for name, version, _ in rows
                        if name in self.projections and BUILDING_MARK in version and version != self._expected(name))
        if marked and self.db.rebuild_lock_held():
            raise RebuildInProgress(f"another process is rebuilding projection {', '.join(marked)}; "
                                    "try again when its rebuild ends")

    def _expected(self, name: str) -> str:
        """The version this runner writes `name` under (marked while it rebuilds it)."""
        return self._building.get(name) or str(self.projections[name].version)

    def positions(self) -> dict[str, int]:
        """Positions of this runner's projections — not of one another process is rebuilding
        (its version carries the mark), which this runner leaves alone."""
        return {name: position for name, version, position in self._rows()
                if name in self.projections and version == self._expected(name)}

    def reached(self) -> int:
        """The lowest position every projection has reached (all events up to it are applied)."""
        rows = self._rows()
        self._refuse_live_rebuild(rows)
        return min((position for name, version, position in rows
                    if name in self.projections and version == self._expected(name)), default=0)

    def catch_up(self, until: int | None = None, chunk_events: int = CHUNK_EVENTS_DEFAULT,
                 last_position: int = 0, on_progress: OnProgress | None = None,
                 should_stop: Callable[[], bool] | None = None) -> int:
        """Apply every event not yet applied (up to position `until`); returns the lowest position reached.

        `should_stop` is asked between chunks (a worker told to stop ends after the chunk it is in)."""
        assert chunk_events > 0
        start = self.reached()
        while (until is None or start < until) and not (should_stop is not None and should_stop()):
            batch = [item for item in self.read_log(start, chunk_events) if until is None or item[0] <= until]
            if not batch:
                break
            assert batch[0][0] > start and all(a[0] < b[0] for a, b in zip(batch, batch[1:])), "log out of order"
            self._apply_chunk(batch)
            start = batch[-1][0]
            if on_progress is not None:
                on_progress(start, last_position)
        with self.db.transaction():
            for projection in self.projections.values():
                projection.flush(self.db)
        return start

    def _apply_chunk(self, batch: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        with self.db.transaction():
            # Re-read positions inside the transaction (locked on PostgreSQL): another process may
            # have applied this chunk meanwhile, and nothing may be applied twice.
            rows = self._rows(lock=True)
            self._refuse_live_rebuild(rows)
            positions = {name: position for name, version, position in rows if version == self._expected(name)}
            last = batch[-1][0]
            for name, projection in self.projections.items():
                if name not in positions:  # another process resets or rebuilds it: not ours to apply
                    self._check_building(name)
                    continue
                position = positions[name]
                if position >= last:
                    continue
                fresh = batch if position < batch[0][0] else [item for item in batch if item[0] > position]
                projection.apply(self.db, fresh)
                self.db.execute(f"UPDATE {POSITIONS_TABLE} SET position = ? WHERE name = ?", (last, name))

    def _check_building(self, name: str) -> None:
        if name in self._building:
            raise RebuildInterrupted(f"another process reset projection {name} while this process was rebuilding it; "
                                     "run the rebuild again")

    def rebuild(self, names: Sequence[str] | None = None, on_progress: OnProgress | None = None, last_position: int = 0) -> None:
        """Drop and rebuild the named projections (all by default) from the start of the log.

        In bulk: the tables are filled without their secondary indexes, in large chunks, with the
        version marked as building (`BUILDING_MARK`); when the log's head is reached, one
        transaction builds the indexes, lets each projection complete what it deferred
        (`Projection.end_bulk`) and marks the version current. Killed before that, the projection
        is not current and is reset by the next process that opens the store."""
        chosen = list(names) if names else list(self.projections)
        unknown = [name for name in chosen if name not in self.projections]
        if unknown:
            raise KeyError(f"no projection named {', '.join(unknown)}; known: {', '.join(self.projections)}")
        lock = self.db.hold_rebuild_lock()
        if lock is None:
            raise RebuildInProgress("another process is rebuilding projections of this store; try again when it ends")
        try:
            with self.db.transaction():
                for name in chosen:
                    self._reset(self.projections[name], bulk=True)
            self.catch_up(chunk_events=REBUILD_CHUNK_EVENTS, on_progress=on_progress, last_position=last_position)
            with self.db.transaction():
                versions = {name: version for name, version, _ in self._rows(lock=True)}
                for name in chosen:
                    if versions.get(name) != self._building[name]:
                        self._check_building(name)
                    self.projections[name].end_bulk(self.db)
                    self.db.execute(f"UPDATE {POSITIONS_TABLE} SET version = ? WHERE name = ?",
                                    (str(self.projections[name].version), name))
        finally:
            self._building = {}
            for name in chosen:
                self.projections[name].bulk = False
            self.db.release_rebuild_lock(lock)

    # --- workers ----------------------------------------------------------------------------

    def register_worker(self, worker: str, now_ms: int) -> None:
        """Note a worker (creating the workers table on first use) at the position reached now."""
        assert worker
        if not self.db.has_table(WORKERS_TABLE):
            with self.db.setup_transaction():
                self.db.execute(WORKERS_DDL)
        self.beat(worker, now_ms)

    def beat(self, worker: str, now_ms: int) -> None:
        """The worker is alive at `now_ms` and its projections have reached `reached()`."""
        with self.db.transaction():
            self.db.execute(
                f"INSERT INTO {WORKERS_TABLE} (worker, beat_ms, position) VALUES (?, ?, ?) "
                "ON CONFLICT (worker) DO UPDATE SET beat_ms = excluded.beat_ms, position = excluded.position",
                (worker, now_ms, self.reached()),
            )

    def retire(self, worker: str) -> None:
        """The worker stopped cleanly: queries no longer count on it."""
        if self.db.has_table(WORKERS_TABLE):
            with self.db.transaction():
                self.db.execute(f"DELETE FROM {WORKERS_TABLE} WHERE worker = ?", (worker,))

    def live_workers(self, now_ms: int, stale_ms: int) -> list[str]:
        """Workers that beat within the last `stale_ms` (none when no worker ever ran)."""
        if not self.db.has_table(WORKERS_TABLE):
            return []
        rows = self.db.query(f"SELECT worker FROM {WORKERS_TABLE} WHERE beat_ms >= ? ORDER BY worker", (now_ms - stale_ms,))
        return [str(row[0]) for row in rows]
