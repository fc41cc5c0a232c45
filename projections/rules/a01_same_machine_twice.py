"""A01 — Same machine subsidised twice (RULES.md; pilots: AGRO).

RULES.md: one VIN appears in contracts or spends under more than one color or contract

How this module reads it:
A01: one VIN appears in contracts or spends under more than one color or contract.
- A01: each VIN keeps the list of its *uses*: a contract naming it (`assets` of `sign_contract`),
  counted under (color, contract), and a spend naming it (`assets` of `spend`), counted under (color,
  its contract) or, without a contract, under its color only. A use that brings a color or a contract
  the VIN did not have, when the VIN then has more than one color or more than one contract, raises
  one flag (per VIN and use). A spend without a contract under the contract's own color (the dealer
  paying the manufacturer for the machine) is not a second subsidy.

Source: ARACHNE, EU no double funding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import events as e
from projections.rules.engine import Rule, RuleContext
from projections.rules.wording import kzt


@dataclass(frozen=True)
class Thresholds:
    """A01 has no thresholds: every case it reads is a flag."""


class SameMachineTwice(Rule):
    """A01: one VIN appears in contracts or spends under more than one color or contract."""

    code = "A01"
    title = "Same machine subsidised twice"
    definition = (
        "one VIN appears in contracts or spends under more than one color or contract"
    )
    thresholds = Thresholds
    severity = "high"
    pilots = frozenset({"AGRO"})
    reads = (e.ContractSigned, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.FundsSpent) -> None:
        if isinstance(event, e.ContractSigned):
            use = {"transaction": event.command_id, "color": event.color, "contract": event.contract,
                   "amount_tiyn": event.amount_tiyn, "what": f"contract {event.contract}",
                   "parties": [p for p in (event.customer, event.supplier, event.beneficiary) if p]}
        else:
            use = {"transaction": event.command_id, "color": event.color, "contract": event.contract,
                   "amount_tiyn": event.amount_tiyn, "what": f"spend {event.command_id}",
                   "parties": [p for p in (event.holder, event.payee) if p]}
        vins = self.state.setdefault("vins", {})
        for vin in event.assets:
            uses = vins.setdefault(vin, [])
            new_color = all(u["color"] != use["color"] for u in uses)
            new_contract = use["contract"] is not None and all(u["contract"] != use["contract"] for u in uses)
            uses.append(use)
            colors = sorted({u["color"] for u in uses})
            contracts = sorted({u["contract"] for u in uses if u["contract"] is not None})
            if (new_color or new_contract) and (len(colors) > 1 or len(contracts) > 1):
                self._flag(ctx, vin, uses, colors, contracts)

    def _flag(self, ctx: RuleContext, vin: str, uses: list[dict[str, Any]], colors: list[str], contracts: list[str]) -> None:
        use, earlier = uses[-1], uses[:-1]
        before = "; ".join(f"{u['what']} ({kzt(u['amount_tiyn'])}, color {u['color']})" for u in earlier)
        ctx.flag(
            self, f"{vin}:{use['transaction']}", color=use["color"],
            transactions=[u["transaction"] for u in uses], parties=[p for u in uses for p in u["parties"]],
            contracts=contracts,
            explanation=(f"VIN {vin} in {use['what']} ({kzt(use['amount_tiyn'])}, color {use['color']}) was already "
                         f"funded by {before}: {len(colors)} color(s) and {len(contracts)} contract(s) for one machine "
                         f"(threshold: more than one color or contract)."),
            evidence={"vin": vin, "colors": colors, "contracts": contracts,
                      "uses": [{k: u[k] for k in ("transaction", "color", "contract", "amount_tiyn")} for u in uses]},
        )


RULE = SameMachineTwice
