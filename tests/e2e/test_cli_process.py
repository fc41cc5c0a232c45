"""The CLI in real child processes: stdin, --help, demo, and kill -9 in the middle of an import."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from e2e_support import (
    assert_nothing_written,
    balances_by_key,
    cli,
    expected_balances,
    process_env,
    read_report,
    realistic_world,
    run_process,
    snapshot,
    sqlite_url,
    tiyn,
    write_jsonl,
)
from tests.support import color_id, road_world


def test_dash_reads_standard_input(capsys, tmp_path):
    world = realistic_world()
    path = tmp_path / "world.jsonl"
    numbers = write_jsonl(path, world.script.records, {0: [""], 6: ["", "  "]})
    url = sqlite_url(tmp_path / "stdin.sqlite")
    report = tmp_path / "report.jsonl"

    done = run_process("--store", url, "import", "-", "--report", report, "--progress", "none",
                       cwd=tmp_path, input=path.read_bytes())

    assert done.returncode == 0, done.stderr.decode()
    rows = read_report(report)
    assert [(r["line"], r["id"], r["status"]) for r in rows] == [
        (line, record["id"], "applied") for line, record in zip(numbers, world.script.records, strict=True)
    ]
    assert balances_by_key(cli(capsys, "--store", url, "balance", "--format", "json").json()) == expected_balances(world)

    by_file = sqlite_url(tmp_path / "file.sqlite")
    assert cli(capsys, "--store", by_file, "import", path).code == 0
    assert snapshot(capsys, url, world.colors) == snapshot(capsys, by_file, world.colors)


def test_malformed_standard_input_names_stdin_and_writes_nothing(capsys, tmp_path):
    s, n = road_world()
    s.records[2]["kind"] = "contracter"
    url = sqlite_url(tmp_path / "stdin.sqlite")
    payload = "".join(json.dumps(r) + "\n" for r in s.records).encode()

    done = run_process("--store", url, "import", "-", "--progress", "none", cwd=tmp_path, input=payload)

    assert done.returncode == 2
    assert "<stdin>:3: kind: " in done.stderr.decode()
    assert_nothing_written(capsys, url)


def test_python_m_ledger_help(tmp_path):
    done = run_process("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    text = done.stdout.decode()
    assert "Usage:" in text
    for command in ("import", "balance", "history", "demo", "transfer", "register-party", "sign-contract"):
        assert command in text, command


def _console_script() -> list[str]:
    beside = Path(sys.executable).parent / "tenge-ledger"
    found = str(beside) if beside.exists() else shutil.which("tenge-ledger")
    return [found] if found else [sys.executable, "-m", "ledger"]


def test_demo_runs_in_a_fresh_directory_and_twice_gives_the_same_output(tmp_path):
    def demo() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*_console_script(), "demo"], cwd=tmp_path, capture_output=True,
                              env=process_env(), timeout=120, check=False)

    first = demo()
    assert first.returncode == 0, first.stderr.decode()
    text = first.stdout.decode()
    for section in ("Where one road allocation went", "conservation ok", "Money by pilot", "holders with a balance",
                    "Flags as of 2026-12-31", "verify: ok", "--format html"):
        assert section in text, section
    assert "KZT" in text
    assert " NO " not in text, "every injected scheme is caught"
    assert max(len(line) for line in text.splitlines()) <= 160, "piped, the tour is 160 columns wide"
    assert (tmp_path / "tenge-ledger-demo.sqlite").exists(), "the demo store is in the working directory"

    second = demo()
    assert second.returncode == 0, second.stderr.decode()
    assert second.stdout == first.stdout


def test_demo_refuses_a_store_that_holds_events(tmp_path):
    url = sqlite_url(tmp_path / "busy.sqlite")
    s, _ = road_world()
    path = tmp_path / "world.jsonl"
    write_jsonl(path, s.records, {})
    assert run_process("--store", url, "import", path, "--progress", "none", cwd=tmp_path).returncode == 0

    done = run_process("--store", url, "demo", cwd=tmp_path)

    assert done.returncode == 2
    assert "needs an empty store" in done.stderr.decode()


# --- kill -9 in the middle of an import, then resume ------------------------------------------


def _long_file(path: Path) -> tuple[list[dict], list[str]]:
    """About 4,000 small commands over two colors; a few are blocked on purpose."""
    s, n = road_world(amount="10000000.00")
    road = n["color"]
    local = color_id("LOCAL", 2, program=7)
    s.allocate(local, n["treasury"], n["admin"], "500000.00", id="ALL-LOCAL")
    s.contract("L-1", local, n["admin"], n["contractor"], "500000.00")
    for i in range(800):
        s.transfer(road, n["admin"], n["contractor"], "100.00", id=f"R-A-{i}", contract="C-1")
        s.transfer(road, n["contractor"], n["sub"], "60.50", id=f"R-B-{i}", contract="C-2")
        s.spend(road, n["sub"], "50.25" if i % 97 else "999999.00", id=f"R-S-{i}", category="fuel")  # every 97th blocked
        s.transfer(local, n["admin"], n["contractor"], "10.00", id=f"L-A-{i}")
        s.spend(local, n["contractor"], "7.01", id=f"L-S-{i}", category="livestock")
        if i % 50 == 0:
            s.return_(local, n["contractor"], "0.01", id=f"L-R-{i}")
    write_jsonl(path, s.records, {10: [""], 2000: ["", ""]})
    return s.records, [road, local]


def test_kill_9_in_the_middle_then_resume_equals_an_uninterrupted_import(capsys, tmp_path):
    path = tmp_path / "long.jsonl"
    records, colors = _long_file(path)
    total = len(records)
    batch = 50

    clean_url = sqlite_url(tmp_path / "clean.sqlite")
    clean_report = tmp_path / "clean-report.jsonl"
    clean = cli(capsys, "--store", clean_url, "import", path, "--batch-size", str(batch), "--progress", "none", "--report", clean_report)
    assert clean.code == 1, clean.err  # the planted overspends are blocked
    clean_rows = read_report(clean_report)
    assert len(clean_rows) == total
    blocked = [r for r in clean_rows if r["status"] == "blocked"]
    assert len(blocked) == 9 and all(r["reason"] == "balance_would_go_negative" for r in blocked)
    assert sum(r["status"] == "applied" for r in clean_rows) == total - 9

    killed_url = sqlite_url(tmp_path / "killed.sqlite")
    child = subprocess.Popen(
        [sys.executable, "-m", "ledger", "--store", killed_url, "import", str(path),
         "--batch-size", str(batch), "--progress", "lines"],
        cwd=tmp_path, env=process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    progress: list[str] = []
    done = 0
    try:
        assert child.stderr is not None
        for raw in child.stderr:
            line = raw.decode().strip()
            progress.append(line)
            if line.startswith("committed "):
                done = int(line.split()[1].split("/")[0])
                assert line == f"committed {done}/{total}"
                if done >= 500:
                    os.kill(child.pid, signal.SIGKILL)
                    break
    finally:
        child.wait(timeout=60)
        if child.stderr is not None:
            child.stderr.close()
    assert progress and progress[0] == f"committed {batch}/{total}", progress[:3]
    assert child.returncode == -signal.SIGKILL, (
        f"the import finished ({child.returncode}) before it could be killed; progress: {progress[-3:]}"
    )

    # only whole batches are in the store: one event per command, a multiple of the batch size
    position = cli(capsys, "--store", killed_url, "balance", "--format", "json").json()["position"]
    assert done <= position < total, (done, position)  # every reported batch is durable
    assert position % batch == 0, f"a partial batch survived the kill: position {position}"

    resumed_report = tmp_path / "resumed-report.jsonl"
    resumed = cli(capsys, "--store", killed_url, "import", path, "--batch-size", str(batch), "--progress", "lines",
                  "--report", resumed_report)
    resumed_rows = read_report(resumed_report)

    assert [(r["line"], r["id"]) for r in resumed_rows] == [(r["line"], r["id"]) for r in clean_rows], "no line lost"
    statuses = [r["status"] for r in resumed_rows]
    # before the kill: applied lines are duplicates, blocked ones are still reported blocked (issue 10 item 11)
    assert statuses[:position] == ["blocked" if r["status"] == "blocked" else "duplicate" for r in clean_rows[:position]]
    assert statuses[position:] == [r["status"] for r in clean_rows[position:]]
    assert [(r["id"], r["reason"]) for r in resumed_rows if r["status"] == "blocked"] == [
        (r["id"], r["reason"]) for r in blocked], "every blocked payment is in the final report, with its rule"
    assert resumed.code == 1, resumed.err
    assert f"committed {total}/{total}" in resumed.err

    assert snapshot(capsys, killed_url, colors) == snapshot(capsys, clean_url, colors)

    balances = balances_by_key(cli(capsys, "--store", clean_url, "balance", "--format", "json").json())
    spends_applied = 800 - 9
    road, local = colors
    s_road = balances[(road, records[2]["party"])]  # the contractor
    assert s_road == 800 * (tiyn("100.00") - tiyn("60.50"))
    assert balances[(local, records[2]["party"])] == 800 * (tiyn("10.00") - tiyn("7.01")) - 16 * tiyn("0.01")
    assert balances[(road, records[3]["party"])] == 800 * tiyn("60.50") - spends_applied * tiyn("50.25")
