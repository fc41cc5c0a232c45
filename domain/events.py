"""Domain events: what happened, in past tense, as immutable records.

Every event carries the id of the command that caused it (`command_id`, the transaction id of
SPEC §2.3) and the command's business time `at`. The store's position is the other clock (record
time); it is not part of the event.

Each event class has an explicit, stable `TOPIC` (`tenge:<Name>`), registered at import, so
renaming or moving a class never breaks replay. Schemas evolve with `class_version` and
`upcast_vN_vM` (eventsourcing's mechanism).

Streams:
- one per color (the `Allocation` aggregate): allocation, its contracts, every movement, blocked
  attempts against it;
- one per party: registration and updates;
- one per reference price key (code, region);
- one per command blocked before any stream could be named (e.g. an unknown color);
- one for the roles policy (`domain.roles`);
- one for the API tokens (`domain.tokens`);
- one per anomaly flag an auditor disposed of (`domain.cases`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import register_topic

from domain.commands import AcceptedQuantity, ContractItem, RoadGeometry

# (lot id, amount taken from it in tiyn): what an outgoing movement consumed, in order.
Consumed = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class LedgerEvent:
    """Base of every stored event (eventsourcing's DomainEventProtocol).

    `actor` is who submitted the command (empty where no actor was named).
    """

    TOPIC: ClassVar[str] = ""
    originator_id: UUID
    originator_version: int
    command_id: str
    at: datetime
    actor: str = field(default="", kw_only=True)


# --- color stream --------------------------------------------------------------------------

@dataclass(frozen=True)
class ColorEvent(LedgerEvent):
    """An event on a color's stream; it names the color so every event reads on its own."""

    color: str


@dataclass(frozen=True)
class FundsAllocated(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:FundsAllocated"
    pilot: str
    fiscal_year: int
    program: str
    purpose: str
    amount_tiyn: int
    treasury: str
    administrator: str
    expires_on: date
    region: str | None


@dataclass(frozen=True)
class ContractSigned(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:ContractSigned"
    contract: str
    customer: str
    supplier: str
    amount_tiyn: int
    items: tuple[ContractItem, ...]
    method: str | None
    ends_on: date | None
    road: RoadGeometry | None
    assets: tuple[str, ...]
    beneficiary: str | None


@dataclass(frozen=True)
class ContractAmended(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:ContractAmended"
    contract: str
    amount_tiyn: int
    previous_amount_tiyn: int
    items: tuple[ContractItem, ...] | None
    reason: str | None


@dataclass(frozen=True)
class DeliveryAccepted(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:DeliveryAccepted"
    contract: str
    amount_tiyn: int
    evidence_sha256: str | None
    quantities: tuple[AcceptedQuantity, ...]
    final: bool


@dataclass(frozen=True)
class _Payment(ColorEvent):
    """Money leaving the payer under a contract, taking the lots in `consumed`."""

    payer: str
    payee: str
    amount_tiyn: int
    contract: str
    invoice: str | None
    kind: str | None
    consumed: Consumed


@dataclass(frozen=True)
class FundsTransferred(_Payment):
    """Money moved from payer to payee; the payee gets a new lot named `command_id`."""

    TOPIC: ClassVar[str] = "tenge:FundsTransferred"


@dataclass(frozen=True)
class FundsReserved(_Payment):
    """Money left the payer into a reservation named `command_id`, awaiting release or void."""

    TOPIC: ClassVar[str] = "tenge:FundsReserved"


@dataclass(frozen=True)
class ReservationReleased(ColorEvent):
    """The reservation reached its payee as a new lot named `command_id`."""

    TOPIC: ClassVar[str] = "tenge:ReservationReleased"
    reservation: str
    payer: str
    payee: str
    amount_tiyn: int
    contract: str
    evidence_sha256: str | None


@dataclass(frozen=True)
class ReservationVoided(ColorEvent):
    """The reservation went back to its payer as a new lot named `command_id`."""

    TOPIC: ClassVar[str] = "tenge:ReservationVoided"
    reservation: str
    payer: str
    amount_tiyn: int
    contract: str
    reason: str | None


@dataclass(frozen=True)
class FundsSpent(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:FundsSpent"
    holder: str
    amount_tiyn: int
    category: str
    payee: str | None
    invoice: str | None
    contract: str | None
    assets: tuple[str, ...]
    consumed: Consumed


@dataclass(frozen=True)
class FundsReturned(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:FundsReturned"
    holder: str
    amount_tiyn: int
    reason: str | None
    consumed: Consumed


@dataclass(frozen=True)
class ColorFrozen(ColorEvent):
    """The whole color (holder None) or one holder's share of it is frozen."""

    TOPIC: ClassVar[str] = "tenge:ColorFrozen"
    holder: str | None
    reason: str


@dataclass(frozen=True)
class ColorUnfrozen(ColorEvent):
    TOPIC: ClassVar[str] = "tenge:ColorUnfrozen"
    holder: str | None
    reason: str


@dataclass(frozen=True)
class CommandBlocked(LedgerEvent):
    """An attempt the ledger refused (SPEC §4): recorded so auditors see it; nothing moved.

    `reason` is the broken rule as a sentence-like name (`balance_would_go_negative`);
    `command` is the attempted command's canonical interchange record; `color` names the color
    the attempt was against, when it was on a color's stream.
    """

    TOPIC: ClassVar[str] = "tenge:CommandBlocked"
    color: str | None
    command_type: str
    reason: str
    detail: str
    command: dict[str, Any]


# --- party and reference price streams ------------------------------------------------------

@dataclass(frozen=True)
class PartyRegistered(LedgerEvent):
    TOPIC: ClassVar[str] = "tenge:PartyRegistered"
    party: str
    name: str
    kind: str
    registered_on: date | None
    address: str | None
    phone: str | None
    owners: tuple[str, ...]
    directors: tuple[str, ...]
    officials: tuple[str, ...]
    region: str | None


@dataclass(frozen=True)
class PartyUpdated(LedgerEvent):
    """Only the fields in `changes` changed (interchange names, new values)."""

    TOPIC: ClassVar[str] = "tenge:PartyUpdated"
    party: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class ReferencePriceSet(LedgerEvent):
    TOPIC: ClassVar[str] = "tenge:ReferencePriceSet"
    code: str
    unit: str
    price_tiyn: int
    region: str | None
    description: str | None


# --- roles-policy stream ---------------------------------------------------------------------

@dataclass(frozen=True)
class RolesPolicySet(LedgerEvent):
    """The roles policy in force from now on (`actors`: actor name -> role), recorded by `actor`.

    It replaces the whole previous policy; see `domain.roles`.
    """

    TOPIC: ClassVar[str] = "tenge:RolesPolicySet"
    actors: dict[str, str]


# --- API tokens stream (domain.tokens) ------------------------------------------------------

@dataclass(frozen=True)
class ApiTokenIssued(LedgerEvent):
    """An API token was issued (by `actor`, an admin) to act as `token_actor`; only the token's
    SHA-256 digest (`digest_hex`) is kept, never the token."""

    TOPIC: ClassVar[str] = "tenge:ApiTokenIssued"
    token_id: str
    token_actor: str
    digest_hex: str


@dataclass(frozen=True)
class ApiTokenRevoked(LedgerEvent):
    """An API token was revoked (by `actor`); it authenticates nobody from now on."""

    TOPIC: ClassVar[str] = "tenge:ApiTokenRevoked"
    token_id: str


# --- flag case streams ----------------------------------------------------------------------

@dataclass(frozen=True)
class FlagDisposed(LedgerEvent):
    """An auditor's disposition of an anomaly flag (`flag` its id, `rule` its code): `confirmed`,
    `explained` or `false_positive`, with a comment, recorded by `actor`. A later one supersedes it;
    see `domain.cases`."""

    TOPIC: ClassVar[str] = "tenge:FlagDisposed"
    flag: str
    rule: str
    disposition: str
    comment: str


EVENT_CLASSES: tuple[type[LedgerEvent], ...] = (
    FundsAllocated, ContractSigned, ContractAmended, DeliveryAccepted, FundsTransferred,
    FundsReserved, ReservationReleased, ReservationVoided, FundsSpent, FundsReturned,
    ColorFrozen, ColorUnfrozen, CommandBlocked, PartyRegistered, PartyUpdated, ReferencePriceSet,
    RolesPolicySet, ApiTokenIssued, ApiTokenRevoked, FlagDisposed,
)

for _cls in EVENT_CLASSES:
    assert _cls.TOPIC == f"tenge:{_cls.__name__}", _cls
    register_topic(_cls.TOPIC, _cls)
