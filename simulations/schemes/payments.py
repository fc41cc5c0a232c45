"""F10, F11, F12 — advances, payments ahead of acceptance, round amounts.

- `F10-excessive-advance`: a contract's advance is 32–45 % of its amount (F10: above 30 %).
- `F10-advance-never-delivered`: the administrator signs one more works contract with a company of
  the scheme's, pays it an advance of 15–25 %, and nothing is ever accepted (F10's 90 days run out;
  when they end after the year's last record, `--evaluate` sees them at `evaluate_as_of`).
- `F11-paid-before-acceptance`: 3–10 days before a contract's first acceptance the administrator
  pays a "progress" installment of 15–30 % of that stage.
- `F12-round-amounts`: a company of the scheme's takes the place of a (sub)contractor of 40 M KZT
  or more and spends what it gets in 26–30 payments of exactly 1.0–1.5 M KZT in steps of
  100 000 KZT (F12: ≥ 20 payments of ≥ 1 M KZT, half of them round). A company of its own: F12
  counts a payer's payments in every color, and a pool contractor has other projects.
"""

from __future__ import annotations

import random
from datetime import timedelta

from simulations.amounts import KZT
from simulations.pilots.common import LAST_SPEND_DAY, contractor_spends, pay, sign, spread_days
from simulations.plan import Plan, Round, Truth, Window
from simulations.schemes.base import (
    Scheme, default_spends, extra_sign_day, extra_target, grow_allocation, inflows_under, of_role,
    register_before, replace_supplier, scheme_party, truth, works_items,
)

WORKS = frozenset({"ROAD", "LOCAL"})
ROUND_CONTRACT_MIN = 40_000_000 * KZT  # enough to pay 26–30 round amounts of 1.0–1.5 M KZT


def excessive_advance(plan: Plan, rng: random.Random) -> Truth | None:
    options = [(c, p) for c in of_role(plan, "main", "local") for p in c.payments if p.get("kind") == "advance"]
    if not options:
        return None
    contract, advance = rng.choice(options)
    advance["amount"] = Window(contract.amount * 32 // 100, contract.amount * 45 // 100)
    return truth(plan, "F10-excessive-advance", transactions=[advance["id"]], parties=[contract.supplier.party],
                 contracts=[contract.contract], note="an advance of 32–45 % of the contract")


def advance_never_delivered(plan: Plan, rng: random.Random) -> Truth | None:
    sign_day = extra_sign_day(plan, rng)
    company = scheme_party(plan, rng, "contractor", "Stroy Invest", register_before(plan, plan.at(sign_day, rng), rng))
    contract = sign(plan, plan.admin, company, works_items(plan, rng, extra_target(plan, rng)), sign_day, "extra",
                    method="direct")
    grow_allocation(plan, contract.amount * 25 // 100)
    paid = pay(plan, contract, plan.at(plan.day(sign_day, 3, 10, rng), rng),
               Window(contract.amount * 15 // 100, contract.amount * 25 // 100), kind="advance")
    contractor_spends(plan, company, paid.date(), paid.date() + timedelta(days=60), default_spends(plan), rng.randint(1, 3),
                      (20, 50))
    return truth(plan, "F10-advance-never-delivered", transactions=[contract.sign["id"], contract.payments[0]["id"]],
                 parties=[company.party], contracts=[contract.contract], note="an advance and never an acceptance")


def paid_before_acceptance(plan: Plan, rng: random.Random) -> Truth | None:
    options = [c for c in of_role(plan, "main", "local") if c.accepts]
    if not options:
        return None
    contract = rng.choice(options)
    first = contract.accepts[0]
    day = plan.day(first["at"].date(), -10, -3, rng)
    at = plan.at(day, rng)
    if at >= first["at"]:
        at = first["at"] - timedelta(days=3)
    advances = [p["at"] for p in contract.payments if p.get("kind") == "advance"]
    if at <= contract.sign["at"] + timedelta(days=1) or any(moment >= at for moment in advances):
        return None
    value = first["amount"]
    early = plan.add("transfer", at, color=plan.color, from_=plan.admin.party, to=contract.supplier.party,
                     amount=Window(value * 15 // 100, value * 30 // 100), contract=contract.contract,
                     invoice=plan.invoice(contract.supplier), kind="progress")
    contract.payments.append(early)
    return truth(plan, "F11-paid-before-acceptance", transactions=[early["id"]], parties=[contract.supplier.party],
                 contracts=[contract.contract], note=f"a progress payment before the first acceptance {first['id']}")


def round_amounts(plan: Plan, rng: random.Random) -> Truth | None:
    options = [c for c in of_role(plan, "sub", "local") if c.amount >= ROUND_CONTRACT_MIN and inflows_under(plan, c)]
    if not options:
        return None
    contract = rng.choice(options)
    company = scheme_party(plan, rng, "contractor", "Trade House", register_before(plan, contract.sign["at"], rng))
    replace_supplier(plan, contract, company)
    for step in [s for s in plan.steps if s["type"] == "spend" and s["from"] == company.party]:
        plan.remove(step)
    last = inflows_under(plan, contract)[-1][0].date()
    spends = []
    for day in spread_days(last + timedelta(days=1), min(last + timedelta(days=45), LAST_SPEND_DAY), rng.randint(26, 30)):
        spends.append(plan.add("spend", plan.at(min(day, LAST_SPEND_DAY), rng), color=plan.color, from_=company.party,
                               amount=Round(1_000_000 * KZT, 1_500_000 * KZT), category=rng.choice(default_spends(plan)),
                               invoice=plan.invoice(company)))
    return truth(plan, "F12-round-amounts", transactions=[s["id"] for s in spends], parties=[company.party],
                 contracts=[contract.contract], note=f"{company.party} spends in round amounts of 1.0–1.5 M KZT")


SCHEMES = (
    Scheme("F10-excessive-advance", ("F10",), WORKS, excessive_advance, "an advance of 32–45 % of the contract"),
    Scheme("F10-advance-never-delivered", ("F10",), WORKS, advance_never_delivered,
           "an advance paid, and no acceptance within 90 days (or ever)"),
    Scheme("F11-paid-before-acceptance", ("F11",), WORKS, paid_before_acceptance,
           "a progress payment before the works were accepted"),
    Scheme("F12-round-amounts", ("F12",), WORKS, round_amounts, "a contractor pays in round amounts"),
)
