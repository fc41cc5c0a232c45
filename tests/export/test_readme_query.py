"""The README's DuckDB query over the Parquet export answers what `balance` answers."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_query() -> str:
    blocks = re.findall(r"```sql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    [query] = [block for block in blocks if "tenge-ledger: balance from Parquet" in block]
    return query


def test_the_readme_duckdb_query_reproduces_balance(world, read_balances) -> None:
    folder = world.export("parquet", name="export")
    query = readme_query().replace("'export/movements.parquet'", f"'{folder}/movements.parquet'")
    assert str(folder) in query
    rows = duckdb.sql(query).fetchall()
    assert {(color, holder): int(total) for color, holder, total in rows} == read_balances()
    assert [row[:2] for row in rows] == sorted(row[:2] for row in rows)
