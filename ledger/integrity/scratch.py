"""Verify's scratch database: a temporary SQLite file on disk, deleted when verify ends.

`verify` recomputes what the store holds (leaves, Merkle nodes, the keys table, the projections)
and compares it with what is stored. Kept in memory, the recomputed copies grow with the store
(issue 11: 446 MB at 10^5 events); kept in a SQLite file, memory stays bounded by SQLite's page
cache and comparisons run in SQL (`EXCEPT`, joins) instead of over sorted Python lists.

The file lives in the temporary directory (`TMPDIR`), never beside the store (verify writes nothing
there), and is removed with its `-wal`/`-shm`/`-journal` companions on close, also when verify
fails. `attach_live` makes the store's own read models readable in the same connection: a SQLite
store is attached read-only; any other store's tables are copied in, a chunk at a time, into a
second scratch file (PostgreSQL, or the in-memory store).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self
from urllib.parse import quote

from ledger.store.url import StoreConfig
from ledger.store.views import SQLiteViewDatabase

PREFIX = "tenge-ledger-verify-"
COPY_ROWS = 5_000
LIVE = "live"  # the schema name under which the store's read models are attached


class Scratch:
    """A temporary SQLite file (`path`) opened as a view database (`db`); `close` deletes it."""

    def __init__(self, directory: str | None = None) -> None:
        self.paths: list[str] = []
        self.directory = directory
        self.path = self._new_file(directory)
        try:
            self.db = SQLiteViewDatabase(self.path, uri_attach=True)
            self.db.execute("PRAGMA synchronous = OFF")  # scratch: durability is worthless here
            self.db.execute("PRAGMA temp_store = FILE")  # sorts for EXCEPT spill to disk, not memory
        except BaseException:
            self._remove()
            raise

    def _new_file(self, directory: str | None) -> str:
        handle, path = tempfile.mkstemp(prefix=PREFIX, suffix=".sqlite", dir=directory)
        os.close(handle)
        self.paths.append(path)
        return path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self._remove()

    def _remove(self) -> None:
        for path in self.paths:
            for name in (path, path + "-wal", path + "-shm", path + "-journal"):
                try:
                    os.remove(name)
                except FileNotFoundError:
                    pass

    def insert(self, table: str, rows: Iterable[Sequence[Any]], width: int) -> None:
        """Insert `rows` into `table` in transactions of `COPY_ROWS` rows (never all in memory)."""
        sql = f"INSERT INTO {table} VALUES ({', '.join('?' * width)})"
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= COPY_ROWS:
                self._write(sql, chunk)
                chunk = []
        if chunk:
            self._write(sql, chunk)

    def _write(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.db.transaction():
            self.db.executemany(sql, rows)

    def attach_live(self, config: StoreConfig) -> bool:
        """Attach the store's own file read-only as `live` (SQLite); False when it has to be copied."""
        if config.kind != "sqlite":
            return False
        path = config.env["SQLITE_DBNAME"]
        uri = path if config.read_only else f"file:{quote(os.path.abspath(path))}?mode=ro"
        self.db.execute(f"ATTACH DATABASE ? AS {LIVE}", (uri,))
        return True

    def attach_copy(self) -> None:
        """Attach an empty second scratch file as `live`, for tables copied from the store."""
        path = self._new_file(self.directory)
        self.db.execute(f"ATTACH DATABASE ? AS {LIVE}", (path,))

    def copy_in(self, source: Any, table: str, columns: Sequence[str], types: Sequence[str]) -> None:
        """Copy `table`'s `columns` from the view database `source` into `live.table`, streamed."""
        declared = ", ".join(f"{column} {kind}" for column, kind in zip(columns, types))
        self.db.execute(f"CREATE TABLE {LIVE}.{table} ({declared})")
        rows = source.iterate(f"SELECT {', '.join(columns)} FROM {table}", size=COPY_ROWS)
        self.insert(f"{LIVE}.{table}", (tuple(plain(value) for value in row) for row in rows), len(columns))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        return self.db.iterate(sql, params, size=COPY_ROWS)


def plain(value: Any) -> Any:
    """A value as SQLite and Python compare it (PostgreSQL's BYTEA comes back as memoryview)."""
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value
