"""P — parties: new companies, shared identifiers, conflicts of interest, mass-registration
addresses; and C01, supplier dominance (RULES.md).

Where the catalog leaves room, these rules read it as follows (tests/rules/test_parties.py shows
each choice):
- P01 looks at each supplier's very first contract as supplier and its very first colored inflow
  (transfer or release), once each; one flag per supplier, raised by whichever qualifies first.
- P02 checks a chain when a contract creates it (customer–supplier, dealer–beneficiary, and every
  earlier supplier of the same customer under the same color), and again whenever a party of an
  existing chain is registered or updated, so a later change that creates the shared identifier is
  caught too. One flag per (color, pair of parties).
- P03 checks the supplier when a contract is signed and the payee of every transfer and release;
  one flag per (color, receiving party). Spends to officials are F04's.
- P04 counts the registered parties (any status) at the payee's normalised address other than the
  payee itself; one flag per (color, payee).
- C01 groups contracts whose customer is the color's administrator by (administrator, pilot,
  fiscal year of the signing date), at their current amounts, and re-evaluates on every signing
  and amendment; one flag per (administrator, pilot, year, supplier).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

from domain import events as e
from domain.money import format_kzt
from projections.rules.engine import Rule, RuleContext
from projections.rules.world import World

INFLOWS = (e.FundsTransferred, e.ReservationReleased)


def kzt(tiyn: int) -> str:
    return f"{format_kzt(tiyn)} KZT"


def decimal_text(value: Fraction, places: int = 4) -> str:
    """A ratio as a decimal string, rounded down (so 0.49999 never reads as 0.5)."""
    quantum = Decimal(1).scaleb(-places)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format(exact.quantize(quantum, rounding=ROUND_DOWN).normalize(), "f")


def percent(value: Fraction) -> str:
    return decimal_text(value * 100, 2)


def named(world: World, party: str) -> str:
    info = world.party(party)
    return f"{info['name']} ({party})" if info else party


# --- P01 ------------------------------------------------------------------------------------

class NewCompany(Rule):
    """P01: a supplier's first contract or first colored inflow, large, soon after registration."""

    code = "P01"
    title = "New company, large money"
    severity = "medium"
    reads = (e.ContractSigned, *INFLOWS)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            kind, party, payer, what = "contracted", event.supplier, event.customer, f"its first contract {event.contract}"
        else:
            kind, party, payer, what = "paid", event.payee, event.payer, f"its first colored inflow {event.command_id}"
        first = self.state.setdefault(kind, set())
        if party in first:
            return
        first.add(party)
        info = ctx.world.party(party)
        if not info or not info["registered_on"]:
            return  # no registration date: nothing to measure
        registered = date.fromisoformat(info["registered_on"])
        age_days = (ctx.at.date() - registered).days
        age_max, amount_min = self.number(ctx.pilot, "age_days"), self.tiyn(ctx.pilot, "amount_min_kzt")
        if age_days >= age_max or event.amount_tiyn < amount_min:
            return
        ctx.flag(
            self, party, color=event.color, transactions=[event.command_id], parties=[party, payer],
            contracts=[event.contract],
            explanation=(f"Supplier {named(ctx.world, party)} got {what} of {kzt(event.amount_tiyn)} "
                         f"{age_days} days after its registration on {registered.isoformat()} "
                         f"(threshold: ≥ {kzt(amount_min)} within < {age_max} days)."),
            evidence={"trigger": "contract" if kind == "contracted" else "inflow", "amount_tiyn": event.amount_tiyn,
                      "registered_on": registered.isoformat(), "age_days": age_days,
                      "age_days_max": age_max, "amount_min_tiyn": amount_min},
        )


# --- P02 ------------------------------------------------------------------------------------

class SharedIdentifiers(Rule):
    """P02: two parties of one chain share an address, a phone, an owner or a director.

    state: links[party][flag key] = chain (customer–supplier and dealer–beneficiary pairs);
    groups["color|customer"][supplier] = [first contract, its transaction];
    member_of[supplier] = group keys it belongs to.
    """

    code = "P02"
    title = "Shared identifiers"
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
            group[ev.supplier] = [ev.contract, ev.command_id]
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
                     "color": color, "contracts": [group[other][0], group[supplier][0]],
                     "transactions": [group[other][1], group[supplier][1]], "customer": customer}
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


# --- P03 ------------------------------------------------------------------------------------

class ConflictOfInterest(Rule):
    """P03: an official of the color's administrator owns or directs a party receiving the color."""

    code = "P03"
    title = "Conflict of interest"
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


# --- P04 ------------------------------------------------------------------------------------

class MassRegistrationAddress(Rule):
    """P04: a payee of colored money shares its address with many other registered parties."""

    code = "P04"
    title = "Mass-registration address"
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
        minimum = self.number(ctx.pilot, "parties_min_count")
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


# --- C01 ------------------------------------------------------------------------------------

class SupplierDominance(Rule):
    """C01: one supplier holds ≥ share of an administrator's contract value in a fiscal year.

    state: groups["admin|pilot|year"] = {count, total, values{supplier: tiyn},
    contracts{supplier: [ids]}, leader}; of_contract[contract] = group key (counted contracts).
    The leader is the supplier with the largest value (ties: smallest id); only it, and the
    supplier just changed, can newly reach the share.
    """

    code = "C01"
    title = "Supplier dominance"
    severity = "medium"
    reads = (e.ContractSigned, e.ContractAmended)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        world = ctx.world
        contract = world.contracts.get(event.contract)
        color = world.colors.get(event.color)
        if not contract or not color:
            return
        of_contract = self.state.setdefault("of_contract", {})
        if isinstance(event, e.ContractSigned):
            if event.customer != color["administrator"]:
                return
            key = f"{event.customer}|{color['pilot']}|{ctx.at.year}"
            of_contract[event.contract] = key
            group = self.state.setdefault("groups", {}).setdefault(
                key, {"count": 0, "total": 0, "values": {}, "contracts": {}, "leader": None})
            group["count"] += 1
            group["contracts"].setdefault(event.supplier, []).append(event.contract)
            delta = event.amount_tiyn
        else:
            key = of_contract.get(event.contract)
            if key is None:
                return
            group = self.state["groups"][key]
            delta = event.amount_tiyn - event.previous_amount_tiyn
        supplier = contract["supplier"]
        _add(group, supplier, delta)
        for candidate in dict.fromkeys([group["leader"], supplier]):
            self._check(ctx, event, key, group, candidate)

    def _check(self, ctx: RuleContext, event: Any, key: str, group: dict[str, Any], supplier: str) -> None:
        admin, pilot, year = key.split("|")
        share_min, count_min = self.ratio(pilot, "share"), self.number(pilot, "contracts_min_count")
        value, total = group["values"][supplier], group["total"]
        if group["count"] < count_min or total <= 0 or Fraction(value, total) < share_min:
            return
        share = Fraction(value, total)
        contracts = group["contracts"][supplier]
        transactions = [ctx.world.contracts[c]["transaction"] for c in contracts]
        if isinstance(event, e.ContractAmended):
            transactions.append(event.command_id)
        ctx.flag(
            self, f"{admin}:{pilot}:{year}:{supplier}", color=event.color, transactions=transactions,
            parties=[supplier, admin], contracts=contracts,
            explanation=(f"Supplier {named(ctx.world, supplier)} holds {percent(share)} % ({kzt(value)}) of the "
                         f"{kzt(total)} contracted by administrator {named(ctx.world, admin)} in {pilot} {year} over "
                         f"{group['count']} contracts (threshold {percent(share_min)} % where there are "
                         f"≥ {count_min} contracts)."),
            evidence={"supplier_tiyn": value, "total_tiyn": total, "share": decimal_text(share),
                      "share_min": decimal_text(share_min), "contracts_count": group["count"],
                      "contracts_min_count": count_min, "fiscal_year": int(year)},
        )


def _add(group: dict[str, Any], supplier: str, delta: int) -> None:
    """Add `delta` to a supplier's value and keep the leader (largest value, then smallest id)."""
    values = group["values"]
    values[supplier] = values.get(supplier, 0) + delta
    group["total"] += delta
    leader = group["leader"]
    if leader is None or (-values[supplier], supplier) < (-values[leader], leader):
        group["leader"] = supplier
    elif supplier == leader and delta < 0:
        group["leader"] = min(values, key=lambda s: (-values[s], s))


RULES: list[type[Rule]] = [NewCompany, SharedIdentifiers, ConflictOfInterest, MassRegistrationAddress, SupplierDominance]
