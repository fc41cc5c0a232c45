"""H, S, R — contract changes, subcontracting, prices and quantities (RULES.md).

Interpretations, where RULES.md leaves room:
- H01 raises one flag per contract, on the first amendment that meets either trigger (the total
  raise over the signed amount, or one amendment's own raise over the amount before it); the
  explanation and evidence give both measures.
- H03 has two flags per contract, one per trigger (an early first amendment; the n-th raise).
- S01 counts money that reached a party: transfers and released reservations (an open reservation
  has not reached the subcontractor yet); the share is cumulative for the color and checked at
  every payment the contractor makes, so passing on most of an early advance counts. "Received" is everything a non-administrator holder got
  under the color (always under contracts where it is the supplier); "paid on" is everything it
  paid under contracts where it is the customer. A contract's depth is fixed when it is signed:
  1 if the administrator is the customer, else 1 + the deepest chain known to reach its customer.
- R01/R04 check the items of a signed contract and the new items of an amendment (a price raised
  by amendment is what the rules are about); one flag per contract item (code and unit), so a
  later amendment of an already flagged item does not flag it again. A reference price set after
  the contract is not applied to it retroactively. R04 treats every AGRO item whose code has a
  reference (the catalog) as a machine.
- R02 checks at signing and on every amendment (the current amount over the length).
- R03 compares the contract's items (signed, or as last amended with items) with the geometry;
  "paid" is transfers plus released reservations under the contract; the under-billing check runs
  on every payment and amendment once the paid share reaches the threshold. A road contract with
  no `ASPHALT`/`t` item, or whose geometry gives no asphalt, is silent (nothing to compare).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from domain import events as e
from domain.commands import ContractItem
from domain.money import format_kzt
from projections.rules.engine import Rule, RuleContext


def _kzt(tiyn: int) -> str:
    return f"{format_kzt(tiyn)} KZT"


def _dec(value: Fraction, places: int) -> str:
    """A fraction as a decimal string, rounded to `places`, without trailing zeros."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(value: Fraction, places: int, threshold: Fraction | None) -> str:
    """`value` to `places`, with more places while rounding would make it look equal to `threshold`."""
    text = _dec(value, places)
    while threshold is not None and value != threshold and text == _dec(threshold, places) and places < 12:
        places += 1
        text = _dec(value, places)
    return text


def _pct(value: Fraction, threshold: Fraction | None = None) -> str:
    return f"{_shown(value * 100, 2, None if threshold is None else threshold * 100)} %"


def _times(value: Fraction, threshold: Fraction | None = None) -> str:
    return f"{_shown(value, 4, threshold)}×"


def _ratio(value: Fraction, threshold: Fraction | None = None) -> str:
    """A ratio for `evidence`: a decimal string, six places (more if it would look like the threshold)."""
    return _shown(value, 6, threshold)


def _contract_parties(info: dict[str, Any]) -> list[str]:
    return [info["customer"], info["supplier"]]


# --- H: contract changes -------------------------------------------------------------------


class PriceRaisingAmendments(Rule):
    """H01: the amount raised ≥ raise_ratio over the signed amount, or one amendment > single_raise_ratio."""

    code = "H01"
    title = "Price-raising amendments"
    severity = "medium"
    reads = (e.ContractAmended,)

    def on_event(self, ctx: RuleContext, event: e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        amendments = self.state.setdefault("amendments", {}).setdefault(event.contract, [])
        amendments.append(event.command_id)
        previous, amount = event.previous_amount_tiyn, event.amount_tiyn
        if info is None or amount <= previous or previous <= 0 or info["signed_amount_tiyn"] <= 0:
            return
        signed = info["signed_amount_tiyn"]
        total = Fraction(amount - signed, signed)
        single = Fraction(amount - previous, previous)
        total_min = self.ratio(ctx.pilot, "raise_ratio")
        single_max = self.ratio(ctx.pilot, "single_raise_ratio")
        if total < total_min and single <= single_max:
            return
        ctx.flag(
            self, event.contract, color=event.color, transactions=[info["transaction"], *amendments],
            parties=_contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Contract {event.contract} was amended by {event.command_id} from {_kzt(previous)} to {_kzt(amount)}, "
                f"{_pct(abs(total), total_min)} {'over' if total >= 0 else 'below'} the signed {_kzt(signed)} "
                f"(threshold {_pct(total_min)} over), a raise of {_pct(single, single_max)} in this one amendment "
                f"(threshold above {_pct(single_max)})."
            ),
            evidence={
                "signed_amount_tiyn": signed, "previous_amount_tiyn": previous, "amount_tiyn": amount,
                "raise_ratio": _ratio(total, total_min), "raise_ratio_threshold": _ratio(total_min),
                "single_raise_ratio": _ratio(single, single_max), "single_raise_ratio_threshold": _ratio(single_max),
                "amendments_count": len(amendments),
            },
        )


class AmendmentVelocity(Rule):
    """H03: first amendment < first_amendment_days after signing, or ≥ raises_min_count raises."""

    code = "H03"
    title = "Amendment velocity"
    severity = "medium"
    reads = (e.ContractAmended,)

    def on_event(self, ctx: RuleContext, event: e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        seen = self.state.setdefault("contracts", {}).setdefault(event.contract, {"amendments": [], "raises": []})
        first = not seen["amendments"]
        seen["amendments"].append(event.command_id)
        if event.amount_tiyn > event.previous_amount_tiyn:
            seen["raises"].append(event.command_id)
        if info is None:
            return
        if first:
            self._check_early(ctx, event, info)
        raises_min = self.number(ctx.pilot, "raises_min_count")
        if event.amount_tiyn > event.previous_amount_tiyn and len(seen["raises"]) >= raises_min:
            ctx.flag(
                self, f"{event.contract}:raises", color=event.color,
                transactions=[info["transaction"], *seen["raises"]], parties=_contract_parties(info),
                contracts=[event.contract],
                explanation=(
                    f"Contract {event.contract} has had its amount raised {len(seen['raises'])} times, from the signed "
                    f"{_kzt(info['signed_amount_tiyn'])} to {_kzt(event.amount_tiyn)} (threshold {raises_min} raises)."
                ),
                evidence={"raises_count": len(seen["raises"]), "raises_min_count": raises_min,
                          "signed_amount_tiyn": info["signed_amount_tiyn"], "amount_tiyn": event.amount_tiyn},
            )

    def _check_early(self, ctx: RuleContext, event: e.ContractAmended, info: dict[str, Any]) -> None:
        days_min = self.number(ctx.pilot, "first_amendment_days")
        elapsed = event.at - datetime.fromisoformat(info["signed_at"])
        if elapsed >= timedelta(days=days_min):
            return
        days = Fraction(elapsed // timedelta(microseconds=1), 86_400_000_000)
        ctx.flag(
            self, f"{event.contract}:early", color=event.color, transactions=[info["transaction"], event.command_id],
            parties=_contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Contract {event.contract} was first amended by {event.command_id} "
                f"{_shown(days, 1, Fraction(days_min))} days after signing, "
                f"from {_kzt(event.previous_amount_tiyn)} to {_kzt(event.amount_tiyn)} (threshold under {days_min} days)."
            ),
            evidence={"days_after_signing": _ratio(days, Fraction(days_min)), "first_amendment_days": days_min,
                      "previous_amount_tiyn": event.previous_amount_tiyn, "amount_tiyn": event.amount_tiyn},
        )


# --- S: subcontracting ----------------------------------------------------------------------


class PassThroughSubcontracting(Rule):
    """S01: a contractor pays on ≥ share of what it received, or a contract chain ≥ depth_min deep."""

    code = "S01"
    title = "Pass-through subcontracting"
    severity = "medium"
    pilots = frozenset({"ROAD", "LOCAL"})
    reads = (e.ContractSigned, e.FundsTransferred, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            self._on_signed(ctx, event)
        else:
            self._on_payment(ctx, event)

    def _on_signed(self, ctx: RuleContext, event: e.ContractSigned) -> None:
        administrator = ctx.world.colors[event.color]["administrator"]
        chains = self.state.setdefault("chains", {}).setdefault(event.color, {})
        above = [] if event.customer == administrator else chains.get(event.customer, [])
        chain = [*above, event.contract]
        if len(chain) > len(chains.get(event.supplier, [])):
            chains[event.supplier] = chain
        depth_min = self.number(ctx.pilot, "depth_min")
        if len(chain) < depth_min:
            return
        contracts = ctx.world.contracts
        parties = [administrator, *(contracts[c]["supplier"] for c in chain)]
        ctx.flag(
            self, f"depth:{event.contract}", color=event.color,
            transactions=[contracts[c]["transaction"] for c in chain], parties=parties, contracts=chain,
            explanation=(
                f"Contract {event.contract} ({_kzt(event.amount_tiyn)}) puts supplier {event.supplier} "
                f"{len(chain)} contracts "
                f"below administrator {administrator} ({' → '.join(chain)}; threshold {depth_min} deep)."
            ),
            evidence={"depth": len(chain), "depth_min": depth_min, "chain": chain, "amount_tiyn": event.amount_tiyn},
        )

    def _on_payment(self, ctx: RuleContext, event: e.FundsTransferred | e.ReservationReleased) -> None:
        color = ctx.world.colors[event.color]
        flows = self.state.setdefault("flows", {}).setdefault(event.color, {})
        if event.payee != color["administrator"]:
            into = flows.setdefault(event.payee, _flow())
            into["in"] += event.amount_tiyn
            into["in_tx"].append(event.command_id)
            _add(into["payers"], event.payer)
            _add(into["contracts"], event.contract)
        if event.payer in (color["administrator"], color["treasury"]):
            return
        out = flows.setdefault(event.payer, _flow())
        out["out"] += event.amount_tiyn
        out["out_tx"].append(event.command_id)
        _add(out["payees"], event.payee)
        _add(out["contracts"], event.contract)
        if not out["scheduled"]:
            out["scheduled"] = True
            ctx.schedule(self, _after_expiry(color), f"share:{event.color}:{event.payer}", [event.color, event.payer])

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        """The share paid on is judged once the color has expired: mid-year, advances passed down
        to subcontractors look like pass-through even in honest chains."""
        color, payer = payload
        out = self.state["flows"][color][payer]
        pilot = ctx.world.pilot_of(color)
        share = self.ratio(pilot, "share")
        if out["in"] <= 0 or out["out"] < share * out["in"]:
            return
        measured = Fraction(out["out"], out["in"])
        ctx.flag(
            self, key, color=color, pilot=pilot,
            transactions=[*out["in_tx"], *out["out_tx"]], parties=[payer, *out["payers"], *out["payees"]],
            contracts=out["contracts"],
            explanation=(
                f"Contractor {payer} paid on {_pct(measured, share)} of the {_kzt(out['in'])} it received under "
                f"{color} to its own subcontractors {', '.join(out['payees'])} ({_kzt(out['out'])}; threshold {_pct(share)})."
            ),
            evidence={"received_tiyn": out["in"], "paid_on_tiyn": out["out"], "share": _ratio(measured, share),
                      "share_threshold": _ratio(share)},
        )


def _after_expiry(color: dict[str, Any]) -> datetime:
    """The first moment after the color's expiry day, in the allocation's own offset."""
    offset = datetime.fromisoformat(color["at"]).tzinfo
    return datetime.combine(date.fromisoformat(color["expires_on"]) + timedelta(days=1), time(0), tzinfo=offset)


def _flow() -> dict[str, Any]:
    return {"in": 0, "out": 0, "in_tx": [], "out_tx": [], "payers": [], "payees": [], "contracts": [], "scheduled": False}


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


# --- R: prices and quantities ---------------------------------------------------------------


class _ItemPriceRule(Rule):
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
        threshold = self.ratio(ctx.pilot, "ratio")
        measured = Fraction(item.unit_price_tiyn, reference)
        if measured < threshold:
            return
        severity = self.severity_for(ctx, measured)
        ctx.flag(
            self, key, color=event.color, transactions=transactions, parties=_contract_parties(info),
            contracts=[event.contract], severity=severity,
            explanation=(
                f"{self.noun} {item.code} in contract {event.contract} is priced {_kzt(item.unit_price_tiyn)} per "
                f"{item.unit}, {_times(measured, threshold)} the reference {_kzt(reference)} "
                f"(threshold {_times(threshold)}{self.threshold_note(ctx)})."
            ),
            evidence={"code": item.code, "unit": item.unit, "quantity": str(item.quantity),
                      "unit_price_tiyn": item.unit_price_tiyn, "reference_price_tiyn": reference,
                      "ratio": _ratio(measured, threshold), "ratio_threshold": _ratio(threshold)},
        )

    def severity_for(self, ctx: RuleContext, measured: Fraction) -> str:
        return self.severity

    def threshold_note(self, ctx: RuleContext) -> str:
        return ""


class UnitPriceAboveReference(_ItemPriceRule):
    """R01: an item's unit price ≥ ratio × its reference price; high at ≥ high_ratio."""

    code = "R01"
    title = "Unit price above reference"
    severity = "medium"

    def severity_for(self, ctx: RuleContext, measured: Fraction) -> str:
        return "high" if measured >= self.ratio(ctx.pilot, "high_ratio") else "medium"

    def threshold_note(self, ctx: RuleContext) -> str:
        return f", high from {_times(self.ratio(ctx.pilot, 'high_ratio'))}"


class MachineAboveCatalog(_ItemPriceRule):
    """R04: a machine's unit price ≥ ratio × the catalog reference for its model code."""

    code = "R04"
    title = "Machine above catalog"
    severity = "medium"
    pilots = frozenset({"AGRO"})
    noun = "Machine"


def _road(info: dict[str, Any]) -> tuple[Fraction, Fraction, Fraction] | None:
    if not info.get("road"):
        return None
    length, width, asphalt = (Fraction(Decimal(text)) for text in info["road"])
    return length, width, asphalt


class RoadCostPerKm(Rule):
    """R02: contract amount / road length ≥ ratio × the reference price of `reference_code`."""

    code = "R02"
    title = "Road cost per km"
    severity = "medium"
    pilots = frozenset({"ROAD"})
    reads = (e.ContractSigned, e.ContractAmended)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.ContractAmended) -> None:
        info = ctx.world.contracts.get(event.contract)
        road = _road(info) if info else None
        if info is None or road is None or road[0] <= 0:
            return
        code = self.text(ctx.pilot, "reference_code")
        reference = ctx.world.price(code, ctx.world.colors[event.color]["region"])
        if not reference:
            return
        threshold = self.ratio(ctx.pilot, "ratio")
        per_km = Fraction(event.amount_tiyn) / road[0]
        measured = per_km / reference
        if measured < threshold:
            return
        per_km_tiyn = round(per_km)
        transactions = [info["transaction"]] + ([event.command_id] if isinstance(event, e.ContractAmended) else [])
        ctx.flag(
            self, event.contract, color=event.color, transactions=transactions, parties=_contract_parties(info),
            contracts=[event.contract],
            explanation=(
                f"Road contract {event.contract} costs {_kzt(event.amount_tiyn)} for {_dec(road[0], 3)} km, "
                f"{_kzt(per_km_tiyn)} per km, {_times(measured, threshold)} the {code} reference {_kzt(reference)} "
                f"(threshold {_times(threshold)})."
            ),
            evidence={"amount_tiyn": event.amount_tiyn, "length_km": info["road"][0], "cost_per_km_tiyn": per_km_tiyn,
                      "reference_price_tiyn": reference, "ratio": _ratio(measured, threshold),
                      "ratio_threshold": _ratio(threshold)},
        )


class AsphaltQuantity(Rule):
    """R03: billed asphalt tonnes over the geometry's expected tonnes > over_ratio, or < under_ratio when paid."""

    code = "R03"
    title = "Asphalt quantity"
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
        if info is None or _road(info) is None:
            return
        code, unit = self.text(ctx.pilot, "item_code"), self.text(ctx.pilot, "item_unit")
        lines = [item for item in event.items or () if item.code == code and item.unit == unit]
        entry = tracked.setdefault(event.contract, {"paid": 0, "payments": [], "billed": None, "items_tx": ""})
        billed = sum((Fraction(item.quantity) for item in lines), Fraction(0)) if lines else None
        entry["billed"], entry["items_tx"] = (str(billed) if lines else None), event.command_id
        measured = self._measure(ctx, info, entry)
        threshold = self.ratio(ctx.pilot, "over_ratio")
        if measured is not None and measured > threshold:
            self._flag(ctx, event, info, entry, "over", measured, f"threshold above {_times(threshold)}", threshold)

    def _check_under(self, ctx: RuleContext, event: Any, entry: dict[str, Any]) -> None:
        info = ctx.world.contracts.get(event.contract)
        paid_share = self.ratio(ctx.pilot, "paid_share")
        if info is None or info["amount_tiyn"] <= 0 or entry["paid"] < paid_share * info["amount_tiyn"]:
            return
        measured = self._measure(ctx, info, entry)
        threshold = self.ratio(ctx.pilot, "under_ratio")
        if measured is None or measured >= threshold:
            return
        paid = Fraction(entry["paid"], info["amount_tiyn"])
        condition = f"threshold under {_times(threshold)} once {_pct(paid_share)} is paid; {_pct(paid, paid_share)} paid"
        self._flag(ctx, event, info, entry, "under", measured, condition, threshold)

    def _measure(self, ctx: RuleContext, info: dict[str, Any], entry: dict[str, Any]) -> Fraction | None:
        expected = self._expected(ctx, info)
        return Fraction(entry["billed"]) / expected if expected and entry["billed"] is not None else None

    def _expected(self, ctx: RuleContext, info: dict[str, Any]) -> Fraction:
        length, width, asphalt = _road(info) or (Fraction(0),) * 3
        density = self.ratio(ctx.pilot, "density_t_per_m3")
        return length * 1000 * width * asphalt / 100 * density

    def _flag(self, ctx: RuleContext, event: Any, info: dict[str, Any], entry: dict[str, Any], kind: str,
              measured: Fraction, condition: str, threshold: Fraction) -> None:
        expected = self._expected(ctx, info)
        length, width, asphalt = info["road"]
        transactions = [info["transaction"], entry["items_tx"], *(entry["payments"] if kind == "under" else [])]
        ctx.flag(
            self, f"{event.contract}:{kind}", color=event.color, transactions=transactions,
            parties=_contract_parties(info), contracts=[event.contract],
            explanation=(
                f"Road contract {event.contract} bills {_dec(Fraction(entry['billed']), 6)} t of asphalt against "
                f"{_dec(expected, 6)} t expected for {length} km × {width} m × {asphalt} cm, {_times(measured, threshold)} "
                f"({'over-billing' if kind == 'over' else 'under-laying'}; {condition})."
            ),
            evidence={"billed_t": _dec(Fraction(entry["billed"]), 6), "expected_t": _dec(expected, 6),
                      "ratio": _ratio(measured, threshold), "ratio_threshold": _ratio(threshold),
                      "paid_tiyn": entry["paid"], "amount_tiyn": info["amount_tiyn"],
                      "road": {"length_km": length, "width_m": width, "asphalt_cm": asphalt}},
        )


RULES: list[type[Rule]] = [
    PriceRaisingAmendments, AmendmentVelocity, PassThroughSubcontracting,
    UnitPriceAboveReference, RoadCostPerKm, AsphaltQuantity, MachineAboveCatalog,
]
