"""`tenge-ledger import` as a user runs it, against SQLite files (SPEC §3, §5 exit codes)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from e2e_support import (
    assert_nothing_written,
    balance_json,
    balances_by_key,
    cli,
    expected_balances,
    mistyped_bin,
    mistyped_color,
    read_report,
    realistic_world,
    snapshot,
    sqlite_url,
    tiyn,
    write_jsonl,
)
from tests.support import road_world

# Blank lines, a whitespace-only line and a trailing blank: line numbers count them all.
BLANKS = {0: [""], 3: [""], 8: ["   \t"], 12: ["", ""], 20: [""]}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "ledger.sqlite")


def import_realistic(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path):
    world = realistic_world()
    path = tmp_path / "road.jsonl"
    numbers = write_jsonl(path, world.script.records, BLANKS)
    report = tmp_path / "report-1.jsonl"
    run = cli(capsys, "--store", url, "import", path, "--report", report)
    return world, path, numbers, report, run


def test_realistic_file_imports_with_exact_line_numbers_and_balances(capsys, tmp_path, url):
    world, path, numbers, report, run = import_realistic(capsys, url, tmp_path)

    assert run.code == 0, run.err
    records = world.script.records
    rows = read_report(report)
    assert len(rows) == len(records), "one report line per non-blank line"
    assert [row["line"] for row in rows] == numbers
    assert numbers[0] == 2 and numbers[-1] == len(records) + 6, "blank lines are counted"
    for row, record in zip(rows, records, strict=True):
        assert set(row) == {"line", "id", "status", "reason"}
        assert row["id"] == record["id"]
        assert row["status"] == "applied", row
        assert row["reason"] is None
    assert f"{len(records)} line(s): {len(records)} applied, 0 duplicate, 0 blocked, 0 conflict" in run.err

    document = json.loads(balance_json(capsys, url))
    assert balances_by_key(document) == expected_balances(world)
    assert document["position"] == len(records), "one event per applied command"

    filtered = cli(capsys, "--store", url, "balance", "--party", world.names["contractor"], "--color", world.road, "--format", "json").json()
    assert [(r["color"], r["party"], r["balance_tiyn"]) for r in filtered["balances"]] == [
        (world.road, world.names["contractor"], tiyn("300000.50") - tiyn("120000.25") + tiyn("50000.00") - tiyn("10000.00"))
    ]

    history = cli(capsys, "--store", url, "history", world.road, "--format", "json").json()
    assert history["color"] == world.road
    road_ids = [r["id"] for r in records if r.get("color") == world.road or r["type"] in ("accept", "release", "void")]
    assert [event["transaction"] for event in history["events"]] == road_ids
    assert [event["version"] for event in history["events"]] == list(range(1, len(road_ids) + 1))


def test_reimport_is_all_duplicates_and_changes_nothing(capsys, tmp_path, url):
    world, path, numbers, _, first = import_realistic(capsys, url, tmp_path)
    assert first.code == 0, first.err
    before = snapshot(capsys, url, world.colors)

    report = tmp_path / "report-2.jsonl"
    again = cli(capsys, "--store", url, "import", path, "--report", report)

    assert again.code == 0, again.err
    rows = read_report(report)
    assert [row["line"] for row in rows] == numbers
    assert {row["status"] for row in rows} == {"duplicate"}
    assert [row["id"] for row in rows] == [r["id"] for r in world.script.records]
    assert snapshot(capsys, url, world.colors) == before, "balance and history byte-identical"


def test_same_content_spelled_differently_is_a_duplicate(capsys, tmp_path, url):
    """SPEC §2.3: same id, same content spelled differently ("80000" / "80000.00", Z / +05:00, null)."""
    world, *_ , first = import_realistic(capsys, url, tmp_path)
    assert first.code == 0
    before = snapshot(capsys, url, world.colors)
    record = dict(next(r for r in world.script.records if r["id"] == "TX-ROAD-3"))
    assert record["amount"] == "80000.00"
    record["amount"] = "80000"
    record["at"] = datetime.fromisoformat(record["at"]).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["invoice"] = None  # absent and null are the same content
    respelled = tmp_path / "respelled.jsonl"
    write_jsonl(respelled, [record])
    report = tmp_path / "r.jsonl"

    run = cli(capsys, "--store", url, "import", respelled, "--report", report)

    assert run.code == 0, run.err
    assert read_report(report) == [{"line": 1, "id": "TX-ROAD-3", "status": "duplicate", "reason": None}]
    assert snapshot(capsys, url, world.colors) == before


def _bad_lines(world) -> tuple[list[str], list[tuple[int, str]]]:
    """Good lines, then malformed ones; (lines, expected (line, field) errors)."""
    n, road = world.names, world.road
    good_transfer = {"id": "TX-NEW-1", "type": "transfer", "at": "2025-03-05T10:00:00+05:00", "color": road,
                     "from": n["admin"], "to": n["contractor"], "amount": "1000.00", "contract": "C-1"}
    good_spend = {"id": "SP-NEW-1", "type": "spend", "at": "2025-03-05T10:05:00+05:00", "color": road,
                  "from": n["contractor"], "amount": "10.00", "category": "fuel"}
    number_amount = dict(good_transfer, id="BAD-1", amount=1000)
    unknown_field = dict(good_transfer, id="BAD-2", memo="typo'd field")
    bad_bin = dict(good_transfer, id="BAD-3", to=mistyped_bin(n["contractor"]))
    bad_color = dict(good_spend, id="BAD-4", color=mistyped_color(road))
    two_errors = dict(good_spend, id="BAD-5", amount="1e5", category="cash")
    lines = [
        json.dumps(good_transfer),            # 1
        "",                                   # 2
        json.dumps(good_spend),               # 3
        json.dumps(number_amount),            # 4
        json.dumps(unknown_field),            # 5
        "",                                   # 6
        json.dumps(bad_bin),                  # 7
        json.dumps(bad_color),                # 8
        '{"id": "BAD-6", "type": "spend",',   # 9: not JSON
        json.dumps(two_errors),               # 10
        json.dumps(dict(good_spend, id="SP-NEW-2")),  # 11: good, after the bad ones
    ]
    errors = [(4, "amount"), (5, "memo"), (7, "to"), (8, "color"), (9, "line"), (10, "amount"), (10, "category")]
    return lines, errors


def test_malformed_file_reports_every_error_and_writes_nothing(capsys, tmp_path, url):
    world, *_, first = import_realistic(capsys, url, tmp_path)
    assert first.code == 0
    before = snapshot(capsys, url, world.colors)
    lines, expected = _bad_lines(world)
    bad = tmp_path / "bad-input.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "bad-report.jsonl"

    run = cli(capsys, "--store", url, "import", bad, "--report", report)

    assert run.code == 2, (run.out, run.err)
    pattern = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<field>[^:]+): (?P<message>.+)$")
    found = []
    for text in run.err.splitlines():
        match = pattern.match(text)
        if match and match["file"] == str(bad):
            found.append((int(match["line"]), match["field"]))
    assert found == expected, run.err
    assert "nothing was written" in run.err
    assert f"{len(expected)} problem(s) in the input" in run.err
    assert run.out == ""
    assert snapshot(capsys, url, world.colors) == before, "balances and history unchanged"
    assert not report.exists() or report.read_text() == "", "no report lines: nothing was applied"


def test_malformed_file_messages_say_what_is_wrong(capsys, tmp_path, url):
    world, *_, first = import_realistic(capsys, url, tmp_path)
    lines, _ = _bad_lines(world)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    err = cli(capsys, "--store", url, "import", bad).err
    by_line = {}
    for text in err.splitlines():
        if text.startswith(f"{bad}:"):
            rest = text[len(str(bad)) + 1:]
            by_line.setdefault(int(rest.split(":")[0]), []).append(rest)
    assert "string" in by_line[4][0] and "number" in by_line[4][0], by_line[4]
    assert "unknown field" in by_line[5][0]
    assert mistyped_bin(world.names["contractor"]) in by_line[7][0]
    assert "check" in by_line[8][0]
    assert "JSON" in by_line[9][0]


def test_blocked_transfer_is_reported_and_the_rest_applies(capsys, tmp_path, url):
    s, n = road_world(amount="1000.00")
    color = n["color"]
    s.transfer(color, n["admin"], n["contractor"], "400.00", id="TX-1")
    s.transfer(color, n["contractor"], n["sub"], "400.01", id="TX-TOO-MUCH")  # contractor holds 400.00
    s.transfer(color, n["contractor"], n["sub"], "150.00", id="TX-2")
    s.spend(color, n["sub"], "20.00", id="SP-CASH", category="cash_withdrawal")
    s.spend(color, n["sub"], "50.00", id="SP-1", category="materials")
    path = tmp_path / "blocked.jsonl"
    numbers = write_jsonl(path, s.records, {5: [""]})
    report = tmp_path / "report.jsonl"

    run = cli(capsys, "--store", url, "import", path, "--report", report)

    assert run.code == 1, run.err
    rows = {row["id"]: row for row in read_report(report)}
    assert [row["line"] for row in read_report(report)] == numbers
    assert rows["TX-TOO-MUCH"]["status"] == "blocked"
    assert rows["TX-TOO-MUCH"]["reason"] == "balance_would_go_negative"
    assert rows["SP-CASH"]["status"] == "blocked"
    assert rows["SP-CASH"]["reason"] == "cash_withdrawal_is_forbidden"
    assert all(row["status"] == "applied" for id_, row in rows.items() if id_ not in ("TX-TOO-MUCH", "SP-CASH"))
    too_much_line = numbers[[r["id"] for r in s.records].index("TX-TOO-MUCH")]
    assert f"{path}:{too_much_line}: TX-TOO-MUCH: blocked: balance_would_go_negative" in run.err

    balances = balances_by_key(json.loads(balance_json(capsys, url)))
    assert balances == {
        (color, n["admin"]): tiyn("1000.00") - tiyn("400.00"),
        (color, n["contractor"]): tiyn("400.00") - tiyn("150.00"),
        (color, n["sub"]): tiyn("150.00") - tiyn("50.00"),
    }
    # SPEC §4: the attempt itself is recorded, so auditors see it
    events = cli(capsys, "--store", url, "history", color, "--format", "json").json()["events"]
    blocked = [event for event in events if event["transaction"] in ("TX-TOO-MUCH", "SP-CASH")]
    assert len(blocked) == 2
    assert all(event["event"] == "CommandBlocked" for event in blocked), blocked


def test_conflicting_id_in_a_second_file_changes_nothing(capsys, tmp_path, url):
    world, *_, first = import_realistic(capsys, url, tmp_path)
    assert first.code == 0
    before = snapshot(capsys, url, world.colors)
    original = next(r for r in world.script.records if r["id"] == "TX-ROAD-2")
    second = tmp_path / "second.jsonl"
    numbers = write_jsonl(second, [original, dict(original, amount="120000.26")], {1: [""]})
    report = tmp_path / "report.jsonl"

    run = cli(capsys, "--store", url, "import", second, "--report", report)

    assert run.code == 1, run.err
    rows = read_report(report)
    assert [(r["line"], r["id"], r["status"]) for r in rows] == [
        (numbers[0], "TX-ROAD-2", "duplicate"),
        (numbers[1], "TX-ROAD-2", "conflict"),
    ]
    assert rows[1]["reason"], "a conflict says why"
    assert f"{second}:{numbers[1]}: TX-ROAD-2: conflict" in run.err
    assert snapshot(capsys, url, world.colors) == before


def test_conflicting_id_within_one_new_file(capsys, tmp_path, url):
    s, n = road_world(amount="1000.00")
    s.transfer(n["color"], n["admin"], n["contractor"], "10.00", id="TX-SAME")
    s.transfer(n["color"], n["admin"], n["contractor"], "20.00", id="TX-SAME")
    path = s.write(tmp_path / "f.jsonl")
    report = tmp_path / "r.jsonl"

    run = cli(capsys, "--store", url, "import", path, "--report", report)

    assert run.code == 1
    assert [r["status"] for r in read_report(report)][-2:] == ["applied", "conflict"]
    balances = balances_by_key(json.loads(balance_json(capsys, url)))
    assert balances[(n["color"], n["contractor"])] == tiyn("10.00")


def test_two_files_in_one_import_report_their_file(capsys, tmp_path, url):
    world = realistic_world()
    records = world.script.records
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(first, records[:10])
    write_jsonl(second, records[10:], {0: [""]})
    report = tmp_path / "r.jsonl"

    run = cli(capsys, "--store", url, "import", first, second, "--report", report)

    assert run.code == 0, run.err
    rows = read_report(report)
    assert [(r.get("file"), r["line"]) for r in rows] == (
        [(str(first), i) for i in range(1, 11)] + [(str(second), i) for i in range(2, len(records) - 10 + 2)]
    )
    assert balances_by_key(json.loads(balance_json(capsys, url))) == expected_balances(world)


def test_missing_file_is_a_usage_error_and_writes_nothing(capsys, tmp_path, url):
    world = realistic_world()
    good = world.script.write(tmp_path / "good.jsonl")
    missing = tmp_path / "no-such-file.jsonl"

    run = cli(capsys, "--store", url, "import", good, missing)

    assert run.code == 2
    assert str(missing) in run.err
    assert_nothing_written(capsys, url)


def test_wrong_store_scheme_is_a_usage_error(capsys, tmp_path):
    run = cli(capsys, "--store", "mysql://nobody@localhost/x", "balance", "--format", "json")
    assert run.code == 2
    assert run.err.strip()


def test_a_malformed_second_file_stops_the_good_first_one_too(capsys, tmp_path, url):
    world = realistic_world()
    good = world.script.write(tmp_path / "good.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n\n" + json.dumps(dict(world.script.records[0], id="R-9", amount="1.00")) + "\n", encoding="utf-8")

    run = cli(capsys, "--store", url, "import", good, bad)

    assert run.code == 2
    assert f"{bad}:3: amount: unknown field" in run.err
    assert_nothing_written(capsys, url)


def test_store_as_plain_path_and_from_the_environment(capsys, tmp_path, monkeypatch):
    world = realistic_world()
    path = world.script.write(tmp_path / "w.jsonl")
    plain = tmp_path / "plain.sqlite"
    assert cli(capsys, "--store", plain, "import", path).code == 0
    assert plain.exists()
    monkeypatch.setenv("TENGE_LEDGER_STORE", sqlite_url(plain))
    from_env = cli(capsys, "balance", "--format", "json")
    assert from_env.code == 0
    assert balances_by_key(from_env.json()) == expected_balances(world)


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_bad_batch_size_is_a_usage_error(capsys, tmp_path, url, size):
    path = realistic_world().script.write(tmp_path / "w.jsonl")
    run = cli(capsys, "--store", url, "import", path, "--batch-size", size)
    assert run.code == 2
    assert "batch-size" in run.err
    assert_nothing_written(capsys, url)
