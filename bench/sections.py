"""The measurements of `python -m bench` (issue 11's bench), one function per section.

Every ledger operation runs as `tenge-ledger` does, through its CLI, in a probe process of its own
(`bench.runner`): that is what a user waits for and what a process costs in memory, and it keeps
the bench independent of the ledger's internals while they change. The raw ceilings
(`bench.raw`) run in this process on the same rows, in the same run.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench import raw, workload
from bench.report import Report, Row
from bench.runner import ProbeResult, Step, run_concurrent, run_probe
from bench.stores import Cache, postgres_schema, remove_store, sqlite_url, workload_transactions
from bench.trace_world import TARGET, TARGET_TRANSACTIONS, trace_store_records

MB_PER_KB = 1 / 1024
NEW_COMMANDS = 100
PG_WRITERS = (1, 4)
PG_ATTEMPTS = 5
BIG_STORE_EVENTS = 1_000_000  # at and above this size a scaling step runs once
PEAK_TARGET_MB = 300
PEAK_GROWTH_TARGET = 1.2
TIME_GROWTH_TARGET = 10.5


@dataclass(frozen=True)
class Scale:
    """How big and how often: `--quick`, the default (medium) and `--full`."""

    name: str
    sizes: tuple[int, ...]  # store sizes for the memory/time scaling of import, flags, verify
    import_events: int  # the import-vs-raw and rebuild-vs-raw store (one of `sizes`)
    flags_sizes: tuple[int, ...]  # stores that get NEW_COMMANDS more commands before `flags`
    trace_sizes: tuple[int, ...]
    repeats: int
    trace_runs: int
    pg_transactions: int  # per writer
    pg_repeats: int


QUICK = Scale("quick", (1_000, 10_000), 10_000, (1_000, 10_000), (2_000, 5_000), repeats=1, trace_runs=5,
              pg_transactions=1_000, pg_repeats=1)
MEDIUM = Scale("medium", (10_000, 100_000), 100_000, (10_000, 100_000), (10_000, 100_000), repeats=3, trace_runs=15,
               pg_transactions=5_000, pg_repeats=3)
FULL = Scale("full", (10_000, 100_000, 1_000_000), 100_000, (10_000, 100_000), (10_000, 100_000, 1_000_000),
             repeats=3, trace_runs=15, pg_transactions=5_000, pg_repeats=3)


def progress(text: str) -> None:
    """What is being measured now, on a terminal only (a pipe gets the figures alone)."""
    if sys.stderr.isatty():
        print(f"  … {text}", file=sys.stderr, flush=True)


def _import_step(lines: Path, label: str = "import") -> Step:
    return Step(label, ["import", str(lines), "--progress", "none"])


def _seconds(result: ProbeResult, label: str) -> float:
    [seconds] = result.step(label).seconds
    return seconds


# --- scaling: import, first flags, verify at each size ------------------------------------------

@dataclass
class Scaling:
    """Seconds and peak MB per (operation, events), and the raw-ceiling runs at `import_events`."""

    seconds: dict[tuple[str, int], list[float]]
    peak_mb: dict[tuple[str, int], list[float]]
    raw_seconds: list[float]
    raw_rows: int
    baseline_mb: float


OPERATIONS = (("import", "import"), ("flags", "first flags (projection catch-up)"), ("verify", "verify"))


def measure_scaling(cache: Cache, scale: Scale) -> Scaling:
    """Import each size into a fresh store, then `flags` (the first query catches every projection
    up), then `verify`, each in its own process; at `import_events`, also write the same rows raw."""
    seconds: dict[tuple[str, int], list[float]] = defaultdict(list)
    peaks: dict[tuple[str, int], list[float]] = defaultdict(list)
    raw_seconds: list[float] = []
    raw_rows = 0
    baseline = 0.0
    for events in scale.sizes:
        lines = cache.workload_file(events)
        runs = 1 if events >= BIG_STORE_EVENTS else scale.repeats
        for run in range(runs):
            progress(f"import, flags, verify at {events:,} events (run {run + 1}/{runs})")
            store = cache.scratch / f"scale-{events}.sqlite"
            remove_store(store)
            steps = {"import": _import_step(lines), "flags": Step("flags", ["flags", "--format", "json"]),
                     "verify": Step("verify", ["verify", "--format", "json"])}
            for operation, _ in OPERATIONS:
                result = run_probe(sqlite_url(store), [steps[operation]])
                seconds[operation, events].append(_seconds(result, operation))
                peaks[operation, events].append(result.peak_rss_kb * MB_PER_KB)
                baseline = result.baseline_rss_kb * MB_PER_KB
                if operation == "import" and events == scale.import_events:
                    rows = raw.RawRows(store)
                    raw_rows = rows.row_count
                    raw_seconds.append(rows.write(cache.scratch / "raw.sqlite"))
                    del rows
            if run == 0:
                cache.adopt(f"workload-{events}", store)
            remove_store(store)
    return Scaling(seconds, peaks, raw_seconds, raw_rows, baseline)


def report_import(report: Report, scaling: Scaling, scale: Scale) -> None:
    events = scale.import_events
    report.section(f"Import on SQLite vs raw executemany of the same rows ({events:,} commands, bench.workload)")
    imported = report.add("tenge-ledger import (every check, chain, keys)", "commands/s",
                          [events / s for s in scaling.seconds["import", events]])
    ceiling = report.add(f"raw executemany of the same {scaling.raw_rows:,} rows, same schema", "commands/s",
                         [events / s for s in scaling.raw_seconds], note=f"commit per {raw.RAW_COMMIT_ROWS:,} rows")
    report.ratio("import / raw", imported, ceiling, note="target ≥ 0.20×; target ≥ 40,000 commands/s")


def report_scaling(report: Report, scaling: Scaling, scale: Scale) -> None:
    report.section("Peak memory and time by store size (each command in its own process)")
    report.say(f"a process that only imports the CLI peaks at {scaling.baseline_mb:.0f} MB (included below)")
    for operation, title in OPERATIONS:
        time_rows: list[Row] = []
        peak_rows: list[Row] = []
        for events in scale.sizes:
            time_rows.append(report.add(f"{title} at {events:,} events: time", "s", scaling.seconds[operation, events]))
            peak_rows.append(report.add(f"{title} at {events:,} events: peak", "MB", scaling.peak_mb[operation, events],
                                        note=f"target < {PEAK_TARGET_MB} MB at 10^6" if events >= BIG_STORE_EVENTS else ""))
        for i in range(1, len(scale.sizes)):
            growth = f"{scale.sizes[i] // scale.sizes[i - 1]}× the events"
            report.ratio(f"{title}: time for {growth}", time_rows[i], time_rows[i - 1],
                         note=f"target ≤ {TIME_GROWTH_TARGET}× (for 10×)")
            report.ratio(f"{title}: peak for {growth}", peak_rows[i], peak_rows[i - 1],
                         note=f"target ≤ {PEAK_GROWTH_TARGET}× from 10^5 to 10^6")


# --- PostgreSQL writers --------------------------------------------------------------------------

def postgres_imports(report: Report, cache: Cache, scale: Scale, url: str | None) -> None:
    transactions = scale.pg_transactions
    lines = transactions + workload.setup_lines()
    report.section(f"Import on PostgreSQL, 1 and {PG_WRITERS[-1]} writers (separate processes and colors, "
                   f"{lines:,} commands each)")
    if not url:
        report.say("skipped: no PostgreSQL URL (give --postgres URL or set TENGE_LEDGER_TEST_POSTGRES)", kind="skipped")
        return
    dsn = url.split("?")[0]
    problem = _postgres_problem(dsn)
    if problem:
        report.say(f"skipped: PostgreSQL at {dsn} is unreachable: {problem}", kind="skipped")
        return
    files = [cache.file(f"pg-{transactions}-w{world}", lambda world=world: workload.records(transactions, world=world))
             for world in range(max(PG_WRITERS))]
    rates: dict[int, list[float]] = defaultdict(list)
    failures: dict[int, list[int]] = defaultdict(list)  # failed attempts per run
    codes: set[int] = set()
    for run in range(scale.pg_repeats):
        for writers in PG_WRITERS:
            progress(f"PostgreSQL import, {writers} writer(s) (run {run + 1}/{scale.pg_repeats})")
            rate, failed = _postgres_run(dsn, files[:writers], lines)
            rates[writers].append(rate)
            failures[writers].append(len(failed))
            codes.update(failed)
    rows = {writers: report.add(_writers(writers) + (", together" if writers > 1 else ""), "commands/s", rates[writers])
            for writers in PG_WRITERS}
    report.ratio(f"{PG_WRITERS[-1]} writers / 1 writer", rows[PG_WRITERS[-1]], rows[1], note="target ≥ 1.5×")
    for writers in PG_WRITERS:
        report.add(f"{_writers(writers)}: failed attempts per run (re-run)", "count", failures[writers],
                   note="target 0" + (f"; exit codes seen: {sorted(codes)}" if codes and writers > 1 else ""))


def _writers(count: int) -> str:
    return f"{count} writer{'s' if count > 1 else ''}"


def _postgres_problem(dsn: str) -> str | None:
    try:
        import psycopg

        psycopg.connect(dsn, connect_timeout=5).close()
    except Exception as error:  # noqa: BLE001 - any failure to connect means: skip, with the reason
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def _postgres_run(dsn: str, files: list[Path], lines: int) -> tuple[float, list[int]]:
    """Commands/s of len(files) writers importing at once into a fresh schema (dropped after), and
    the exit codes of the attempts that failed. Today several writers opening one store at once can
    fail while creating tables (`tuple concurrently updated`, exit 70); each writer then runs its
    (idempotent) import again, up to `PG_ATTEMPTS` times, as an operator would."""
    with postgres_schema(dsn, "bench_") as store:
        run_probe(store, [Step("create tables", ["rebuild"])])  # no writer races on DDL
        steps = [[Step("import", _import_step(path).argv, attempts=PG_ATTEMPTS)] for path in files]
        results = run_concurrent(store, steps)
        started = min(r.step("import").started_at for r in results)
        ended = max(r.step("import").ended_at for r in results)
        failed = [code for r in results for code in r.step("import").failures]
        return len(files) * lines / (ended - started), failed


# --- rebuild against the raw read ---------------------------------------------------------------

def rebuild(report: Report, cache: Cache, scale: Scale) -> None:
    events_wanted = scale.import_events
    name = f"workload-{events_wanted}"
    cache.store(name, lambda: cache.workload_file(events_wanted))
    store = cache.scratch_copy(name)
    events = raw.count_events(store)
    report.section(f"Rebuild vs raw read + decode of the same events (SQLite, {events:,} events)")
    progress(f"raw read + decode of {events:,} events")
    read_seconds = []
    for _ in range(scale.repeats):
        counted, seconds = raw.read_and_decode(store)
        assert counted == events, (counted, events)
        read_seconds.append(seconds)
    progress(f"rebuild of {events:,} events")
    result = run_probe(sqlite_url(store), [
        Step("index+balances", ["rebuild", "--projection", "index", "--projection", "balances"], repeat=scale.repeats),
        Step("all", ["rebuild"], repeat=scale.repeats),
    ])
    remove_store(store)
    reading = report.add("raw read + decode (one SELECT, msgpack)", "events/s", [events / s for s in read_seconds])
    lean = report.add("rebuild index + balances", "events/s", [events / s for s in result.step("index+balances").seconds],
                      note="target ≥ 60,000")
    full = report.add("rebuild all projections (index, balances, flags: 27 rules)", "events/s",
                      [events / s for s in result.step("all").seconds], note="target ≥ 20,000")
    report.ratio("rebuild index + balances / raw read", lean, reading)
    report.ratio("rebuild all / raw read", full, reading)


# --- flags after new commands -------------------------------------------------------------------

def flags_after_new_commands(report: Report, cache: Cache, scale: Scale) -> None:
    report.section(f"`flags` after {NEW_COMMANDS} new commands (import them, then the query catches up)")
    flag_rows: list[Row] = []
    for events in scale.flags_sizes:
        name = f"workload-{events}"
        cache.store(name, lambda events=events: cache.workload_file(events))
        store = cache.scratch_copy(name)
        transactions = workload_transactions(events)
        times: dict[str, list[float]] = defaultdict(list)
        peaks: dict[str, list[float]] = defaultdict(list)
        for run in range(scale.repeats):
            progress(f"{NEW_COMMANDS} new commands and flags at {events:,} events (run {run + 1}/{scale.repeats})")
            more = cache.file(f"more-{events}-{run}", lambda run=run, transactions=transactions: workload.records(
                NEW_COMMANDS, first=transactions + NEW_COMMANDS * run, setup=False))
            for label, step in (("import", _import_step(more)), ("flags", Step("flags", ["flags", "--format", "json"]))):
                result = run_probe(sqlite_url(store), [step])
                times[label].append(_seconds(result, label))
                peaks[label].append(result.peak_rss_kb * MB_PER_KB)
        remove_store(store)
        report.add(f"import of {NEW_COMMANDS} commands into {events:,} events: time", "s", times["import"])
        report.add(f"import of {NEW_COMMANDS} commands into {events:,} events: peak", "MB", peaks["import"])
        flag_rows.append(report.add(f"flags after them, store of {events:,} events: time", "s", times["flags"]))
        report.add(f"flags after them, store of {events:,} events: peak", "MB", peaks["flags"])
    for i in range(1, len(flag_rows)):
        growth = scale.flags_sizes[i] // scale.flags_sizes[i - 1]
        report.ratio(f"flags time, store {growth}× larger", flag_rows[i], flag_rows[i - 1],
                     note=f"≈1× if O(new commands); ≈{growth}× if O(history)")


# --- trace latency ------------------------------------------------------------------------------

def trace_latency(report: Report, cache: Cache, scale: Scale) -> None:
    report.section(f"`trace` of one color with {TARGET_TRANSACTIONS:,} transactions of its own, by store size "
                   f"(in one process, after one warm-up)")
    rows: list[Row] = []
    for events in scale.trace_sizes:
        name = f"trace-{events}"
        progress(f"trace store of {events:,} events")
        store = cache.store(name, lambda name=name, events=events: cache.file(name, lambda: trace_store_records(events)))
        result = run_probe(sqlite_url(store), [Step("trace", ["trace", TARGET, "--format", "json"], repeat=1 + scale.trace_runs)])
        rows.append(report.add(f"trace {TARGET} at {events:,} events", "ms",
                               [s * 1000 for s in result.step("trace").seconds[1:]]))
    for i in range(1, len(rows)):
        growth = scale.trace_sizes[i] // scale.trace_sizes[i - 1]
        report.ratio(f"trace latency, store {growth}× larger", rows[i], rows[i - 1], note="≈1× if it costs the color's history only")
