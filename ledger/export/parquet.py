"""`export parquet`: the ledger as Parquet tables for analysts (DuckDB, Polars, pandas) (SPEC §3.2).

`--out` is a directory; one file per table, amounts as integer tiyn (`int64`), times as UTC
timestamps (`at`) beside the business time as written (`at_text`):
- `movements.parquet`: one row per change of a holder's balance (`amount_tiyn` signed), with the
  store position, color, transaction, kind (allocate, transfer, reserve, release, void, spend,
  return), holder, counterparty, contract, detail (a spend's category);
- `balances.parquet`: color, holder, name, balance_tiyn (what `balance` answers);
- `parties.parquet`: party, scheme (BIN/IIN), name (as of the question), kind, region — every party
  registered by then, or with `--party` those the exported movements and contracts name;
- `contracts.parquet`: contract, color, customer, supplier, administrator, signed and current
  amount, paid, accepted, method, dates;
- `flags.parquet`: rule, title, severity, pilot, color, at, explanation, the transactions, parties
  and contracts named (lists), evidence (JSON text).

Movements stream: they are written a color at a time (row groups), so memory holds one color.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ledger.export.source import ColorSlice, ExportSource, OnColor

TIME = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())

MOVEMENTS = pa.schema([
    ("position", pa.int64()), ("at", TIME), ("at_text", pa.string()), ("color", pa.string()),
    ("transaction", pa.string()), ("kind", pa.string()), ("holder", pa.string()), ("counterparty", pa.string()),
    ("amount_tiyn", pa.int64()), ("contract", pa.string()), ("detail", pa.string()),
])
BALANCES = pa.schema([("color", pa.string()), ("holder", pa.string()), ("name", pa.string()),
                      ("balance_tiyn", pa.int64())])
PARTIES = pa.schema([("party", pa.string()), ("scheme", pa.string()), ("name", pa.string()),
                     ("kind", pa.string()), ("region", pa.string())])
CONTRACTS = pa.schema([
    ("contract", pa.string()), ("color", pa.string()), ("customer", pa.string()), ("supplier", pa.string()),
    ("administrator", pa.string()), ("signed_at", TIME), ("signed_amount_tiyn", pa.int64()),
    ("amount_tiyn", pa.int64()), ("paid_tiyn", pa.int64()), ("accepted_tiyn", pa.int64()),
    ("final_accepted", pa.bool_()), ("amendments", pa.int64()), ("method", pa.string()), ("ends_on", pa.date32()),
])
FLAGS = pa.schema([
    ("rule", pa.string()), ("title", pa.string()), ("severity", pa.string()), ("pilot", pa.string()),
    ("color", pa.string()), ("at", pa.string()), ("explanation", pa.string()), ("transactions", STRINGS),
    ("parties", STRINGS), ("contracts", STRINGS), ("evidence", pa.string()),
])
TABLES = ("movements", "balances", "parties", "contracts", "flags")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _movement_rows(piece: ColorSlice) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in MOVEMENTS.names}
    for m in piece.movements:
        for name, value in (("position", m.position), ("at", _utc(m.at)), ("at_text", m.at.isoformat()),
                            ("color", m.color), ("transaction", m.transaction), ("kind", m.kind),
                            ("holder", m.holder), ("counterparty", m.counterparty), ("amount_tiyn", m.amount_tiyn),
                            ("contract", m.contract), ("detail", m.detail)):
            columns[name].append(value)
    return columns


def _contract_rows(piece: ColorSlice) -> list[dict[str, Any]]:
    return [{
        "contract": c.signed.contract, "color": piece.color, "customer": c.signed.customer,
        "supplier": c.signed.supplier, "administrator": c.administrator, "signed_at": _utc(c.signed.at),
        "signed_amount_tiyn": c.signed.amount_tiyn, "amount_tiyn": c.amount_tiyn, "paid_tiyn": c.paid_tiyn,
        "accepted_tiyn": c.accepted_tiyn, "final_accepted": c.final_accepted, "amendments": len(c.amendments),
        "method": c.signed.method, "ends_on": c.signed.ends_on,
    } for c in piece.contracts]


def write_parquet(source: ExportSource, folder: Path, wall_time: datetime | None = None,
                  on_color: OnColor | None = None) -> dict[str, int]:
    """Write the five tables into `folder` (created); returns the row count of each."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    contracts: list[dict[str, Any]] = []
    named: set[str] = set()  # the parties the exported rows name (a --party export lists only those)
    with pq.ParquetWriter(folder / "movements.parquet", MOVEMENTS, compression="zstd") as movements:
        for piece in source.slices(on_color):
            if piece.movements:
                movements.write_table(pa.table(_movement_rows(piece), schema=MOVEMENTS))
                counts["movements"] += len(piece.movements)
            contracts += _contract_rows(piece)
            named.update(p for m in piece.movements for p in (m.holder, m.counterparty) if p)
            named.update(p for c in piece.contracts for p in (c.signed.customer, c.signed.supplier, c.administrator))
    balances = [{"color": c, "holder": h, "name": source.name(h), "balance_tiyn": tiyn}
                for c, h, tiyn in source.balances()]
    parties = [{"party": p.party, "scheme": p.scheme, "name": p.name, "kind": p.kind, "region": p.region}
               for p in source.parties.values() if source.party is None or p.party in named]
    flags = [{**{name: flag.get(name) for name in FLAGS.names if name != "evidence"},
              "evidence": json.dumps(flag.get("evidence", {}), ensure_ascii=False, sort_keys=True, default=str)}
             for flag in source.flags(wall_time)]
    for name, schema, rows in (("balances", BALANCES, balances), ("parties", PARTIES, parties),
                               ("contracts", CONTRACTS, contracts), ("flags", FLAGS, flags)):
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"{name}.parquet", compression="zstd")
        counts[name] = len(rows)
    return counts
