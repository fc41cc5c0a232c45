"""The one-command subcommands and the reading commands, as a user types them (SPEC §5)."""

from __future__ import annotations

import json
import re
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
    realistic_world,
    record_to_argv,
    snapshot,
    sqlite_url,
    tiyn,
)
from tests.support import Script, color_id

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # SPEC §2.3


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "ledger.sqlite")


def test_subcommands_build_the_same_state_as_importing_the_file(capsys, tmp_path):
    world = realistic_world()
    by_import = sqlite_url(tmp_path / "by-import.sqlite")
    by_commands = sqlite_url(tmp_path / "by-commands.sqlite")
    imported = cli(capsys, "--store", by_import, "import", world.script.write(tmp_path / "world.jsonl"))
    assert imported.code == 0, imported.err

    for record in world.script.records:
        argv = record_to_argv(record)
        run = cli(capsys, "--store", by_commands, *argv, "--format", "json")
        assert run.code == 0, (argv, run.out, run.err)
        document = run.json()
        assert document["id"] == record["id"]
        assert document["type"] == record["type"]
        assert document["status"] == "applied", document

    assert snapshot(capsys, by_commands, world.colors) == snapshot(capsys, by_import, world.colors)
    assert balances_by_key(json.loads(balance_json(capsys, by_commands))) == expected_balances(world)


def test_subcommand_repeated_is_a_duplicate_and_a_changed_one_a_conflict(capsys, tmp_path, url):
    world = realistic_world()
    records = world.script.records
    assert cli(capsys, "--store", url, "import", world.script.write(tmp_path / "w.jsonl")).code == 0
    before = snapshot(capsys, url, world.colors)
    transfer = next(r for r in records if r["id"] == "TX-ROAD-3")

    again = cli(capsys, "--store", url, *record_to_argv(transfer), "--format", "json")
    assert again.code == 0, again.err
    assert again.json()["status"] == "duplicate"

    changed = cli(capsys, "--store", url, *record_to_argv(dict(transfer, amount="1.00")), "--format", "json")
    assert changed.code == 1
    assert changed.json()["status"] == "conflict"
    assert snapshot(capsys, url, world.colors) == before


def _small_world(capsys, url: str, tmp_path: Path, expires_on: str = "2099-12-31") -> dict[str, str]:
    s = Script()
    n = {"treasury": s.party("treasury"), "admin": s.party("administrator"), "contractor": s.party("contractor")}
    n["color"] = color_id("ROAD", 3)
    s.allocate(n["color"], n["treasury"], n["admin"], "5000.00", expires_on=expires_on)
    s.contract("C-9", n["color"], n["admin"], n["contractor"], "5000.00")
    run = cli(capsys, "--store", url, "import", s.write(tmp_path / "small.jsonl"))
    assert run.code == 0, run.err
    return n


def test_absent_id_is_generated_printed_and_recorded(capsys, tmp_path, url):
    n = _small_world(capsys, url, tmp_path)

    run = cli(capsys, "--store", url, "transfer", "--color", n["color"], "--from", n["admin"],
              "--to", n["contractor"], "--amount", "100.00", "--format", "json")

    assert run.code == 0, run.err
    document = run.json()
    assert document["status"] == "applied"
    generated = document["id"]
    assert ID_PATTERN.match(generated), generated
    events = cli(capsys, "--store", url, "history", n["color"], "--format", "json").json()["events"]
    assert events[-1]["transaction"] == generated

    table = cli(capsys, "--store", url, "transfer", "--color", n["color"], "--from", n["admin"],
                "--to", n["contractor"], "--amount", "1.00", "--format", "table")
    assert table.code == 0, table.err
    second_id = cli(capsys, "--store", url, "history", n["color"], "--format", "json").json()["events"][-1]["transaction"]
    assert second_id != generated, "every generated id is new"
    assert second_id in table.out, "the table output prints the generated id"
    balances = balances_by_key(json.loads(balance_json(capsys, url)))
    assert balances[(n["color"], n["contractor"])] == tiyn("100.00") + tiyn("1.00")


def test_blocked_subcommand_exits_1_and_says_why(capsys, tmp_path, url):
    n = _small_world(capsys, url, tmp_path)
    run = cli(capsys, "--store", url, "transfer", "--id", "TX-BIG", "--color", n["color"], "--from", n["admin"],
              "--to", n["contractor"], "--amount", "5000.01", "--format", "json")
    assert run.code == 1
    assert run.json()["status"] == "blocked"
    assert run.json()["reason"] in ("balance_would_go_negative", "contract_amount_exceeded")
    assert balances_by_key(json.loads(balance_json(capsys, url)))[(n["color"], n["admin"])] == tiyn("5000.00")


@pytest.mark.parametrize("amount", ["1e5", "-5", "0", "0.00", "1.234", "", " 5", "5 ", "1,5", "+5", "1500000.5.0", "0x10", "NaN"])
def test_malformed_amount_flag_exits_2_and_writes_nothing(capsys, tmp_path, url, amount):
    n = _small_world(capsys, url, tmp_path)
    before = snapshot(capsys, url, [n["color"]])

    run = cli(capsys, "--store", url, "transfer", "--id", "TX-BAD", "--color", n["color"], "--from", n["admin"],
              "--to", n["contractor"], "--amount", amount, "--format", "json")

    assert run.code == 2, (amount, run.out, run.err)
    assert "amount" in run.err
    assert run.out == ""
    assert snapshot(capsys, url, [n["color"]]) == before


@pytest.mark.parametrize("which", ["from", "to", "color", "id", "at", "kind"])
def test_malformed_identifier_flag_exits_2_and_writes_nothing(capsys, tmp_path, url, which):
    n = _small_world(capsys, url, tmp_path)
    before = snapshot(capsys, url, [n["color"]])
    flags = {"id": "TX-OK", "color": n["color"], "from": n["admin"], "to": n["contractor"], "at": "2025-03-02T10:00:00+05:00", "kind": "advance"}
    flags[which] = {
        "from": mistyped_bin(n["admin"]), "to": mistyped_bin(n["contractor"]), "color": mistyped_color(n["color"]),
        "id": "bad id with spaces", "at": "2025-03-02 10:00", "kind": "bribe",
    }[which]
    argv = ["transfer", "--amount", "10.00", "--format", "json"]
    for flag, value in flags.items():
        argv += [f"--{flag}", value]

    run = cli(capsys, "--store", url, *argv)

    assert run.code == 2, (which, run.out, run.err)
    assert which in run.err
    assert snapshot(capsys, url, [n["color"]]) == before


def test_register_party_with_bad_bin_exits_2(capsys, url):
    bad = mistyped_bin("150740000014")
    run = cli(capsys, "--store", url, "register-party", "--party", bad, "--name", "X LLP", "--kind", "contractor")
    assert run.code == 2
    assert "party" in run.err and bad in run.err
    assert_nothing_written(capsys, url)


def test_missing_required_flag_and_unknown_command_are_usage_errors(capsys, tmp_path, url):
    n = _small_world(capsys, url, tmp_path)
    before = snapshot(capsys, url, [n["color"]])
    missing = cli(capsys, "--store", url, "transfer", "--color", n["color"], "--from", n["admin"], "--amount", "1.00")
    assert missing.code == 2
    assert "--to" in missing.err
    unknown = cli(capsys, "--store", url, "transfre")
    assert unknown.code == 2
    assert snapshot(capsys, url, [n["color"]]) == before


def test_history_of_a_mistyped_color_is_malformed_not_not_found(capsys, tmp_path, url):
    n = _small_world(capsys, url, tmp_path)
    for typo in (mistyped_color(n["color"]), "road-2025-041-000003-" + n["color"][-2:], "RAOD-2025-041-000003-00", "ROAD-2025-41-3"):
        run = cli(capsys, "--store", url, "history", typo, "--format", "json")
        assert run.code == 2, (typo, run.err)
        assert "never allocated" not in run.err
        assert run.out == ""
    bad_balance = cli(capsys, "--store", url, "balance", "--color", mistyped_color(n["color"]), "--format", "json")
    assert bad_balance.code == 2
    bad_party = cli(capsys, "--store", url, "balance", "--party", mistyped_bin(n["admin"]), "--format", "json")
    assert bad_party.code == 2


def test_balance_jsonl_lists_one_row_per_line(capsys, tmp_path, url):
    n = _small_world(capsys, url, tmp_path)
    run = cli(capsys, "--store", url, "balance", "--format", "jsonl")
    assert run.code == 0
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert rows == [{"color": n["color"], "party": n["admin"], "name": "Administrator 2", "balance": "5000.00", "balance_tiyn": 500000}]
