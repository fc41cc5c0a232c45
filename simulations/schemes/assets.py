"""A01 — the same machine subsidised twice.

- `A01-same-vin-twice`: a second contract in the batch for a machine already sold under it — the
  same VIN, model and price, another farmer as beneficiary — carried out and paid like any other.
"""

from __future__ import annotations

import random

from simulations.pilots.agro import machine_contract
from simulations.plan import Plan, Truth
from simulations.prices import MODELS
from simulations.schemes.base import Scheme, grow_allocation, of_role, truth


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


SCHEMES = (
    Scheme("A01-same-vin-twice", ("A01",), frozenset({"AGRO"}), same_vin_twice,
           "one machine (VIN) subsidised under two contracts"),
)
