"""F01 and F09 — split contracts just under the tender threshold, duplicate invoices.

- `F01-split-contracts`: the administrator gives its contractor two more contracts, each just
  under the open-tender threshold (ROAD: works, 176.94–196.6 M KZT; AGRO: goods — two seeders of
  14.94–15.73 M KZT from one dealer, where the branch subsidises implements), signed days apart
  and carried out and paid normally.
- `F09-duplicate-invoice`: a contractor (or dealer) pays the same invoice twice, the second time
  spelt differently ("KDS-00042/017" then "KDS 00042 017") and for the same amount.
"""

from __future__ import annotations

import random
from datetime import timedelta

from simulations.amounts import F01_BANDS, KZT, log_uniform
from simulations.pilots.agro import VIN_STRIDE, machine_contract
from simulations.pilots.common import (
    LAST_SPEND_DAY, final_day_for, item, sign, works_contract,
)
from simulations.pilots.road import GC_SPENDS
from simulations.plan import Plan, SameAs, Truth
from simulations.prices import MODELS
from simulations.schemes.base import Scheme, grow_allocation, of_role, truth

SPLIT_MODEL = "SEEDER-12M"


def split_contracts(plan: Plan, rng: random.Random) -> Truth | None:
    low, high = F01_BANDS[plan.pilot]
    if plan.pilot == "AGRO":
        return _split_machines(plan, rng, low, high)
    [main] = of_role(plan, "main")
    signed = []
    first_day = plan.day(main.sign["at"].date(), 15, 40, rng)
    for n in range(2):
        amount = log_uniform(rng, low + 100_000 * KZT, high - 50_000 * KZT)
        sign_day = plan.day(first_day, 3 * n, 3 * n + 2, rng)
        contract = sign(plan, plan.admin, main.supplier, [item("ADDITIONAL-WORKS", "lot", 1, amount)], sign_day,
                        "extra", method="direct")
        end = final_day_for(plan, sign_day, amount, main.sign["ends_on"], rng)
        works_contract(plan, contract, sign_day, end, stages=rng.randint(1, 2), advance=False, spends=GC_SPENDS,
                       spend_count=2)
        grow_allocation(plan, amount)
        signed.append(contract)
    return truth(plan, "F01-split-contracts", transactions=[c.sign["id"] for c in signed],
                 parties=[plan.admin.party, main.supplier.party], contracts=[c.contract for c in signed],
                 note="two direct contracts just under the open-tender threshold")


def _split_machines(plan: Plan, rng: random.Random, low: int, high: int) -> Truth | None:
    model = MODELS[SPLIT_MODEL]
    if plan.program != 114 or high > model.price * 108 // 100:
        return None  # only implements programs sell a machine priced near the goods threshold
    machines = of_role(plan, "machine")
    dealer = machines[0].supplier
    signed = []
    for n in range(2):
        price = rng.randint(low + 10_000 * KZT, high - 10_000 * KZT)
        farmer = plan.world.party("agro_farmer", plan.index * 12 + 8 + n)
        day = plan.day(machines[0].sign["at"].date(), 2 + 4 * n, 4 + 4 * n, rng)
        signed.append(machine_contract(plan, dealer, farmer, model, VIN_STRIDE * plan.index + 12 + n, day, price=price))
        grow_allocation(plan, price * 60 // 100)
    return truth(plan, "F01-split-contracts", transactions=[c.sign["id"] for c in signed],
                 parties=[plan.admin.party, dealer.party], contracts=[c.contract for c in signed],
                 note="two machine contracts just under the goods threshold with one dealer")


def duplicate_invoice(plan: Plan, rng: random.Random) -> Truth | None:
    spends = [s for s in plan.steps if s["type"] == "spend" and s["from"] != plan.admin.party
              and not s.get("_blocked") and s["at"].date() + timedelta(days=25) <= LAST_SPEND_DAY]
    if not spends:
        return None
    original = rng.choice(spends)
    day = plan.day(original["at"].date(), 4, 20, rng)
    invoice = original["invoice"].replace("-", " ").replace("/", " ")
    fields = {k: v for k, v in original.items() if k not in ("id", "type", "at", "_order", "amount", "invoice")}
    fields["from_"] = fields.pop("from")
    duplicate = plan.add("spend", plan.at(day, rng), **{**fields, "amount": SameAs(original["id"]), "invoice": invoice})
    return truth(plan, "F09-duplicate-invoice", transactions=[original["id"], duplicate["id"]],
                 parties=[original["from"]], contracts=[original["contract"]] if original.get("contract") else [],
                 note=f"invoice {original['invoice']} paid twice")


SCHEMES = (
    Scheme("F01-split-contracts", ("F01",), frozenset({"ROAD", "AGRO"}), split_contracts,
           "two contracts to one supplier just under the procurement threshold"),
    Scheme("F09-duplicate-invoice", ("F09",), frozenset({"ROAD", "AGRO", "LOCAL"}), duplicate_invoice,
           "the same invoice paid twice, spelt differently"),
)
