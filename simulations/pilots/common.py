"""Building blocks the pilot planners (and misuse schemes) share: contracts, acceptances, payments,
spends, allocations, and the timing rules that keep a clean project clean.

Honest habits every helper keeps (each one is a rule that stays silent):
- an acceptance before every non-advance payment, and payments only of what is due (F11);
- the last stage of a contract is at least 20 % of it, so 90 % is paid only after the final
  acceptance (L01), and the final acceptance comes ≥ 62 days after signing (L02);
- a contractor never pays on a transfer within 4 days of receiving one (F03), see `Plan`'s
  `finalize`; nobody pays after 24 December (L03) or after the color expires.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.money import line_total_tiyn
from simulations.amounts import KZT, between, in_band, log_uniform
from simulations.plan import (
    MONEY_TYPES, ContractPlan, Due, Plan, Rest, ShareOfBalance, Window, workday,
)
from simulations.world import FISCAL_YEAR, Party

LAST_PAYMENT_DAY = date(FISCAL_YEAR, 12, 24)
LAST_SPEND_DAY = date(FISCAL_YEAR, 12, 29)
FINAL_DAYS_MIN = 62  # L02: a final acceptance < 60 days after signing is implausibly fast
LAST_STAGE_PERCENT = (20, 35)
FAST_HOURS = 96  # contractors pay on no sooner than this after an inflow (F03 looks 72 h back)

SEASONS = {
    "ROAD": (date(FISCAL_YEAR, 2, 3), date(FISCAL_YEAR, 6, 30)),
    "AGRO": (date(FISCAL_YEAR, 2, 10), date(FISCAL_YEAR, 8, 31)),
    "LOCAL": (date(FISCAL_YEAR, 2, 10), date(FISCAL_YEAR, 7, 20)),
}


def season_day(pilot: str, index: int, count: int) -> date:
    """Project `index` of `count` starts on this day: evenly over the pilot's season, in index order."""
    first, last = SEASONS[pilot]
    assert 0 <= index < count
    return first + timedelta(days=(last - first).days * (2 * index + 1) // (2 * count))


def item(code: str, unit: str, quantity: int | str, unit_price: int) -> dict[str, Any]:
    return {"code": code, "unit": unit, "quantity": str(quantity), "unit_price": unit_price}


def items_total(items: list[dict[str, Any]]) -> int:
    return sum(line_total_tiyn(Decimal(i["quantity"]), i["unit_price"]) for i in items)


def near(rng: random.Random, price: int, low_percent: int = 90, high_percent: int = 110) -> int:
    """A unit price near a reference (to the tiyn)."""
    return between(rng, price, low_percent, high_percent)


def quantity_for(target: int, unit_price: int) -> int:
    return max(1, target // unit_price)


def out_of_band_items(items: list[dict[str, Any]], pilot: str) -> list[dict[str, Any]]:
    """Raise the first item's quantity until the total leaves `pilot`'s F01 band."""
    while in_band(items_total(items), pilot):
        first = items[0]
        first["quantity"] = str(int(first["quantity"]) + max(1, int(first["quantity"]) // 20))
    return items


def stage_values(rng: random.Random, total: int, stages: int) -> list[int]:
    """`stages` positive amounts summing to `total`; the last one is 20–35 % of it."""
    if stages == 1:
        return [total]
    last = total * rng.randint(*LAST_STAGE_PERCENT) // 100
    weights = [rng.randint(60, 140) for _ in range(stages - 1)]
    parts = [(total - last) * w // sum(weights) for w in weights]
    parts[0] += total - last - sum(parts)
    values = parts + [last]
    assert sum(values) == total and min(values) > 0
    return values


def spread_days(first: date, last: date, count: int) -> list[date]:
    """`count` working days from `first` to `last`, evenly spaced."""
    if count == 1:
        return [workday(last)]
    span = (last - first).days
    return [workday(first + timedelta(days=span * i // (count - 1))) for i in range(count)]


# --- records ----------------------------------------------------------------------------------

def allocate(plan: Plan, amount: int, day: date, purpose: str) -> dict[str, Any]:
    return plan.add("allocate", plan.at(day), color=plan.color, program=f"{plan.program:03d}", purpose=purpose,
                    amount=amount, treasury=plan.treasury.party, administrator=plan.admin.party,
                    expires_on=date(FISCAL_YEAR, 12, 31), region=plan.admin.region_name)


def sign(plan: Plan, customer: Party, supplier: Party, items: list[dict[str, Any]], day: date, role: str,
         **extra: Any) -> ContractPlan:
    contract = plan.new_contract_id()
    amount = items_total(items)
    step = plan.add("sign_contract", plan.at(day), contract=contract, color=plan.color, customer=customer.party,
                    supplier=supplier.party, amount=amount, items=items, **extra)
    info = ContractPlan(contract, customer, supplier, amount, step, role)
    plan.contracts[contract] = info
    return info


def accept(plan: Plan, contract: ContractPlan, amount: int, at: datetime, *, final: bool = False,
           quantities: list[dict[str, str]] | None = None, evidence: bool | None = None) -> dict[str, Any]:
    n = len(contract.accepts) + 1
    with_evidence = final if evidence is None else evidence
    step = plan.add("accept", at, contract=contract.contract, amount=amount,
                    evidence_sha256=plan.evidence(f"{contract.contract}-act-{n}") if with_evidence else None,
                    quantities=quantities, final=True if final else None)
    contract.accepts.append(step)
    return step


def pay(plan: Plan, contract: ContractPlan, at: datetime, rule: Any, *, kind: str,
        release_at: datetime | None = None, release_evidence: str | None = None) -> datetime:
    """A transfer (or a reservation released at `release_at`) under `contract`; the inflow moment."""
    fields = dict(color=plan.color, from_=contract.customer.party, to=contract.supplier.party, amount=rule,
                  contract=contract.contract, invoice=plan.invoice(contract.supplier), kind=kind)
    if release_at is None:
        contract.payments.append(plan.add("transfer", at, **fields))
        return at
    if release_at <= at:
        release_at = plan.later(at, 90)
    reservation = plan.add("reserve", at, **fields)
    contract.payments.append(reservation)
    plan.add("release", release_at, reservation=reservation["id"], evidence_sha256=release_evidence)
    return release_at


def pay_due(plan: Plan, contract: ContractPlan, first: datetime, *, release_days: tuple[int, int] | None = None) -> datetime:
    """Pay what is due under `contract` after an acceptance, in 1–3 installments a few days apart —
    reservations released `release_days` later, or transfers. The first installments take 10–75 %
    of what is due, the last 60–100 % of the rest: wide windows let a busy payer's amounts follow
    Benford's law (see `simulations.amounts`). Returns the moment of the last inflow."""
    rng = plan.rng
    roll = rng.randrange(100)
    count = 1 if roll < 30 else 2 if roll < 75 else 3
    at, last_inflow = first, first
    for n in range(count):
        rule = Due(60, 100) if n == count - 1 else Due(10, 75)
        release_at = plan.at(plan.day(at.date(), *release_days)) if release_days else None
        last_inflow = max(last_inflow, pay(plan, contract, at, rule, kind="progress", release_at=release_at))
        at = plan.at(plan.day(at.date(), 1, 4))
    return last_inflow


def spend(plan: Plan, holder: Party, at: datetime, category: str, rule: Any, *, payee: Party | None = None,
          contract: str | None = None, assets: list[str] | None = None, issuer: Party | None = None) -> dict[str, Any]:
    return plan.add("spend", at, color=plan.color, from_=holder.party, amount=rule, category=category,
                    payee=payee.party if payee else None, invoice=plan.invoice(issuer or payee or holder),
                    contract=contract, assets=assets)


def give_back(plan: Plan) -> dict[str, Any]:
    """The administrator returns what is left to the treasury after the last payments."""
    day = workday(date(FISCAL_YEAR, 12, plan.rng.randint(26, 29)))
    return plan.add("return", plan.at(day), color=plan.color, from_=plan.admin.party, amount=Rest(),
                    reason="unspent balance at the end of the fiscal year")


def contractor_spends(plan: Plan, holder: Party, after: date, until: date, categories: tuple[str, ...],
                      count: int, share: tuple[int, int], payees: dict[str, list[Party]] | None = None) -> None:
    """`count` spends by `holder` between `after` and `until`, each a share of its balance; a
    category listed in `payees` (wages → workers, livestock → farmers) is paid to one of them."""
    until = min(until, LAST_SPEND_DAY)
    if until <= after:
        return
    for _ in range(count):
        day = plan.day(after, 1, max(1, (until - after).days))
        if day > until:
            continue
        category = plan.rng.choice(categories)
        candidates = (payees or {}).get(category)
        payee = plan.rng.choice(candidates) if candidates and (category != "wages" or plan.rng.randrange(2)) else None
        spend(plan, holder, plan.at(day), category, ShareOfBalance(share[0] * 55 // 100, share[1]), payee=payee)


def works_contract(plan: Plan, contract: ContractPlan, sign_day: date, end_day: date, *, stages: int,
                   advance: bool, spends: tuple[str, ...], spend_count: int,
                   payees: dict[str, list[Party]] | None = None, reserve_share: int = 0) -> None:
    """Acceptances, payments and the supplier's spends of an ordinary works contract."""
    rng = plan.rng
    inflow = None
    days = stage_days(plan, sign_day, end_day, stages)
    if advance:
        advance_day = plan.day(sign_day, 3, 10)
        inflow = pay(plan, contract, plan.at(advance_day), Window(contract.amount * 10 // 100, contract.amount * 25 // 100),
                     kind="advance")
        if days[0] > advance_day + timedelta(days=85):  # F10: an acceptance within 90 days of the advance
            days = [workday(advance_day + timedelta(days=rng.randint(40, 80)))] + days
    for n, (day, value) in enumerate(zip(days, stage_values(rng, contract.amount, len(days)), strict=True)):
        final = n == len(days) - 1
        if inflow is not None:
            contractor_spends(plan, contract.supplier, inflow.date(), day, spends, spend_count, (15, 40), payees)
        accept(plan, contract, value, plan.at(day), final=final, evidence=final and rng.randrange(3) > 0)
        if rng.randrange(100) < reserve_share:
            inflow = pay_due(plan, contract, plan.at(plan.day(day, 1, 2)), release_days=(3, 5))
        else:
            inflow = pay_due(plan, contract, plan.at(plan.day(day, 2, 8)))
    contractor_spends(plan, contract.supplier, inflow.date(), inflow.date() + timedelta(days=40), spends,
                      spend_count, (20, 50), payees)


def stage_days(plan: Plan, sign_day: date, end_day: date, stages: int) -> list[date]:
    """Acceptance days from 25–40 days after signing to `end_day`, at least three weeks apart."""
    first = min(plan.day(sign_day, 25, 40), end_day)
    while stages > 1 and (end_day - first).days < 21 * (stages - 1):
        stages -= 1
    return spread_days(first, end_day, stages) if stages > 1 else [end_day]


def final_day_for(plan: Plan, sign_day: date, amount: int, latest: date, rng: random.Random) -> date:
    """The final acceptance day: ≥ 62 days after signing for contracts of 20 M KZT or more."""
    minimum = FINAL_DAYS_MIN + 2 if amount >= 20_000_000 * KZT else 32
    day = plan.day(sign_day, minimum, minimum + 90, rng)
    return max(min(day, latest), workday(sign_day + timedelta(days=minimum)))


# --- finishing ---------------------------------------------------------------------------------

def finalize(plan: Plan) -> Plan:
    """Move contractors' onward payments to ≥ 4 days after their latest inflow (F03), unless a
    step says `_allow_fast`; check nothing moves after 24 December but spends and returns."""
    for _ in range(10):
        moved = False
        inflows: dict[str, list[datetime]] = {}
        reserved = {s["id"]: s["to"] for s in plan.steps if s["type"] == "reserve"}
        for s in plan.steps:
            if s["type"] == "transfer" and not s.get("_blocked"):
                inflows.setdefault(s["to"], []).append(s["at"])
            elif s["type"] == "release":
                inflows.setdefault(reserved.get(s["reservation"], ""), []).append(s["at"])
        for s in plan.steps:
            if s["type"] not in ("transfer", "reserve") or s["from"] == plan.admin.party or s.get("_allow_fast"):
                continue
            recent = [t for t in inflows.get(s["from"], ()) if t <= s["at"] < t + timedelta(hours=FAST_HOURS)]
            if recent:
                s["at"] = max(recent) + timedelta(hours=FAST_HOURS, minutes=plan.rng.randrange(1, 240))
                moved = True
        if not moved:
            break
    for s in plan.steps:
        if s["type"] in MONEY_TYPES and s["type"] not in ("spend", "return") and not s.get("_blocked"):
            assert s["at"].date() <= LAST_PAYMENT_DAY, (s["id"], s["at"])
    return plan


def pick(rng: random.Random, low_kzt: int, high_kzt: int) -> int:
    """A log-uniform amount between two KZT bounds, in tiyn."""
    return log_uniform(rng, low_kzt * KZT, high_kzt * KZT)

