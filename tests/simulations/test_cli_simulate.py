"""`tenge-ledger simulate` end to end through `ledger.cli.main`: write a small world with misuse,
evaluate it (json and table), and the usage errors. This is the `simulate --evaluate` smoke run of CI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ledger.cli import main
from projections.rules.registry import CODES


def _simulate(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "world.jsonl"
    code = main(["simulate", "road", "agro", "local", "--seed", "3", "--transactions", "1500", "--misuse-rate", "0.3",
                 "--out", str(out), "--format", "json", "--progress", "none", *extra])
    assert code == 0
    return out


def test_simulate_then_evaluate_reports_every_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _simulate(tmp_path)
    written = orjson.loads(capsys.readouterr().out)
    truth = orjson.loads(out.with_name("world.jsonl.truth.json").read_bytes())
    assert written["lines"] == truth["lines"] == sum(1 for _ in out.open("rb"))
    assert truth["instances"], "a misuse rate of 0.3 injects schemes"

    assert main(["simulate", "--evaluate", str(out), "--format", "json", "--progress", "none"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["blocked"] == truth["expected_blocked"] and report["conflict"] == 0
    rules = {row["rule"]: row for row in report["rules"]}
    assert sorted(rules) == sorted(CODES)  # every rule of the catalog scored
    for row in rules.values():
        assert set(row) >= {"expected", "raised", "true_positives", "false_positives", "recall", "precision"}
        assert row["false_positives"] == 0, row
        if row["expected"]:
            assert row["recall"] == "1.0000", row
    assert report["missed"] == []


def test_evaluate_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _simulate(tmp_path)
    capsys.readouterr()
    assert main(["simulate", "--evaluate", str(out), "--format", "table", "--progress", "none"]) == 0
    table = capsys.readouterr().out
    assert "recall" in table and "precision" in table and "F07" in table and "L04" in table


def test_writing_again_overwrites_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _simulate(tmp_path).read_bytes()
    capsys.readouterr()
    assert _simulate(tmp_path).read_bytes() == first
    assert "overwriting" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["simulate", "--out", "x.jsonl"], "give the pilots"),
    (["simulate", "road"], "give the pilots"),
    (["simulate", "roads", "--out", "x.jsonl"], "pilots must be"),
    (["simulate", "road", "road", "--out", "x.jsonl"], "pilots must be"),
    (["simulate", "road", "--misuse-rate", "1.5", "--out", "x.jsonl"], "--misuse-rate"),
    (["simulate", "road", "--misuse-rate", "-0.1", "--out", "x.jsonl"], "--misuse-rate"),
    (["simulate", "road", "--scheme", "Z99-nothing", "--out", "x.jsonl"], "no scheme"),
    (["simulate", "--evaluate", "missing.jsonl"], "no such file"),
    (["simulate", "road", "--evaluate", "x.jsonl"], "takes no pilots"),
])
def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_list_schemes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list-schemes", "--format", "json"]) == 0
    names = [row["name"] for row in orjson.loads(capsys.readouterr().out)]
    assert "F09-duplicate-invoice" in names and "A01-same-vin-twice" in names


def test_only_the_schemes_asked_for_are_drawn(tmp_path: Path) -> None:
    out = _simulate(tmp_path, "--scheme", "F09-duplicate-invoice", "--scheme", "H01-price-raising-amendment")
    truth = orjson.loads(out.with_name("world.jsonl.truth.json").read_bytes())
    assert {i["scheme"] for i in truth["instances"]} == {"F09-duplicate-invoice", "H01-price-raising-amendment"}
