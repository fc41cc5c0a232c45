"""L01–L04, H01, H03 — ghost projects, quick works, year-end rush, idle funds, amendments.

- `L01-ghost-project`: a works contract is paid in full on interim acceptances, and no final
  acceptance ever comes (the last acceptance loses its `final` flag and its evidence).
- `H01-price-raising-amendment`: one amendment raises a contract's amount by 16–30 % (works, ROAD
  and LOCAL; ≥ 35 days after signing, before the last acceptance, which then covers the new amount)
  or 11–25 % (goods, AGRO; ≥ 31 days after signing) — one raise, not early, so H03 stays silent.
- `H03-amendment-velocity`: a contract amended 3–25 days after signing (raised 2–8 %, goods 2–6 %),
  or raised three times by 2–4 % (goods 1–3 %) from 31 days on — below H01's thresholds.
- `L02-fast-final-acceptance` (ROAD, LOCAL): one more works contract of 20.5 M KZT or more, finally
  accepted 20–45 days after signing, in one stage.
- `L03-year-end-rush`: a district administrator of the scheme's own (L03 compares a whole
  administrator's year, so a pool administrator of many projects could never rush enough in one)
  spends 15–25 % of its allocation on equipment on 25 and 26 December; what is left goes back on
  the 30th. ROAD and LOCAL only: an AGRO operator still holds 25–45 % of its allocation in
  December (subsidies are 33–60 % of the prices), and a rush on top of that is idle funds (L04) too.
- `L04-idle-allocation`: the allocation is 2.2–3 times what the project spends, so more than half
  is still with the administrator on 1 December (judged 30 days before `expires_on`).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from simulations.amounts import KZT, in_band
from simulations.identity import REGIONS
from simulations.pilots.common import FINAL_DAYS_MIN, items_total, spend
from simulations.plan import Due, Plan, Truth, Window, workday
from simulations.schemes.base import (
    L02_AMOUNT, Scheme, extra_sign_day, extra_works, grow_allocation, morning, of_role, register_before, replace_admin,
    scale_accepts, scheme_party, truth, works_items,
)
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


def amendment_velocity(plan: Plan, rng: random.Random) -> Truth | None:
    works = plan.pilot != "AGRO"
    contract = rng.choice(of_role(plan, "main", "local") if works else of_role(plan, "machine"))
    signed = contract.sign["at"].date()
    last = (contract.accepts[-1]["at"].date() - timedelta(days=5)) if works else LAST_AMENDMENT
    repeated = rng.randrange(2) == 1 and (last - signed).days >= 31 + 3 * 8
    if repeated:
        days = [signed + timedelta(days=31 + 8 * n + rng.randint(0, 4)) for n in range(3)]
        raises = [rng.randint(102, 104) if works else rng.randint(101, 103) for _ in days]
    else:
        days = [signed + timedelta(days=rng.randint(3, 25))]
        raises = [rng.randint(102, 108) if works else rng.randint(102, 106)]
    steps = []
    old = contract.amount
    for day, percent in zip(days, raises, strict=True):
        at = plan.at(workday(day), rng)
        if at <= contract.sign["at"]:
            at = contract.sign["at"] + timedelta(hours=2)
        before, contract.amount = contract.amount, contract.amount * percent // 100  # F01 reads no amendments
        steps.append(plan.add("amend_contract", at, contract=contract.contract, amount=contract.amount,
                              reason="volumes specified" if works else "delivery terms changed"))
        if works:
            scale_accepts(contract, before, contract.amount, after=at)
    if works:
        grow_allocation(plan, contract.amount - old)
    what = "raised three times" if repeated else f"amended {(days[0] - signed).days} days after signing"
    return truth(plan, "H03-amendment-velocity", transactions=[contract.sign["id"], *(s["id"] for s in steps)],
                 parties=[contract.supplier.party], contracts=[contract.contract], note=f"{contract.contract} {what}")


def fast_final_acceptance(plan: Plan, rng: random.Random) -> Truth | None:
    sign_day = extra_sign_day(plan, rng)
    company = scheme_party(plan, rng, "contractor", "Tez Kurylys", register_before(plan, plan.at(sign_day, rng), rng))
    high = 80_000_000 if plan.pilot == "ROAD" else 26_000_000
    items = works_items(plan, rng, rng.randint(20_500_000, high) * KZT)
    while items_total(items) < L02_AMOUNT:
        items[0]["quantity"] = str(int(items[0]["quantity"]) + 1)
    contract = extra_works(plan, rng, plan.admin, company, items, sign_day, stages=(1, 1), final_within=(20, 45))
    final = contract.accepts[-1]
    return truth(plan, "L02-fast-final-acceptance", transactions=[final["id"], contract.sign["id"]], parties=[company.party],
                 contracts=[contract.contract],
                 note=f"final acceptance {(final['at'] - contract.sign['at']).days} days after signing")


RUSH_DAYS = (date(FISCAL_YEAR, 12, 25), date(FISCAL_YEAR, 12, 26))  # Thursday, Friday: the last 7 days are 25–31 December
RETURN_DAY = date(FISCAL_YEAR, 12, 30)


def year_end_rush(plan: Plan, rng: random.Random) -> Truth | None:
    town = REGIONS[plan.admin.region][1]
    names = {"ROAD": f"{town} City Department of Roads", "LOCAL": f"Akimat of {town} rural district no. {plan.index + 1}"}
    admin = scheme_party(plan, rng, "administrator", "", morning(plan.start, plan), name=names[plan.pilot])
    replace_admin(plan, admin)
    allocated = plan.allocation["amount"]
    rush = allocated * rng.randint(15, 25) // 100
    grow_allocation(plan, rush)
    spends = [spend(plan, admin, plan.at(day, rng), "equipment", Window(rush * 45 // 100, rush * 55 // 100), issuer=admin)
              for day in RUSH_DAYS]
    for step in plan.find(type="return", from_=admin.party):
        step["at"] = plan.at(RETURN_DAY, rng)
    return truth(plan, "L03-year-end-rush", transactions=[s["id"] for s in spends], parties=[admin.party],
                 note=f"{admin.party} spends about {rush // KZT // 1_000_000} M KZT in the last week of the year")


def idle_allocation(plan: Plan, rng: random.Random) -> Truth | None:
    allocation = plan.allocation
    allocation["amount"] = allocation["amount"] * rng.randint(220, 300) // 100
    return truth(plan, "L04-idle-allocation", transactions=[allocation["id"]], parties=[plan.admin.party],
                 note="the allocation is far more than the project spends")


SCHEMES = (
    Scheme("L01-ghost-project", ("L01",), frozenset({"ROAD", "LOCAL"}), ghost_project,
           "a works contract paid in full without a final acceptance"),
    Scheme("H01-price-raising-amendment", ("H01",), frozenset({"ROAD", "AGRO", "LOCAL"}), price_raising_amendment,
           "one amendment raising the contract amount beyond the threshold"),
    Scheme("H03-amendment-velocity", ("H03",), frozenset({"ROAD", "AGRO", "LOCAL"}), amendment_velocity,
           "a contract amended within days of signing, or raised three times"),
    Scheme("L02-fast-final-acceptance", ("L02",), frozenset({"ROAD", "LOCAL"}), fast_final_acceptance,
           "works of 20 M KZT or more finally accepted within 20–45 days"),
    Scheme("L03-year-end-rush", ("L03",), frozenset({"ROAD", "LOCAL"}), year_end_rush,
           "an administrator spends a fifth of its year's money in the last week"),
    Scheme("L04-idle-allocation", ("L04",), frozenset({"ROAD", "AGRO", "LOCAL"}), idle_allocation,
           "most of the allocation still undisbursed 30 days before it expires"),
)
