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
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from bench import workload
from domain.identifiers import make_color, make_party_id
from ledger.app import Ledger
from ledger.importer import Source, apply, validate
from projections.trace import build_trace

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=timezone(timedelta(hours=5)))
TARGET_TRANSACTIONS = 1_000
FILLER_COLORS = 9
CONTRACTORS = 20
SMALL_STORE_EVENTS = 10_000
TRACE_REPEATS = 25


# --- stores -------------------------------------------------------------------------------------

def _party(n: int) -> str:
    for spare in range(10):
        made = make_party_id(f"170340{spare}{n:04d}")
        if made:
            return made
    raise AssertionError(n)


def _register(number: int, name: str, kind: str) -> dict[str, Any]:
    return {"id": f"p-{number}", "type": "register_party", "at": T0.isoformat(), "party": _party(number),
            "name": name, "kind": kind}


def _contract(contract: str, color: str, customer: str, supplier: str, amount: str) -> dict[str, Any]:
    return {"id": f"k-{contract}", "type": "sign_contract", "at": T0.isoformat(), "contract": contract, "color": color,
            "customer": customer, "supplier": supplier, "amount": amount,
            "items": [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": amount}]}


def trace_store_records(events: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Exactly `events` records, all applied: a target color (`TARGET` below) with
    `TARGET_TRANSACTIONS` transactions spread evenly over the store, the rest in filler colors."""
    rng = random.Random(seed)
    setup: list[dict[str, Any]] = [_register(1, "Treasury", "treasury")]
    colors = []  # (color, admin, contractors, subs)
    number = 2
    for c in range(1 + FILLER_COLORS):
        color = make_color("ROAD", 2025, 41, 900 + c)
        admin = _party(number)
        setup.append(_register(number, f"Akimat {c}", "administrator"))
        number += 1
        setup.append({"id": f"a-{c}", "type": "allocate", "at": T0.isoformat(), "color": color, "program": "041",
                      "purpose": "bench", "amount": "9000000000000.00", "treasury": _party(1),
                      "administrator": admin, "expires_on": "2025-12-31"})
        contractors, subs = [], []
        for k in range(CONTRACTORS):
            contractor, sub = _party(number), _party(number + 1)
            setup.append(_register(number, f"Contractor {c}.{k}", "contractor"))
            setup.append(_register(number + 1, f"Sub {c}.{k}", "supplier"))
            number += 2
            setup.append(_contract(f"K-{c}-{k}", color, admin, contractor, "400000000000.00"))
            setup.append(_contract(f"S-{c}-{k}", color, contractor, sub, "400000000000.00"))
            contractors.append(contractor)
            subs.append(sub)
        colors.append((color, admin, contractors, subs))
    yield from setup
    transactions = events - len(setup)
    assert transactions >= TARGET_TRANSACTIONS, f"--events must be at least {len(setup) + TARGET_TRANSACTIONS}"
    every = transactions / TARGET_TRANSACTIONS
    balances: dict[tuple[int, str], int] = {}  # (color index, holder) -> tiyn, to keep every line applied
    target_done = 0
    for i in range(transactions):
        if target_done < TARGET_TRANSACTIONS and i >= target_done * every:
            index, target_done = 0, target_done + 1
        else:
            index = 1 + i % FILLER_COLORS
        yield _movement(rng, i, colors[index], index, balances)


def _movement(rng: random.Random, i: int, world: tuple[str, str, list[str], list[str]], index: int,
              balances: dict[tuple[int, str], int]) -> dict[str, Any]:
    color, admin, contractors, subs = world
    at = (T0 + timedelta(seconds=20 * i)).isoformat()
    k = rng.randrange(CONTRACTORS)
    roll = rng.random()
    holder = contractors[k] if roll < 0.6 else subs[k]
    held = balances.get((index, holder), 0)
    amount_tiyn = rng.randrange(100_000_00, 10_000_000_00)
    if roll >= 0.45 and held > 100:  # a spend by a contractor or a subcontractor, or a payment to a sub
        amount_tiyn = rng.randrange(1, held // 2 + 1)
        balances[index, holder] = held - amount_tiyn
        if roll < 0.6:
            balances[index, subs[k]] = balances.get((index, subs[k]), 0) + amount_tiyn
            return {"id": f"t-{i}", "type": "transfer", "at": at, "color": color, "from": holder, "to": subs[k],
                    "amount": _kzt(amount_tiyn), "contract": f"S-{index}-{k}", "kind": "progress"}
        return {"id": f"s-{i}", "type": "spend", "at": at, "color": color, "from": holder, "amount": _kzt(amount_tiyn),
                "category": rng.choice(("materials", "fuel", "wages", "services"))}
    balances[index, contractors[k]] = balances.get((index, contractors[k]), 0) + amount_tiyn
    return {"id": f"t-{i}", "type": "transfer", "at": at, "color": color, "from": admin, "to": contractors[k],
            "amount": _kzt(amount_tiyn), "contract": f"K-{index}-{k}", "kind": "advance"}


def _kzt(tiyn: int) -> str:
    return f"{tiyn // 100}.{tiyn % 100:02d}"


TARGET = make_color("ROAD", 2025, 41, 900)


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
        while batch := read._read_log(after, 2_000):
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
