"""P02 — Shared identifiers (RULES.md; pilots: all).

RULES.md: payer and payee in one chain (contractor–subcontractor, dealer–beneficiary, any two
suppliers of one customer under one color) share a normalised address, a phone, an owner or a
director

How this module reads it:
state: links[party][flag key] = chain (customer–supplier and dealer–beneficiary pairs);
groups["color|customer"][supplier] = [first contract, its transaction]; member_of[supplier] = group
keys it belongs to.
- P02 checks a chain when a contract creates it (customer–supplier, dealer–beneficiary, and every
  earlier supplier of the same customer under the same color), and again whenever a party of an
  existing chain is registered or updated, so a later change that creates the shared identifier is
  caught too. One flag per (color, pair of parties).

Source: Cardinal R044, OCP R032/R044, SASU RISK2-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from domain import events as e
from projections.rules.engine import Rule, RuleContext, state_record
from projections.rules.wording import named
from projections.rules.world import World


def _pair_key(color: str, a: str, b: str) -> str:
    return f"{color}:{min(a, b)}:{max(a, b)}"


def _candidates(world: World, party: str) -> set[str]:
    """Parties sharing at least one identifier with `party`, from the world's indices."""
    info = world.party(party)
    if not info:
        return set()
    found: set[str] = set()
    found |= world.by_address.get(info["address_norm"], set()) if info["address_norm"] else set()
    found |= world.by_phone.get(info["phone_norm"], set()) if info["phone_norm"] else set()
    for owner in info["owners"]:
        found |= world.by_owner.get(owner, set())
    for director in info["directors"]:
        found |= world.by_director.get(director, set())
    return found


@state_record
class FirstContract(NamedTuple):
    """A supplier's first contract with a customer under a color, and its transaction."""

    contract: str
    transaction: str


@dataclass(frozen=True)
class Thresholds:
    """P02 has no thresholds: every case it reads is a flag."""


class SharedIdentifiers(Rule):
    """P02: two parties of one chain share an address, a phone, an owner or a director.

    state: links[party][flag key] = chain (customer–supplier and dealer–beneficiary pairs);
    groups["color|customer"][supplier] = [first contract, its transaction];
    member_of[supplier] = group keys it belongs to.
    """

    code = "P02"
    title = "Shared identifiers"
    definition = (
        "payer and payee in one chain (contractor–subcontractor, dealer–beneficiary, any two suppliers of one"
        " customer under one color) share a normalised address, a phone, an owner or a director"
    )
    thresholds = Thresholds
    severity = "medium"
    reads = (e.ContractSigned, e.PartyRegistered, e.PartyUpdated)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            self._signed(ctx, event)
        else:
            self._changed(ctx, event.party, event.command_id)

    def _signed(self, ctx: RuleContext, ev: e.ContractSigned) -> None:
        pairs = [(ev.customer, ev.supplier, f"customer and supplier of contract {ev.contract}")]
        if ev.beneficiary:
            pairs.append((ev.supplier, ev.beneficiary, f"dealer and beneficiary of contract {ev.contract}"))
        links = self.state.setdefault("links", {})
        for a, b, relation in pairs:
            chain = {"a": a, "b": b, "relation": relation, "color": ev.color,
                     "contracts": [ev.contract], "transactions": [ev.command_id]}
            key = _pair_key(ev.color, a, b)
            for party in (a, b):
                links.setdefault(party, {}).setdefault(key, chain)
            self._check(ctx, chain, None)
        group_key = f"{ev.color}|{ev.customer}"
        group = self.state.setdefault("groups", {}).setdefault(group_key, {})
        if ev.supplier not in group:
            group[ev.supplier] = FirstContract(ev.contract, ev.command_id)
            self.state.setdefault("member_of", {}).setdefault(ev.supplier, []).append(group_key)
        self._check_group(ctx, group_key, ev.supplier, None)

    def _changed(self, ctx: RuleContext, party: str, command_id: str) -> None:
        for _, chain in sorted(self.state.get("links", {}).get(party, {}).items()):
            self._check(ctx, chain, command_id)
        for group_key in self.state.get("member_of", {}).get(party, []):
            self._check_group(ctx, group_key, party, command_id)

    def _check_group(self, ctx: RuleContext, group_key: str, supplier: str, command_id: str | None) -> None:
        """Compare `supplier` with the other suppliers of its group that share something with it."""
        color, customer = group_key.split("|")
        group = self.state["groups"][group_key]
        for other in sorted(p for p in _candidates(ctx.world, supplier) if p in group and p != supplier):
            chain = {"a": other, "b": supplier, "relation": f"suppliers of {named(ctx.world, customer)} under one color",
                     "color": color, "contracts": [group[other].contract, group[supplier].contract],
                     "transactions": [group[other].transaction, group[supplier].transaction], "customer": customer}
            self._check(ctx, chain, command_id)

    def _check(self, ctx: RuleContext, chain: dict[str, Any], command_id: str | None) -> None:
        world = ctx.world
        a, b, color = chain["a"], chain["b"], chain["color"]
        shared = world.shared_identifiers(a, b)
        if not shared or world.pilot_of(color) not in self.pilots:
            return
        info = world.parties[a]
        described = [f"address '{info['address_norm']}'" if s == "address" else
                     f"phone {info['phone_norm']}" if s == "phone" else s for s in shared]
        strong = any(s.startswith(("owner", "director")) for s in shared)
        when = f" (since {command_id})" if command_id else ""
        ctx.flag(
            self, _pair_key(color, a, b), color=color, severity="high" if strong else "medium",
            transactions=[*chain["transactions"], *([command_id] if command_id else [])],
            parties=[a, b, *([chain["customer"]] if "customer" in chain else [])], contracts=chain["contracts"],
            explanation=(f"{named(world, a)} and {named(world, b)}, {chain['relation']}, share "
                         f"{', '.join(described)}{when}; parties of one chain should be independent."),
            evidence={"relation": chain["relation"], "shared": shared,
                      "address": info["address_norm"] if "address" in shared else None,
                      "phone": info["phone_norm"] if "phone" in shared else None},
        )


RULE = SharedIdentifiers
