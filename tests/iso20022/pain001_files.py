"""Writing pain.001 files for the tests: interchange records -> pain.001.001.10 (through the
package's writer, `ledger.iso20022.pain001.write_pain001`), and a world split into runs of
JSON Lines and pain.001 files that, imported in order, ask for exactly what the world does."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from domain.commands import Transfer
from ledger.cli import main
from ledger.interchange import parse_record
from ledger.iso20022.pain001 import write_pain001
from tests.support import road_world

CREATED = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)


def transfers_of(records: list[dict[str, Any]]) -> list[Transfer]:
    commands = [parse_record(record) for record in records]
    assert all(isinstance(command, Transfer) for command in commands)
    return commands  # type: ignore[return-value]


def write_records(path: Path, records: list[dict[str, Any]], msg_id: str = "MSG-1",
                  individuals: frozenset[str] = frozenset()) -> Path:
    with path.open("wb") as out:
        write_pain001(out, transfers_of(records), msg_id, CREATED, individuals)
    return path


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def split_world(records: list[dict[str, Any]], directory: Path) -> list[Path]:
    """The world as files in order: each run of consecutive transfers a pain.001, the rest JSON Lines."""
    individuals = frozenset(record["party"] for record in records
                            if record["type"] == "register_party" and record["kind"] == "individual")
    runs: list[tuple[bool, list[dict[str, Any]]]] = []
    for record in records:
        is_transfer = record["type"] == "transfer"
        if runs and runs[-1][0] == is_transfer:
            runs[-1][1].append(record)
        else:
            runs.append((is_transfer, [record]))
    paths = []
    for number, (is_transfer, run) in enumerate(runs, 1):
        if is_transfer:
            paths.append(write_records(directory / f"part-{number:04d}.xml", run, f"MSG-{number:04d}", individuals))
        else:
            paths.append(write_jsonl(directory / f"part-{number:04d}.jsonl", run))
    return paths


def replace_in(path: Path, pattern: str, replacement: str, count: int = 1, to: Path | None = None) -> Path:
    """A copy of a pain.001 with `pattern` (a regex) replaced `count` times."""
    text, done = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=count)
    assert done == count, (pattern, done)
    target = to or path
    target.write_text(text, encoding="utf-8")
    return target


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def world(tmp_path: Path) -> tuple[Path, list[dict[str, object]], dict[str, str]]:
    """A road world's setup as JSON Lines and three transfers (the last one blocked) to pay."""
    script, names = road_world()
    setup = write_jsonl(tmp_path / "setup.jsonl", list(script.records))
    color, admin, contractor, sub = names["color"], names["admin"], names["contractor"], names["sub"]
    script.records.clear()
    script.transfer(color, admin, contractor, "400000.50", contract="C-1", invoice="INV-1", kind="advance", id="PAY-1")
    script.transfer(color, contractor, sub, "1000", id="PAY-2")
    script.transfer(color, contractor, sub, "99999999", id="PAY-3")  # more than the contractor holds
    return setup, list(script.records), names
