"""P03 — Conflict of interest (RULES.md; pilots: all).

RULES.md: an official of the administrator is an owner or director of a party receiving the color
(directly or through an owning company)

How this module reads it:
P03: an official of the color's administrator owns or directs a party receiving the color.
- P03 checks the supplier when a contract is signed and the payee of every transfer and release;
  one flag per (color, receiving party). Spends to officials are F04's.

Source: OCP R043/R032, FATF PEP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import events as e
from projections.rules.common import INFLOWS
from projections.rules.engine import Rule, RuleContext
from projections.rules.wording import kzt, named
from projections.rules.world import World


def _role(world: World, party: str, person: str) -> str:
    """How `person` controls `party`: 'owner', 'director', 'owner of its owner X', … ."""
    info = world.parties.get(party) or {"owners": [], "directors": []}
    roles = ["the party itself"] if person == party else []
    roles += [role for role, people in (("owner", info["owners"]), ("director", info["directors"])) if person in people]
    for parent in info["owners"]:
        parent_info = world.parties.get(parent)
        if parent_info:
            roles += [f"{role} of its owner {parent}" for role, people in
                      (("owner", parent_info["owners"]), ("director", parent_info["directors"])) if person in people]
    return ", ".join(roles)


@dataclass(frozen=True)
class Thresholds:
    """P03 has no thresholds: every case it reads is a flag."""


class ConflictOfInterest(Rule):
    """P03: an official of the color's administrator owns or directs a party receiving the color."""

    code = "P03"
    title = "Conflict of interest"
    definition = (
        "an official of the administrator is an owner or director of a party receiving the color (directly or"
        " through an owning company)"
    )
    thresholds = Thresholds
    severity = "high"
    reads = (e.ContractSigned, *INFLOWS)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        world = ctx.world
        color = world.colors.get(event.color)
        if isinstance(event, e.ContractSigned):
            party, payer, what = event.supplier, event.customer, f"is the supplier of contract {event.contract}"
        else:
            party, payer = event.payee, event.payer
            what = f"received {kzt(event.amount_tiyn)} in {event.command_id}"
        admin = world.party(color["administrator"]) if color else None
        if not admin:
            return
        officials = set(admin["officials"])
        hits = sorted(officials & (world.controllers(party) | {party}))
        if not hits:
            return
        people = ", ".join(f"{official} ({_role(world, party, official)})" for official in hits)
        are = "is an official" if len(hits) == 1 else "are officials"
        ctx.flag(
            self, f"{event.color}:{party}", color=event.color, transactions=[event.command_id],
            parties=[party, color["administrator"], *hits, *([payer] if payer != color["administrator"] else [])],
            contracts=[event.contract],
            explanation=(f"{named(world, party)} {what}, yet {people} {are} of the color's administrator "
                         f"{named(world, color['administrator'])}; an official must not approve payments to a party they control."),
            evidence={"officials": hits, "roles": {official: _role(world, party, official) for official in hits},
                      "administrator": color["administrator"]},
        )


RULE = ConflictOfInterest
