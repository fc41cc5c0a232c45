"""The load bench's short run (`python -m bench.http_load`, bench/README.md): clients on one hot
color and on colors of their own against `serve --workers 2` on PostgreSQL for a few seconds;
every command answered, none lost or applied twice, balances as answered, conservation. Speed is
printed by the bench, never asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.http_load import report, run


@pytest.mark.postgres
def test_a_short_load_loses_and_duplicates_nothing(postgres_url: str, tmp_path: Path) -> None:
    result = run(postgres_url, seconds=3, workers=2, hot_clients=4, cold_clients=4, log_path=tmp_path / "serve.log")
    print(report(result, 2))
    assert result.problems == []
    assert result.groups["hot"]["commands"] > 0 and result.groups["cold"]["commands"] > 0


def test_a_short_load_on_sqlite_with_one_process(tmp_path: Path) -> None:
    result = run(f"sqlite:///{tmp_path / 'ledger.sqlite'}", seconds=2, workers=1, hot_clients=3, cold_clients=3,
                 log_path=tmp_path / "serve.log")
    assert result.problems == []
    assert result.groups["hot"]["commands"] > 0 and result.groups["cold"]["commands"] > 0
