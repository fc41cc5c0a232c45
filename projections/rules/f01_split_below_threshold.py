"""F01 — Split below threshold (RULES.md; pilots: all).

RULES.md: a (payer, payee) pair — (customer, supplier) of contracts, (from, to) of transfers — has
≥ 2 contracts, or ≥ 2 transfers, in one fiscal year whose amount v lies in the band (1−δ)·T < v < T
(open interval). ROAD and LOCAL buy works: T = 196 600 000 KZT, δ = 0.10; AGRO buys goods: T = 15
728 000 KZT, δ = 0.05 (config, set from procurement law)

How this module reads it:
Contracts pair (customer, supplier) at their signed amount (amendments are H01's business);
transfers pair (from, to) and are `transfer`s only (reservations are not counted). The fiscal year
is the color's. Contracts and transfers are counted separately; a pair may span colors of one
fiscal year, each amount judged by its own pilot's T and δ. One flag per pair, kind and year,
raised by the item that reaches the count.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: SASU RISK2-5_1/2-6_1, OCP R011/R049.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from domain import events as e
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, money, whole
from projections.rules.wording import kzt, named


@state_record
class Item(NamedTuple):
    """A contract or transfer in the band: its transaction, amount, contract and color."""

    transaction: str
    amount_tiyn: int
    contract: str | None
    color: str


@dataclass(frozen=True)
class Thresholds:
    """F01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    threshold_tiyn: int = money("196600000", AGRO="15728000")
    delta: Fraction = fraction("0.10", AGRO="0.05")
    count: int = whole(2)


class SplitBelowThreshold(Rule):
    """F01: a (payer, payee) pair with ≥ `count` contracts — or ≥ `count` transfers — in one fiscal
    year whose amount v lies in the open band (1−δ)·T < v < T.

    Contracts pair (customer, supplier) at their signed amount (amendments are H01's business);
    transfers pair (from, to) and are `transfer`s only (reservations are not counted). The fiscal
    year is the color's. Contracts and transfers are counted separately; a pair may span colors of
    one fiscal year, each amount judged by its own pilot's T and δ. One flag per pair, kind and year,
    raised by the item that reaches the count.
    """

    code = "F01"
    title = "Split below threshold"
    definition = (
        "a (payer, payee) pair — (customer, supplier) of contracts, (from, to) of transfers — has ≥ 2 "
        "contracts, or ≥ 2 transfers, in one fiscal year whose amount v lies in the band (1−δ)·T < v < T "
        "(open interval). ROAD and LOCAL buy works: T = 196 600 000 KZT, δ = 0.10; AGRO buys goods: T = 15 "
        "728 000 KZT, δ = 0.05 (config, set from procurement law)"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractSigned, e.FundsTransferred)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.FundsTransferred) -> None:
        pilot, color = ctx.pilot, ctx.world.colors.get(event.color)
        if pilot is None or color is None:
            return
        threshold, delta = self.limits(pilot).threshold_tiyn, self.limits(pilot).delta
        low = threshold * (1 - delta)
        if not low < event.amount_tiyn < threshold:
            return
        if isinstance(event, e.ContractSigned):
            kind, payer, payee, record, contract = "contracts", event.customer, event.supplier, event.command_id, event.contract
        else:
            kind, payer, payee, record, contract = "transfers", event.payer, event.payee, event.command_id, event.contract
        year = color["fiscal_year"]
        items = self.state.setdefault("pairs", {}).setdefault(f"{kind}|{year}|{payer}|{payee}", [])
        items.append(Item(record, event.amount_tiyn, contract, event.color))
        count = self.limits(pilot).count
        if len(items) < count:
            return
        amounts = ", ".join(kzt(item.amount_tiyn) for item in items)
        low_tiyn = low.numerator // low.denominator
        ctx.flag(
            self, f"{kind}:{year}:{payer}:{payee}", color=event.color,
            transactions=[item.transaction for item in items], parties=[payer, payee], contracts=[item.contract for item in items if item.contract],
            explanation=(
                f"{named(ctx.world, payer)} has {len(items)} {kind} with {named(ctx.world, payee)} in fiscal year {year} "
                f"just below the threshold ({amounts}), each above {kzt(low_tiyn)} and below {kzt(threshold)} "
                f"(threshold {count} {kind} in the band, T = {kzt(threshold)}, δ = {self.text(pilot, 'delta')})."
            ),
            evidence={
                "kind": kind, "fiscal_year": year, "count": len(items), "count_min": count,
                "amounts_tiyn": [item.amount_tiyn for item in items], "threshold_tiyn": threshold,
                "band_low_tiyn": low_tiyn, "delta": self.text(pilot, "delta"),
                "colors": sorted({item.color for item in items}),
            },
        )


RULE = SplitBelowThreshold
