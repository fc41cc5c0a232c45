"""What a misuse scheme is, and helpers schemes share.

A scheme is one small function `inject(plan, rng) -> Truth | None`: it changes or extends one
project's planned steps (`simulations.plan.Plan`) with its own random stream, and returns the
ground truth — which rules should flag it and which transactions, parties and contracts are
involved — or None when this project offers no place for it (the generator then tries another).

Writing a new scheme (see the modules next to this one for examples):
1. find what to change: `plan.contracts` (a `ContractPlan` per contract, with its `role`: main,
   sub, supply, machine, local, …, and its accept / payment steps), `plan.find(type=…, …)`;
2. change step dicts in place or add steps with `plan.add(type, at, …)`; amounts are tiyn or an
   amount rule (`Due`, `Window`, `ShareOfBalance`, `SameAs`) resolved when written; a step the
   ledger must block carries `_blocked` (the rejection expected) — it is written as planned;
3. keep everything else clean — the scheme should raise its own rules and nothing else; a new
   contract paid by the administrator needs `grow_allocation`, an onward payment made on purpose
   within 72 h of an inflow needs `_allow_fast` (or `finalize` delays it);
4. return `truth(plan, NAME, RULES, transactions=…, parties=…, contracts=…)` — only the ids that
   the flags should name; a flag counts as detecting the scheme when it shares one of them;
5. register the `Scheme` in its module's `SCHEMES` (and the module in `simulations.schemes`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulations.amounts import in_band
from simulations.pilots.common import items_total
from simulations.plan import ContractPlan, Plan, Truth


@dataclass(frozen=True)
class Scheme:
    """One kind of misuse: its name, the rules that should flag it, where it applies, how it is injected."""

    name: str
    rules: tuple[str, ...]
    pilots: frozenset[str]
    inject: Callable[[Plan, random.Random], Truth | None]
    summary: str

    def __post_init__(self) -> None:
        assert self.name and self.rules and self.pilots and self.summary, self.name


def truth(plan: Plan, scheme: Scheme | str, *, transactions: list[str], parties: list[str],
          contracts: list[str] = (), blocked: int = 0, note: str = "") -> Truth:  # type: ignore[assignment]
    """The ground truth of a scheme instance in `plan` (rules from the registered scheme)."""
    from simulations.schemes import BY_NAME

    found = BY_NAME[scheme] if isinstance(scheme, str) else scheme
    return Truth(found.name, found.rules, plan.pilot, plan.code, plan.color, list(transactions), list(parties),
                 list(contracts), blocked, note)


def of_role(plan: Plan, *roles: str) -> list[ContractPlan]:
    """The plan's contracts of these roles, in signing order."""
    return [c for c in plan.contracts.values() if c.role in roles]


def grow_allocation(plan: Plan, extra: int) -> None:
    """More money for the administrator to pay a new or larger contract."""
    plan.allocation["amount"] += extra * 105 // 100


def first_inflow(plan: Plan, party: str) -> datetime | None:
    """When `party` first receives this color (a transfer or a release)."""
    reserved = {s["id"]: s["to"] for s in plan.steps if s["type"] == "reserve"}
    moments = [s["at"] for s in plan.steps
               if (s["type"] == "transfer" and s["to"] == party) or
               (s["type"] == "release" and reserved.get(s["reservation"]) == party)]
    return min(moments) if moments else None


def reprice(plan: Plan, contract: ContractPlan, items: list[dict[str, Any]]) -> int:
    """Give a contract new items (and so a new amount); acceptances scale with it, the allocation
    grows when the administrator pays. Returns the new amount."""
    old, new = contract.amount, items_total(items)
    while in_band(new, plan.pilot):  # stay out of F01's band: this scheme is about something else
        items[0]["quantity"] = str(int(items[0]["quantity"]) + 1)
        new = items_total(items)
    contract.sign["items"], contract.sign["amount"], contract.amount = items, new, new
    scale_accepts(contract, old, new)
    if contract.customer.party == plan.admin.party and new > old:
        grow_allocation(plan, new - old)
    return new


def scale_accepts(contract: ContractPlan, old: int, new: int, after: datetime | None = None) -> None:
    """Scale the contract's acceptances (those after `after`) so that they sum to `new`."""
    later = [a for a in contract.accepts if after is None or a["at"] > after]
    if not later:
        return
    before = old - sum(a["amount"] for a in later)
    target = new - before
    total = sum(a["amount"] for a in later)
    for a in later:
        a["amount"] = a["amount"] * target // total
    later[-1]["amount"] += target - sum(a["amount"] for a in later)

