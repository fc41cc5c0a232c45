"""A world for trace latency: one color with a fixed history in stores of any size.

`trace_store_records(events)` yields exactly `events` interchange records, all of which apply: a
target color (`TARGET`) with `TARGET_TRANSACTIONS` transactions spread evenly over the store
(advances to contractors, payments down to subcontractors, spends), the rest in `FILLER_COLORS`
other colors with the same shape. So stores of 10^4 and 10^6 events differ only in size, and a
trace of `TARGET` should cost the same in both. Depends on the domain's identifiers only, so the
bench can generate it whatever the ledger's internals are.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.workload import party_id
from domain.identifiers import make_color

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=timezone(timedelta(hours=5)))
TARGET_TRANSACTIONS = 1_000
FILLER_COLORS = 9
CONTRACTORS = 20


def _party(n: int) -> str:
    return party_id(n, "170340")


def _register(number: int, name: str, kind: str) -> dict[str, Any]:
    return {"id": f"p-{number}", "type": "register_party", "at": T0.isoformat(), "party": _party(number),
            "name": name, "kind": kind}


def _contract(contract: str, color: str, customer: str, supplier: str, amount: str) -> dict[str, Any]:
    return {"id": f"k-{contract}", "type": "sign_contract", "at": T0.isoformat(), "contract": contract, "color": color,
            "customer": customer, "supplier": supplier, "amount": amount,
            "items": [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": amount}]}


def trace_store_records(events: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Exactly `events` records, all applied: a target color (`TARGET` below) with
    `TARGET_TRANSACTIONS` transactions spread evenly over the store, the rest in filler colors."""
    rng = random.Random(seed)
    setup: list[dict[str, Any]] = [_register(1, "Treasury", "treasury")]
    colors = []  # (color, admin, contractors, subs)
    number = 2
    for c in range(1 + FILLER_COLORS):
        color = make_color("ROAD", 2025, 41, 900 + c)
        admin = _party(number)
        setup.append(_register(number, f"Akimat {c}", "administrator"))
        number += 1
        setup.append({"id": f"a-{c}", "type": "allocate", "at": T0.isoformat(), "color": color, "program": "041",
                      "purpose": "bench", "amount": "9000000000000.00", "treasury": _party(1),
                      "administrator": admin, "expires_on": "2025-12-31"})
        contractors, subs = [], []
        for k in range(CONTRACTORS):
            contractor, sub = _party(number), _party(number + 1)
            setup.append(_register(number, f"Contractor {c}.{k}", "contractor"))
            setup.append(_register(number + 1, f"Sub {c}.{k}", "supplier"))
            number += 2
            setup.append(_contract(f"K-{c}-{k}", color, admin, contractor, "400000000000.00"))
            setup.append(_contract(f"S-{c}-{k}", color, contractor, sub, "400000000000.00"))
            contractors.append(contractor)
            subs.append(sub)
        colors.append((color, admin, contractors, subs))
    yield from setup
    transactions = events - len(setup)
    assert transactions >= TARGET_TRANSACTIONS, f"--events must be at least {len(setup) + TARGET_TRANSACTIONS}"
    every = transactions / TARGET_TRANSACTIONS
    balances: dict[tuple[int, str], int] = {}  # (color index, holder) -> tiyn, to keep every line applied
    target_done = 0
    for i in range(transactions):
        if target_done < TARGET_TRANSACTIONS and i >= target_done * every:
            index, target_done = 0, target_done + 1
        else:
            index = 1 + i % FILLER_COLORS
        yield _movement(rng, i, colors[index], index, balances)


def _movement(rng: random.Random, i: int, world: tuple[str, str, list[str], list[str]], index: int,
              balances: dict[tuple[int, str], int]) -> dict[str, Any]:
    color, admin, contractors, subs = world
    at = (T0 + timedelta(seconds=20 * i)).isoformat()
    k = rng.randrange(CONTRACTORS)
    roll = rng.random()
    holder = contractors[k] if roll < 0.6 else subs[k]
    held = balances.get((index, holder), 0)
    amount_tiyn = rng.randrange(100_000_00, 10_000_000_00)
    if roll >= 0.45 and held > 100:  # a spend by a contractor or a subcontractor, or a payment to a sub
        amount_tiyn = rng.randrange(1, held // 2 + 1)
        balances[index, holder] = held - amount_tiyn
        if roll < 0.6:
            balances[index, subs[k]] = balances.get((index, subs[k]), 0) + amount_tiyn
            return {"id": f"t-{i}", "type": "transfer", "at": at, "color": color, "from": holder, "to": subs[k],
                    "amount": _kzt(amount_tiyn), "contract": f"S-{index}-{k}", "kind": "progress"}
        return {"id": f"s-{i}", "type": "spend", "at": at, "color": color, "from": holder, "amount": _kzt(amount_tiyn),
                "category": rng.choice(("materials", "fuel", "wages", "services"))}
    balances[index, contractors[k]] = balances.get((index, contractors[k]), 0) + amount_tiyn
    return {"id": f"t-{i}", "type": "transfer", "at": at, "color": color, "from": admin, "to": contractors[k],
            "amount": _kzt(amount_tiyn), "contract": f"K-{index}-{k}", "kind": "advance"}


def _kzt(tiyn: int) -> str:
    return f"{tiyn // 100}.{tiyn % 100:02d}"


TARGET = make_color("ROAD", 2025, 41, 900)
