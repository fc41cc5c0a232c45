"""Import throughput on SQLite, measured side by side in one run (ratios matter, not absolutes).

    .venv/bin/python -m bench.bench_import [--transactions 100000]

Prints, for one generated file: parse-only speed, the full import (validate + apply in batches)
on a fresh SQLite store, and a raw `sqlite3.executemany` of similar rows as the ceiling.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench import workload
from ledger.app import Ledger
from ledger.importer import ImportSummary, Source, apply, validate
from ledger.interchange import read_lines


def _parse_only(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for parsed in read_lines(stream, path.name) if parsed.command is not None)


def _import(path: Path, store: Path, batch_size: int) -> ImportSummary:
    ledger = Ledger(f"sqlite:///{store}", batch_size=batch_size)
    source = Source(path.name, path)
    summary, total, kept = validate([source])
    assert summary.error_count == 0
    apply(ledger, [source], total, kept, summary)
    ledger.close()
    return summary


def _raw_sqlite(rows: int, store: Path) -> None:
    db = sqlite3.connect(store)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE e (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    payload = os.urandom(180)
    with db:
        db.executemany("INSERT INTO e VALUES (?,?,?,?)", ((f"{i % 10:032x}", i, "tenge:FundsTransferred", payload) for i in range(rows)))
    db.close()


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        path = workload.write(tmp_path / "bench.jsonl", args.transactions)
        lines = sum(1 for _ in path.open("rb"))
        results = []
        seconds, _ = _timed(_parse_only, path)
        results.append(("parse + validate only", seconds))
        for batch_size in (1_000, 10_000):
            seconds, summary = _timed(_import, path, tmp_path / f"import-{batch_size}.sqlite", batch_size)
            assert summary.counts["applied"] == lines, summary.counts
            results.append((f"import to SQLite, batch {batch_size}", seconds))
        seconds, _ = _timed(_raw_sqlite, lines, tmp_path / "raw.sqlite")
        results.append(("raw sqlite3.executemany (ceiling)", seconds))
        print(f"{lines} lines ({args.transactions} transactions)")
        base = results[1][1]
        for name, seconds in results:
            print(f"  {name:40s} {lines / seconds:>10,.0f} lines/s   {base / seconds:6.2f}× import(batch 1000)")


if __name__ == "__main__":
    main()
