"""What every export reads: the ledger color by color, as movements and contracts, through the read side.

An export walks the colors one at a time (`ExportSource.slices`), so it streams: a color's events
are read (as of the question's position or business time, SPEC §2.5), turned into `Movement`s (one
per change of a holder's balance, exactly the changes the balances projection sums) and
`Contract`s (signed, amended, paid), handed to the format and dropped.

Filters (`--color`, `--party`) are applied here, once, for every format: a party filter keeps the
movements of that holder and the contracts it is a customer or supplier of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain import events as e
from ledger.read import ReadSide, UnknownColor
from projections.balances import balance_changes

OnColor = Callable[[int, int], None]  # (colors done, colors in all)

# the kind of each balance-changing event, as exports name it
MOVEMENT_KINDS: dict[type[e.LedgerEvent], str] = {
    e.FundsAllocated: "allocate", e.FundsTransferred: "transfer", e.FundsReserved: "reserve",
    e.ReservationReleased: "release", e.ReservationVoided: "void", e.FundsSpent: "spend", e.FundsReturned: "return",
}


@dataclass(frozen=True)
class Movement:
    """One change of one holder's balance of one color: `amount_tiyn` is signed (+ in, − out)."""

    position: int
    at: datetime
    color: str
    transaction: str
    kind: str
    holder: str
    counterparty: str | None  # the other holder, the treasury of an allocation, a spend's payee; else None
    amount_tiyn: int
    contract: str | None
    detail: str | None  # a spend's category, a return's or void's reason


@dataclass(frozen=True)
class Payment:
    """Money reaching a contract's supplier (a transfer, or a released reservation)."""

    transaction: str
    at: datetime
    payer: str
    payee: str
    amount_tiyn: int
    kind: str | None


@dataclass(frozen=True)
class Amendment:
    transaction: str
    at: datetime
    amount_tiyn: int
    previous_amount_tiyn: int
    reason: str | None


@dataclass
class Contract:
    """A contract as of the question: what was signed, its amendments and the payments under it."""

    signed: e.ContractSigned
    administrator: str
    amendments: list[Amendment] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    accepted_tiyn: int = 0
    final_accepted: bool = False
    last_at: datetime | None = None

    @property
    def amount_tiyn(self) -> int:
        return self.amendments[-1].amount_tiyn if self.amendments else self.signed.amount_tiyn

    @property
    def paid_tiyn(self) -> int:
        return sum(payment.amount_tiyn for payment in self.payments)


@dataclass(frozen=True)
class ColorSlice:
    """One color as of the question: its allocation, its movements (filtered) and contracts (filtered)."""

    color: str
    allocation: e.FundsAllocated
    movements: tuple[Movement, ...]
    contracts: tuple[Contract, ...]


@dataclass(frozen=True)
class Party:
    party: str
    name: str
    kind: str
    region: str | None

    @property
    def scheme(self) -> str:
        """`IIN` for a person, `BIN` for an organisation (SPEC §2.1, §3)."""
        return "IIN" if self.kind == "individual" else "BIN"


def movements_of(position: int, event: e.LedgerEvent) -> list[Movement]:
    """The movements an event makes: the same changes, tiyn for tiyn, as `balance_changes`."""
    kind = MOVEMENT_KINDS.get(type(event))
    if kind is None:
        return []
    assert isinstance(event, e.ColorEvent)
    contract = getattr(event, "contract", None)

    def move(holder: str, counterparty: str | None, amount_tiyn: int, detail: str | None = None) -> Movement:
        return Movement(position, event.at, event.color, event.command_id, kind, holder, counterparty,
                        amount_tiyn, contract, detail)

    if isinstance(event, e.FundsAllocated):
        found = [move(event.administrator, event.treasury, event.amount_tiyn)]
    elif isinstance(event, e.FundsTransferred):
        found = [move(event.payer, event.payee, -event.amount_tiyn), move(event.payee, event.payer, event.amount_tiyn)]
    elif isinstance(event, e.FundsReserved):
        found = [move(event.payer, event.payee, -event.amount_tiyn)]
    elif isinstance(event, e.ReservationReleased):
        found = [move(event.payee, event.payer, event.amount_tiyn)]
    elif isinstance(event, e.ReservationVoided):
        found = [move(event.payer, event.payer, event.amount_tiyn, event.reason)]
    elif isinstance(event, e.FundsSpent):
        found = [move(event.holder, event.payee, -event.amount_tiyn, event.category)]
    else:
        assert isinstance(event, e.FundsReturned)
        found = [move(event.holder, None, -event.amount_tiyn, event.reason)]
    expected = [(holder, delta) for _, _, holder, delta in balance_changes(position, event)]
    assert [(m.holder, m.amount_tiyn) for m in found] == expected, "exports move what the balances sum"
    return found


def contracts_of(events: list[tuple[int, e.LedgerEvent]], administrator: str) -> list[Contract]:
    """The color's contracts, in signing order, with their amendments, acceptances and payments."""
    contracts: dict[str, Contract] = {}
    for _, event in events:
        if isinstance(event, e.ContractSigned):
            contracts[event.contract] = Contract(event, administrator, last_at=event.at)
            continue
        contract = contracts.get(getattr(event, "contract", None) or "")
        if contract is None:
            continue
        if isinstance(event, e.ContractAmended):
            contract.amendments.append(Amendment(event.command_id, event.at, event.amount_tiyn,
                                                 event.previous_amount_tiyn, event.reason))
        elif isinstance(event, e.DeliveryAccepted):
            contract.accepted_tiyn += event.amount_tiyn
            contract.final_accepted = contract.final_accepted or event.final
        elif isinstance(event, e.FundsTransferred):
            contract.payments.append(Payment(event.command_id, event.at, event.payer, event.payee,
                                             event.amount_tiyn, event.kind))
        elif isinstance(event, e.ReservationReleased):
            contract.payments.append(Payment(event.command_id, event.at, event.payer, event.payee,
                                             event.amount_tiyn, None))
        else:
            continue
        contract.last_at = event.at
    return list(contracts.values())


class ExportSource:
    """The read side's answer to one export: which colors, as of when, for whom."""

    def __init__(self, read: ReadSide, position: int, as_of: str | None, color: str | None = None,
                 party: str | None = None) -> None:
        self.read = read
        self.position = position
        self.as_of = as_of
        self.color = color
        self.party = party
        self.moment: datetime | None = read.business_time(as_of)
        self.time_zone = read.ledger.time_zone
        found = read.parties(position)
        self.parties = {key: Party(key, name, kind, region) for key, (name, kind, region) in found.items()}

    def colors(self) -> list[str]:
        colors = self.read.colors()
        return [c for c in colors if c == self.color] if self.color is not None else colors

    def slices(self, on_color: OnColor | None = None) -> Iterator[ColorSlice]:
        """The colors one at a time (allocated as of the question), filtered; `on_color(done, total)` after each."""
        colors = self.colors()
        for done, color in enumerate(colors, start=1):
            found = self._slice(color)
            if found is not None:
                yield found
            if on_color is not None:
                on_color(done, len(colors))

    def _slice(self, color: str) -> ColorSlice | None:
        try:
            events = self.read.color_events(color, self.position, self.as_of)
        except UnknownColor:
            return None  # not allocated yet as of the question
        allocation = next((event for _, event in events if isinstance(event, e.FundsAllocated)), None)
        if allocation is None:
            return None
        movements = [m for position, event in events for m in movements_of(position, event)]
        contracts = contracts_of(events, allocation.administrator)
        if self.party is not None:
            movements = [m for m in movements if m.holder == self.party]
            contracts = [c for c in contracts if self.party in (c.signed.customer, c.signed.supplier)]
        return ColorSlice(color, allocation, tuple(movements), tuple(contracts))

    def balances(self) -> list[tuple[str, str, int]]:
        """(color, holder, balance_tiyn) as the `balance` command answers the same question."""
        now = self.read.ledger.position()
        position = None if self.position == now and self.as_of is None else self.position
        return self.read.balances(position, self.color, self.party, self.as_of)

    def flags(self, wall_time: datetime | None) -> list[dict[str, Any]]:
        """The flag documents as `flags` answers, of the color and naming the party when filtered."""
        now = self.read.ledger.position()
        documents = self.read.flags(self.position, now, self.as_of, wall_time)
        return [flag for flag in documents
                if (self.color is None or flag["color"] == self.color)
                and (self.party is None or self.party in flag["parties"])]

    def local_date(self, moment: datetime) -> date:
        """The date of a business time in the ledger's time zone (SPEC §2.5)."""
        return moment.astimezone(self.time_zone).date()

    def name(self, party: str) -> str:
        known = self.parties.get(party)
        return known.name if known is not None else party

    def scheme(self, party: str) -> str:
        known = self.parties.get(party)
        return known.scheme if known is not None else "BIN"
