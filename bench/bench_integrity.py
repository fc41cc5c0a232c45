"""What integrity costs on import, measured side by side in one run.

    .venv/bin/python -m bench.bench_integrity [--transactions 50000] [--repeat 3]

Imports the same generated file into fresh SQLite stores with the hash chain (the product) and
without it (a recorder with `chained = False`, for this measurement only), then times building the
Merkle log and signing a checkpoint, and `verify` over the whole store. Prints lines/s and ratios;
each figure is the median of `--repeat` runs, alternating the variants.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import workload
from bench.bench_import import _import
from ledger.app import Ledger
from ledger.integrity.audit import Audit
from ledger.store.recorders import LedgerSQLiteRecorder
from ledger.integrity.verify import Verifier


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        path = workload.write(tmp_path / "bench.jsonl", args.transactions)
        lines = sum(1 for _ in path.open("rb"))
        chained, unchained = [], []
        for run in range(args.repeat):
            for variant, times in ((True, chained), (False, unchained)):
                LedgerSQLiteRecorder.chained = variant
                try:
                    seconds, _ = _timed(_import, path, tmp_path / f"s-{run}-{variant}.sqlite", 1_000)
                finally:
                    LedgerSQLiteRecorder.chained = True
                times.append(seconds)
        store = tmp_path / "s-0-True.sqlite"
        ledger = Ledger(f"sqlite:///{store}")
        audit = Audit(ledger)
        checkpoint_s, _ = _timed(audit.make_checkpoint, Ed25519PrivateKey.generate())
        verify_s, findings = _timed(lambda: Verifier(ledger).run())
        assert not findings, findings
        with_chain, without_chain = statistics.median(chained), statistics.median(unchained)
        print(f"{lines} lines, median of {args.repeat} runs each (SQLite, batch 1000)")
        print(f"  import without hash chain   {lines / without_chain:>10,.0f} lines/s   1.00×")
        print(f"  import with hash chain      {lines / with_chain:>10,.0f} lines/s   {without_chain / with_chain:.2f}× "
              f"(chain costs {100 * (with_chain - without_chain) / without_chain:+.1f} % time)")
        print(f"  Merkle log + checkpoint     {lines / checkpoint_s:>10,.0f} events/s  (first checkpoint builds the tree)")
        print(f"  verify (all four passes)    {lines / verify_s:>10,.0f} events/s")


if __name__ == "__main__":
    main()
