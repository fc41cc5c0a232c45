"""F07 — Blocked attempt (RULES.md; pilots: all).

RULES.md: every command the ledger blocked (SPEC §4), one flag each, with the broken rule in
`evidence`

How this module reads it:
F07: every command the ledger blocked (SPEC §4), one flag each.
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.

Source: ARACHNE eligibility, OCP R068.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import events as e
from projections.rules.engine import Rule, RuleContext


@dataclass(frozen=True)
class Thresholds:
    """F07 has no thresholds: every case it reads is a flag."""


class BlockedAttempt(Rule):
    """F07: every command the ledger blocked (SPEC §4), one flag each."""

    code = "F07"
    title = "Blocked attempt"
    definition = (
        "every command the ledger blocked (SPEC §4), one flag each, with the broken rule in `evidence`"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.CommandBlocked,)

    def on_event(self, ctx: RuleContext, event: e.CommandBlocked) -> None:
        record = event.command
        parties = [record[k] for k in ("from", "to", "payee", "party", "customer", "supplier", "holder", "administrator") if record.get(k)]
        contract = record.get("contract")
        ctx.flag(
            self, event.command_id, color=event.color, transactions=[event.command_id], parties=parties,
            contracts=[contract] if contract else [],
            explanation=f"The ledger blocked {event.command_type} {event.command_id}: {event.detail} (rule {event.reason}).",
            evidence={"reason": event.reason, "detail": event.detail, "command_type": event.command_type},
        )


RULE = BlockedAttempt
