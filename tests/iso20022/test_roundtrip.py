"""Round trip: a simulated world imported as JSON Lines, and the same world with every run of
transfers sent as pain.001.001.10 files instead, give identical stores: the same statuses per
transaction, balances, traces, histories and flags."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig
from tests.iso20022.pain001_files import run, split_world, write_jsonl

WORLD = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=11, transactions=300, misuse_rate=Fraction(1, 3))


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    records = [dict(record) for record in SimulatedWorld(WORLD).records]
    # two attempts the rules block, and one transfer given twice (a duplicate), so statuses differ
    transfers = [record for record in records if record["type"] == "transfer"]
    last = transfers[-1]
    records.append({**last, "id": "X-OVERDRAW", "amount": "999999999999"})
    records.append({**last, "id": "X-TO-TREASURY", "to": next(r["treasury"] for r in records if r["type"] == "allocate")})
    records.append(dict(last))
    return records


def read_all(capsys, store: str, colors: list[str]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, args in [("balance", ["balance"]), ("flags", ["flags", "--as-of", "2027-01-01T00:00:00+05:00"])] + [
            (f"trace {color}", ["trace", color]) for color in colors] + [(f"history {color}", ["history", color]) for color in colors]:
        code, out, err = run(capsys, "--store", store, *args, "--format", "json")
        assert code == 0, (name, err)
        state[name] = json.loads(out)
    return state


def test_json_lines_and_pain001_give_identical_stores(capsys, tmp_path, records):
    colors = sorted({record["color"] for record in records if record["type"] == "allocate"})
    parts = split_world(records, tmp_path)
    xml_parts = [path for path in parts if path.suffix == ".xml"]
    assert len(xml_parts) > 10 and sum(path.read_text().count("<CdtTrfTxInf>") for path in xml_parts) == \
        sum(1 for record in records if record["type"] == "transfer")

    reports = {}
    states = {}
    for name, inputs in (("jsonl", [write_jsonl(tmp_path / "world.jsonl", records)]), ("pain001", parts)):
        store = f"sqlite:///{tmp_path / (name + '.sqlite')}"
        report = tmp_path / f"{name}.report.jsonl"
        code, _, err = run(capsys, "--store", store, "import", *inputs, "--report", report)
        assert code == 1, err  # the blocked attempts
        reports[name] = [(row["id"], row["status"], row["reason"]) for row in map(json.loads, report.read_text().splitlines())]
        states[name] = read_all(capsys, store, colors)

    assert reports["jsonl"] == reports["pain001"]
    statuses = {status for _, status, _ in reports["jsonl"]}
    assert {"applied", "blocked", "duplicate"} <= statuses, statuses
    assert dict((key, status) for key, status, _ in reports["jsonl"])["X-OVERDRAW"] == "blocked"
    assert states["jsonl"] == states["pain001"]
    assert states["jsonl"]["balance"]["balances"], "the world moved money"
