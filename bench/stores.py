"""The bench's input files and SQLite stores, built once and kept in a cache directory.

Stores are built as a user builds them: `tenge-ledger import FILE` and then one `flags` (the first
query catches every projection up). A store in the cache is never measured in place: sections that
change a store work on a copy (`scratch_copy`), so the cache stays as built.

`--cache-dir` keeps them between runs; the directory is versioned by `CACHE_FORMAT` — bump it (or
empty the directory) when the store format or the workloads change, so no stale store is reused.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from bench import workload
from bench.runner import Step, run_probe

CACHE_FORMAT = "issue11-v1"
BUILD_BATCH_SIZE = 5_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def store_files(path: Path) -> list[Path]:
    """The store and its WAL companions, as present."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def remove_store(path: Path) -> None:
    for found in store_files(path):
        found.unlink()


def copy_store(source: Path, target: Path) -> Path:
    """Copy a closed store (with its WAL, if any) to `target`."""
    remove_store(target)
    shutil.copyfile(source, target)
    if Path(f"{source}-wal").exists():
        shutil.copyfile(f"{source}-wal", f"{target}-wal")
    return target


def write_records(path: Path, records: Iterator[dict[str, Any]]) -> int:
    """Write JSON Lines; the number of lines."""
    count = 0
    partial = path.with_suffix(path.suffix + ".partial")
    with partial.open("wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")
            count += 1
    partial.replace(path)
    return count


def workload_transactions(events: int) -> int:
    """Transactions that make a `bench.workload` file of exactly `events` lines (one event each)."""
    transactions = events - workload.setup_lines()
    assert transactions > 0, f"a workload store needs more than {workload.setup_lines()} events"
    return transactions


class Cache:
    """Input files and built stores under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root / CACHE_FORMAT
        self.data = self.root / "data"
        self.stores = self.root / "stores"
        self.scratch = self.root / "scratch"
        for directory in (self.data, self.stores, self.scratch):
            directory.mkdir(parents=True, exist_ok=True)

    def file(self, name: str, records: Callable[[], Iterator[dict[str, Any]]]) -> Path:
        """A JSON Lines input, written once."""
        path = self.data / f"{name}.jsonl"
        if not path.exists():
            write_records(path, records())
        return path

    def workload_file(self, events: int, world: int = 0) -> Path:
        transactions = workload_transactions(events)
        return self.file(f"workload-{events}-w{world}", lambda: workload.records(transactions, world=world))

    def store(self, name: str, source: Callable[[], Path]) -> Path:
        """A store imported from `source()` and caught up, built on first use (`name.done` marks it)."""
        path = self.stores / f"{name}.sqlite"
        done = self.stores / f"{name}.done"
        if done.exists() and path.exists():
            return path
        remove_store(path)
        build_store(path, source())
        done.touch()
        return path

    def adopt(self, name: str, built: Path) -> None:
        """Keep a store a measurement built and caught up (saves building it again)."""
        if not (self.stores / f"{name}.done").exists():
            copy_store(built, self.stores / f"{name}.sqlite")
            (self.stores / f"{name}.done").touch()

    def has(self, name: str) -> bool:
        return (self.stores / f"{name}.done").exists()

    def scratch_copy(self, name: str) -> Path:
        """A copy of a cached store to change freely."""
        return copy_store(self.stores / f"{name}.sqlite", self.scratch / f"{name}.sqlite")

    def clear_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True, exist_ok=True)


def build_store(path: Path, lines: Path) -> None:
    """Import `lines` into a new store at `path` and catch its projections up (via the CLI)."""
    run_probe(sqlite_url(path), [
        Step("import", ["import", str(lines), "--progress", "none", "--batch-size", str(BUILD_BATCH_SIZE)]),
        Step("catch up", ["flags", "--format", "json"]),
    ])


@contextmanager
def postgres_schema(url: str, prefix: str = "t_", schema: str | None = None) -> Iterator[str]:
    """A fresh schema (`schema`, or `prefix<random>`) on the server `url` names (its `?schema=`
    ignored), as a store URL; dropped after. The tests' stores use it too (`tests.support`)."""
    import psycopg

    dsn = url.split("?")[0]
    schema = schema or prefix + secrets.token_hex(6)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{dsn}?schema={schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
