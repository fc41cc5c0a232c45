"""The lean write path against eventsourcing's, in CPU seconds, side by side in one process.

    .venv/bin/python -m bench.bench_write_path [--transactions 100000] [--rounds 3]

Validates one `bench.workload` file once, then imports it into fresh SQLite stores with
`Ledger(lean=True)` and `Ledger(lean=False)` in turn, `--rounds` times interleaved, and prints the
median CPU time (`time.process_time`, which other processes on a shared machine disturb far less
than wall time) of the whole apply phase and of `Ledger.save` alone. Both ledgers decide the same
way; only how a batch's rows reach the store differs (`ledger.store.lean`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import workload
from ledger.app import Ledger
from ledger.importer import ImportSummary, Source, apply, validate


def _run(lean: bool, source: Source, total: int, kept: Any, command_types: set[str], store: Path) -> tuple[float, float]:
    """(apply CPU seconds, of which in `Ledger.save`) of one import into a fresh store."""
    for stale in store.parent.glob(store.name + "*"):
        stale.unlink()
    ledger = Ledger(f"sqlite:///{store}", lean=lean)
    saving = [0.0]
    save = ledger.save

    def timed_save(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return save(*args, **kwargs)
        finally:
            saving[0] += time.process_time() - started

    ledger.save = timed_save  # type: ignore[method-assign]
    summary = ImportSummary(command_types=set(command_types))
    started = time.process_time()
    try:
        apply(ledger, [source], total, kept, summary)
    finally:
        ledger.close()
    assert summary.counts["applied"] == total, summary.counts
    return time.process_time() - started, saving[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = Source("bench.jsonl", workload.write(folder / "bench.jsonl", args.transactions))
        summary, total, kept = validate([source])
        assert summary.error_count == 0 and kept is not None
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.rounds):
            for lean in (False, True):
                runs[lean].append(_run(lean, source, total, kept, summary.command_types, folder / "store.sqlite"))
    print(f"{total} commands, CPU seconds, median of {args.rounds} interleaved rounds")
    print(f"  {'':38s} {'eventsourcing':>14s} {'lean':>8s} {'lean/es':>8s}")
    for label, index in (("Ledger.save (encode, rows, chain, commit)", 1), ("whole apply phase", 0)):
        before = statistics.median(run[index] for run in runs[False])
        after = statistics.median(run[index] for run in runs[True])
        print(f"  {label:38s} {before:14.2f} {after:8.2f} {after / before:7.2f}×")


if __name__ == "__main__":
    main()
