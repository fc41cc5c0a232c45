"""The exports read a PostgreSQL store as they read SQLite: the same balances as `balance`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main
from tests.export.conftest import hand_written
from tests.export.readers import BALANCE_READERS
from tests.support import Script


@pytest.mark.postgres
def test_every_format_exports_a_postgresql_store(postgres_url: str, tmp_path: Path, capsys) -> None:
    s = Script()
    hand_written(s)
    assert main(["--store", postgres_url, "import", str(s.write(tmp_path / "hand.jsonl")), "--progress", "none"]) == 0
    capsys.readouterr()
    assert main(["--store", postgres_url, "balance", "--format", "json"]) == 0
    expected = {(r["color"], r["party"]): r["balance_tiyn"] for r in json.loads(capsys.readouterr().out)["balances"]}
    for fmt, read in BALANCE_READERS.items():
        out = tmp_path / fmt
        assert main(["--store", postgres_url, "export", fmt, "--out", str(out), "--progress", "none"]) == 0
        assert read(out) == expected, fmt
    assert main(["--store", postgres_url, "export", "ocds", "--out", str(tmp_path / "o.json")]) == 0
