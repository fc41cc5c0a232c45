"""L03 — Year-end rush (RULES.md; pilots: all).

RULES.md: an administrator pays ≥ 4.9 × its mean weekly colored payments of the rest of the fiscal
year in the last 7 days of the fiscal year

How this module reads it:
L03: an administrator pays ≥ `ratio` × its mean weekly colored payments of the rest of the fiscal
year in the last `last_days` days of it.
- L03: per (administrator, pilot, calendar year of the business date in the ledger's
  time zone, SPEC §2.5), the administrator's
  colored payments are transfers and reservations it makes (at reservation time; a voided reservation
  is taken back out) and its spends. "Last days" are the last `last_days` dates of the year (25–31
  December by default), "rest" the dates before. Mean weekly payments of the rest = rest total × 7 /
  number of rest days (358 in 2025). The flag rises when the last-days total is > 0 and ≥ `ratio` ×
  that mean (so a year with nothing paid before the last week and something in it is flagged).
  Evaluated at the start of 1 January of the next year in the ledger's time zone (an instant written
  in another offset counts in the year it falls in there); payments after that moment for a year already evaluated are ignored.

Source: LM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import day_after, local_date
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, round_half_up, times


@state_record
class Payment(NamedTuple):
    """A last-days payment: its transaction and color."""

    transaction: str
    color: str


@state_record
class Reserved(NamedTuple):
    """An open reservation counted in a year: its bucket key, part ("last"/"rest") and amount."""

    bucket: str
    part: str
    amount_tiyn: int


@dataclass(frozen=True)
class Thresholds:
    """L03's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    ratio: Fraction = fraction("4.9")
    last_days: int = whole(7)


class YearEndRush(Rule):
    """L03: an administrator pays ≥ `ratio` × its mean weekly colored payments of the rest of the
    fiscal year in the last `last_days` days of it."""

    code = "L03"
    title = "Year-end rush"
    definition = (
        "an administrator pays ≥ 4.9 × its mean weekly colored payments of the rest of the fiscal year in the"
        " last 7 days of the fiscal year"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.ReservationVoided, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        reservations = self.state.setdefault("reservations", {})
        if isinstance(event, e.ReservationReleased):
            reservations.pop(event.reservation, None)
            return
        if isinstance(event, e.ReservationVoided):
            self._void(event.reservation)
            return
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        if payer != ctx.world.colors[event.color]["administrator"]:
            return
        day = local_date(event.at, self.time_zone)
        key = f"{payer}|{ctx.pilot}|{day.year}"
        if key in self.state.setdefault("closed", {}):
            return
        buckets = self.state.setdefault("buckets", {})
        if key not in buckets:
            buckets[key] = {"admin": payer, "pilot": ctx.pilot, "year": day.year, "rest": 0, "last": 0, "txns": []}
            ctx.schedule(self, day_after(date(day.year, 12, 31), self.time_zone), key)
        bucket = buckets[key]
        last_days = self.limits(ctx.pilot).last_days
        part = "last" if day > date(day.year, 12, 31) - timedelta(days=last_days) else "rest"
        bucket[part] += event.amount_tiyn
        if part == "last":
            bucket["txns"].append(Payment(event.command_id, event.color))
        if isinstance(event, e.FundsReserved):
            reservations[event.command_id] = Reserved(key, part, event.amount_tiyn)

    def _void(self, reservation: str) -> None:
        """A voided reservation was not paid after all: take it back out of its open year."""
        entry = self.state["reservations"].pop(reservation, None)
        bucket = self.state.get("buckets", {}).get(entry.bucket) if entry else None
        if bucket is None:
            return
        bucket[entry.part] -= entry.amount_tiyn
        bucket["txns"] = [t for t in bucket["txns"] if t.transaction != reservation]

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        bucket = self.state["buckets"].pop(key)
        self.state["closed"][key] = True
        pilot, year, last = bucket["pilot"], bucket["year"], bucket["last"]
        last_days = self.limits(pilot).last_days
        rest_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days - last_days
        mean = Fraction(bucket["rest"] * 7, rest_days)
        threshold = self.limits(pilot).ratio
        if last <= 0 or last < threshold * mean:
            return
        measured = times(Fraction(last) / mean, threshold) if mean else "infinitely many times"
        colors = sorted({t.color for t in bucket["txns"]})
        ctx.flag(
            self, key, color=colors[0] if len(colors) == 1 else None, pilot=pilot,
            transactions=[t.transaction for t in bucket["txns"]], parties=[bucket["admin"]],
            explanation=(f"Administrator {bucket['admin']} paid {kzt(last)} in the last {last_days} days of {year}, "
                         f"{measured} its mean weekly colored payments of {kzt(round_half_up(mean))} over the rest of the "
                         f"year ({kzt(bucket['rest'])} in {rest_days} days; threshold {times(threshold)})."),
            evidence={"last_tiyn": last, "rest_tiyn": bucket["rest"], "rest_days": rest_days, "last_days": last_days,
                      "mean_weekly_tiyn": round_half_up(mean), "ratio": decimal_text(Fraction(last) / mean, 4) if mean else None,
                      "threshold_ratio": self.text(pilot, "ratio"), "fiscal_year": year, "colors": colors},
        )


RULE = YearEndRush
