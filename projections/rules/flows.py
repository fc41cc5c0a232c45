"""F — money flows: splits, pass-through, circular flows, cash-like outflows, blocked attempts,
duplicate invoices, advances, payments ahead of acceptance, round amounts (RULES.md)."""

from __future__ import annotations

from domain import events as e
from projections.rules.engine import Rule, RuleContext


class BlockedAttempt(Rule):
    """F07: every command the ledger blocked (SPEC §4), one flag each."""

    code = "F07"
    title = "Blocked attempt"
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


RULES: list[type[Rule]] = [BlockedAttempt]
