"""F11 — Paid ahead of acceptance (RULES.md; pilots: ROAD, LOCAL).

RULES.md: cumulative non-advance payments under a contract exceed cumulative accepted value at that
time

How this module reads it:
Non-advance payments are `transfer`s and `reserve`s whose kind is not `advance` (no kind counts as
non-advance); a voided reservation no longer counts. Checked at each such payment (the only event
that can make the condition true); one flag per contract, at the first payment that runs ahead.

Source: OCP R073, World Bank toolbox #39.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import events as e
from projections.rules.common import ADVANCE, contract_parties, forget_reservation
from projections.rules.engine import Rule, RuleContext
from projections.rules.wording import kzt


@dataclass(frozen=True)
class Thresholds:
    """F11 has no thresholds: every case it reads is a flag."""


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
    definition = (
        "cumulative non-advance payments under a contract exceed cumulative accepted value at that time"
    )
    thresholds = Thresholds
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
            forget_reservation(self.state, event)  # paid out for good: it can no longer be voided
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
            parties=[event.payer, event.payee, *contract_parties(ctx.world.contracts.get(event.contract))], contracts=[event.contract],
            explanation=(
                f"With {event.command_id} ({kzt(event.amount_tiyn)} {verb} to {event.payee}), non-advance payments "
                f"under contract {event.contract} reach {kzt(record['paid'])} against {kzt(record['accepted'])} "
                f"accepted, {kzt(ahead)} ahead of acceptance (threshold: no more than accepted); hold further "
                f"payments until the works are accepted."
            ),
            evidence={"paid_tiyn": record["paid"], "accepted_tiyn": record["accepted"], "ahead_tiyn": ahead,
                      "payment": event.command_id, "payment_tiyn": event.amount_tiyn},
        )


RULE = PaidAheadOfAcceptance
