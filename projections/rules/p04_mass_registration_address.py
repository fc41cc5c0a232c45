"""P04 — Mass-registration address (RULES.md; pilots: all).

RULES.md: a payee receiving colored money shares its normalised address with ≥ 10 registered
parties

How this module reads it:
P04: a payee of colored money shares its address with many other registered parties.
- P04 counts the registered parties (any status) at the payee's normalised address other than the
  payee itself; one flag per (color, payee).

Source: FATF–Egmont 2018.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.rules.common import INFLOWS
from projections.rules.engine import Rule, RuleContext
from projections.rules.thresholds import whole
from projections.rules.wording import kzt, named


@dataclass(frozen=True)
class Thresholds:
    """P04's thresholds for one pilot (RULES.md defaults; `--rules FILE` overrides them)."""

    parties_min_count: int = whole(10)


class MassRegistrationAddress(Rule):
    """P04: a payee of colored money shares its address with many other registered parties."""

    code = "P04"
    title = "Mass-registration address"
    definition = (
        "a payee receiving colored money shares its normalised address with ≥ 10 registered parties"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = INFLOWS

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        world = ctx.world
        info = world.party(event.payee)
        address = info["address_norm"] if info else None
        if not address:
            return
        members = world.by_address.get(address, set())
        others = len(members) - (event.payee in members)
        minimum = self.limits(ctx.pilot).parties_min_count
        if others < minimum:
            return
        ctx.flag(
            self, f"{event.color}:{event.payee}", color=event.color, transactions=[event.command_id],
            parties=[event.payee, event.payer], contracts=[event.contract],
            explanation=(f"{named(world, event.payee)} received {kzt(event.amount_tiyn)} in {event.command_id} and shares "
                         f"its address '{address}' with {others} other registered parties (threshold ≥ {minimum})."),
            evidence={"address": address, "other_parties_count": others, "parties_min_count": minimum,
                      "other_parties": sorted(members - {event.payee}), "amount_tiyn": event.amount_tiyn},
        )


RULE = MassRegistrationAddress
