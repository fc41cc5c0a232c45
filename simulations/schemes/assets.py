"""A01 — the same machine subsidised twice.

- `A01-same-vin-twice`: a second contract in the batch for a machine already sold under it — the
  same VIN, model and price, another farmer as beneficiary — carried out and paid like any other.
- `A03-dealer-kickback`: hours after the subsidy reaches it, the dealer pays the machine's
  beneficiary farmer 17–30 % of what it received for "services" (A03: ≥ 5 % of the price within
  180 days of signing; the subsidy is 33–60 % of the price).
"""

from __future__ import annotations

import random
from datetime import timedelta

from simulations.pilots.agro import machine_contract
from simulations.plan import Plan, ShareOfBalance, Truth
from simulations.prices import MODELS
from simulations.schemes.base import Scheme, grow_allocation, inflows_under, of_role, truth


def same_vin_twice(plan: Plan, rng: random.Random) -> Truth | None:
    original = rng.choice(of_role(plan, "machine"))
    vin = original.sign["assets"][0]
    model = MODELS[original.sign["items"][0]["code"]]
    farmer = plan.world.party("agro_farmer", plan.index * 12 + 11 - rng.randrange(4))
    if farmer.party == original.sign["beneficiary"]:
        farmer = plan.world.party("agro_farmer", farmer.index + 1)
    day = plan.day(original.sign["at"].date(), 10, 40, rng)
    duplicate = machine_contract(plan, original.supplier, farmer, model, 0, day, price=original.amount, vin=vin)
    grow_allocation(plan, duplicate.amount * 60 // 100)
    return truth(plan, "A01-same-vin-twice", transactions=[original.sign["id"], duplicate.sign["id"]],
                 parties=[original.supplier.party, farmer.party], contracts=[original.contract, duplicate.contract],
                 note=f"VIN {vin} in two contracts")


def dealer_kickback(plan: Plan, rng: random.Random) -> Truth | None:
    contract = rng.choice(of_role(plan, "machine"))
    inflows = inflows_under(plan, contract)
    if not inflows:
        return None
    received = max(at for at, _ in inflows)
    kickback = plan.add("spend", received + timedelta(minutes=rng.randint(60, 20 * 60)), color=plan.color,
                        from_=contract.supplier.party, amount=ShareOfBalance(17, 30), category="services",
                        payee=contract.sign["beneficiary"], invoice=plan.invoice(contract.supplier))
    return truth(plan, "A03-dealer-kickback", transactions=[kickback["id"]],
                 parties=[contract.supplier.party, contract.sign["beneficiary"]], contracts=[contract.contract],
                 note="the dealer pays the beneficiary farmer part of the subsidy")


SCHEMES = (
    Scheme("A01-same-vin-twice", ("A01",), frozenset({"AGRO"}), same_vin_twice,
           "one machine (VIN) subsidised under two contracts"),
    Scheme("A03-dealer-kickback", ("A03",), frozenset({"AGRO"}), dealer_kickback,
           "the dealer pays the beneficiary farmer part of the subsidy"),
)
