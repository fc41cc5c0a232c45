"""F09 — Duplicate invoice (RULES.md; pilots: all).

RULES.md: two payments from one payer with the same invoice reference after upper-casing and
removing everything but letters and digits; or same amount, same contract, ≤ 30 days apart, kind
not `progress`

How this module reads it:
A voided reservation is no payment: it leaves the indices and never matches later. One flag per
repeating payment, naming every earlier payment it repeats; high when the invoice repeats, medium
for a repeated amount alone.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: World Bank / IACRC duplicate invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import local_date, time_of
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import whole
from projections.rules.wording import kzt, named


def normalize_invoice(invoice: str | None) -> str:
    """Upper-cased, letters and digits only: "kds-2025/017" -> "KDS2025017" ("" when nothing is left)."""
    return "".join(ch for ch in (invoice or "").upper() if ch.isalnum())


@state_record
class Payment(NamedTuple):
    """A payment remembered by its payer's invoice or (contract, amount)."""

    transaction: str
    at: str  # ISO business time
    amount_tiyn: int
    contract: str | None
    invoice: str | None
    color: str


@state_record
class Opened(NamedTuple):
    """An open reservation's index entries, to forget if it is voided."""

    payer: str
    invoice: str
    amount_key: str


@dataclass(frozen=True)
class Thresholds:
    """F09's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    window_days: int = whole(30)


class DuplicateInvoice(Rule):
    """F09: two payments (transfers, reservations, spends) from one payer with the same normalised
    invoice reference; or two payments from one payer of the same amount under the same contract
    at most `window_days` apart, neither of kind `progress`.

    A voided reservation is no payment: it leaves the indices and never matches later. One flag per
    repeating payment, naming every earlier payment it repeats; high when the invoice repeats,
    medium for a repeated amount alone.
    """

    code = "F09"
    title = "Duplicate invoice"
    definition = (
        "two payments from one payer with the same invoice reference after upper-casing and removing "
        "everything but letters and digits; or same amount, same contract, ≤ 30 days apart, kind not "
        "`progress`"
    )
    thresholds = Thresholds
    severity = "high"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.ReservationReleased, e.ReservationVoided)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        if isinstance(event, (e.ReservationReleased, e.ReservationVoided)):
            opened = self.state.get("open", {}).pop(event.reservation, None)
            if opened and isinstance(event, e.ReservationVoided):
                self._forget(event.reservation, *opened)
            return
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        kind = None if isinstance(event, e.FundsSpent) else event.kind
        invoice = normalize_invoice(event.invoice)
        amount_key = f"{payer}|{event.contract}|{event.amount_tiyn}" if event.contract and kind != "progress" else ""
        payment = Payment(event.command_id, event.at.isoformat(), event.amount_tiyn, event.contract, event.invoice, event.color)
        # keyed by (payer, invoice), so an event loads one invoice's payments, not all of the payer's
        by_invoice = self.state["invoices"].setdefault((payer, invoice), []) if invoice else []
        same_invoice = list(by_invoice)
        same_amount = self._same_amount(ctx, amount_key, event.at) if amount_key else []
        if invoice:
            by_invoice.append(payment)
        if amount_key:
            self.state["amounts"][amount_key].append(payment)
            ctx.expire(self, event.color, event.at + timedelta(days=self.limits(ctx.pilot).window_days), amount_key)
        if isinstance(event, e.FundsReserved):
            self.state.setdefault("open", {})[event.command_id] = Opened(payer, invoice, amount_key)
        if same_invoice or same_amount:
            self._raise(ctx, event, payer, invoice, same_invoice, same_amount)

    def _same_amount(self, ctx: RuleContext, key: str, at: datetime) -> list[Payment]:
        """Earlier payments of the key within the window (older ones are dropped for good)."""
        window = timedelta(days=self.limits(ctx.pilot).window_days)
        payments = self.state.setdefault("amounts", {}).setdefault(key, [])
        payments[:] = [p for p in payments if at - time_of(p.at) <= window]
        return [p for p in payments if abs(at - time_of(p.at)) <= window]

    def on_expire(self, ctx: RuleContext, key: Any) -> None:
        """An amount key names one contract, so one color: once the color's time is past the window
        of its newest payment, `_same_amount` would keep none of them — the key can go."""
        amounts = self.state["amounts"]
        payments = amounts.peek(key)
        window = timedelta(days=self.limits(ctx.pilot).window_days)
        if payments is not None and all(ctx.at - time_of(p.at) > window for p in payments):
            amounts.pop(key)

    def _forget(self, reservation: str, payer: str, invoice: str, amount_key: str) -> None:
        lists = [self.state["invoices"].get((payer, invoice), []) if invoice else [],
                 self.state.get("amounts", {}).get(amount_key, []) if amount_key else []]
        for payments in lists:
            payments[:] = [p for p in payments if p.transaction != reservation]

    def _day(self, payment: Payment) -> str:
        return local_date(time_of(payment.at), self.time_zone).isoformat()

    def _raise(self, ctx: RuleContext, event: Any, payer: str, invoice: str,
               same_invoice: list[Payment], same_amount: list[Payment]) -> None:
        earlier = list({p.transaction: p for p in same_invoice + same_amount}.values())
        listed = ", ".join(f"{p.transaction} ({kzt(p.amount_tiyn)}, {self._day(p)})" for p in earlier)
        window = self.limits(ctx.pilot).window_days
        reasons = []
        if same_invoice:
            reasons.append(f"the same invoice reference {event.invoice!r} (normalised {invoice})")
        if same_amount:
            reasons.append(f"the same amount under {event.contract} within {window} days, neither of kind progress")
        payees = [getattr(event, "payee", None)]
        ctx.flag(
            self, event.command_id, color=event.color, severity="high" if same_invoice else "medium",
            transactions=[p.transaction for p in earlier] + [event.command_id], parties=[payer] + [p for p in payees if p],
            contracts=[p.contract for p in earlier if p.contract] + ([event.contract] if event.contract else []),
            explanation=(
                f"{named(ctx.world, payer)} paid {kzt(event.amount_tiyn)} in {event.command_id}, repeating {listed} "
                f"with {' and '.join(reasons)} (rule: an invoice is paid once; equal non-progress payments under one "
                f"contract within {window} days are duplicates)."
            ),
            evidence={
                "invoice": event.invoice, "invoice_normalized": invoice or None, "amount_tiyn": event.amount_tiyn,
                "same_invoice": [p.transaction for p in same_invoice], "same_amount": [p.transaction for p in same_amount],
                "earlier_amounts_tiyn": [p.amount_tiyn for p in earlier], "window_days": window,
            },
        )


RULE = DuplicateInvoice
