"""F05 — Cash-like outflow (RULES.md; pilots: all).

RULES.md: within 30 days after a colored inflow, spends to individuals (IIN payees) other than the
holder's declared `wages` exceed 30 % of the holder's colored inflows

How this module reads it:
Inflows are the allocation (for the administrator), transfers and releases the holder received; a
spend counts when it comes at most `window_days` after the holder's latest inflow. A payee is an
individual when it is registered with kind `individual`; an unregistered payee id is not counted,
because the ledger cannot tell an IIN from a BIN without the registration and a rule never guesses
(RULES.md). One flag per holder and color.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: FATF corruption reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import above, time_of
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, named, percent


@state_record
class Spend(NamedTuple):
    """A cash-like spend: transaction, payee, amount, category."""

    transaction: str
    payee: str
    amount_tiyn: int
    category: str | None


@dataclass(frozen=True)
class Thresholds:
    """F05's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    window_days: int = whole(30)
    share: Fraction = fraction("0.30")


class CashLikeOutflow(Rule):
    """F05: within `window_days` after a colored inflow, a holder's spends to individuals other
    than `wages` exceed `share` of its colored inflows (of that color, so far).

    Inflows are the allocation (for the administrator), transfers and releases the holder received;
    a spend counts when it comes at most `window_days` after the holder's latest inflow. A payee is
    an individual when it is registered with kind `individual`; an unregistered payee id is not
    counted, because the ledger cannot tell an IIN from a BIN without the registration and a rule
    never guesses (RULES.md). One flag per holder and color.
    """

    code = "F05"
    title = "Cash-like outflow"
    definition = (
        "within 30 days after a colored inflow, spends to individuals (IIN payees) other than the holder's "
        "declared `wages` exceed 30 % of the holder's colored inflows"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.FundsAllocated, e.FundsTransferred, e.ReservationReleased, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        holders = self.state.setdefault("holders", {})
        if isinstance(event, e.FundsSpent):
            self._spent(ctx, event, holders.get(f"{event.color}|{event.holder}"))
            return
        receiver = event.administrator if isinstance(event, e.FundsAllocated) else event.payee
        entry = holders.setdefault(f"{event.color}|{receiver}", {"inflow": 0, "last": None, "cash": 0, "spends": []})
        entry["inflow"] += event.amount_tiyn
        if entry["last"] is None or event.at > time_of(entry["last"]):
            entry["last"] = event.at.isoformat()

    def _spent(self, ctx: RuleContext, event: e.FundsSpent, entry: dict[str, Any] | None) -> None:
        if entry is None or event.category == "wages" or ctx.world.kind_of(event.payee) != "individual":
            return
        window = timedelta(days=self.limits(ctx.pilot).window_days)
        if event.at - time_of(entry["last"]) > window:
            return
        entry["cash"] += event.amount_tiyn
        entry["spends"].append(Spend(event.command_id, event.payee, event.amount_tiyn, event.category))
        share_max = self.limits(ctx.pilot).share
        if not above(entry["cash"], share_max, entry["inflow"]):
            return
        share = Fraction(entry["cash"], entry["inflow"])
        spends = entry["spends"]
        ctx.flag(
            self, f"{event.color}:{event.holder}", color=event.color,
            transactions=[spend.transaction for spend in spends], parties=[event.holder] + [spend.payee for spend in spends],
            explanation=(
                f"{named(ctx.world, event.holder)} paid {kzt(entry['cash'])} to individuals outside wages "
                f"({', '.join(spend.transaction for spend in spends)}) within {window.days} days of colored inflows, "
                f"{percent(share, share_max)} of its {kzt(entry['inflow'])} colored inflows (threshold above {percent(share_max)} "
                f"within {window.days} days)."
            ),
            evidence={
                "cash_like_tiyn": entry["cash"], "inflow_tiyn": entry["inflow"], "share": decimal_text(share, 4),
                "share_max": self.text(ctx.pilot, "share"), "window_days": window.days,
                "categories": sorted({spend.category for spend in spends}), "payees": sorted({spend.payee for spend in spends}),
            },
        )


RULE = CashLikeOutflow
