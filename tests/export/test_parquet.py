"""`export parquet`: one file per table, integer tiyn; DuckDB reproduces `balance` (see
test_balances_agree.py) and each color's `trace` conservation (SPEC §3.2, §6.1)."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger.cli import main

TABLES = ["balances", "contracts", "flags", "movements", "parties"]

# allocated = held + reserved + spent + returned, per color, from the movements alone
CONSERVATION = """
SELECT color,
       SUM(amount_tiyn) FILTER (WHERE kind = 'allocate') AS allocated_tiyn,
       SUM(amount_tiyn) AS held_tiyn,
       -SUM(amount_tiyn) FILTER (WHERE kind IN ('reserve', 'release', 'void')) AS reserved_tiyn,
       -SUM(amount_tiyn) FILTER (WHERE kind = 'spend') AS spent_tiyn,
       -SUM(amount_tiyn) FILTER (WHERE kind = 'return') AS returned_tiyn
FROM '{folder}/movements.parquet' GROUP BY color ORDER BY color
"""


def trace(world, capsys: pytest.CaptureFixture[str], color: str, *options: str) -> dict:
    capsys.readouterr()
    assert main(["--store", world.url, "trace", color, "--format", "json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_one_file_per_table_with_amounts_in_integer_tiyn(world) -> None:
    folder = world.export("parquet", name="all.parquet")
    assert sorted(p.stem for p in folder.iterdir()) == TABLES
    for name in TABLES:
        schema = pq.read_schema(folder / f"{name}.parquet")
        for field in schema:
            if field.name.endswith("_tiyn"):
                assert field.type == pa.int64(), (name, field)
    assert pq.read_table(folder / "flags.parquet").num_rows > 0, "the simulated misuse is flagged"
    contracts = duckdb.sql(f"SELECT amount_tiyn, paid_tiyn FROM '{folder}/contracts.parquet' WHERE contract = 'X-C1'").fetchall()
    assert contracts == [(650_000_00, 350_000_00)]


@pytest.mark.parametrize("as_of", [None, "mid_time", "@500"])
def test_duckdb_reproduces_trace_conservation_for_every_color(world, capsys, as_of: str | None) -> None:
    options = [] if as_of is None else ["--as-of", as_of if as_of.startswith("@") else getattr(world, as_of)]
    folder = world.export("parquet", *options, name=f"conservation-{as_of}.parquet")
    rows = duckdb.sql(CONSERVATION.format(folder=folder)).fetchall()
    assert len(rows) >= (1 if as_of == "mid_time" else 2)
    for color, allocated, held, reserved, spent, returned in rows:
        conservation = trace(world, capsys, color, *options)["conservation"]
        assert (allocated, held, reserved or 0, spent or 0, returned or 0) == (
            conservation["allocated_tiyn"], conservation["held_tiyn"], conservation["reserved_tiyn"],
            conservation["spent_tiyn"], conservation["returned_tiyn"]), color
        assert allocated == held + (reserved or 0) + (spent or 0) + (returned or 0)


def test_filters_reach_every_table(world) -> None:
    folder = world.export("parquet", "--color", world.color, "--party", world.contractor, name="filtered.parquet")
    movements = pq.read_table(folder / "movements.parquet").to_pylist()
    assert {(m["color"], m["holder"]) for m in movements} == {(world.color, world.contractor)}
    contracts = pq.read_table(folder / "contracts.parquet").to_pylist()
    assert sorted(c["contract"] for c in contracts) == ["X-C1", "X-C2"]
    parties = {p["party"] for p in pq.read_table(folder / "parties.parquet").to_pylist()}
    assert parties == {world.admin, world.contractor, world.sub}, "the parties the rows name"
    balances = pq.read_table(folder / "balances.parquet").to_pylist()
    assert [(b["holder"], b["balance_tiyn"]) for b in balances] == [(world.contractor, 25_000_000 + 10_000_000 - 12_000_000 - 1_000_001)]
