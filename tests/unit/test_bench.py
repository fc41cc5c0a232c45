"""The bench harness (`python -m bench`): its workloads, probes, raw ceilings and report.

Speed is never asserted: these tests check that the harness measures what it says (the right rows,
the right processes, failures surfaced), not how fast anything is.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson
import pytest

from bench import raw, workload
from bench.report import Report
from bench.runner import BenchError, Step, run_concurrent, run_probe
from bench.stores import (
    Cache,
    copy_store,
    sqlite_url,
    workload_transactions,
    write_records,
)
from bench.trace_world import TARGET, trace_store_records
from domain.identifiers import make_color


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_workload_worlds_are_disjoint_and_world_zero_is_the_historic_workload() -> None:
    historic = list(workload.records(30))
    assert len(historic) == workload.setup_lines() + 30
    assert historic[0]["id"] == "p-1" and historic[-1]["id"] == "t-29"
    worlds = [list(workload.records(30, world=w)) for w in range(4)]
    assert worlds[0] == historic
    for key in ("id", "party", "color", "contract"):
        seen = [{r[key] for r in records if key in r} for records in worlds]
        for i in range(4):
            for j in range(i + 1, 4):
                assert not seen[i] & seen[j], (key, i, j)


def test_workload_continuation_yields_only_new_transactions_with_new_ids() -> None:
    first = list(workload.records(50))
    more = list(workload.records(10, first=50, setup=False))
    assert len(more) == 10
    assert {r["type"] for r in more} <= {"transfer", "spend"}
    assert not {r["id"] for r in more} & {r["id"] for r in first}
    assert more[0]["at"] > first[-1]["at"]
    assert {r["color"] for r in more} <= {r["color"] for r in first if "color" in r}


def test_trace_world_has_exactly_the_events_asked_with_the_target_color() -> None:
    records = list(trace_store_records(2_000))
    assert len(records) == 2_000
    assert len({r["id"] for r in records}) == 2_000
    assert sum(1 for r in records if r.get("color") == TARGET and r["type"] in ("transfer", "spend")) == 1_000


def test_probe_runs_cli_commands_in_a_process_of_its_own_and_reports_time_and_memory(tmp_path: Path) -> None:
    lines = tmp_path / "w.jsonl"
    write_records(lines, workload.records(20))
    store = tmp_path / "s.sqlite"
    result = run_probe(sqlite_url(store), [
        Step("import", ["import", str(lines), "--progress", "none"]),
        Step("flags", ["flags", "--format", "json"], repeat=2),
    ])
    assert [s.label for s in result.steps] == ["import", "flags"]
    assert len(result.step("import").seconds) == 1 and len(result.step("flags").seconds) == 2
    assert result.peak_rss_kb >= result.step("flags").rss_kb >= result.baseline_rss_kb > 0
    assert raw.count_events(store) == workload.setup_lines() + 20


def test_probe_surfaces_a_failing_command_with_its_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(BenchError, match="exited \\[2\\]") as failed:
        run_probe(sqlite_url(tmp_path / "s.sqlite"), [Step("import", ["import", str(missing), "--progress", "none"])])
    assert "cannot read" in str(failed.value)


def test_probe_reruns_a_failed_command_and_reports_the_failed_attempts(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(BenchError, match="exited \\[2\\]"):
        run_probe(sqlite_url(tmp_path / "s.sqlite"),
                  [Step("import", ["import", str(missing), "--progress", "none"], attempts=3)])
    # a spend on a color never allocated is blocked (exit 1), and stays blocked when the import is run
    # again (SPEC §2.5: the same attempt answers its original outcome): three attempts, three failures
    setup = list(workload.records(0))
    blocked = {"id": "x-1", "type": "spend", "at": setup[0]["at"], "color": make_color("ROAD", 2025, 41, 999),
               "from": setup[1]["party"], "amount": "1.00", "category": "services"}
    lines = tmp_path / "w.jsonl"
    write_records(lines, iter([*setup, blocked]))
    with pytest.raises(BenchError, match="exited \\[1\\]") as failed:
        run_concurrent(sqlite_url(tmp_path / "s.sqlite"),
                       [[Step("import", ["import", str(lines), "--progress", "none"], attempts=3)]])
    summaries = [line for line in str(failed.value).splitlines() if "line(s):" in line]
    assert len(summaries) == 3 and all("1 blocked" in line for line in summaries)
    assert "0 applied" in summaries[1] and "0 applied" in summaries[2]
    # a run that succeeds within its attempts reports no failure
    [result] = run_concurrent(sqlite_url(tmp_path / "s.sqlite"),
                              [[Step("import", ["import", str(lines), "--progress", "none"], ok=(0, 1), attempts=3)]])
    assert result.step("import").failures == []
    assert result.step("import").started_at <= result.step("import").ended_at


def test_concurrent_probes_write_separate_worlds_into_one_store(tmp_path: Path) -> None:
    files = []
    for world in range(2):
        files.append(tmp_path / f"w{world}.jsonl")
        write_records(files[-1], workload.records(10, world=world))
    store = tmp_path / "s.sqlite"
    run_probe(sqlite_url(store), [Step("create tables", ["rebuild"])])
    results = run_concurrent(sqlite_url(store), [[Step("import", ["import", str(f), "--progress", "none"], attempts=3)]
                                                 for f in files])
    assert len(results) == 2
    assert raw.count_events(store) == 2 * (workload.setup_lines() + 10)


def test_raw_rows_write_the_same_rows_with_the_same_schema(tmp_path: Path) -> None:
    lines = tmp_path / "w.jsonl"
    write_records(lines, workload.records(30))
    store = tmp_path / "s.sqlite"
    run_probe(sqlite_url(store), [Step("import", ["import", str(lines), "--progress", "none"])])
    rows = raw.RawRows(store)
    events = raw.count_events(store)
    assert events == workload.setup_lines() + 30 and rows.row_count > events  # events, keys, chain
    assert rows.write(tmp_path / "timed.sqlite") >= 0
    assert not list(tmp_path.glob("timed.sqlite*")), "the timed copy is removed"
    copy = tmp_path / "kept.sqlite"
    rows.write(copy, keep=True)
    original, written = sqlite3.connect(store), sqlite3.connect(copy)
    schema = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    assert written.execute(schema).fetchall() == original.execute(schema).fetchall()
    for name, _ in rows.tables:
        query = f'SELECT * FROM "{name}"'
        assert sorted(written.execute(query).fetchall()) == sorted(original.execute(query).fetchall()), name
    original.close()
    written.close()
    counted, seconds = raw.read_and_decode(store)
    assert counted == events and seconds >= 0


def test_cache_reuses_built_stores_and_copies_them_for_changes(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    events = workload.setup_lines() + 15
    assert workload_transactions(events) == 15
    built = cache.store("w", lambda: cache.workload_file(events))
    assert cache.has("w") and raw.count_events(built) == events
    stamp = built.stat().st_mtime_ns
    assert cache.store("w", lambda: pytest.fail("a cached store is not built again")) == built
    scratch = cache.scratch_copy("w")
    assert scratch != built and raw.count_events(scratch) == events
    assert built.stat().st_mtime_ns == stamp
    copy_store(built, tmp_path / "again.sqlite")
    assert raw.count_events(tmp_path / "again.sqlite") == events


def test_report_keeps_every_run_and_ratios_of_medians(capsys: pytest.CaptureFixture[str]) -> None:
    report = Report({"command": "python -m bench --quick"})
    report.section("Import")
    a = report.add("import", "commands/s", [10.0, 30.0, 20.0])
    b = report.add("raw", "commands/s", [100.0])
    assert report.ratio("import / raw", a, b) == pytest.approx(0.2)
    report.fail("postgres", BenchError("down"))
    printed = capsys.readouterr().out
    assert "import / raw" in printed and "0.20×" in printed and "FAILED: postgres: down" in printed
    document = json.loads(json.dumps(report.document()))
    assert document["rows"][0] == {"section": "Import", "label": "import", "unit": "commands/s", "values": [10.0, 30.0, 20.0],
                                   "min": 10.0, "median": 20.0, "max": 30.0, "note": ""}
    assert document["failed"] == ["postgres"]
    assert any(n["kind"] == "ratio" and n["value"] == "0.2000" for n in document["notes"])


def test_a_probes_peak_memory_is_its_own_not_the_bench_process(tmp_path: Path) -> None:
    """Linux hands a parent's peak resident size down to a forked child; the launcher keeps the
    bench's own (large) peak out of the measured process's figure."""
    ballast = b"x" * (400 * 1024 * 1024)  # this process's peak is now above 400 MB
    run_probe(sqlite_url(tmp_path / "s.sqlite"), [Step("create the store", ["rebuild"])])
    result = run_probe(sqlite_url(tmp_path / "s.sqlite"), [Step("balance", ["balance", "--format", "json"])])
    assert len(ballast) and result.peak_rss_kb < 300 * 1024
    assert result.peak_rss_kb >= result.baseline_rss_kb > 0


def test_compare_puts_two_runs_side_by_side_by_section(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.compare import table

    runs = []
    for values in ([10.0, 20.0, 30.0], [40.0]):
        report = Report({})
        report.section("Import")
        a = report.add("import", "commands/s", values)
        b = report.add("raw", "commands/s", [100.0])
        report.ratio("import / raw", a, b)
        runs.append(report.document())
    capsys.readouterr()
    lines = table(runs[0], runs[1])
    assert lines[2] == "| **Import** | | | | |"
    assert lines[3] == "| import | commands/s | 20 (10–30) | 40 | 2.00× |"
    assert lines[5] == "| import / raw | ratio | 0.20× | 0.40× | |"
    assert table(runs[0], None)[3] == "| import | commands/s | 20 (10–30) |  |  |"
