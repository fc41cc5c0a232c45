"""Facts the rules share: parties and their relations, colors, contracts, reference prices.

Kept by the rule engine from the same events the rules read, in plain containers (dicts, lists,
sets, tuples, numbers, strings) so the engine state can be saved and restored exactly. Each kind of
fact is a section of the engine's keyed state (`projections.rules.state`): a party, a contract, a
color is loaded from the store on first use and written back only when an event changes it, so
the world lives in SQL with a bounded cache in memory rather than whole in every process.

Party relations follow normalised identifiers: two parties are related when they share a normalised
address or phone, an owner or a director. Normalisation is part of the rules (RULES.md P02): case,
punctuation and whitespace are ignored, and common abbreviations are spelled one way.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from domain import events as e
from projections.rules.state import KeyedState, LazySection

# Words that mean the same in Kazakh/Russian/English addresses, spelled one way.
_ADDRESS_WORDS = {
    "street": "st", "str": "st", "st": "st", "ул": "st", "улица": "st", "көшесі": "st", "кош": "st",
    "avenue": "ave", "ave": "ave", "av": "ave", "пр": "ave", "просп": "ave", "проспект": "ave", "даңғылы": "ave",
    "microdistrict": "mkr", "mkr": "mkr", "мкр": "mkr", "микрорайон": "mkr", "md": "mkr",
    "building": "bld", "bldg": "bld", "bld": "bld", "д": "bld", "дом": "bld", "house": "bld",
    "office": "of", "of": "of", "оф": "of", "офис": "of",
    "apartment": "apt", "apt": "apt", "кв": "apt", "квартира": "apt",
    "city": "", "г": "", "город": "", "қ": "", "қаласы": "", "kazakhstan": "", "republic": "",
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalize_address(address: str | None) -> str | None:
    """Case-, punctuation- and abbreviation-insensitive form of an address (None if empty)."""
    if not address:
        return None
    text = unicodedata.normalize("NFKC", address).casefold()
    words = [_ADDRESS_WORDS.get(word, word) for word in _WORD.findall(text)]
    normalized = " ".join(word for word in words if word)
    return normalized or None


def normalize_phone(phone: str | None) -> str | None:
    """Digits only, Kazakhstan numbers as 7XXXXXXXXXX (a leading 8 is the trunk prefix)."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if len(digits) == 10:
        digits = "7" + digits
    return digits if len(digits) >= 6 else None


class World:
    """What the ledger knows of parties, colors, contracts and prices, as of the last event."""

    SECTIONS = ("parties", "by_address", "by_phone", "by_owner", "by_director", "colors", "contracts", "prices")

    def __init__(self, keyed: KeyedState | None = None) -> None:
        keyed = keyed if keyed is not None else KeyedState()
        # Readers never mutate the world's values, so reads do not make them dirty: its own
        # changes are marked where they happen (`touch`, or by assignment).
        section = {name: keyed.section(f"world.{name}", track_reads=False) for name in self.SECTIONS}
        self.parties: LazySection = section["parties"]  # party -> {name, kind, address, …}
        self.by_address: LazySection = section["by_address"]  # normalised address -> {party}
        self.by_phone: LazySection = section["by_phone"]
        self.by_owner: LazySection = section["by_owner"]
        self.by_director: LazySection = section["by_director"]
        self.colors: LazySection = section["colors"]  # color -> {pilot, administrator, …}
        self.contracts: LazySection = section["contracts"]
        self.prices: LazySection = section["prices"]  # (code, region or "") -> price_tiyn

    # --- questions ----------------------------------------------------------------------------

    def pilot_of(self, color: str | None) -> str | None:
        info = self.colors.get(color) if color else None
        return info["pilot"] if info else None

    def party(self, party: str | None) -> dict[str, Any] | None:
        return self.parties.get(party) if party else None

    def kind_of(self, party: str | None) -> str | None:
        info = self.party(party)
        return info["kind"] if info else None

    def shared_identifiers(self, a: str, b: str) -> list[str]:
        """What two parties share: 'address', 'phone', 'owner <id>', 'director <id>'."""
        pa, pb = self.parties.get(a), self.parties.get(b)
        if not pa or not pb or a == b:
            return []
        shared = []
        if pa["address_norm"] and pa["address_norm"] == pb["address_norm"]:
            shared.append("address")
        if pa["phone_norm"] and pa["phone_norm"] == pb["phone_norm"]:
            shared.append("phone")
        shared += [f"owner {o}" for o in sorted(set(pa["owners"]) & set(pb["owners"]))]
        shared += [f"director {d}" for d in sorted(set(pa["directors"]) & set(pb["directors"]))]
        return shared

    def related(self, a: str, b: str) -> bool:
        return a == b or bool(self.shared_identifiers(a, b))

    def controllers(self, party: str) -> set[str]:
        """Owners and directors of a party, and of the companies that own it (one level up)."""
        info = self.parties.get(party)
        if not info:
            return set()
        people = set(info["owners"]) | set(info["directors"])
        for owner in info["owners"]:
            parent = self.parties.get(owner)
            if parent:
                people |= set(parent["owners"]) | set(parent["directors"])
        return people

    def price(self, code: str, region: str | None) -> int | None:
        """The reference price for a code: the region's own if set, else the national one."""
        if region and (code, region) in self.prices:
            return self.prices[code, region]
        return self.prices.get((code, ""))

    # --- keeping up with events ---------------------------------------------------------------

    def apply(self, event: e.LedgerEvent) -> None:
        if isinstance(event, e.PartyRegistered):
            self._register(event)
        elif isinstance(event, e.PartyUpdated):
            self._update(event)
        elif isinstance(event, e.FundsAllocated):
            self.colors[event.color] = {
                "pilot": event.pilot, "fiscal_year": event.fiscal_year, "administrator": event.administrator,
                "treasury": event.treasury, "allocated_tiyn": event.amount_tiyn, "expires_on": event.expires_on.isoformat(),
                "region": event.region, "at": event.at.isoformat(),
            }
        elif isinstance(event, e.ContractSigned):
            self.contracts[event.contract] = {
                "color": event.color, "customer": event.customer, "supplier": event.supplier,
                "amount_tiyn": event.amount_tiyn, "signed_amount_tiyn": event.amount_tiyn,
                "signed_at": event.at.isoformat(), "transaction": event.command_id,
                "road": (str(event.road.length_km), str(event.road.width_m), str(event.road.asphalt_cm)) if event.road else None,
            }
        elif isinstance(event, e.ContractAmended):
            contract = self.contracts[event.contract]
            self.contracts.touch(event.contract)
            contract["amount_tiyn"] = event.amount_tiyn
        elif isinstance(event, e.ReferencePriceSet):
            self.prices[event.code, event.region or ""] = event.price_tiyn

    def _register(self, ev: e.PartyRegistered) -> None:
        self.parties[ev.party] = {
            "name": ev.name, "kind": ev.kind, "status": "active",
            "registered_on": ev.registered_on.isoformat() if ev.registered_on else None,
            "address": ev.address, "phone": ev.phone, "region": ev.region,
            "address_norm": normalize_address(ev.address), "phone_norm": normalize_phone(ev.phone),
            "owners": list(ev.owners), "directors": list(ev.directors), "officials": list(ev.officials),
        }
        self._index(ev.party, +1)

    def _update(self, ev: e.PartyUpdated) -> None:
        info = self.parties.get(ev.party)
        if info is None:
            return
        self._index(ev.party, -1)
        self.parties.touch(ev.party)
        for name, value in ev.changes.items():
            info[name] = list(value) if isinstance(value, tuple) else value
        info["address_norm"] = normalize_address(info["address"])
        info["phone_norm"] = normalize_phone(info["phone"])
        self._index(ev.party, +1)

    def _index(self, party: str, sign: int) -> None:
        info = self.parties[party]
        keys = [(self.by_address, info["address_norm"]), (self.by_phone, info["phone_norm"])]
        keys += [(self.by_owner, owner) for owner in info["owners"]]
        keys += [(self.by_director, director) for director in info["directors"]]
        for index, key in keys:
            if not key:
                continue
            members = index.setdefault(key, set())
            if sign > 0:
                members.add(party)
            else:
                members.discard(party)
