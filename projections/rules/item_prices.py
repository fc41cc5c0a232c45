"""The comparison R01 and R04 share: each contract item's unit price against its reference price.

Both check the items of a signed contract and the new items of an amendment (a price raised by
amendment is what the rules are about); one flag per contract item (code and unit), so a later
amendment of an already flagged item does not flag it again. A reference price set after the
contract is not applied to it retroactively. The reference is the color's region's own price for
the code if set, else the national one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from domain import events as e
from domain.commands import ContractItem
from projections.rules.common import contract_parties
from projections.rules.engine import Rule, RuleContext
from projections.rules.wording import decimal_text, kzt, times


class ItemPriceRule(Rule):
    """Compares each contract item's unit price with the reference price for its code."""

    reads = (e.ContractSigned, e.ContractAmended)
    noun = "Item"

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.ContractAmended) -> None:
        if event.items is None:
            return
        info = ctx.world.contracts.get(event.contract)
        if info is None:
            return
        region = ctx.world.colors[event.color]["region"]
        transactions = [info["transaction"]] + ([event.command_id] if isinstance(event, e.ContractAmended) else [])
        occurrences: dict[tuple[str, str], int] = {}
        for item in event.items:
            n = occurrences[item.code, item.unit] = occurrences.get((item.code, item.unit), -1) + 1
            key = f"{event.contract}:{item.code}:{item.unit}" + (f"#{n}" if n else "")
            reference = ctx.world.price(item.code, region)
            if reference:
                self._check(ctx, event, info, item, reference, key, transactions)

    def _check(self, ctx: RuleContext, event: Any, info: dict[str, Any], item: ContractItem, reference: int,
               key: str, transactions: list[str]) -> None:
        threshold = self.limits(ctx.pilot).ratio
        measured = Fraction(item.unit_price_tiyn, reference)
        if measured < threshold:
            return
        ctx.flag(
            self, key, color=event.color, transactions=transactions, parties=contract_parties(info),
            contracts=[event.contract], severity=self.severity_for(ctx, measured),
            explanation=(
                f"{self.noun} {item.code} in contract {event.contract} is priced {kzt(item.unit_price_tiyn)} per "
                f"{item.unit}, {times(measured, threshold)} the reference {kzt(reference)} "
                f"(threshold {times(threshold)}{self.threshold_note(ctx)})."
            ),
            evidence={"code": item.code, "unit": item.unit, "quantity": str(item.quantity),
                      "unit_price_tiyn": item.unit_price_tiyn, "reference_price_tiyn": reference,
                      "ratio": decimal_text(measured, 6, strip=True, against=threshold),
                      "ratio_threshold": decimal_text(threshold, 6, strip=True)},
        )

    def severity_for(self, ctx: RuleContext, measured: Fraction) -> str:
        return self.severity

    def threshold_note(self, ctx: RuleContext) -> str:
        return ""
