"""pain.001 import against JSON Lines import of the same transfers, side by side in one run (issue 13).

    python -m bench.bench_pain001 [--transactions 20000] [--repeats 3]

The transfers of the `bench.workload` file (administrators paying contractors; its spends left
out, a pain.001 carries transfers only) are written twice: as JSON Lines and as one pain.001.001.10
(`ledger.iso20022.pain001.write_pain001`). For each file it prints the size, the speed of reading
and validating it (`ledger.inputs.read_input`, what `import` does before writing: the pain.001 is
schema-validated while streamed, then mapped through the same pydantic schemas), the full import
(validate + apply in batches of 1 000) into a SQLite store already holding the workload's set-up,
and the peak memory of a process that only reads the file. Speeds are the median of `--repeats`
runs; the ratio pain.001 / JSON Lines is what to compare between machines.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import orjson

from bench import workload
from domain.commands import Transfer
from ledger.app import Ledger
from ledger.importer import Source, apply, validate
from ledger.inputs import read_input
from ledger.interchange import parse_record
from ledger.iso20022.pain001 import write_pain001

ROOT = Path(__file__).resolve().parents[1]
PEAK_SCRIPT = """
import resource, sys
from ledger.inputs import read_input
with open(sys.argv[1], "rb") as stream:
    count = sum(1 for parsed in read_input(stream, "f") if parsed.command is not None)
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
BASELINE_SCRIPT = """
import resource
import ledger.inputs
print(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_files(directory: Path, transactions: int) -> tuple[Path, Path, Path, int]:
    """setup.jsonl, transfers.jsonl, transfers.xml and the number of transfers."""
    setup, transfers = [], []
    for record in workload.records(transactions):
        if record["type"] == "transfer":
            transfers.append(record)
        elif record["type"] != "spend":
            setup.append(record)
    setup_path = directory / "setup.jsonl"
    setup_path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in setup))
    jsonl = directory / "transfers.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in transfers))
    xml = directory / "transfers.xml"
    commands = [parse_record(record) for record in transfers]
    assert all(isinstance(command, Transfer) for command in commands)
    with xml.open("wb") as out:
        write_pain001(out, commands, "BENCH-1", datetime(2025, 1, 10, 4, 0, tzinfo=timezone.utc))  # type: ignore[arg-type]
    return setup_path, jsonl, xml, len(transfers)


def parse_only(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for parsed in read_input(stream, path.name) if parsed.command is not None)


def import_into(path: Path, store: Path) -> int:
    ledger = Ledger(f"sqlite:///{store}", batch_size=1_000)
    try:
        source = Source(path.name, path)
        summary, total, kept = validate([source])
        assert summary.error_count == 0, summary.errors[:3]
        apply(ledger, [source], total, kept, summary)
        return summary.counts["applied"]
    finally:
        ledger.close()


def peak_megabytes(script: str, *args: str) -> float:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return int(done.stdout.split()[1]) / 1024


def median_seconds(repeats: int, run: Callable[[], int], expected: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of `repeats` runs. CPU time is this process's own: on a shared
    machine the wall clock mostly measures the other work."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        count = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert count == expected, (count, expected)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pain001", description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000, help="workload transactions (3 in 4 are transfers)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pain001-") as tmp:
        directory = Path(tmp)
        setup, jsonl, xml, count = write_files(directory, args.transactions)
        base = directory / "base.sqlite"
        import_into(setup, base)
        rows = {}
        for name, path in (("JSON Lines", jsonl), ("pain.001.001.10", xml)):
            parse = median_seconds(args.repeats, lambda path=path: parse_only(path), count)
            copies = iter(range(args.repeats))

            def full_import(path: Path = path, name: str = name) -> int:
                store = directory / f"run-{name[:4]}-{next(copies)}.sqlite"
                shutil.copy(base, store)
                return import_into(path, store)

            imported = median_seconds(args.repeats, full_import, count)
            rows[name] = (path.stat().st_size, parse, imported, peak_megabytes(PEAK_SCRIPT, str(path)))
        baseline = peak_megabytes(BASELINE_SCRIPT)
    print(f"{count:,} transfers (bench.workload --transactions {args.transactions}), median of {args.repeats} runs;"
          f" speeds per CPU-second of this process (wall clock in brackets)")
    print(f"  {'':18s} {'file size':>10s} {'bytes/tx':>9s} {'read+validate tx/s':>26s} {'import (SQLite) tx/s':>26s}"
          f" {'peak RSS of a read':>19s}")
    for name, (size, (parse_wall, parse_cpu), (import_wall, import_cpu), peak) in rows.items():
        print(f"  {name:18s} {size / 1e6:7.2f} MB {size / count:9,.0f} {count / parse_cpu:14,.0f} ({count / parse_wall:9,.0f})"
              f" {count / import_cpu:14,.0f} ({count / import_wall:9,.0f}) {peak:16.0f} MB")
    (jsize, (_, jparse), (_, jimport), jpeak), (xsize, (_, xparse), (_, ximport), xpeak) = rows.values()
    print(f"  {'pain.001 / JSONL':18s} {xsize / jsize:9.2f}× {'':9s} {jparse / xparse:25.2f}× {jimport / ximport:25.2f}×"
          f" {xpeak / jpeak:18.2f}×")
    print(f"  (a process that only imports the reader peaks at {baseline:.0f} MB: reading streams)")


if __name__ == "__main__":
    main()
