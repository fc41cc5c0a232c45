"""`tenge-ledger rules` and `catalog_markdown`: the catalog from the registry, with the thresholds
in force for the configuration (`--rules FILE` included), per pilot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main
from projections.rules.catalog import catalog_markdown
from projections.rules.config import default_config, load_config
from projections.rules.registry import CODES, REGISTRY
from tests.rules.rules_catalog import catalog_rows


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def overrides(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text('[F01.AGRO]\ndelta = "0.04"\n[F03]\nwindow_hours = 48\n', encoding="utf-8")
    return path


def test_rules_json_lists_the_catalog_with_default_thresholds_per_pilot(capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--store", str(tmp_path / "unused.sqlite"), "rules", "--format", "json")
    assert code == 0
    entries = json.loads(out)
    assert [entry["code"] for entry in entries] == list(CODES)
    rows = catalog_rows()
    for entry in entries:
        assert entry["title"] == rows[entry["code"]]["title"] and entry["definition"] == rows[entry["code"]]["definition"]
        assert entry["severity"] == REGISTRY.rule(entry["code"]).severity
    f01 = entries[0]
    assert f01["pilots"] == ["ROAD", "AGRO", "LOCAL"]
    assert f01["thresholds"]["ROAD"] == {"threshold_kzt": "196600000", "delta": "0.10", "count": 2}
    assert f01["thresholds"]["AGRO"] == {"threshold_kzt": "15728000", "delta": "0.05", "count": 2}
    s01 = next(entry for entry in entries if entry["code"] == "S01")
    assert s01["pilots"] == ["ROAD", "LOCAL"] and set(s01["thresholds"]) == {"ROAD", "LOCAL"}
    assert next(entry for entry in entries if entry["code"] == "F07")["thresholds"]["ROAD"] == {}
    assert not (tmp_path / "unused.sqlite").exists()  # the catalog needs no store


def test_rules_honours_a_threshold_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--rules", str(overrides(tmp_path)), "rules", "--format", "json")
    assert code == 0
    entries = {entry["code"]: entry for entry in json.loads(out)}
    assert entries["F01"]["thresholds"]["AGRO"]["delta"] == "0.04"
    assert entries["F01"]["thresholds"]["ROAD"]["delta"] == "0.10"
    assert {pilot: t["window_hours"] for pilot, t in entries["F03"]["thresholds"].items()} == {"ROAD": 48, "AGRO": 48, "LOCAL": 48}


def test_rules_table_names_every_rule_and_its_thresholds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--rules", str(overrides(tmp_path)), "rules", "--format", "table")
    assert code == 0
    assert all(rule in out for rule in CODES)
    assert "window_hours = 48" in out and "0.04 (AGRO)" in out and f"{len(CODES)} rules" in out


def test_rules_refuses_a_bad_threshold_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[F99]\nshare = "0.5"\n', encoding="utf-8")
    code, out, err = run(capsys, "--rules", str(path), "rules")
    assert code == 2 and out == ""
    assert f"{path}: [F99]: no such rule" in err


def test_catalog_markdown_has_every_rule_with_the_thresholds_in_force(tmp_path: Path) -> None:
    text = catalog_markdown(default_config())
    lines = [line for line in text.splitlines() if line.startswith("| ") and line[2:5] in CODES]
    assert [line[2:5] for line in lines] == list(CODES)
    f01 = lines[0]
    assert "| Split below threshold | medium | all |" in f01
    assert "threshold_kzt = 196600000 (ROAD, LOCAL), 15728000 (AGRO)" in f01
    assert REGISTRY.rule("F01").definition in f01
    assert "| ROAD, LOCAL |" in next(line for line in lines if line.startswith("| S01 "))
    assert "| none |" in next(line for line in lines if line.startswith("| F07 "))
    changed = catalog_markdown(load_config(overrides(tmp_path)))
    assert "delta = 0.10 (ROAD, LOCAL), 0.04 (AGRO)" in changed and "window_hours = 48" in changed
    assert changed != text


def test_catalog_markdown_escapes_table_cells() -> None:
    text = catalog_markdown(default_config())
    for line in text.splitlines():
        if line.startswith("| ") and line[2:5] in CODES:
            assert line.replace("\\|", "").count("|") == 7, line  # six cells, no stray separators
