"""R03 — Asphalt quantity (RULES.md; pilots: ROAD).

RULES.md: billed asphalt tonnes (item code `ASPHALT`, unit `t`) over expected tonnes =
length_km·1000 × width_m × asphalt_cm/100 × 2.35 t/m³ is > 1.10 (over-billing), or < 0.90 with ≥ 90
% of the contract paid

How this module reads it:
R03: billed asphalt tonnes over the geometry's expected tonnes > over_ratio, or < under_ratio when
paid.
- R03 compares the contract's items (signed, or as last amended with items) with the geometry;
  "paid" is transfers plus released reservations under the contract; the under-billing check runs on
  every payment and amendment once the paid share reaches the threshold. A road contract with no
  `ASPHALT`/`t` item, or whose geometry gives no asphalt, is silent (nothing to compare).

Source: Olken.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import contract_parties, road_geometry
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, label
from projections.rules.wording import decimal_text, percent, times


@dataclass(frozen=True)
class Thresholds:
    """R03's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    over_ratio: Fraction = fraction("1.10")
    under_ratio: Fraction = fraction("0.90")
    paid_share: Fraction = fraction("0.90")
    density_t_per_m3: Fraction = fraction("2.35")
    item_code: str = label("ASPHALT")
    item_unit: str = label("t")


class AsphaltQuantity(Rule):
    """R03: billed asphalt tonnes over the geometry's expected tonnes > over_ratio, or < under_ratio when paid."""

    code = "R03"
    title = "Asphalt quantity"
    definition = (
        "billed asphalt tonnes (item code `ASPHALT`, unit `t`) over expected tonnes = length_km·1000 × "
        "width_m × asphalt_cm/100 × 2.35 t/m³ is > 1.10 (over-billing), or < 0.90 with ≥ 90 % of the contract"
        " paid"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = frozenset({"ROAD"})
    reads = (e.ContractSigned, e.ContractAmended, e.FundsTransferred, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        tracked = self.state.setdefault("contracts", {})
        if isinstance(event, (e.ContractSigned, e.ContractAmended)):
            if event.items is not None:
                self._on_items(ctx, event, tracked)
        else:
            entry = tracked.get(event.contract)
            if entry is None:
                return
            entry["paid"] += event.amount_tiyn
            entry["payments"].append(event.command_id)
        entry = tracked.get(event.contract)
        if entry is not None:
            self._check_under(ctx, event, entry)

    def _on_items(self, ctx: RuleContext, event: e.ContractSigned | e.ContractAmended, tracked: dict[str, Any]) -> None:
        info = ctx.world.contracts.get(event.contract)
        if info is None or road_geometry(info) is None:
            return
        code, unit = self.text(ctx.pilot, "item_code"), self.text(ctx.pilot, "item_unit")
        lines = [item for item in event.items or () if item.code == code and item.unit == unit]
        entry = tracked.setdefault(event.contract, {"paid": 0, "payments": [], "billed": None, "items_tx": ""})
        billed = sum((Fraction(item.quantity) for item in lines), Fraction(0)) if lines else None
        entry["billed"], entry["items_tx"] = (str(billed) if lines else None), event.command_id
        measured = self._measure(ctx, info, entry)
        threshold = self.limits(ctx.pilot).over_ratio
        if measured is not None and measured > threshold:
            self._flag(ctx, event, info, entry, "over", measured, f"threshold above {times(threshold)}", threshold)

    def _check_under(self, ctx: RuleContext, event: Any, entry: dict[str, Any]) -> None:
        info = ctx.world.contracts.get(event.contract)
        paid_share = self.limits(ctx.pilot).paid_share
        if info is None or info["amount_tiyn"] <= 0 or entry["paid"] < paid_share * info["amount_tiyn"]:
            return
        measured = self._measure(ctx, info, entry)
        threshold = self.limits(ctx.pilot).under_ratio
        if measured is None or measured >= threshold:
            return
        paid = Fraction(entry["paid"], info["amount_tiyn"])
        condition = f"threshold under {times(threshold)} once {percent(paid_share)} is paid; {percent(paid, paid_share)} paid"
        self._flag(ctx, event, info, entry, "under", measured, condition, threshold)

    def _measure(self, ctx: RuleContext, info: dict[str, Any], entry: dict[str, Any]) -> Fraction | None:
        expected = self._expected(ctx, info)
        return Fraction(entry["billed"]) / expected if expected and entry["billed"] is not None else None

    def _expected(self, ctx: RuleContext, info: dict[str, Any]) -> Fraction:
        length, width, asphalt = road_geometry(info) or (Fraction(0),) * 3
        density = self.limits(ctx.pilot).density_t_per_m3
        return length * 1000 * width * asphalt / 100 * density

    def _flag(self, ctx: RuleContext, event: Any, info: dict[str, Any], entry: dict[str, Any], kind: str,
              measured: Fraction, condition: str, threshold: Fraction) -> None:
        expected = self._expected(ctx, info)
        length, width, asphalt = info["road"]
        transactions = [info["transaction"], entry["items_tx"], *(entry["payments"] if kind == "under" else [])]
        ctx.flag(
            self, f"{event.contract}:{kind}", color=event.color, transactions=transactions,
            parties=contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Road contract {event.contract} bills {decimal_text(Fraction(entry['billed']), 6, strip=True)} t of asphalt against "
                f"{decimal_text(expected, 6, strip=True)} t expected for {length} km × {width} m × {asphalt} cm, {times(measured, threshold)} "
                f"({'over-billing' if kind == 'over' else 'under-laying'}; {condition})."
            ),
            evidence={"billed_t": decimal_text(Fraction(entry["billed"]), 6, strip=True), "expected_t": decimal_text(expected, 6, strip=True),
                      "ratio": decimal_text(measured, 6, strip=True, against=threshold), "ratio_threshold": decimal_text(threshold, 6, strip=True),
                      "paid_tiyn": entry["paid"], "amount_tiyn": info["amount_tiyn"],
                      "road": {"length_km": length, "width_m": width, "asphalt_cm": asphalt}},
        )


RULE = AsphaltQuantity
