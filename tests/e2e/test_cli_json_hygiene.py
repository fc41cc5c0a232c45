"""`tenge-ledger import` refuses duplicate JSON keys and control characters (SPEC §5, issue 10 items 7–8).

A file that spends 900 000 by writing `"amount"` twice, or that hides a right-to-left override
in a name, is malformed input: exit 2, every error names file, line and field, nothing written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from e2e_support import cli, snapshot, sqlite_url
from tests.support import road_world

ERROR_LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<field>[^:]+): (?P<message>.+)$")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "ledger.sqlite")


def _applied_world(capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str):
    script, names = road_world(amount="1000000.00")
    good = tmp_path / "world.jsonl"
    good.write_text("\n".join(json.dumps(record) for record in script.records) + "\n", encoding="utf-8")
    assert cli(capsys, "--store", url, "import", good).code == 0
    return names


def _errors(err: str, path: Path) -> list[tuple[int, str, str]]:
    found = []
    for text in err.splitlines():
        match = ERROR_LINE.match(text)
        if match and match["file"] == str(path):
            found.append((int(match["line"]), match["field"], match["message"]))
    return found


def test_duplicate_keys_and_control_characters_exit_2_and_write_nothing(capsys, tmp_path, url):
    names = _applied_world(capsys, tmp_path, url)
    road = names["color"]
    before = snapshot(capsys, url, [road])
    spend = (f'{{"id": "SP-DUP", "type": "spend", "at": "2025-03-05T10:00:00+05:00", "color": "{road}", '
             f'"from": "{names["admin"]}", "amount": "100.00", "category": "fuel"')
    lines = [
        spend + ', "amount": "900000.00"}',  # 1: the amount twice: the last would win
        spend.replace('"type": "spend"', '"type": "transfer", "type": "spend"').replace("SP-DUP", "SP-TYPE") + "}",
        json.dumps({"id": "R-1", "type": "register_party", "at": "2025-03-05T10:00:00+05:00",
                    "party": "040612345679", "name": "Evil\u202eCorp", "kind": "contractor"}),  # 3: bidi control
        json.dumps({"id": "R-2", "type": "register_party", "at": "2025-03-05T10:00:00+05:00",
                    "party": "040612345679", "name": "Nul\u0000Ltd", "kind": "contractor"}),  # 4: NUL
        spend.replace("SP-DUP", "SP-GOOD") + "}",  # 5: good
    ]
    bad = tmp_path / "hostile.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"

    run = cli(capsys, "--store", url, "import", bad, "--report", report)

    assert run.code == 2, (run.out, run.err)
    found = _errors(run.err, bad)
    assert [(line, field) for line, field, _ in found] == [(1, "amount"), (2, "type"), (3, "name"), (4, "name")], run.err
    assert found[0][2] == "duplicate key" and found[1][2] == "duplicate key"
    assert "U+202E" in found[2][2] and "U+0000" in found[3][2]
    assert "nothing was written" in run.err
    assert snapshot(capsys, url, [road]) == before
    assert not report.exists() or report.read_text() == ""


def test_a_control_character_given_on_the_command_line_is_refused(capsys, tmp_path, url):
    names = _applied_world(capsys, tmp_path, url)
    before = snapshot(capsys, url, [names["color"]])
    run = cli(capsys, "--store", url, "freeze", "--color", names["color"], "--reason", "audit\u202e")
    assert run.code == 2, (run.out, run.err)
    assert "--reason" in run.err and "control characters" in run.err
    assert snapshot(capsys, url, [names["color"]]) == before
