"""F12 — Round amounts (RULES.md; pilots: all).

RULES.md: a payer with ≥ 20 payments of ≥ 1 000 000 KZT has ≥ 50 % of them divisible by 100 000
KZT; Benford first-digit MAD > 0.015 for payers with > 100 payments

How this module reads it:
Payments are the payer's `transfer`s, `reserve`s and `spend`s (see the module docstring), in every
color the payer pays from. Each payment is classified (large? round?) with the thresholds of its
own pilot; the triggers are checked at each payment with the thresholds of that payment's pilot.
Each trigger raises once per payer, at the payment from which its condition first holds:
- round: ≥ `payments_min_count` payments of ≥ `payment_min_kzt`, of which ≥ `round_share` are
  divisible by `round_kzt`;
- Benford: ≥ `benford_payments_min_count` payments (any amount) whose first-digit MAD is strictly
  above `benford_mad`.
- F12 looks at everything a payer sends out of its colored money on its own instruction:
  `transfer`s, `reserve`s (counted once, when made; release and void change nothing) and `spend`s
  (the holder is the payer). Returns to the treasury are not payments.

Source: OCP R029, GTI, Nigrini.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, money, whole
from projections.rules.wording import decimal_text, kzt, percent

# How many transaction ids a F12 flag lists (the most recent ones); not a threshold, a display cap.
LISTED_TRANSACTIONS_MAX = 50


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


def _remember(recent: list[Listed], entry: Listed) -> None:
    recent.append(entry)
    if len(recent) > LISTED_TRANSACTIONS_MAX:
        del recent[0]


@state_record
class Listed(NamedTuple):
    """A payment a flag may list: its transaction and contract."""

    transaction: str
    contract: str | None


@dataclass(frozen=True)
class Thresholds:
    """F12's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    payments_min_count: int = whole(20)
    payment_min_tiyn: int = money("1000000")
    round_tiyn: int = money("100000")
    round_share: Fraction = fraction("0.50")
    benford_payments_min_count: int = whole(101)
    benford_mad: Fraction = fraction("0.015")


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
    definition = (
        "a payer with ≥ 20 payments of ≥ 1 000 000 KZT has ≥ 50 % of them divisible by 100 000 KZT; Benford "
        "first-digit MAD > 0.015 for payers with > 100 payments"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        payers = self.state.setdefault("payers", {})
        record = payers.setdefault(payer, {"count": 0, "digits": [0] * 9, "large": 0, "round": 0,
                                           "recent": [], "round_recent": []})
        pilot = ctx.pilot
        entry = Listed(event.command_id, event.contract)
        record["count"] += 1
        record["digits"][first_digit(event.amount_tiyn) - 1] += 1
        _remember(record["recent"], entry)
        if event.amount_tiyn >= self.limits(pilot).payment_min_tiyn:
            record["large"] += 1
            if event.amount_tiyn % self.limits(pilot).round_tiyn == 0:
                record["round"] += 1
                _remember(record["round_recent"], entry)
        self._check_round(ctx, payer, record, event.color)
        self._check_benford(ctx, payer, record, event.color)

    def _check_round(self, ctx: RuleContext, payer: str, record: dict[str, Any], color: str) -> None:
        pilot = ctx.pilot
        needed, share_min = self.limits(pilot).payments_min_count, self.limits(pilot).round_share
        if record["large"] < needed or record["large"] == 0 or Fraction(record["round"], record["large"]) < share_min:
            return
        share = Fraction(record["round"], record["large"])
        ctx.flag(
            self, f"{payer}:round", color=color, transactions=[item.transaction for item in record["round_recent"]],
            parties=[payer], contracts=[item.contract for item in record["round_recent"] if item.contract],
            explanation=(
                f"Payer {payer} made {record['round']} of its {record['large']} payments of at least "
                f"{kzt(self.limits(pilot).payment_min_tiyn)} in exact multiples of {kzt(self.limits(pilot).round_tiyn)} "
                f"({percent(share, share_min)}; threshold {percent(share_min)} of at least {needed} payments); "
                f"check that these payments match invoiced work."
            ),
            evidence={"trigger": "round", "large_payments_count": record["large"], "round_payments_count": record["round"],
                      "share": decimal_text(share, 6), "round_share": self.text(pilot, "round_share"),
                      "payments_min_count": needed, "payment_min_tiyn": self.limits(pilot).payment_min_tiyn,
                      "round_tiyn": self.limits(pilot).round_tiyn},
        )

    def _check_benford(self, ctx: RuleContext, payer: str, record: dict[str, Any], color: str) -> None:
        pilot = ctx.pilot
        needed, limit = self.limits(pilot).benford_payments_min_count, self.limits(pilot).benford_mad
        if record["count"] < needed or record["count"] == 0 or f"{self.code}:{payer}:benford" in ctx.engine.raised:
            return
        if not benford_mad_exceeds(record["digits"], limit):
            return
        mad = benford_mad(record["digits"])
        ctx.flag(
            self, f"{payer}:benford", color=color, transactions=[item.transaction for item in record["recent"]],
            parties=[payer], contracts=[item.contract for item in record["recent"] if item.contract],
            explanation=(
                f"The first digits of payer {payer}'s {record['count']} payments stray from Benford's law: mean "
                f"absolute deviation {decimal_text(mad, 4)} (threshold: above {self.text(pilot, 'benford_mad')} "
                f"for at least {needed} payments); review how these amounts were set."
            ),
            evidence={"trigger": "benford", "payments_count": record["count"], "first_digit_counts": list(record["digits"]),
                      "mad": decimal_text(mad, 6), "benford_mad": self.text(pilot, "benford_mad"),
                      "benford_payments_min_count": needed},
        )


RULE = RoundAmounts
