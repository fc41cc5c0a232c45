"""F10 — Advance without delivery (RULES.md; pilots: all).

RULES.md: advances under a contract exceed 30 % of its amount, or no `accept` arrives within 90
days of the first advance

How this module reads it:
Advances are `transfer`s and `reserve`s of kind `advance`; a voided advance reservation no longer
counts. The share is checked on every advance and on every amendment (a cut contract can leave
earlier advances above the share). The acceptance window opens at the first advance of a contract
not yet accepted: any `accept` for the contract by first advance + window (inclusive) closes it; if
every advance was voided by then the window lapses and the next advance reopens it.
- F10 and F11 look at payments *under a contract*: `transfer`s and `reserve`s (a reservation counts
  when it is made; its `release` adds nothing; its `void` takes it back out).

Source: OCP R067.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import ADVANCE, contract_parties, forget_reservation, local_date, time_of
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, percent


@dataclass(frozen=True)
class Thresholds:
    """F10's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    advance_share: Fraction = fraction("0.30")
    window_days: int = whole(90)


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
    definition = (
        "advances under a contract exceed 30 % of its amount, or no `accept` arrives within 90 days of the "
        "first advance"
    )
    thresholds = Thresholds
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
            forget_reservation(self.state, event)  # paid out for good: it can no longer be voided
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
            days = self.limits(ctx.pilot).window_days
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
        limit = self.limits(ctx.pilot).advance_share
        if amount <= 0 or Fraction(record["advanced"], amount) <= limit:
            return
        share = Fraction(record["advanced"], amount)
        ctx.flag(
            self, f"{contract}:share", color=color, transactions=record["advances"],
            parties=contract_parties(ctx.world.contracts.get(contract)), contracts=[contract],
            explanation=(
                f"Advances of {kzt(record['advanced'])} under contract {contract} are {percent(share, limit)} "
                f"of its {kzt(amount)} amount (threshold: more than {percent(limit)}); check the advance "
                f"terms and recover or offset the excess."
            ),
            evidence={"trigger": "advance_share", "advanced_tiyn": record["advanced"], "contract_amount_tiyn": amount,
                      "share": decimal_text(share, 10), "advance_share": self.text(ctx.pilot, "advance_share")},
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
            parties=contract_parties(ctx.world.contracts.get(contract)), contracts=[contract],
            explanation=(
                f"Contract {contract} received {kzt(record['advanced'])} in advances, the first "
                f"({payload['first']}) on {local_date(time_of(payload['first_at']), self.time_zone).isoformat()}, and no acceptance followed within "
                f"{payload['days']} days (threshold: an acceptance within {payload['days']} days of the first "
                f"advance); ask the customer for proof of delivery."
            ),
            evidence={"trigger": "no_acceptance", "advanced_tiyn": record["advanced"], "first_advance": payload["first"],
                      "first_advance_at": payload["first_at"], "window_days": payload["days"],
                      "deadline": ctx.at.isoformat()},
        )


RULE = AdvanceWithoutDelivery
