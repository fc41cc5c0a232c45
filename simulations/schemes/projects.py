"""L01 and H01 — ghost projects and price-raising amendments.

- `L01-ghost-project`: a works contract is paid in full on interim acceptances, and no final
  acceptance ever comes (the last acceptance loses its `final` flag and its evidence).
- `H01-price-raising-amendment`: one amendment raises a contract's amount by 16–30 % (works, ROAD
  and LOCAL; ≥ 35 days after signing, before the last acceptance, which then covers the new amount)
  or 11–25 % (goods, AGRO; ≥ 31 days after signing) — one raise, not early, so H03 stays silent.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from simulations.amounts import KZT, in_band
from simulations.pilots.common import FINAL_DAYS_MIN
from simulations.plan import Due, Plan, Truth, workday
from simulations.schemes.base import Scheme, grow_allocation, of_role, scale_accepts, truth
from simulations.world import FISCAL_YEAR

LAST_AMENDMENT = date(FISCAL_YEAR, 12, 19)
L02_AMOUNT_MIN = 20_000_000 * KZT


def ghost_project(plan: Plan, rng: random.Random) -> Truth | None:
    contract = rng.choice([c for c in of_role(plan, "main", "local") if c.accepts])
    last = contract.accepts[-1]
    last.pop("final", None)
    last.pop("evidence_sha256", None)
    paid = []
    for payment in contract.payments:
        if payment.get("kind") != "advance":
            payment["amount"] = Due(100)
        paid.append(payment["id"])
        paid += [s["id"] for s in plan.find(type="release", reservation=payment["id"])]
    return truth(plan, "L01-ghost-project", transactions=paid, parties=[plan.admin.party, contract.supplier.party],
                 contracts=[contract.contract], note="paid in full, never finally accepted")


def price_raising_amendment(plan: Plan, rng: random.Random) -> Truth | None:
    works = plan.pilot != "AGRO"
    options = []
    for contract in of_role(plan, "main", "local") if works else of_role(plan, "machine"):
        earliest = workday(contract.sign["at"].date() + timedelta(days=35 if works else 31))
        latest = (contract.accepts[-1]["at"].date() - timedelta(days=5)) if works else LAST_AMENDMENT
        fast = works and contract.accepts[-1]["at"] - contract.sign["at"] < timedelta(days=FINAL_DAYS_MIN)
        if fast and contract.amount * 130 // 100 >= L02_AMOUNT_MIN:
            continue  # raised to 20 M KZT or more, its quick final acceptance would be L02's business
        if earliest <= latest:
            options.append((contract, earliest, latest))
    if not options:
        return None
    contract, earliest, latest = rng.choice(options)
    day = min(plan.day(earliest, 0, (latest - earliest).days, rng), latest)
    old = contract.amount
    new = old * rng.randint(116, 130) // 100 if works else old * rng.randint(111, 125) // 100
    while in_band(new, plan.pilot):
        new += new // 50
    step = plan.add("amend_contract", plan.at(day, rng), contract=contract.contract, amount=new,
                    reason="additional works after design changes" if works else "price list of the manufacturer changed")
    if works:
        scale_accepts(contract, old, new, after=step["at"])
        grow_allocation(plan, new - old)
    contract.amount = new
    return truth(plan, "H01-price-raising-amendment", transactions=[contract.sign["id"], step["id"]],
                 parties=[plan.admin.party, contract.supplier.party], contracts=[contract.contract],
                 note=f"amount raised from {old} to {new} tiyn by one amendment")


SCHEMES = (
    Scheme("L01-ghost-project", ("L01",), frozenset({"ROAD", "LOCAL"}), ghost_project,
           "a works contract paid in full without a final acceptance"),
    Scheme("H01-price-raising-amendment", ("H01",), frozenset({"ROAD", "AGRO", "LOCAL"}), price_raising_amendment,
           "one amendment raising the contract amount beyond the threshold"),
)
