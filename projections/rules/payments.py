"""F10–F12: advances without delivery, payments ahead of acceptance, round amounts (RULES.md).

Shared reading of "payment" in this family:
- F10 and F11 look at payments *under a contract*: `transfer`s and `reserve`s (a reservation counts
  when it is made; its `release` adds nothing; its `void` takes it back out).
- F12 looks at everything a payer sends out of its colored money on its own instruction:
  `transfer`s, `reserve`s (counted once, when made; release and void change nothing) and `spend`s
  (the holder is the payer). Returns to the treasury are not payments.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

from domain import events as e
from domain.money import format_kzt
from projections.rules.engine import Rule, RuleContext

ADVANCE = "advance"
# How many transaction ids a F12 flag lists (the most recent ones); not a threshold, a display cap.
LISTED_TRANSACTIONS_MAX = 50


def _kzt(tiyn: int) -> str:
    return format_kzt(tiyn) + " KZT"


def _decimal(value: Fraction, places: int) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _percent(value: Fraction, threshold: Fraction | None = None) -> str:
    """`value` as a percentage, with as many decimals (2..10) as it takes to differ from `threshold`."""
    places = 2
    while threshold is not None and places < 10 and value != threshold \
            and _decimal(value * 100, places) == _decimal(threshold * 100, places):
        places += 1
    text = str(_decimal(value * 100, places))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ratio_text(value: Fraction, places: int = 6) -> str:
    return str(_decimal(value, places))


def _forget_reservation(state: dict[str, Any], event: e.ReservationReleased) -> None:
    record = state.get("contracts", {}).get(event.contract)
    if record is not None:
        record["reserved"].pop(event.reservation, None)


def _contract_parties(ctx: RuleContext, contract: str) -> list[str]:
    info = ctx.world.contracts.get(contract) or {}
    return [party for party in (info.get("customer"), info.get("supplier")) if party]


# --- F10 --------------------------------------------------------------------------------------

class AdvanceWithoutDelivery(Rule):
    """F10: advances under a contract exceed 30 % of its current amount, or no acceptance within
    90 days of the first advance.

    Advances are `transfer`s and `reserve`s of kind `advance`; a voided advance reservation no longer
    counts. The share is checked on every advance and on every amendment (a cut contract can leave
    earlier advances above the share). The acceptance window opens at the first advance of a
    contract not yet accepted: any `accept` for the contract by first advance + window (inclusive)
    closes it; if every advance was voided by then the window lapses and the next advance reopens it.
    """

    code = "F10"
    title = "Advance without delivery"
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided, e.DeliveryAccepted,
             e.ContractAmended)

    def _contract(self, contract: str) -> dict[str, Any]:
        contracts = self.state.setdefault("contracts", {})
        if contract not in contracts:
            contracts[contract] = {"advanced": 0, "advances": [], "reserved": {}, "accepted": False, "armed": False}
        return contracts[contract]

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.DeliveryAccepted):
            self._contract(event.contract)["accepted"] = True
        elif isinstance(event, e.ReservationReleased):
            _forget_reservation(self.state, event)  # paid out for good: it can no longer be voided
        elif isinstance(event, e.ReservationVoided):
            self._void(event)
        elif isinstance(event, e.ContractAmended):
            if event.contract in self.state.get("contracts", {}):
                self._check_share(ctx, event.contract, event.color)
        elif event.kind == ADVANCE:
            self._advance(ctx, event)

    def _advance(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved) -> None:
        record = self._contract(event.contract)
        record["advanced"] += event.amount_tiyn
        record["advances"].append(event.command_id)
        if isinstance(event, e.FundsReserved):
            record["reserved"][event.command_id] = event.amount_tiyn
        if not record["accepted"] and not record["armed"]:
            record["armed"] = True
            days = self.number(ctx.pilot, "window_days")
            ctx.schedule(self, event.at + timedelta(days=days), event.contract, {
                "contract": event.contract, "color": event.color, "first": event.command_id,
                "first_at": event.at.isoformat(), "days": days,
            })
        self._check_share(ctx, event.contract, event.color)

    def _void(self, event: e.ReservationVoided) -> None:
        record = self.state.get("contracts", {}).get(event.contract)
        if record is None or event.reservation not in record["reserved"]:
            return
        record["advanced"] -= record["reserved"].pop(event.reservation)
        record["advances"].remove(event.reservation)

    def _check_share(self, ctx: RuleContext, contract: str, color: str) -> None:
        record = self.state["contracts"][contract]
        amount = ctx.world.contracts[contract]["amount_tiyn"]
        limit = self.ratio(ctx.pilot, "advance_share")
        if amount <= 0 or Fraction(record["advanced"], amount) <= limit:
            return
        share = Fraction(record["advanced"], amount)
        ctx.flag(
            self, f"{contract}:share", color=color, transactions=record["advances"],
            parties=_contract_parties(ctx, contract), contracts=[contract],
            explanation=(
                f"Advances of {_kzt(record['advanced'])} under contract {contract} are {_percent(share, limit)} % "
                f"of its {_kzt(amount)} amount (threshold: more than {_percent(limit)} %); check the advance "
                f"terms and recover or offset the excess."
            ),
            evidence={"trigger": "advance_share", "advanced_tiyn": record["advanced"], "contract_amount_tiyn": amount,
                      "share": _ratio_text(share, 10), "advance_share": self.text(ctx.pilot, "advance_share")},
        )

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        record = self.state["contracts"][payload["contract"]]
        if record["accepted"]:
            return
        if record["advanced"] <= 0:  # every advance was voided: the next advance opens a new window
            record["armed"] = False
            return
        contract = payload["contract"]
        ctx.flag(
            self, f"{contract}:no-acceptance", color=payload["color"], transactions=record["advances"],
            parties=_contract_parties(ctx, contract), contracts=[contract],
            explanation=(
                f"Contract {contract} received {_kzt(record['advanced'])} in advances, the first "
                f"({payload['first']}) on {payload['first_at'][:10]}, and no acceptance followed within "
                f"{payload['days']} days (threshold: an acceptance within {payload['days']} days of the first "
                f"advance); ask the customer for proof of delivery."
            ),
            evidence={"trigger": "no_acceptance", "advanced_tiyn": record["advanced"], "first_advance": payload["first"],
                      "first_advance_at": payload["first_at"], "window_days": payload["days"],
                      "deadline": ctx.at.isoformat()},
        )


# --- F11 --------------------------------------------------------------------------------------

class PaidAheadOfAcceptance(Rule):
    """F11 (ROAD, LOCAL): cumulative non-advance payments under a contract exceed the cumulative
    accepted value at that time.

    Non-advance payments are `transfer`s and `reserve`s whose kind is not `advance` (no kind
    counts as non-advance); a voided reservation no longer counts. Checked at each such payment
    (the only event that can make the condition true); one flag per contract, at the first payment
    that runs ahead.
    """

    code = "F11"
    title = "Paid ahead of acceptance"
    severity = "high"
    pilots = frozenset({"ROAD", "LOCAL"})
    reads = (e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided, e.DeliveryAccepted)

    def _contract(self, contract: str) -> dict[str, Any]:
        contracts = self.state.setdefault("contracts", {})
        if contract not in contracts:
            contracts[contract] = {"paid": 0, "accepted": 0, "payments": [], "reserved": {}}
        return contracts[contract]

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.DeliveryAccepted):
            self._contract(event.contract)["accepted"] += event.amount_tiyn
        elif isinstance(event, e.ReservationReleased):
            _forget_reservation(self.state, event)  # paid out for good: it can no longer be voided
        elif isinstance(event, e.ReservationVoided):
            record = self.state.get("contracts", {}).get(event.contract)
            if record is not None and event.reservation in record["reserved"]:
                record["paid"] -= record["reserved"].pop(event.reservation)
                record["payments"].remove(event.reservation)
        elif event.kind != ADVANCE:
            self._payment(ctx, event)

    def _payment(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved) -> None:
        record = self._contract(event.contract)
        record["paid"] += event.amount_tiyn
        record["payments"].append(event.command_id)
        if isinstance(event, e.FundsReserved):
            record["reserved"][event.command_id] = event.amount_tiyn
        if record["paid"] <= record["accepted"]:
            return
        ahead = record["paid"] - record["accepted"]
        verb = "reserved" if isinstance(event, e.FundsReserved) else "transferred"
        ctx.flag(
            self, event.contract, color=event.color, transactions=record["payments"],
            parties=[event.payer, event.payee, *_contract_parties(ctx, event.contract)], contracts=[event.contract],
            explanation=(
                f"With {event.command_id} ({_kzt(event.amount_tiyn)} {verb} to {event.payee}), non-advance payments "
                f"under contract {event.contract} reach {_kzt(record['paid'])} against {_kzt(record['accepted'])} "
                f"accepted, {_kzt(ahead)} ahead of acceptance (threshold: no more than accepted); hold further "
                f"payments until the works are accepted."
            ),
            evidence={"paid_tiyn": record["paid"], "accepted_tiyn": record["accepted"], "ahead_tiyn": ahead,
                      "payment": event.command_id, "payment_tiyn": event.amount_tiyn},
        )


# --- F12 --------------------------------------------------------------------------------------

def _benford_expected() -> tuple[Fraction, ...]:
    """log10(1 + 1/d) for d = 1..9, to 40 significant digits (exactly rounded: deterministic)."""
    with localcontext() as context:
        context.prec = 40
        return tuple(Fraction((Decimal(d + 1) / Decimal(d)).log10()) for d in range(1, 10))


BENFORD_EXPECTED = _benford_expected()


def first_digit(amount_tiyn: int) -> int:
    """The first significant digit of an amount (the same in tiyn as in KZT)."""
    assert amount_tiyn > 0, amount_tiyn
    return int(str(amount_tiyn)[0])


def benford_mad(digit_counts: list[int]) -> Fraction:
    """Mean over digits 1..9 of |observed share − log10(1 + 1/d)| (Nigrini's MAD), exactly."""
    total = sum(digit_counts)
    assert len(digit_counts) == 9 and total > 0, digit_counts
    return sum((abs(Fraction(count, total) - expected) for count, expected in zip(digit_counts, BENFORD_EXPECTED, strict=True)),
               Fraction(0)) / 9


# The same statistic in integers for the per-payment check: log10(1 + 1/d) scaled by 10^18 (rounded).
_BENFORD_SCALE = 10**18
_BENFORD_SCALED = tuple(round(expected * _BENFORD_SCALE) for expected in BENFORD_EXPECTED)


def benford_mad_exceeds(digit_counts: list[int], limit: Fraction) -> bool:
    """benford_mad(digit_counts) > limit, in integer arithmetic (exact up to 10^-18 per digit)."""
    total = sum(digit_counts)
    deviation = sum(abs(count * _BENFORD_SCALE - expected * total) for count, expected in zip(digit_counts, _BENFORD_SCALED, strict=True))
    # deviation / (9 · total · scale) > limit
    return deviation * limit.denominator > 9 * total * _BENFORD_SCALE * limit.numerator


class RoundAmounts(Rule):
    """F12: a payer's payments are suspiciously round, or their first digits stray from Benford's law.

    Payments are the payer's `transfer`s, `reserve`s and `spend`s (see the module docstring), in every
    color the payer pays from. Each payment is classified (large? round?) with the thresholds of its
    own pilot; the triggers are checked at each payment with the thresholds of that payment's pilot.
    Each trigger raises once per payer, at the payment from which its condition first holds:
    - round: ≥ `payments_min_count` payments of ≥ `payment_min_kzt`, of which ≥ `round_share` are
      divisible by `round_kzt`;
    - Benford: ≥ `benford_payments_min_count` payments (any amount) whose first-digit MAD is
      strictly above `benford_mad`.
    """

    code = "F12"
    title = "Round amounts"
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        payers = self.state.setdefault("payers", {})
        record = payers.setdefault(payer, {"count": 0, "digits": [0] * 9, "large": 0, "round": 0,
                                           "recent": [], "round_recent": []})
        pilot = ctx.pilot
        entry = [event.command_id, event.contract]
        record["count"] += 1
        record["digits"][first_digit(event.amount_tiyn) - 1] += 1
        _remember(record["recent"], entry)
        if event.amount_tiyn >= self.tiyn(pilot, "payment_min_kzt"):
            record["large"] += 1
            if event.amount_tiyn % self.tiyn(pilot, "round_kzt") == 0:
                record["round"] += 1
                _remember(record["round_recent"], entry)
        self._check_round(ctx, payer, record, event.color)
        self._check_benford(ctx, payer, record, event.color)

    def _check_round(self, ctx: RuleContext, payer: str, record: dict[str, Any], color: str) -> None:
        pilot = ctx.pilot
        needed, share_min = self.number(pilot, "payments_min_count"), self.ratio(pilot, "round_share")
        if record["large"] < needed or record["large"] == 0 or Fraction(record["round"], record["large"]) < share_min:
            return
        share = Fraction(record["round"], record["large"])
        ctx.flag(
            self, f"{payer}:round", color=color, transactions=[tx for tx, _ in record["round_recent"]],
            parties=[payer], contracts=[c for _, c in record["round_recent"] if c],
            explanation=(
                f"Payer {payer} made {record['round']} of its {record['large']} payments of at least "
                f"{_kzt(self.tiyn(pilot, 'payment_min_kzt'))} in exact multiples of {_kzt(self.tiyn(pilot, 'round_kzt'))} "
                f"({_percent(share, share_min)} %; threshold {_percent(share_min)} % of at least {needed} payments); "
                f"check that these payments match invoiced work."
            ),
            evidence={"trigger": "round", "large_payments_count": record["large"], "round_payments_count": record["round"],
                      "share": _ratio_text(share), "round_share": self.text(pilot, "round_share"),
                      "payments_min_count": needed, "payment_min_tiyn": self.tiyn(pilot, "payment_min_kzt"),
                      "round_tiyn": self.tiyn(pilot, "round_kzt")},
        )

    def _check_benford(self, ctx: RuleContext, payer: str, record: dict[str, Any], color: str) -> None:
        pilot = ctx.pilot
        needed, limit = self.number(pilot, "benford_payments_min_count"), self.ratio(pilot, "benford_mad")
        if record["count"] < needed or record["count"] == 0 or f"{self.code}:{payer}:benford" in ctx.engine.raised:
            return
        if not benford_mad_exceeds(record["digits"], limit):
            return
        mad = benford_mad(record["digits"])
        ctx.flag(
            self, f"{payer}:benford", color=color, transactions=[tx for tx, _ in record["recent"]],
            parties=[payer], contracts=[c for _, c in record["recent"] if c],
            explanation=(
                f"The first digits of payer {payer}'s {record['count']} payments stray from Benford's law: mean "
                f"absolute deviation {_ratio_text(mad, 4)} (threshold: above {self.text(pilot, 'benford_mad')} "
                f"for at least {needed} payments); review how these amounts were set."
            ),
            evidence={"trigger": "benford", "payments_count": record["count"], "first_digit_counts": list(record["digits"]),
                      "mad": _ratio_text(mad), "benford_mad": self.text(pilot, "benford_mad"),
                      "benford_payments_min_count": needed},
        )


def _remember(recent: list[Any], entry: list[Any]) -> None:
    recent.append(entry)
    if len(recent) > LISTED_TRANSACTIONS_MAX:
        del recent[0]


RULES: list[type[Rule]] = [AdvanceWithoutDelivery, PaidAheadOfAcceptance, RoundAmounts]
