"""Read-side speed on SQLite, measured side by side in one run (ratios matter, not absolutes).

    .venv/bin/python -m bench.bench_read [--events 1000000] [--rebuild-events 100000] [--cache-dir DIR]

(a) Rebuild: all projections (and each alone) rebuilt from a store of `--rebuild-events` events,
    in events/s, beside the raw reads of the same rows: `recorder.select_notifications` plus the
    mapper's decoding (what the runner reads), `select_notifications` alone, and a plain `SELECT`
    of the rows with `sqlite3`.
(b) Trace latency: one color with ~1 000 transactions (transfers down a contractor → subcontractor
    chain and spends), in a store of 10^4 events and in one of `--events` events (the rest in nine
    other colors, the same parties in both). The point: a trace costs what the color's history
    costs, not what the store holds. Also split into its parts (finding the color's events in the
    index, loading them, folding them) and as of the middle of the store.

Stores are built by importing generated files (`ledger.importer`, as `tenge-ledger import` does)
and caught up once; they are kept in `--cache-dir` (default: a temporary directory removed at the
end), named by shape and size, and reused when present.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from bench import workload
from bench.trace_world import TARGET, trace_store_records
from ledger.app import Ledger
from ledger.importer import Source, apply, validate
from projections.trace import build_trace

SMALL_STORE_EVENTS = 10_000
TRACE_REPEATS = 25


# --- stores -------------------------------------------------------------------------------------

def build_store(directory: Path, name: str, records: Callable[[], Iterator[dict[str, Any]]]) -> Path:
    """A SQLite store holding `records`, imported and with its projections caught up (cached)."""
    store = directory / f"{name}.sqlite"
    done = directory / f"{name}.done"
    if done.exists():
        return store
    for stale in directory.glob(f"{name}.sqlite*"):
        stale.unlink()
    lines = directory / f"{name}.jsonl"
    with lines.open("wb") as out:
        for record in records():
            out.write(orjson.dumps(record) + b"\n")
    started = time.perf_counter()
    ledger = Ledger(f"sqlite:///{store}", batch_size=5_000)
    source = Source(lines.name, lines)
    summary, total, kept = validate([source])
    assert summary.error_count == 0, summary.errors[:3]
    apply(ledger, [source], total, kept, summary)
    assert summary.counts["applied"] == total, summary.counts
    imported = time.perf_counter() - started
    ledger.read_side().catch_up()
    print(f"  built {name}: {total:,} events, import {imported:.0f} s, catch-up {time.perf_counter() - started - imported:.0f} s",
          flush=True)
    ledger.close()
    lines.unlink()
    done.touch()
    return store


# --- (a) rebuild against raw reads ----------------------------------------------------------------

def _best(fn: Callable[[], Any], repeats: int) -> float:
    """The best of `repeats` wall-clock runs (the least disturbed by the machine)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_rebuild(store: Path, repeats: int) -> None:
    ledger = Ledger(f"sqlite:///{store}")
    read = ledger.read_side()
    events = ledger.position()
    names = list(read.runner.projections)

    def decode_all() -> None:
        after = 0
        while batch := read.read_log(after, 2_000):
            after = batch[-1][0]

    def notifications_only() -> None:
        after = 0
        while batch := ledger.recorder.select_notifications(start=after + 1, limit=2_000):
            after = batch[-1].id

    def plain_select() -> None:
        db = sqlite3.connect(store)
        for _ in db.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"):
            pass
        db.close()

    rows = [
        ("plain SELECT of the rows (sqlite3)", _best(plain_select, repeats)),
        ("select_notifications (no decoding)", _best(notifications_only, repeats)),
        ("select_notifications + mapper decoding", _best(decode_all, repeats)),
        (f"rebuild all projections ({', '.join(names)})", _best(read.rebuild, repeats)),
    ]
    rows += [(f"rebuild {name} alone", _best(lambda n=name: read.rebuild([n]), repeats)) for name in names]
    ledger.close()
    rebuild = rows[3][1]
    print(f"(a) rebuild from a SQLite store of {events:,} events (best of {repeats})")
    print(f"  {'':48s} {'events/s':>12s} {'× rebuild all':>14s}")
    for name, seconds in rows:
        print(f"  {name:48s} {events / seconds:>12,.0f} {rebuild / seconds:>13.2f}×")


# --- (b) trace latency --------------------------------------------------------------------------------

class TraceStore:
    """One trace store, opened and caught up, with the questions (b) times on it."""

    def __init__(self, store: Path) -> None:
        self.ledger = Ledger(f"sqlite:///{store}")
        read = self.read = self.ledger.read_side()
        now = self.events = read.catch_up()
        stream = read.db.query("SELECT stream FROM ledger_colors WHERE color = ?", (TARGET,))[0][0]
        history = read.color_events(TARGET, now)
        self.color_events = len(history)
        events = [ev for _, ev in history]
        names = read.party_names(now)
        middle = now // 2
        sql = "SELECT version, position FROM ledger_transactions WHERE stream = ? AND position <= ? ORDER BY version"
        self.plan = " / ".join(row[3] for row in read.db.query("EXPLAIN QUERY PLAN " + sql, (stream, now)))
        self.questions: dict[str, Callable[[], Any]] = {
            "trace now": lambda: read.trace(TARGET, now, None),
            "trace as of the middle": lambda: read.trace(TARGET, middle, f"@{middle}"),
            "  find the color's positions (index SQL)": lambda: read.db.query(sql, (stream, now)),
            "  load its events (event store)": lambda: list(self.ledger.events.get(UUID(stream), lte=len(history))),
            "  party names as of now (as the trace asks)": lambda: read.party_names(now),
            "  fold into the document (build_trace)": lambda: build_trace(events, names, None, now),
            "balances of the color": lambda: read.balances(None, color=TARGET),
            "balances of the color as of the middle": lambda: read.balances(middle, color=TARGET),
        }
        document = read.trace(TARGET, now, None)
        assert document["conservation"]["ok"] and len(document["spends"]) > 100


def _timed_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def bench_traces(directory: Path, big_events: int) -> None:
    small = TraceStore(build_store(directory, f"trace-{SMALL_STORE_EVENTS}", lambda: trace_store_records(SMALL_STORE_EVENTS)))
    big = TraceStore(build_store(directory, f"trace-{big_events}", lambda: trace_store_records(big_events)))
    print(f"(b) trace of {TARGET} ({small.color_events:,} events of its own), ms: median of {TRACE_REPEATS} "
          "runs, the two stores taking turns (so both see the same machine)")
    print(f"  {'':50s} {small.events:>12,} ev {big.events:>12,} ev {'ratio':>8s}")
    for key, ask_small in small.questions.items():
        ask_big = big.questions[key]
        ask_small(), ask_big()  # warm the caches once
        turns = [(_timed_ms(ask_small), _timed_ms(ask_big)) for _ in range(TRACE_REPEATS)]
        small_ms = statistics.median(t[0] for t in turns)
        big_ms = statistics.median(t[1] for t in turns)
        print(f"  {key:50s} {small_ms:>15.2f} {big_ms:>15.2f} {big_ms / small_ms:>7.1f}×")
    print(f"  store grew {big.events / small.events:.0f}×; the color's history did not "
          f"({small.color_events} vs {big.color_events} events)")
    print(f"  plan of the index SQL: {big.plan}")
    small.ledger.close()
    big.ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the big store of (b)")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="events in the store of (a)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (a) measurement (the best counts)")
    parser.add_argument("--cache-dir", type=Path, help="keep the built stores here and reuse them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        directory = args.cache_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        setup = 1 + 10 * (2 + 2 * 20)  # bench.workload's set-up lines with its defaults
        rebuild_store = build_store(directory, f"rebuild-{args.rebuild_events}",
                                    lambda: workload.records(args.rebuild_events - setup))
        bench_rebuild(rebuild_store, args.repeats)
        bench_traces(directory, args.events)


if __name__ == "__main__":
    main()
