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


WORLDS_MAX = 10  # separate worlds (parties, colors, ids) for concurrent writers


def party_id(n: int, stem: str = "160540") -> str:
    """A valid BIN for party `n` (1–9 999): `stem`, a spare digit chosen for the check digit, `n`."""
    assert 0 < n < 10_000 and len(stem) == 6, (n, stem)
    for spare in range(10):
        made = make_party_id(f"{stem}{spare}{n:04d}")
        if made:
            return made
    raise AssertionError(n)


def _party(n: int) -> str:
    return party_id(n)


def setup_lines(*, colors: int = 10, contractors_per_color: int = 20) -> int:
    """How many set-up records `records` yields before the transactions."""
    return 1 + colors * (2 + 2 * contractors_per_color)


def records(transactions: int, *, colors: int = 10, contractors_per_color: int = 20, seed: int = 7,
            world: int = 0, first: int = 0, setup: bool = True) -> Iterator[dict[str, Any]]:
    """Interchange records: set-up lines, then `transactions` transfers and spends.

    `world` (0..9) gives a disjoint world — its own parties, colors and command ids — so several
    writers can import at once without touching each other's colors (world 0 is the historic
    workload, unchanged). `first` and `setup=False` continue a store built from the same world:
    transactions `first`, `first + 1`, ... with ids no earlier run used (their own prefix).
    """
    assert 0 <= world < WORLDS_MAX and first >= 0
    assert 1 + colors * (1 + contractors_per_color) < 1_000, "party numbers must stay inside the world"
    rng = random.Random(seed)
    prefix = f"w{world}-" if world else ""
    base = 1_000 * world
    emitted = _world(rng, colors, contractors_per_color, world, prefix, base)
    worlds = []
    for record in emitted:
        if isinstance(record, tuple):
            worlds.append(record)
        elif setup:
            yield record
    tx_prefix = f"{prefix}n{first}-" if first else prefix
    for i in range(first):  # keep the random stream where the original run left it
        rng.randrange(contractors_per_color), rng.randrange(100_000, 10_000_000), rng.randrange(100)
    for i in range(first, first + transactions):
        color, admin, contractors = worlds[i % colors]
        at = (T0 + timedelta(seconds=30 * i)).isoformat()
        contractor = contractors[rng.randrange(len(contractors))]
        amount = f"{rng.randrange(100_000, 10_000_000)}.{rng.randrange(100):02d}"
        if i % 4 == 3:
            yield {"id": f"{tx_prefix}s-{i}", "type": "spend", "at": at, "color": color, "from": admin, "amount": amount, "category": "services"}
        else:
            yield {"id": f"{tx_prefix}t-{i}", "type": "transfer", "at": at, "color": color, "from": admin, "to": contractor,
                   "amount": amount, "kind": "advance"}


def _world(rng: random.Random, colors: int, contractors_per_color: int, world: int, prefix: str,
           base: int) -> Iterator[dict[str, Any] | tuple[str, str, list[str]]]:
    """The set-up records of one world, each color's (color, admin, contractors) after its records."""
    treasury = _party(base + 1)
    yield {"id": f"{prefix}p-1", "type": "register_party", "at": T0.isoformat(), "party": treasury, "name": "Treasury", "kind": "treasury"}
    number = 2
    for c in range(colors):
        admin, number = _party(base + number), number + 1
        yield {"id": f"{prefix}p-{number}", "type": "register_party", "at": T0.isoformat(), "party": admin, "name": f"Akimat {c}", "kind": "administrator"}
        color = make_color("ROAD", 2025, 41, 100 * world + c + 1)
        yield {"id": f"{prefix}a-{c}", "type": "allocate", "at": T0.isoformat(), "color": color, "program": "041", "purpose": "bench",
               "amount": "900000000000.00", "treasury": treasury, "administrator": admin, "expires_on": "2025-12-31"}
        contractors = []
        for k in range(contractors_per_color):
            contractor, number = _party(base + number), number + 1
            yield {"id": f"{prefix}p-{number}", "type": "register_party", "at": T0.isoformat(), "party": contractor, "name": f"Contractor {c}.{k}", "kind": "contractor"}
            yield {"id": f"{prefix}k-{c}-{k}", "type": "sign_contract", "at": T0.isoformat(), "contract": f"{prefix}K-{c}-{k}", "color": color,
                   "customer": admin, "supplier": contractor, "amount": "40000000000.00",
                   "items": [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": "40000000000.00"}]}
            contractors.append(contractor)
        yield color, admin, contractors


def write(path: Path, transactions: int, **kw: Any) -> Path:
    with path.open("wb") as out:
        for record in records(transactions, **kw):
            out.write(orjson.dumps(record) + b"\n")
    return path
