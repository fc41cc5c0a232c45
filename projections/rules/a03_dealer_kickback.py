"""A03 — Dealer kickback (RULES.md; pilots: AGRO).

RULES.md: the dealer (or a party sharing its owner, director, address or phone) pays the contract's
beneficiary farmer (or a party related to the farmer) ≥ 5 % of the machine price within 180 days

How this module reads it:
A03: the dealer (or a related party) pays the beneficiary farmer (or a related party) ≥ `share` of
the machine price within `window_days` of the contract's signing.
- A03: payments are transfers, releases (when the money reaches the payee) and spends with a
  `payee`, in any AGRO color. A payment counts towards a contract when its payer is the contract's
  supplier (the dealer) or related to it, its payee the contract's `beneficiary` or related to it
  (`World.related`, at the time of the payment), and it comes within `window_days` of the contract's
  signing (inclusive). The flag rises when the payments summed per contract reach `share` of the
  contract's current amount (the machine price).

Source: FFIEC app. F.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.common import related_parties
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.thresholds import fraction, whole
from projections.rules.wording import decimal_text, duration_days, kzt, percent


def _who(role: str, party: str, actual: list[str]) -> str:
    """"Dealer X", "Dealer X's related party Y" or "Dealer X and its related party Y"."""
    others = [p for p in actual if p != party]
    if not others:
        return f"{role} {party}"
    related = f"related part{'ies' if len(others) > 1 else 'y'} {', '.join(others)}"
    return f"{role} {party} and its {related}" if party in actual else f"{role} {party}'s {related}"


@state_record
class Kickback(NamedTuple):
    """A payment from the dealer's side to the farmer's side."""

    transaction: str
    payer: str
    payee: str
    amount_tiyn: int


@dataclass(frozen=True)
class Thresholds:
    """A03's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    share: Fraction = fraction("0.05")
    window_days: int = whole(180)


class DealerKickback(Rule):
    """A03: the dealer (or a related party) pays the beneficiary farmer (or a related party)
    ≥ `share` of the machine price within `window_days` of the contract's signing."""

    code = "A03"
    title = "Dealer kickback"
    definition = (
        "the dealer (or a party sharing its owner, director, address or phone) pays the contract's "
        "beneficiary farmer (or a party related to the farmer) ≥ 5 % of the machine price within 180 days"
    )
    thresholds = Thresholds
    severity = "high"
    pilots = frozenset({"AGRO"})
    reads = (e.ContractSigned, e.FundsTransferred, e.ReservationReleased, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            self._open(ctx, event)
        elif isinstance(event, e.FundsSpent):
            if event.payee:
                self._payment(ctx, event, event.holder, event.payee)
        else:
            self._payment(ctx, event, event.payer, event.payee)

    def _open(self, ctx: RuleContext, event: e.ContractSigned) -> None:
        if not event.beneficiary:
            return
        until = event.at + timedelta(days=self.limits(ctx.pilot).window_days)
        self.state.setdefault("open", {})[event.contract] = {
            "dealer": event.supplier, "farmer": event.beneficiary, "color": event.color,
            "signed_at": event.at.isoformat(), "until": until.isoformat(), "paid": 0, "payments": [],
        }
        self.state.setdefault("by_dealer", {}).setdefault(event.supplier, []).append(event.contract)
        ctx.schedule(self, until, event.contract)

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        info = self.state.get("open", {}).pop(key, None)
        if info is not None:
            contracts = self.state["by_dealer"][info["dealer"]]
            contracts.remove(key)
            if not contracts:
                del self.state["by_dealer"][info["dealer"]]

    def _payment(self, ctx: RuleContext, event: Any, payer: str, payee: str) -> None:
        by_dealer, open_ = self.state.get("by_dealer", {}), self.state.get("open", {})
        for dealer in related_parties(ctx.world, payer):
            for contract in by_dealer.get(dealer, ()):
                info = open_[contract]
                signed, until = datetime.fromisoformat(info["signed_at"]), datetime.fromisoformat(info["until"])
                if not signed <= event.at <= until or not ctx.world.related(payee, info["farmer"]):
                    continue
                info["paid"] += event.amount_tiyn
                info["payments"].append(Kickback(event.command_id, payer, payee, event.amount_tiyn))
                self._check(ctx, contract, info, signed)

    def _check(self, ctx: RuleContext, contract: str, info: dict[str, Any], signed: datetime) -> None:
        price = ctx.world.contracts[contract]["amount_tiyn"]
        share, threshold = Fraction(info["paid"], price), self.limits(ctx.pilot).share
        if share < threshold:
            return
        window = self.limits(ctx.pilot).window_days
        payers = sorted({p.payer for p in info["payments"]})
        payees = sorted({p.payee for p in info["payments"]})
        ctx.flag(
            self, contract, color=info["color"], transactions=[p.transaction for p in info["payments"]],
            parties=[info["dealer"], info["farmer"], *payers, *payees], contracts=[contract],
            explanation=(f"{_who('Dealer', info['dealer'], payers)} paid {_who('beneficiary', info['farmer'], payees)} "
                         f"{kzt(info['paid'])}, "
                         f"{percent(share, threshold)} of the {kzt(price)} machine price of contract {contract}, "
                         f"{duration_days(signed, ctx.at)} days after signing "
                         f"(threshold {percent(threshold)} within {window} days)."),
            evidence={"paid_tiyn": info["paid"], "price_tiyn": price, "share": decimal_text(share, 4),
                      "threshold_share": str(self.text(ctx.pilot, "share")), "window_days": window,
                      "signed_at": info["signed_at"], "payers": payers, "payees": payees},
        )


RULE = DealerKickback
