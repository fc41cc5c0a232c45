"""Parties (BIN/IIN) and reference prices: small aggregates with one stream each."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain import commands as c
from domain import events as e
from domain.aggregate import Aggregate
from domain.policy import Rejection

_UPDATABLE = ("name", "address", "phone", "owners", "directors", "officials", "status")


class Party(Aggregate):
    """A registered organisation (BIN) or person (IIN)."""

    def __init__(self, originator_id: UUID) -> None:
        super().__init__(originator_id)
        self.party = ""
        self.kind = ""
        self.status = ""
        self.registered_at: datetime | None = None  # business time of the registration (SPEC §2.5)
        self.fields: dict[str, Any] = {}

    @property
    def registered(self) -> bool:
        return self.version > 0 and bool(self.kind)

    def decide(self, command: c.Command) -> e.LedgerEvent | Rejection:
        if isinstance(command, c.RegisterParty):
            if self.registered:
                return Rejection("party_already_registered", f"party {command.party} is registered already")
            return e.PartyRegistered(
                originator_id=self.id, originator_version=self.version + 1, command_id=command.id,
                **c.shared_fields(command, e.PartyRegistered),
            )
        assert isinstance(command, c.UpdateParty), type(command)
        if not self.registered:
            return Rejection("unknown_party", f"party {command.party} is not registered")
        assert self.registered_at is not None
        if command.at < self.registered_at:
            return Rejection(
                "dated_before_reference",
                f"update_party {command.id} is dated {command.at.isoformat()}, before the registration of party "
                f"{command.party} ({self.registered_at.isoformat()})",
            )
        changes = {name: getattr(command, name) for name in _UPDATABLE if getattr(command, name) is not None}
        return e.PartyUpdated(
            originator_id=self.id, originator_version=self.version + 1, command_id=command.id,
            **c.shared_fields(command, e.PartyUpdated), changes=changes,
        )

    def _mutate(self, event: e.LedgerEvent) -> None:
        if isinstance(event, e.PartyRegistered):
            self.party, self.kind, self.status = event.party, event.kind, "active"
            self.registered_at = event.at
            self.fields = {
                "name": event.name, "registered_on": event.registered_on, "address": event.address,
                "phone": event.phone, "owners": event.owners, "directors": event.directors,
                "officials": event.officials, "region": event.region,
            }
        elif isinstance(event, e.PartyUpdated):
            assert self.registered
            self.fields.update({k: v for k, v in event.changes.items() if k != "status"})
            self.status = event.changes.get("status", self.status)
        else:
            super()._mutate(event)


class ReferencePrice(Aggregate):
    """The history of one reference price key (code, region)."""

    def __init__(self, originator_id: UUID) -> None:
        super().__init__(originator_id)
        self.price_tiyn = 0

    def decide(self, command: c.SetReferencePrice) -> e.LedgerEvent:
        return e.ReferencePriceSet(
            originator_id=self.id, originator_version=self.version + 1, command_id=command.id,
            **c.shared_fields(command, e.ReferencePriceSet),
        )

    def _mutate(self, event: e.LedgerEvent) -> None:
        if isinstance(event, e.ReferencePriceSet):
            self.price_tiyn = event.price_tiyn
        else:
            super()._mutate(event)
