"""Helpers for the integrity tests (SPEC §7): run the CLI in-process, build an audited SQLite store,
copy it, read and rewrite its rows directly with `sqlite3` (as an attacker with file access would).

The CLI is run with its own stdout/stderr buffers rather than pytest's `capsys`, so the helpers work
in module-scoped fixtures and inside hypothesis examples alike.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.workload import records as workload_records
from ledger.cli import main
from tests.rules.baseline import Baseline

ENV_VARIABLES = ("TENGE_LEDGER_STORE", "TENGE_LEDGER_KEY", "TENGE_LEDGER_ACTOR", "TENGE_LEDGER_ROLES",
                 "TENGE_LEDGER_RULES", "TENGE_LEDGER_SIGNING_KEY")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(*args: str | os.PathLike[str]) -> Run:
    """`tenge-ledger ARGS...` in-process, with this call's stdout and stderr."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(arg) for arg in args])
    out.flush()
    err.flush()
    return Run(code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode())  # type: ignore[attr-defined]


@contextmanager
def clean_environment() -> Iterator[pytest.MonkeyPatch]:
    """No TENGE_LEDGER_* variable from the caller's environment (usable outside function scope)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_VARIABLES:
            patch.delenv(name, raising=False)
        yield patch


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --- the store file ---------------------------------------------------------------------------


def copy_store(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite store (the backup API, so a WAL still open is included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


@contextmanager
def sql(path: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection to the store file, committed on exit: the tamperer's tool."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def rows(path: Path, query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, tuple(params)).fetchall()
    finally:
        conn.close()


def events(path: Path) -> list[tuple[int, str, int, str, bytes]]:
    """(position, originator_id, version, topic, state) of every stored event, in position order."""
    return [(int(r[0]), r[1], int(r[2]), r[3], bytes(r[4])) for r in
            rows(path, "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")]


def position_of(path: Path, transaction: str) -> int:
    [(position,)] = rows(path, "SELECT position FROM ledger_transactions WHERE transaction_id = ?", (transaction,))
    return int(position)


def verify(path: Path | str, *extra: str, options: Iterable[str | os.PathLike[str]] = ()) -> tuple[int, list[dict[str, Any]], Run]:
    """`verify --format json [OPTIONS]`: exit code, findings (position, check, transaction, color,
    message) and the run. `extra` are global options (before `verify`)."""
    run = cli("--store", path, *extra, "verify", *options, "--format", "json")
    assert run.code in (0, 3), f"verify must exit 0 or 3, got {run.code}: {run.err[-2000:]}"
    document = run.json()
    assert document["ok"] is (run.code == 0), document
    return run.code, document["findings"], run


# --- an audited store: three imports, two checkpoints ------------------------------------------


@dataclass
class AuditedStore:
    """Baseline world (checkpoint #1), a workload file (checkpoint #2), then an unsigned tail."""

    directory: Path
    path: Path
    key: Path
    public_key: Path
    world: Baseline
    files: list[Path]
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    last_position: int = 0

    def covered_by(self, position: int) -> dict[str, Any] | None:
        """The earliest checkpoint whose log includes `position` (positions = leaf index + 1 here)."""
        return next((c for c in self.checkpoints if c["tree_size"] >= position), None)


def build_audited_store(directory: Path, *, tail: int = 30, transactions: int = 80) -> AuditedStore:
    """Import three generated files through the CLI, catching projections up and checkpointing."""
    directory.mkdir(parents=True, exist_ok=True)
    world = Baseline()
    workload = list(workload_records(transactions, colors=2, contractors_per_color=3, seed=11))
    files = [
        world.script.write(directory / "baseline.jsonl"),
        write_jsonl(directory / "workload.jsonl", workload[:-tail]),
        write_jsonl(directory / "tail.jsonl", workload[-tail:]),
    ]
    key = directory / "ledger.key"
    store = directory / "ledger.sqlite"
    made = cli("keygen", "--out", key)
    assert made.code == 0, made.err
    built = AuditedStore(directory, store, key, Path(f"{key}.pub"), world, files)
    for number, path in enumerate(files):
        imported = cli("--store", store, "import", path)
        assert imported.code == 0, imported.err
        caught_up = cli("--store", store, "balance", "--format", "json")  # projections reach the end
        assert caught_up.code == 0, caught_up.err
        if number < 2:
            signed = cli("--store", store, "checkpoint", "--key", key, "--format", "json")
            assert signed.code == 0, signed.err
            built.checkpoints.append(signed.json())
    built.last_position = int(rows(store, "SELECT MAX(rowid) FROM stored_events")[0][0])
    return built
