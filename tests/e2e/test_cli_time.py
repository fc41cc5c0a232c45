"""Time and re-imports through the CLI, against SQLite files (SPEC §2.5, §5; issue 10 items 1, 2, 11).

- `import` the same file twice: the lines blocked the first time are reported `blocked` again with
  their rule and sentence (not `duplicate`), and the exit status is 1.
- `trace --as-of 2025-04-15` after spends dated 2025-04-01 and 2025-05-01 shows only the first.
- `--time-zone` is fixed by the store's first write; another one later is a usage error (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e_support import cli, read_report, sqlite_url, write_jsonl
from tests.support import road_world


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "ledger.sqlite")


def _world_with_blocked_lines() -> tuple[list[dict[str, Any]], dict[str, str]]:
    s, names = road_world(amount="1000.00")
    s.transfer(names["color"], names["admin"], names["contractor"], "100.00", id="T-OK", contract="C-1")
    s.spend(names["color"], names["contractor"], "10.00", category="cash_withdrawal", id="S-CASH")
    s.transfer(names["color"], names["admin"], names["contractor"], "5000.00", id="T-OVER", contract="C-1")
    s.spend(names["color"], names["contractor"], "20.00", id="S-OK")
    return s.records, names


def test_re_importing_a_file_reports_its_blocked_lines_blocked_with_their_rule(capsys, tmp_path, url) -> None:
    records, _ = _world_with_blocked_lines()
    path = tmp_path / "world.jsonl"
    write_jsonl(path, records)
    first_report, again_report = tmp_path / "first.jsonl", tmp_path / "again.jsonl"
    first = cli(capsys, "--store", url, "import", path, "--progress", "none", "--report", first_report)
    assert first.code == 1, first.err
    position = cli(capsys, "--store", url, "balance", "--format", "json").json()["position"]

    again = cli(capsys, "--store", url, "import", path, "--progress", "none", "--report", again_report)
    assert again.code == 1, again.err  # the blocked commands are still blocked
    first_rows, again_rows = read_report(first_report), read_report(again_report)
    blocked_first = {r["id"]: r["reason"] for r in first_rows if r["status"] == "blocked"}
    assert blocked_first == {"S-CASH": "cash_withdrawal_is_forbidden", "T-OVER": "contract_amount_exceeded"}
    assert {r["id"]: r["reason"] for r in again_rows if r["status"] == "blocked"} == blocked_first
    assert {r["status"] for r in again_rows if r["id"] not in blocked_first} == {"duplicate"}
    assert "cash_withdrawal_is_forbidden" in again.err and "S-CASH" in again.err
    assert cli(capsys, "--store", url, "balance", "--format", "json").json()["position"] == position, (
        "the same attempt is not recorded twice")


def _april_and_may(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    s, names = road_world(amount="1000.00")
    s.spend(names["color"], names["admin"], "10.00", id="S-APRIL", at="2025-04-01T10:00:00+05:00")
    s.spend(names["color"], names["admin"], "20.00", id="S-MAY", at="2025-05-01T10:00:00+05:00")
    path = tmp_path / "spends.jsonl"
    write_jsonl(path, s.records)
    return path, names


def test_trace_as_of_a_date_shows_only_the_spends_dated_up_to_it(capsys, tmp_path, url) -> None:
    path, names = _april_and_may(tmp_path)
    assert cli(capsys, "--store", url, "import", path, "--progress", "none").code == 0
    run = cli(capsys, "--store", url, "trace", names["color"], "--as-of", "2025-04-15", "--format", "json")
    assert run.code == 0, run.err
    assert [spend["transaction"] for spend in run.json()["spends"]] == ["S-APRIL"]
    history = cli(capsys, "--store", url, "history", names["color"], "--as-of", "2025-04-15T23:59:59+05:00",
                  "--format", "json").json()
    assert "S-MAY" not in [event["transaction"] for event in history["events"]]


def test_a_spend_dated_before_the_colors_latest_is_blocked_and_trace_as_of_leaves_it_out(capsys, tmp_path, url) -> None:
    s, names = road_world(amount="1000.00")
    s.spend(names["color"], names["admin"], "20.00", id="S-MAY", at="2025-05-01T10:00:00+05:00")
    s.spend(names["color"], names["admin"], "10.00", id="S-APRIL", at="2025-04-01T10:00:00+05:00")
    path, report = tmp_path / "late.jsonl", tmp_path / "report.jsonl"
    write_jsonl(path, s.records)
    run = cli(capsys, "--store", url, "import", path, "--progress", "none", "--report", report)
    assert run.code == 1
    assert [(r["id"], r["status"], r["reason"]) for r in read_report(report)][-1] == ("S-APRIL", "blocked", "out_of_order_time")
    trace = cli(capsys, "--store", url, "trace", names["color"], "--as-of", "2025-04-15", "--format", "json").json()
    assert trace["spends"] == []


def test_the_time_zone_is_fixed_by_the_first_write(capsys, tmp_path, url) -> None:
    path, _ = _april_and_may(tmp_path)
    assert cli(capsys, "--store", url, "--time-zone", "+06:00", "import", path, "--progress", "none").code == 0
    assert cli(capsys, "--store", url, "--time-zone", "UTC+06:00", "balance", "--format", "json").code == 0
    other = cli(capsys, "--store", url, "--time-zone", "+05:00", "balance", "--format", "json")
    assert other.code == 2
    assert "+06:00" in other.err and "Traceback" not in other.err
    bad = cli(capsys, "--store", url, "--time-zone", "Asia/Almaty", "balance")
    assert bad.code == 2 and "fixed UTC offset" in bad.err
