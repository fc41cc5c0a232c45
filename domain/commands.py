"""Commands: the validated, typed form of one interchange line (SPEC §3).

Every command is an immutable record. Amounts are `int` tiyn (`*_tiyn`), non-money quantities
`Decimal`, times timezone-aware `datetime`, dates `date`, lists tuples. The interchange schema of
each command (`ledger.schemas`, one model per class here, attribute for attribute) is the one
place that builds them from JSON; the CLI builds the same JSON.
Field names follow the interchange names, except `from`/`to` which are Python keywords and become
`payer`/`payee` (and `from` of a spend or return becomes `holder`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, ClassVar

PARTY_KINDS = ("treasury", "administrator", "contractor", "supplier", "dealer", "farmer", "individual")
PARTY_STATUSES = ("active", "liquidated", "debarred")
CONTRACT_METHODS = ("open", "direct", "quotation")
TRANSFER_KINDS = ("advance", "progress", "final", "subsidy")
SPEND_CATEGORIES = (
    "materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services",
    "utilities", "livestock", "cash_withdrawal", "other",
)


@dataclass(frozen=True, slots=True)
class Command:
    """Fields every command carries: its unique id, its business time, and who submits it.

    `actor` is set by the application (the CLI's `--actor`, the HTTP caller), never read from an
    interchange file; it is not part of the command's content for idempotency.
    """

    TYPE: ClassVar[str] = ""
    id: str
    at: datetime
    actor: str = field(default="", kw_only=True, compare=False)


@dataclass(frozen=True, slots=True)
class RegisterParty(Command):
    TYPE: ClassVar[str] = "register_party"
    party: str
    name: str
    kind: str
    registered_on: date | None = None
    address: str | None = None
    phone: str | None = None
    owners: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()
    region: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateParty(Command):
    """Only the fields given (not None) change."""

    TYPE: ClassVar[str] = "update_party"
    party: str
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    owners: tuple[str, ...] | None = None
    directors: tuple[str, ...] | None = None
    officials: tuple[str, ...] | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class SetReferencePrice(Command):
    TYPE: ClassVar[str] = "set_reference_price"
    code: str
    unit: str
    price_tiyn: int
    region: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Allocate(Command):
    TYPE: ClassVar[str] = "allocate"
    color: str
    program: str
    purpose: str
    amount_tiyn: int
    treasury: str
    administrator: str
    expires_on: date
    region: str | None = None


@dataclass(frozen=True, slots=True)
class ContractItem:
    code: str
    unit: str
    quantity: Decimal
    unit_price_tiyn: int


@dataclass(frozen=True, slots=True)
class RoadGeometry:
    length_km: Decimal
    width_m: Decimal
    asphalt_cm: Decimal


@dataclass(frozen=True, slots=True)
class SignContract(Command):
    TYPE: ClassVar[str] = "sign_contract"
    contract: str
    color: str
    customer: str
    supplier: str
    amount_tiyn: int
    items: tuple[ContractItem, ...]
    method: str | None = None
    ends_on: date | None = None
    road: RoadGeometry | None = None
    assets: tuple[str, ...] = ()
    beneficiary: str | None = None


@dataclass(frozen=True, slots=True)
class AmendContract(Command):
    TYPE: ClassVar[str] = "amend_contract"
    contract: str
    amount_tiyn: int
    items: tuple[ContractItem, ...] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptedQuantity:
    code: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Accept(Command):
    TYPE: ClassVar[str] = "accept"
    contract: str
    amount_tiyn: int
    evidence_sha256: str | None = None
    quantities: tuple[AcceptedQuantity, ...] = ()
    final: bool = False


@dataclass(frozen=True, slots=True)
class LotSource:
    lot: str
    amount_tiyn: int


@dataclass(frozen=True, slots=True)
class Transfer(Command):
    TYPE: ClassVar[str] = "transfer"
    color: str
    payer: str
    payee: str
    amount_tiyn: int
    contract: str | None = None
    invoice: str | None = None
    kind: str | None = None
    sources: tuple[LotSource, ...] | None = None


@dataclass(frozen=True, slots=True)
class Reserve(Command):
    TYPE: ClassVar[str] = "reserve"
    color: str
    payer: str
    payee: str
    amount_tiyn: int
    contract: str
    invoice: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Release(Command):
    TYPE: ClassVar[str] = "release"
    reservation: str
    evidence_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Void(Command):
    TYPE: ClassVar[str] = "void"
    reservation: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Spend(Command):
    TYPE: ClassVar[str] = "spend"
    color: str
    holder: str
    amount_tiyn: int
    category: str
    payee: str | None = None
    invoice: str | None = None
    contract: str | None = None
    assets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Return(Command):
    TYPE: ClassVar[str] = "return"
    color: str
    holder: str
    amount_tiyn: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Freeze(Command):
    TYPE: ClassVar[str] = "freeze"
    color: str
    reason: str
    holder: str | None = None


@dataclass(frozen=True, slots=True)
class Unfreeze(Command):
    TYPE: ClassVar[str] = "unfreeze"
    color: str
    reason: str
    holder: str | None = None


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.TYPE: cls
    for cls in (
        RegisterParty, UpdateParty, SetReferencePrice, Allocate, SignContract, AmendContract,
        Accept, Transfer, Reserve, Release, Void, Spend, Return, Freeze, Unfreeze,
    )
}
assert all(COMMAND_TYPES), "every command class names its interchange type"


_SHARED: dict[tuple[type, type], tuple[tuple[str, ...], attrgetter[Any]]] = {}


def shared_fields(command: Command, target: type) -> dict[str, Any]:
    """The command's values of every field that the dataclass `target` (an event) also has.

    An event repeats what its command said under the same names (`amount_tiyn`, `payer`, `reason`,
    `at`, `actor`, ...), so a decision names only the fields it derives (the lots consumed, the
    contract it resolved). The names are looked up once per (command, target) pair.
    """
    key = (type(command), target)
    entry = _SHARED.get(key)
    if entry is None:
        own = {f.name for f in fields(command)}
        names = tuple(f.name for f in fields(target) if f.name in own and f.init)
        assert len(names) >= 2, (key, names)  # `at` and `actor` at least: the getter gives a tuple
        entry = _SHARED[key] = (names, attrgetter(*names))
    names, getter = entry
    return dict(zip(names, getter(command)))
