"""C01 — Supplier dominance (RULES.md; pilots: all).

RULES.md: one supplier takes ≥ 50 % of an administrator's contract value in a fiscal year; computed
only where the administrator has > 9 contracts that year

How this module reads it:
state: groups["admin|pilot|year"] = {count, total, values{supplier: tiyn}, contracts{supplier:
[ids]}, leader}; of_contract[contract] = group key (counted contracts). The leader is the supplier
with the largest value (ties: smallest id); only it, and the supplier just changed, can newly reach
the share.
- C01 groups contracts whose customer is the color's administrator by (administrator, pilot, fiscal
  year of the signing date in the ledger's time zone), at their current amounts, and re-evaluates on every signing and
  amendment; one flag per (administrator, pilot, year, supplier).

Source: OCP R040, GTI.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import local_date
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, named, percent


def _add(group: dict[str, Any], supplier: str, delta: int) -> None:
    """Add `delta` to a supplier's value and keep the leader (largest value, then smallest id)."""
    values = group["values"]
    values[supplier] = values.get(supplier, 0) + delta
    group["total"] += delta
    leader = group["leader"]
    if leader is None or (-values[supplier], supplier) < (-values[leader], leader):
        group["leader"] = supplier
    elif supplier == leader and delta < 0:
        group["leader"] = min(values, key=lambda s: (-values[s], s))


@dataclass(frozen=True)
class Thresholds:
    """C01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    share: Fraction = fraction("0.50")
    contracts_min_count: int = whole(10)


class SupplierDominance(Rule):
    """C01: one supplier holds ≥ share of an administrator's contract value in a fiscal year.

    state: groups["admin|pilot|year"] = {count, total, values{supplier: tiyn},
    contracts{supplier: [ids]}, leader}; of_contract[contract] = group key (counted contracts).
    The leader is the supplier with the largest value (ties: smallest id); only it, and the
    supplier just changed, can newly reach the share.
    """

    code = "C01"
    title = "Supplier dominance"
    definition = (
        "one supplier takes ≥ 50 % of an administrator's contract value in a fiscal year; computed only where"
        " the administrator has > 9 contracts that year"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractSigned, e.ContractAmended)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        world = ctx.world
        contract = world.contracts.get(event.contract)
        color = world.colors.get(event.color)
        if not contract or not color:
            return
        of_contract = self.state.setdefault("of_contract", {})
        if isinstance(event, e.ContractSigned):
            if event.customer != color["administrator"]:
                return
            key = f"{event.customer}|{color['pilot']}|{local_date(ctx.at, self.time_zone).year}"
            of_contract[event.contract] = key
            group = self.state.setdefault("groups", {}).setdefault(
                key, {"count": 0, "total": 0, "values": {}, "contracts": {}, "leader": None})
            group["count"] += 1
            group["contracts"].setdefault(event.supplier, []).append(event.contract)
            delta = event.amount_tiyn
        else:
            key = of_contract.get(event.contract)
            if key is None:
                return
            group = self.state["groups"][key]
            delta = event.amount_tiyn - event.previous_amount_tiyn
        supplier = contract["supplier"]
        _add(group, supplier, delta)
        for candidate in dict.fromkeys([group["leader"], supplier]):
            self._check(ctx, event, key, group, candidate)

    def _check(self, ctx: RuleContext, event: Any, key: str, group: dict[str, Any], supplier: str) -> None:
        admin, pilot, year = key.split("|")
        share_min, count_min = self.limits(pilot).share, self.limits(pilot).contracts_min_count
        value, total = group["values"][supplier], group["total"]
        if group["count"] < count_min or total <= 0 or Fraction(value, total) < share_min:
            return
        share = Fraction(value, total)
        contracts = group["contracts"][supplier]
        transactions = [ctx.world.contracts[c]["transaction"] for c in contracts]
        if isinstance(event, e.ContractAmended):
            transactions.append(event.command_id)
        ctx.flag(
            self, f"{admin}:{pilot}:{year}:{supplier}", color=event.color, transactions=transactions,
            parties=[supplier, admin], contracts=contracts,
            explanation=(f"Supplier {named(ctx.world, supplier)} holds {percent(share, share_min)} ({kzt(value)}) of the "
                         f"{kzt(total)} contracted by administrator {named(ctx.world, admin)} in {pilot} {year} over "
                         f"{group['count']} contracts (threshold {percent(share_min)} where there are "
                         f"≥ {count_min} contracts)."),
            evidence={"supplier_tiyn": value, "total_tiyn": total, "share": decimal_text(share, 4, strip=True),
                      "share_min": decimal_text(share_min, 4, strip=True), "contracts_count": group["count"],
                      "contracts_min_count": count_min, "fiscal_year": int(year)},
        )


RULE = SupplierDominance
