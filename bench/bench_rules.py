"""Rule throughput: events per second through all 27 rules, against replay without rules (one run).

    .venv/bin/python -m bench.bench_rules [--transactions 50000]

Builds one SQLite store from the generated workload, then times, over the same events:
replay only (read the log and decode every event), replay + the rule engine in memory, and the
flags projection as it really runs (engine, flags table, saved engine state per chunk).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench import workload
from bench.bench_import import _import
from ledger.app import Ledger
from ledger.store.views import SQLiteViewDatabase
from projections.flags import Flags
from projections.rules.registry import all_rules
from projections.rules.config import default_config
from projections.rules.engine import RuleEngine
from projections.runner import ProjectionRunner


def _replay(ledger: Ledger) -> list:
    events, start = [], 1
    while True:
        batch = ledger.recorder.select_notifications(start=start, limit=5_000)
        if not batch:
            return events
        events += [(n.id, ledger.mapper.to_domain_event(n)) for n in batch]
        start = batch[-1].id + 1


def _engine(ledger: Ledger) -> int:
    engine = RuleEngine(default_config(), all_rules(default_config()))
    flags = 0
    for position, event in _replay(ledger):
        flags += len(engine.process(position, event))
    return flags


def _projection(ledger: Ledger) -> int:
    db = SQLiteViewDatabase(":memory:")
    read = ledger.read_side()
    runner = ProjectionRunner(db, [Flags(default_config())], read.read_log)
    runner.catch_up()
    return int(db.query("SELECT COUNT(*) FROM ledger_flags")[0][0])


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = workload.write(Path(tmp) / "bench.jsonl", args.transactions)
        store = Path(tmp) / "store.sqlite"
        _import(path, store, 1_000)
        ledger = Ledger(f"sqlite:///{store}")
        events = ledger.position()
        replay_s, _ = _timed(_replay, ledger)
        engine_s, engine_flags = _timed(_engine, ledger)
        projection_s, stored_flags = _timed(_projection, ledger)
        assert engine_flags == stored_flags, (engine_flags, stored_flags)
        print(f"{events} events, {engine_flags} flags raised")
        print(f"  replay only (read + decode)        {events / replay_s:>10,.0f} events/s   1.00×")
        print(f"  replay + all rules in memory       {events / engine_s:>10,.0f} events/s   {replay_s / engine_s:.2f}×")
        print(f"  flags projection (rules + storage) {events / projection_s:>10,.0f} events/s   {replay_s / projection_s:.2f}×")


if __name__ == "__main__":
    main()
