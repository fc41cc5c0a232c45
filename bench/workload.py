"""A deterministic import workload for benchmarks: N transactions over a few road colors.

Each color has an administrator paying many contractors in small advances; contractors pay
subcontractors and spend. Every line is valid and almost all apply, so the benchmark measures the
ledger's write path rather than rejections.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from domain.identifiers import make_color, make_party_id

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=timezone(timedelta(hours=5)))


def _party(n: int) -> str:
    for spare in range(10):
        made = make_party_id(f"160540{spare}{n:04d}")
        if made:
            return made
    raise AssertionError(n)


def records(transactions: int, *, colors: int = 10, contractors_per_color: int = 20, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Interchange records: set-up lines, then `transactions` transfers and spends."""
    rng = random.Random(seed)
    treasury = _party(1)
    yield {"id": "p-1", "type": "register_party", "at": T0.isoformat(), "party": treasury, "name": "Treasury", "kind": "treasury"}
    worlds = []
    number = 2
    for c in range(colors):
        admin, number = _party(number), number + 1
        yield {"id": f"p-{number}", "type": "register_party", "at": T0.isoformat(), "party": admin, "name": f"Akimat {c}", "kind": "administrator"}
        color = make_color("ROAD", 2025, 41, c + 1)
        yield {"id": f"a-{c}", "type": "allocate", "at": T0.isoformat(), "color": color, "program": "041", "purpose": "bench",
               "amount": "900000000000.00", "treasury": treasury, "administrator": admin, "expires_on": "2025-12-31"}
        contractors = []
        for k in range(contractors_per_color):
            contractor, number = _party(number), number + 1
            yield {"id": f"p-{number}", "type": "register_party", "at": T0.isoformat(), "party": contractor, "name": f"Contractor {c}.{k}", "kind": "contractor"}
            yield {"id": f"k-{c}-{k}", "type": "sign_contract", "at": T0.isoformat(), "contract": f"K-{c}-{k}", "color": color,
                   "customer": admin, "supplier": contractor, "amount": "40000000000.00",
                   "items": [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": "40000000000.00"}]}
            contractors.append(contractor)
        worlds.append((color, admin, contractors))
    for i in range(transactions):
        color, admin, contractors = worlds[i % colors]
        at = (T0 + timedelta(seconds=30 * i)).isoformat()
        contractor = contractors[rng.randrange(len(contractors))]
        amount = f"{rng.randrange(100_000, 10_000_000)}.{rng.randrange(100):02d}"
        if i % 4 == 3:
            yield {"id": f"s-{i}", "type": "spend", "at": at, "color": color, "from": admin, "amount": amount, "category": "services"}
        else:
            yield {"id": f"t-{i}", "type": "transfer", "at": at, "color": color, "from": admin, "to": contractor,
                   "amount": amount, "kind": "advance"}


def write(path: Path, transactions: int, **kw: Any) -> Path:
    with path.open("wb") as out:
        for record in records(transactions, **kw):
            out.write(orjson.dumps(record) + b"\n")
    return path
