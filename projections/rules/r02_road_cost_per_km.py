"""R02 — Road cost per km (RULES.md; pilots: ROAD).

RULES.md: contract amount / `road.length_km` ≥ 1.5 × the reference price of code `ROAD-KM`

How this module reads it:
R02: contract amount / road length ≥ ratio × the reference price of `reference_code`.
- R02 checks at signing and on every amendment (the current amount over the length).

Source: ROCKS.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain import events as e
from projections.rules.common import contract_parties, road_geometry
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, label
from projections.rules.wording import decimal_text, kzt, round_half_up, times


@dataclass(frozen=True)
class Thresholds:
    """R02's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    ratio: Fraction = fraction("1.50")
    reference_code: str = label("ROAD-KM")


class RoadCostPerKm(Rule):
    """R02: contract amount / road length ≥ ratio × the reference price of `reference_code`."""

    code = "R02"
    title = "Road cost per km"
    definition = (
        "contract amount / `road.length_km` ≥ 1.5 × the reference price of code `ROAD-KM`"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = frozenset({"ROAD"})
    reads = (e.ContractSigned, e.ContractAmended)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        road = road_geometry(info) if info else None
        if info is None or road is None or road[0] <= 0:
            return
        code = self.text(ctx.pilot, "reference_code")
        reference = ctx.world.price(code, ctx.world.colors[event.color]["region"])
        if not reference:
            return
        threshold = self.limits(ctx.pilot).ratio
        per_km = Fraction(event.amount_tiyn) / road[0]
        measured = per_km / reference
        if measured < threshold:
            return
        per_km_tiyn = round_half_up(per_km)
        transactions = [info["transaction"]] + ([event.command_id] if isinstance(event, e.ContractAmended) else [])
        ctx.flag(
            self, event.contract, color=event.color, transactions=transactions, parties=contract_parties(info),
            contracts=[event.contract],
            explanation=(
                f"Road contract {event.contract} costs {kzt(event.amount_tiyn)} for {decimal_text(road[0], 3, strip=True)} km, "
                f"{kzt(per_km_tiyn)} per km, {times(measured, threshold)} the {code} reference {kzt(reference)} "
                f"(threshold {times(threshold)})."
            ),
            evidence={"amount_tiyn": event.amount_tiyn, "length_km": info["road"][0], "cost_per_km_tiyn": per_km_tiyn,
                      "reference_price_tiyn": reference, "ratio": decimal_text(measured, 6, strip=True, against=threshold),
                      "ratio_threshold": decimal_text(threshold, 6, strip=True)},
        )


RULE = RoadCostPerKm
