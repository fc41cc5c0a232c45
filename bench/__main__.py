"""`python -m bench`: issue 11's bench — write path, read path, memory and scaling, side by side.

    python -m bench [--quick | --full] [--repeats N] [--postgres URL] [--cache-dir DIR] [--json FILE] [--only SECTION]

Prints, each figure as min / median / max over its runs, measured in this one run:
  - import on SQLite vs a raw `executemany` of the same rows; on PostgreSQL with 1 and 4 writers;
  - rebuild (index + balances; all projections with the rules) vs a raw read + decode;
  - `flags` after 100 new commands on stores of two sizes (O(new commands) or O(history)?);
  - `trace` latency of one color with a fixed history in stores of growing size;
  - peak memory and time of import, first `flags` and `verify` by store size, and their growth.
Scales: `--quick` (10^3/10^4 events, one run each: a smoke test, under a minute), the default
(10^4/10^5, three runs), `--full` (adds 10^6 events; long). See bench/README.md.
Exit status: 0 when every section measured, 1 when one failed (its error is printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench import sections
from bench.report import Report
from bench.runner import ROOT, BenchError
from bench.stores import Cache


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small stores, one run each (CI smoke test, < 1 min)")
    size.add_argument("--full", action="store_true", help="add 10^6-event stores (long: not for CI)")
    parser.add_argument("--repeats", type=int, help="runs of each measurement (default: 1 quick, 3 otherwise)")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get("TENGE_LEDGER_TEST_POSTGRES") or None,
                        help="PostgreSQL for the writers' section (default: TENGE_LEDGER_TEST_POSTGRES; skipped without)")
    parser.add_argument("--cache-dir", type=Path, help="keep input files and built stores here, reused by later runs")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every figure (all runs) to FILE")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    if args.repeats is not None and not 1 <= args.repeats <= 100:
        parser.error("--repeats must be between 1 and 100")
    return args


def _scale(args: argparse.Namespace) -> sections.Scale:
    scale = sections.QUICK if args.quick else sections.FULL if args.full else sections.MEDIUM
    if args.repeats:
        scale = replace(scale, repeats=args.repeats, pg_repeats=args.repeats)
    return scale


def _git_commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _meta(argv: list[str], scale: sections.Scale) -> dict[str, object]:
    return {
        "command": " ".join(["python -m bench", *argv]),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scale": scale.name, "commit": _git_commit(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    args = _arguments(given)
    scale = _scale(args)
    report = Report(_meta(given, scale))
    started = time.perf_counter()
    meta = report.meta
    print(f"python -m bench: scale {scale.name}, commit {meta['commit']}, {meta['date_utc']}, {meta['cpus']} CPUs, "
          f"load {meta['load_average_at_start']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary:
        cache = Cache(args.cache_dir or Path(temporary))
        try:
            _sections(report, cache, scale, args.postgres, args.only)
        finally:
            cache.clear_scratch()
    report.meta["seconds"] = round(time.perf_counter() - started, 1)
    report.meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\n{len(report.rows)} figures in {report.meta['seconds']:.0f} s"
          f"{'; FAILED: ' + ', '.join(report.failed) if report.failed else ''}", flush=True)
    if args.json:
        args.json.write_bytes(orjson.dumps(report.document(), option=orjson.OPT_INDENT_2) + b"\n")
    return 1 if report.failed else 0


SECTIONS = ("scaling", "postgres", "rebuild", "flags", "trace")


def _sections(report: Report, cache: Cache, scale: sections.Scale, postgres: str | None,
              only: list[str] | None = None) -> None:
    scaling: list[sections.Scaling] = []
    wanted = set(only or SECTIONS)

    def measure() -> None:
        scaling.append(sections.measure_scaling(cache, scale))
        sections.report_import(report, scaling[0], scale)

    if "scaling" in wanted:
        _guarded(report, "import on SQLite and scaling", measure)
    if "postgres" in wanted:
        _guarded(report, "import on PostgreSQL", lambda: sections.postgres_imports(report, cache, scale, postgres))
    if "rebuild" in wanted:
        _guarded(report, "rebuild", lambda: sections.rebuild(report, cache, scale))
    if "flags" in wanted:
        _guarded(report, "flags after new commands", lambda: sections.flags_after_new_commands(report, cache, scale))
    if "trace" in wanted:
        _guarded(report, "trace latency", lambda: sections.trace_latency(report, cache, scale))
    if scaling:
        _guarded(report, "memory and scaling", lambda: sections.report_scaling(report, scaling[0], scale))


def _guarded(report: Report, what: str, section: Callable[[], None]) -> None:
    """Run a section; a failure is reported (and makes the exit status 1) without stopping the rest."""
    try:
        section()
    except (BenchError, OSError, AssertionError) as error:
        report.fail(what, error)


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
