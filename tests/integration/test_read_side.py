"""The read side on every store (memory, SQLite, PostgreSQL) and through the CLI (SPEC §5, §6.1).

The world is the e2e suite's realistic road + local world, extended with spends that take from a
released and a voided reservation and a blocked cash withdrawal. Its traces are written out by hand
below (provenance chains to the tiyn), so the read side is checked against the SPEC, not against
itself; then every store must give the same answers, before and after a rebuild, a catch-up that
crashed mid-chunk must be redone exactly once, and `--as-of` must answer what a store holding only
the first k lines answers now (through `ReadSide` and through the CLI), names included.
"""

from __future__ import annotations

import gc
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.app import APPLIED, BLOCKED, Ledger
from ledger.read import ReadSide, UnknownColor
from projections.runner import POSITIONS_TABLE, ProjectionRunner
from tests.e2e import e2e_support
from tests.e2e.e2e_support import Run, expected_balances, mistyped_color, realistic_world, tiyn
from tests.property.test_projections_property import (
    Crash,
    CrashingProjection,
    FailingDatabase,
    contents,
    projections_of,
    rebuilt_up_to,
    written_tables,
)
from tests.support import Script, color_id

ALL = "ALL-00005"


# --- the world and its hand-made traces ------------------------------------------------------------

def world() -> tuple[Script, dict[str, str], dict[tuple[str, str], int]]:
    """Records, names (with `road` and `local`), and the expected balances at the end."""
    w = realistic_world()
    s, n = w.script, dict(w.names, road=w.road, local=w.local)
    s.spend(w.road, n["contractor"], "200000.00", id="SP-ROAD-4", category="equipment")
    s.transfer(w.road, n["admin"], n["contractor"], "10000.00", id="TX-ROAD-4", contract="C-1",
               sources=[{"lot": "VOID-ROAD-2", "amount": "10000.00"}])
    s.spend(w.road, n["contractor"], "25000.25", id="SP-ROAD-5", category="services")
    s.spend(w.road, n["supplier"], "1.00", id="SP-CASH", category="cash_withdrawal")  # blocked
    balances = expected_balances(w)
    balances[w.road, n["admin"]] -= tiyn("10000.00")
    balances[w.road, n["contractor"]] += tiyn("10000.00") - tiyn("200000.00") - tiyn("25000.25")
    return s, n, balances


def spend(transaction: str, holder: str, category: str, *paths: tuple[int, list[str]]) -> dict[str, Any]:
    return {"transaction": transaction, "holder": holder, "category": category,
            "amount_tiyn": sum(amount for amount, _ in paths),
            "paths": [{"amount_tiyn": amount, "transactions": ids} for amount, ids in paths]}


def expected_road(n: dict[str, str]) -> dict[str, Any]:
    """The ROAD trace, tiyn by tiyn (lots are taken first in, first out unless `sources` say)."""
    contractor_first_lot = tiyn("300000.50") - tiyn("120000.25") - tiyn("10000.00")
    return {
        "spends": [
            spend("SP-ROAD-1", n["supplier"], "materials",
                  (tiyn("30000.00"), [ALL, "TX-ROAD-1", "TX-ROAD-2", "TX-ROAD-3", "SP-ROAD-1"])),
            spend("SP-ROAD-2", n["contractor"], "fuel", (tiyn("10000.00"), [ALL, "TX-ROAD-1", "SP-ROAD-2"])),
            spend("SP-ROAD-3", n["sub"], "wages", (tiyn("20000.25"), [ALL, "TX-ROAD-1", "TX-ROAD-2", "SP-ROAD-3"])),
            spend("SP-ROAD-4", n["contractor"], "equipment",
                  (contractor_first_lot, [ALL, "TX-ROAD-1", "SP-ROAD-4"]),
                  (tiyn("200000.00") - contractor_first_lot, [ALL, "RS-ROAD-1", "REL-ROAD-1", "SP-ROAD-4"])),
            spend("SP-ROAD-5", n["contractor"], "services",
                  (tiyn("50000.00") - (tiyn("200000.00") - contractor_first_lot), [ALL, "RS-ROAD-1", "REL-ROAD-1", "SP-ROAD-5"]),
                  (tiyn("5000.00"), [ALL, "RS-ROAD-2", "VOID-ROAD-2", "TX-ROAD-4", "SP-ROAD-5"])),
        ],
        "edges": [
            {"from": n["admin"], "to": n["contractor"], "amount_tiyn": tiyn("360000.50"),
             "transactions": ["TX-ROAD-1", "RS-ROAD-1", "REL-ROAD-1", "TX-ROAD-4"]},
            {"from": n["contractor"], "to": n["sub"], "amount_tiyn": tiyn("120000.25"), "transactions": ["TX-ROAD-2"]},
            {"from": n["sub"], "to": n["supplier"], "amount_tiyn": tiyn("80000.00"), "transactions": ["TX-ROAD-3"]},
        ],
        "depths": {n["admin"]: 0, n["contractor"]: 1, n["sub"]: 2, n["supplier"]: 3},
        "conservation": {"allocated_tiyn": tiyn("1000000.00"), "held_tiyn": tiyn("614999.50"), "reserved_tiyn": 0,
                         "spent_tiyn": tiyn("285000.50"), "returned_tiyn": tiyn("100000.00"), "ok": True},
    }


def expected_local(n: dict[str, str]) -> dict[str, Any]:
    return {
        "spends": [spend("SP-LOCAL-1", n["contractor"], "livestock", (tiyn("5000.10"), ["ALL-LOCAL", "TX-LOCAL-1", "SP-LOCAL-1"]))],
        "edges": [{"from": n["admin"], "to": n["contractor"], "amount_tiyn": tiyn("75000.00"), "transactions": ["TX-LOCAL-1"]}],
        "depths": {n["admin"]: 0, n["contractor"]: 1},
        "conservation": {"allocated_tiyn": tiyn("250000.00"), "held_tiyn": tiyn("244999.00"), "reserved_tiyn": 0, "spent_tiyn": tiyn("5000.10"), "returned_tiyn": tiyn("0.90"), "ok": True},
    }


def check_against_hand_trace(document: dict[str, Any], expected: dict[str, Any], balances: dict[tuple[str, str], int]) -> None:
    color = document["color"]
    assert document["spends"] == expected["spends"]
    assert document["edges"] == expected["edges"]
    assert document["conservation"] == expected["conservation"]
    assert {h["party"]: h["depth"] for h in document["holders"]} == expected["depths"]
    assert {h["party"]: h["balance_tiyn"] for h in document["holders"]} == {
        party: tiyn_ for (c, party), tiyn_ in balances.items() if c == color}


def built(url: str) -> tuple[Ledger, ReadSide, int, dict[str, str], dict[tuple[str, str], int]]:
    s, n, balances = world()
    ledger = Ledger(url)
    outcomes = ledger.execute(s.commands())
    assert [o.status for o in outcomes] == [APPLIED] * (len(outcomes) - 1) + [BLOCKED]
    read = ledger.read_side()
    return ledger, read, read.catch_up(), n, balances


def answers(read: ReadSide, n: dict[str, str], position: int) -> dict[str, Any]:
    """Balances, both traces and both histories as of `position` ("unknown" before the allocation)."""
    found: dict[str, Any] = {"balances": read.balances(position)}
    for color in (n["road"], n["local"]):
        try:
            found[color] = read.trace(color, position, None), read.color_events(color, position)
        except UnknownColor:
            found[color] = "unknown"
    return found


def fresh_read_side(ledger: Ledger) -> ReadSide:
    """A read side as a new process opens it, on projections dropped (built from position 0)."""
    read = ReadSide(ledger)
    with read.db.transaction():
        for projection in projections_of(read):
            projection.drop(read.db)
        read.db.execute(f"DROP TABLE {POSITIONS_TABLE}")
    read.close()
    read = ReadSide(ledger)
    assert set(read.runner.positions().values()) == {0}
    return read


# --- every store: the same answers, the hand-made ones ---------------------------------------------

def test_every_store_traces_the_world_as_worked_out_by_hand(store_url: str) -> None:
    ledger, read, now, n, balances = built(store_url)
    reference, reference_read, reference_now, _, _ = built("memory://")
    try:
        assert now == reference_now == 34
        check_against_hand_trace(read.trace(n["road"], now, None), expected_road(n), balances)
        check_against_hand_trace(read.trace(n["local"], now, None), expected_local(n), balances)
        assert {(c, p): b for c, p, b in read.balances(None)} == balances
        for position in range(now + 1):  # the same answers as of every position, on every store
            assert answers(read, n, position) == answers(reference_read, n, position)
    finally:
        ledger.close()
        reference.close()


def test_rebuild_leaves_every_answer_unchanged(store_url: str) -> None:
    ledger, read, now, n, _ = built(store_url)
    try:
        before = [answers(read, n, position) for position in (26, 30, now)]
        tables = contents(read)
        read.rebuild()
        assert [answers(read, n, position) for position in (26, 30, now)] == before
        assert contents(read) == tables
        read.rebuild(["balances"])
        assert contents(read) == tables
    finally:
        ledger.close()


def test_a_catch_up_that_crashes_mid_chunk_is_redone_exactly_once_after_a_restart(store_url: str) -> None:
    s, n, _ = world()
    ledger = Ledger(store_url)
    ledger.execute(s.commands())
    try:
        now = ledger.position()
        for index in range(len(projections_of(ledger.read_side()))):
            read = fresh_read_side(ledger)
            projections = projections_of(read)
            projections[index] = CrashingProjection(projections[index], crash_on_call=2, written_per_mille=500)
            with pytest.raises(Crash):
                ProjectionRunner(read.db, projections, read.read_log).catch_up(until=now, chunk_events=7)
            assert set(read.runner.positions().values()) == {7}, "the first chunk committed, the second rolled back"
            assert contents(read) == rebuilt_up_to(ledger, 7)
            restarted = ReadSide(ledger)  # a new process: new projection objects, the same tables
            ProjectionRunner(read.db, projections_of(restarted), read.read_log).catch_up(until=now, chunk_events=4)
            assert contents(read) == rebuilt_up_to(ledger, now)
            restarted.close()
            read.close()
    finally:
        ledger.close()


def test_a_failed_write_retried_in_the_same_process_gives_the_tables_of_a_rebuild(store_url: str) -> None:
    s, n, _ = world()
    ledger = Ledger(store_url)
    ledger.execute(s.commands())
    # a disposition too, so that every projection's tables are written (the dispositions' included)
    ledger.dispose_flag("F11:C-1", "explained", "paid against a signed contract", "D-1",
                        datetime.fromisoformat(s.records[-1]["at"]))  # the world's last moment: no window closes
    try:
        now = ledger.position()
        lost = []
        for table in written_tables(ledger.read_side()):
            read = fresh_read_side(ledger)
            failing = FailingDatabase(read.db, table, occurrence=1)
            with pytest.raises(Crash):
                ProjectionRunner(failing, projections_of(read), read.read_log).catch_up(until=now, chunk_events=now)
            read.runner.catch_up(until=now)  # the same process, the same projection objects, tries again
            if contents(read) != rebuilt_up_to(ledger, now):
                lost.append(table)
            read.rebuild()
            read.close()
        assert lost == []
    finally:
        ledger.close()


def test_as_of_names_holders_as_they_were_then(store_url: str) -> None:
    s, n = Script(), {}
    n["treasury"], n["admin"], n["contractor"] = s.party("treasury"), s.party("administrator"), s.party("contractor")
    color = color_id("ROAD", 5)
    s.allocate(color, n["treasury"], n["admin"], "100.00")
    s.contract("C-5", color, n["admin"], n["contractor"], "100.00")
    s.transfer(color, n["admin"], n["contractor"], "40.00", id="TX-5")
    s.add("update_party", party=n["contractor"], name="Renamed LLP")
    stopped, whole = Ledger("memory://"), Ledger(store_url)
    stopped.execute(s.commands()[:-1])
    whole.execute(s.commands())
    try:
        then = stopped.read_side().trace(color, stopped.read_side().catch_up(), None)
        now = whole.read_side().catch_up()
        assert whole.read_side().trace(color, now - 1, None) == then
    finally:
        stopped.close()
        whole.close()


# --- the CLI ----------------------------------------------------------------------------------------

def cli(capsys: pytest.CaptureFixture[str], *args: str | os.PathLike[str]) -> Run:
    """`tenge-ledger ARGS...` in-process. `main` leaves its Ledger (and ~7 PostgreSQL connections)
    to the garbage collector; collect now, or a few dozen calls exhaust the server's connections."""
    run = e2e_support.cli(capsys, *args)
    gc.collect()
    return run


def json_of(run: Run) -> Any:
    assert run.code == 0, run.err
    return run.json()


def read_commands(capsys: pytest.CaptureFixture[str], url: str, n: dict[str, str], *as_of: str) -> dict[str, Any]:
    """`trace`, `history` (both colors) and `balance` as JSON, exit codes and messages for unknown colors."""
    found: dict[str, Any] = {"balance": json_of(cli(capsys, "--store", url, "balance", *as_of, "--format", "json"))}
    for color in (n["road"], n["local"]):
        for command in ("trace", "history"):
            run = cli(capsys, "--store", url, command, color, *as_of, "--format", "json")
            found[command, color] = run.json() if run.code == 0 else (run.code, run.err)
    return found


def without_echo(found: dict[str, Any]) -> dict[str, Any]:
    """The answers without `as_of` (which echoes the question); positions stay."""
    return {k: {f: v for f, v in doc.items() if f != "as_of"} if isinstance(doc, dict) else doc for k, doc in found.items()}


def test_as_of_answers_what_a_store_of_the_first_k_lines_answers_now(capsys, tmp_path: Path, shared_store_url: str) -> None:
    s, n, _ = world()
    lines = [json.dumps(record) for record in s.records]
    whole_file = tmp_path / "whole.jsonl"
    whole_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli(capsys, "--store", shared_store_url, "import", whole_file).code == 1  # SP-CASH is blocked
    prefix_url = f"sqlite:///{tmp_path / 'prefix.sqlite'}"
    for k in (1, 5, 6, 14, 16, 18, 20, 26, 29, 33, len(lines)):
        prefix_file = tmp_path / f"first-{k}.jsonl"
        prefix_file.write_text("\n".join(lines[:k]) + "\n", encoding="utf-8")
        assert cli(capsys, "--store", prefix_url, "import", prefix_file).code in (0, 1)  # earlier lines: duplicates
        stopped = read_commands(capsys, prefix_url, n)
        assert stopped["balance"]["position"] == k
        by_position = read_commands(capsys, shared_store_url, n, "--as-of", f"@{k}")
        by_time = read_commands(capsys, shared_store_url, n, "--as-of", s.records[k - 1]["at"])
        assert by_position["balance"]["as_of"] == f"@{k}"
        assert by_time["balance"]["as_of"] == s.records[k - 1]["at"]
        assert without_echo(by_position) == without_echo(stopped), f"as of @{k}"
        assert without_echo(by_time) == without_echo(stopped), f"as of line {k}'s business time"
        if k < 5:
            assert stopped["trace", n["road"]] == (1, f"error: color {n['road']} was never allocated\n")


def test_as_of_before_any_event_and_beyond_the_end(capsys, shared_store_url: str, tmp_path: Path) -> None:
    s, n, _ = world()
    assert cli(capsys, "--store", shared_store_url, "import", s.write(tmp_path / "w.jsonl")).code == 1
    now = read_commands(capsys, shared_store_url, n)
    assert without_echo(read_commands(capsys, shared_store_url, n, "--as-of", "@999999")) == without_echo(now)
    assert without_echo(read_commands(capsys, shared_store_url, n, "--as-of", "2099-01-01T00:00:00Z")) == without_echo(now)
    early = read_commands(capsys, shared_store_url, n, "--as-of", "2025-03-01T00:00:00+05:00")
    assert early["balance"]["balances"] == [] and early["balance"]["position"] == 0
    assert early["trace", n["road"]][0] == early["history", n["local"]][0] == 1
    assert "was never allocated" in early["trace", n["road"]][1]
    for bad in ("@x", "@-1", "yesterday", "2025-03-01T00:00:00"):
        run = cli(capsys, "--store", shared_store_url, "trace", n["road"], "--as-of", bad, "--format", "json")
        assert run.code == 2 and run.out == "" and "--as-of" in run.err, (bad, run)


def test_the_rebuild_command_leaves_every_answer_unchanged(capsys, shared_store_url: str, tmp_path: Path) -> None:
    s, n, _ = world()
    assert cli(capsys, "--store", shared_store_url, "import", s.write(tmp_path / "w.jsonl")).code == 1
    questions = [(), ("--as-of", "@18"), ("--as-of", s.records[29]["at"])]
    before = [read_commands(capsys, shared_store_url, n, *q) for q in questions]
    rebuilt = cli(capsys, "--store", shared_store_url, "rebuild")
    assert rebuilt.code == 0 and rebuilt.out == "" and "rebuilt" in rebuilt.err
    assert [read_commands(capsys, shared_store_url, n, *q) for q in questions] == before
    one = cli(capsys, "--store", shared_store_url, "rebuild", "--projection", "balances")
    assert one.code == 0, one.err
    assert [read_commands(capsys, shared_store_url, n, *q) for q in questions] == before
    unknown = cli(capsys, "--store", shared_store_url, "rebuild", "--projection", "no-such")
    assert unknown.code == 2 and "no-such" in unknown.err


def test_unknown_colors_exit_1_and_mistyped_colors_exit_2(capsys, store_url: str, tmp_path: Path) -> None:
    s, n, _ = world()
    if store_url != "memory://":  # a memory store lives for one CLI call only: it is always empty
        assert cli(capsys, "--store", store_url, "import", s.write(tmp_path / "w.jsonl")).code == 1
    never = color_id("AGRO", 77)
    for command in ("trace", "history"):
        unknown = cli(capsys, "--store", store_url, command, never, "--format", "json")
        assert (unknown.code, unknown.out) == (1, "")
        assert unknown.err.startswith(f"error: color {never} was never allocated")
        mistyped = cli(capsys, "--store", store_url, command, mistyped_color(n["road"]), "--format", "json")
        assert (mistyped.code, mistyped.out) == (2, "")
        assert mistyped.err.startswith("error: COLOR:") and "check digits" in mistyped.err, mistyped.err
        malformed = cli(capsys, "--store", store_url, command, "ROAD-2025-41-1-00", "--format", "json")
        assert (malformed.code, malformed.out) == (2, "")
