"""S01 — Pass-through subcontracting (RULES.md; pilots: ROAD, LOCAL).

RULES.md: a contractor pays on ≥ 80 % of what it received under a contract to its own
subcontractors, or the chain of contractors below the administrator is ≥ 3 deep

How this module reads it:
S01: a contractor pays on ≥ share of what it received, or a contract chain ≥ depth_min deep.
- S01 counts money that reached a party: transfers and released reservations (an open reservation
  has not reached the subcontractor yet); the share is cumulative for the color and checked at every
  payment the contractor makes, so passing on most of an early advance counts. "Received" is
  everything a non-administrator holder got under the color (always under contracts where it is the
  supplier); "paid on" is everything it paid under contracts where it is the customer. A contract's
  depth is fixed when it is signed: 1 if the administrator is the customer, else 1 + the deepest
  chain known to reach its customer. The share paid on is judged once the color has expired: at the
  first instant after `expires_on` in the ledger's time zone (SPEC §2.5).

Source: OCP R071/R072.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.common import day_after
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, kzt, percent


def _after_expiry(color: dict[str, Any], zone: timezone) -> datetime:
    """The first moment after the color's expiry day, in the ledger's time zone."""
    return day_after(date.fromisoformat(color["expires_on"]), zone)


def _flow() -> dict[str, Any]:
    return {"in": 0, "out": 0, "in_tx": [], "out_tx": [], "payers": [], "payees": [], "contracts": [], "scheduled": False}


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


@dataclass(frozen=True)
class Thresholds:
    """S01's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    share: Fraction = fraction("0.80")
    depth_min: int = whole(3)


class PassThroughSubcontracting(Rule):
    """S01: a contractor pays on ≥ share of what it received, or a contract chain ≥ depth_min deep."""

    code = "S01"
    title = "Pass-through subcontracting"
    definition = (
        "a contractor pays on ≥ 80 % of what it received under a contract to its own subcontractors, or the "
        "chain of contractors below the administrator is ≥ 3 deep"
    )
    thresholds = Thresholds
    severity = "medium"
    pilots = frozenset({"ROAD", "LOCAL"})
    reads = (e.ContractSigned, e.FundsTransferred, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            self._on_signed(ctx, event)
        else:
            self._on_payment(ctx, event)

    def _on_signed(self, ctx: RuleContext, event: e.ContractSigned) -> None:
        administrator = ctx.world.colors[event.color]["administrator"]
        chains = self.state.setdefault("chains", {}).setdefault(event.color, {})
        above = [] if event.customer == administrator else chains.get(event.customer, [])
        chain = [*above, event.contract]
        if len(chain) > len(chains.get(event.supplier, [])):
            chains[event.supplier] = chain
        depth_min = self.limits(ctx.pilot).depth_min
        if len(chain) < depth_min:
            return
        contracts = ctx.world.contracts
        parties = [administrator, *(contracts[c]["supplier"] for c in chain)]
        ctx.flag(
            self, f"depth:{event.contract}", color=event.color,
            transactions=[contracts[c]["transaction"] for c in chain], parties=parties, contracts=chain,
            explanation=(
                f"Contract {event.contract} ({kzt(event.amount_tiyn)}) puts supplier {event.supplier} "
                f"{len(chain)} contracts "
                f"below administrator {administrator} ({' → '.join(chain)}; threshold {depth_min} deep)."
            ),
            evidence={"depth": len(chain), "depth_min": depth_min, "chain": chain, "amount_tiyn": event.amount_tiyn},
        )

    def _on_payment(self, ctx: RuleContext, event: e.FundsTransferred | e.ReservationReleased) -> None:
        color = ctx.world.colors[event.color]
        flows = self.state.setdefault("flows", {}).setdefault(event.color, {})
        if event.payee != color["administrator"]:
            into = flows.setdefault(event.payee, _flow())
            into["in"] += event.amount_tiyn
            into["in_tx"].append(event.command_id)
            _add(into["payers"], event.payer)
            _add(into["contracts"], event.contract)
        if event.payer in (color["administrator"], color["treasury"]):
            return
        out = flows.setdefault(event.payer, _flow())
        out["out"] += event.amount_tiyn
        out["out_tx"].append(event.command_id)
        _add(out["payees"], event.payee)
        _add(out["contracts"], event.contract)
        if not out["scheduled"]:
            out["scheduled"] = True
            ctx.schedule(self, _after_expiry(color, self.time_zone), f"share:{event.color}:{event.payer}", [event.color, event.payer])

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        """The share paid on is judged once the color has expired: mid-year, advances passed down
        to subcontractors look like pass-through even in honest chains."""
        color, payer = payload
        out = self.state["flows"][color][payer]
        pilot = ctx.world.pilot_of(color)
        share = self.limits(pilot).share
        if out["in"] <= 0 or out["out"] < share * out["in"]:
            return
        measured = Fraction(out["out"], out["in"])
        ctx.flag(
            self, key, color=color, pilot=pilot,
            transactions=[*out["in_tx"], *out["out_tx"]], parties=[payer, *out["payers"], *out["payees"]],
            contracts=out["contracts"],
            explanation=(
                f"Contractor {payer} paid on {percent(measured, share)} of the {kzt(out['in'])} it received under "
                f"{color} to its own subcontractors {', '.join(out['payees'])} ({kzt(out['out'])}; threshold {percent(share)})."
            ),
            evidence={"received_tiyn": out["in"], "paid_on_tiyn": out["out"], "share": decimal_text(measured, 6, strip=True, against=share),
                      "share_threshold": decimal_text(share, 6, strip=True)},
        )


RULE = PassThroughSubcontracting
