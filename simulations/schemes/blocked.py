"""F07 — attempts the ledger must block (SPEC §4): each is written, blocked, and flagged once.

- `F07-cash-withdrawal`: a contractor (or dealer) tries to withdraw colored money as cash;
- `F07-payment-without-contract`: the administrator pays a registered party that has no contract
  under the color;
- `F07-overspend`: the administrator pays more than the contract's amount;
- `F07-after-expiry`: a payment after the color expired. The scheme ends the color's life early —
  the day after its last ordinary movement, and ≥ 31 days after the administrator's last payment so
  that idle funds (L04) stay silent — and tries to pay a few days later, still in the fiscal year.
"""

from __future__ import annotations

import random
from datetime import timedelta

from simulations.amounts import KZT, log_uniform
from simulations.pilots.common import LAST_PAYMENT_DAY, pick
from simulations.plan import MONEY_TYPES, Plan, Truth, workday
from simulations.schemes.base import Scheme, first_inflow, of_role, truth

_HOLDER_ROLES = ("main", "local", "machine")
_STRANGER_ROLES = {"ROAD": "road_gc", "AGRO": "agro_dealer", "LOCAL": "local_contractor"}
ALL = frozenset({"ROAD", "AGRO", "LOCAL"})


def cash_withdrawal(plan: Plan, rng: random.Random) -> Truth | None:
    contracts = of_role(plan, *_HOLDER_ROLES)
    contract = rng.choice(contracts)
    received = first_inflow(plan, contract.supplier.party)
    if received is None:
        return None
    day = plan.day(received.date(), 3, 30, rng)
    if day > LAST_PAYMENT_DAY:
        return None
    step = plan.add("spend", plan.at(day, rng), color=plan.color, from_=contract.supplier.party,
                    amount=pick(rng, 300_000, 6_000_000), category="cash_withdrawal", _blocked="cash_withdrawal_is_forbidden")
    return truth(plan, "F07-cash-withdrawal", transactions=[step["id"]], parties=[contract.supplier.party], blocked=1,
                 note="cash withdrawal of colored money")


def payment_without_contract(plan: Plan, rng: random.Random) -> Truth | None:
    role = _STRANGER_ROLES[plan.pilot]
    involved = {c.supplier.party for c in plan.contracts.values()}
    for _ in range(20):
        stranger = plan.world.party(role, rng.randrange(plan.world.pools[role]))
        if stranger.party not in involved:
            break
    else:
        return None
    day = plan.day(plan.start, 10, 60, rng)
    step = plan.add("transfer", plan.at(day, rng), color=plan.color, from_=plan.admin.party, to=stranger.party,
                    amount=pick(rng, 2_000_000, 40_000_000), invoice=plan.invoice(stranger), kind="progress",
                    _blocked="recipient_must_have_a_contract")
    return truth(plan, "F07-payment-without-contract", transactions=[step["id"]], parties=[stranger.party], blocked=1,
                 note="payment to a party without a contract under the color")


def overspend(plan: Plan, rng: random.Random) -> Truth | None:
    contract = rng.choice([c for c in plan.contracts.values() if c.customer.party == plan.admin.party])
    day = plan.day(contract.sign["at"].date(), 2, 20, rng)
    amount = contract.amount + log_uniform(rng, max(1, contract.amount // 100), contract.amount // 10)
    kind = "subsidy" if plan.pilot == "AGRO" else "progress"
    step = plan.add("reserve" if plan.pilot == "AGRO" else "transfer", plan.at(day, rng), color=plan.color,
                    from_=plan.admin.party, to=contract.supplier.party, amount=amount, contract=contract.contract,
                    invoice=plan.invoice(contract.supplier), kind=kind, _blocked="contract_amount_exceeded")
    return truth(plan, "F07-overspend", transactions=[step["id"]], parties=[contract.supplier.party],
                 contracts=[contract.contract], blocked=1, note="payment above the contract amount")


def after_expiry(plan: Plan, rng: random.Random) -> Truth | None:
    last_admin = max(s["at"].date() for s in plan.steps if s["type"] in MONEY_TYPES and s.get("from") == plan.admin.party
                     and s["type"] != "return")
    expires = max(plan.last_money_day(), last_admin + timedelta(days=31)) + timedelta(days=1)
    attempt = workday(expires + timedelta(days=rng.randint(1, 4)))
    if attempt > LAST_PAYMENT_DAY:
        return None
    plan.allocation["expires_on"] = expires
    contract = rng.choice([c for c in plan.contracts.values() if c.customer.party == plan.admin.party])
    step = plan.add("transfer", plan.at(attempt, rng), color=plan.color, from_=plan.admin.party,
                    to=contract.supplier.party, amount=log_uniform(rng, 100_000 * KZT, max(200_000 * KZT, contract.amount // 20)),
                    contract=contract.contract, invoice=plan.invoice(contract.supplier), kind="progress",
                    _blocked="color_expired")
    return truth(plan, "F07-after-expiry", transactions=[step["id"]], parties=[contract.supplier.party],
                 contracts=[contract.contract], blocked=1, note=f"payment after the color expired on {expires}")


SCHEMES = (
    Scheme("F07-cash-withdrawal", ("F07",), ALL, cash_withdrawal, "a contractor tries to withdraw colored money as cash"),
    Scheme("F07-payment-without-contract", ("F07",), ALL, payment_without_contract,
           "the administrator pays a party that has no contract under the color"),
    Scheme("F07-overspend", ("F07",), ALL, overspend, "the administrator pays more than the contract amount"),
    Scheme("F07-after-expiry", ("F07",), ALL, after_expiry, "a payment after the color expired"),
)
