"""The colored allocation: one color = one aggregate = one consistency boundary (DESIGN.md).

The aggregate holds everything SPEC §4 needs to decide a movement of its color: holders and their
open lots, open reservations, and the contracts signed under the color. `decide(command, parties)`
is pure: it returns the event to record or a `Rejection`. `apply(event)` is the only mutator, used
both for new events and for replay; it asserts conservation after every event:

    allocated = Σ balances of holders + Σ reserved + Σ spent + Σ returned

Lots: every incoming movement (the allocation itself, a transfer, a release, a void) opens a lot
named by its transaction id on the receiving holder; every outgoing movement records the lots it
consumed (named `sources`, else first-in first-out). Only open lots are kept here; closed ones live
in the history.

Time (SPEC §2.5): dates (`expires_on`) are judged in the ledger's time zone, which the caller
passes in through the decision context (the domain never reads a clock or a store setting). A
command dated before what it relies on (the allocation, a party's registration, the contract, the
reservation) is blocked `dated_before_reference`; a command dated before the color's latest
recorded event is blocked `out_of_order_time`, so a color's events are in business-time order and
"as of T" is a prefix of its stream. Blocked attempts change nothing, so they do not move the
color's latest time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, tzinfo
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import register_topic

from domain import commands as c
from domain import events as e
from domain.aggregate import Aggregate
from domain.errors import HistoryInconsistent
from domain.lots import take_lots
from domain.money import format_kzt
from domain.policy import (
    ALLOWED_SPEND_CATEGORIES,
    CONTRACTS_PER_COLOR_MAX,
    PILOTS_NEEDING_FINAL_EVIDENCE,
    Rejection,
    business_date,
)


class PartyDirectory(Protocol):
    """What a decision needs from outside the color: the parties, and the ledger's time zone.

    `kind_and_status` is (kind, status), or None for an unknown party; `registered_at` is the
    business time of the party's registration, or None. `time_zone` is the zone the ledger judges
    dates in (fixed when the store was created).
    """

    time_zone: tzinfo

    def kind_and_status(self, party: str) -> tuple[str, str] | None: ...

    def registered_at(self, party: str) -> datetime | None: ...


@dataclass(slots=True)
class ContractState:
    contract: str
    customer: str
    supplier: str
    amount_tiyn: int
    signed_at: datetime
    paid_tiyn: int = 0  # transfers + reservations not voided (open or released)
    released_tiyn: int = 0
    accepted_tiyn: int = 0
    final_with_evidence: bool = False


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation: str
    payer: str
    payee: str
    amount_tiyn: int
    contract: str
    reserved_at: datetime


class Allocation(Aggregate):
    """State of one color, rebuilt from its stream."""

    def __init__(self, originator_id: UUID) -> None:
        super().__init__(originator_id)
        self.color = ""
        self.pilot = ""
        self.administrator = ""
        self.treasury = ""
        self.expires_on = date.min
        self.allocated_at: datetime | None = None
        self.latest_at: datetime | None = None  # the latest business time among recorded (not blocked) events
        self._allocation_command_id = ""
        self.allocated_tiyn = 0
        self.held_tiyn = 0
        self.reserved_tiyn = 0
        self.spent_tiyn = 0
        self.returned_tiyn = 0
        self.frozen = False
        self.frozen_holders: set[str] = set()
        self.balances: dict[str, int] = {}
        self.lots: dict[str, dict[str, int]] = {}  # holder -> open lot id -> remaining tiyn
        self.reservations: dict[str, Reservation] = {}
        self.settled_reservations: set[str] = set()
        self.contracts: dict[str, ContractState] = {}

    # --- decisions (pure) -----------------------------------------------------------------

    def decide(self, command: c.Command, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        """The event `command` causes on this color, or why it is blocked."""
        decide = _DECISIONS.get(type(command))
        assert decide is not None, f"{command.TYPE} is not a color command"
        assert self.allocated or isinstance(command, c.Allocate)
        if isinstance(command, _OPENS_A_LOT) and any(command.id in lots for lots in self.lots.values()):
            raise HistoryInconsistent(
                f"{command.TYPE} {command.id} is new to the keys table, yet {self.color}'s history already holds "
                f"its lot: the store was changed outside the ledger (run `tenge-ledger verify`)")
        if self.allocated and not isinstance(command, c.Allocate):
            rejection = self._check_time(command, parties)
            if rejection:
                return rejection
        return decide(self, command, parties)

    def _check_time(self, cmd: c.Command, parties: PartyDirectory) -> Rejection | None:
        """SPEC §2.5: not dated before what it relies on, and never before the color's latest event."""
        for what, name, reference_at in self._references(cmd, parties):
            if cmd.at < reference_at:  # the sentence is written only for a rejection (hot path)
                return Rejection(
                    "dated_before_reference",
                    f"{cmd.TYPE} {cmd.id} is dated {cmd.at.isoformat()}, before {what} {name} ({reference_at.isoformat()})",
                )
        assert self.latest_at is not None, "an allocated color has recorded events"
        if cmd.at < self.latest_at:
            return Rejection(
                "out_of_order_time",
                f"{cmd.TYPE} {cmd.id} is dated {cmd.at.isoformat()}, before the latest recorded event of "
                f"{self.color} ({self.latest_at.isoformat()}); late information is recorded with the time it is recorded at",
            )
        return None

    def _references(self, cmd: c.Command, parties: PartyDirectory) -> list[tuple[str, str, datetime]]:
        """(what, its name, its business time) for everything `cmd` relies on that is known (unknown
        ones are blocked by their own rules)."""
        assert self.allocated_at is not None
        found: list[tuple[str, str, datetime]] = [("the allocation of", self.color, self.allocated_at)]
        for party in _named_parties(cmd):
            registered_at = parties.registered_at(party)
            if registered_at is not None:
                found.append(("the registration of party", party, registered_at))
        contract = self._referenced_contract(cmd)
        if contract is not None:
            found.append(("the signing of contract", contract.contract, contract.signed_at))
        reservation = self.reservations.get(getattr(cmd, "reservation", None) or "")
        if reservation is not None:
            found.append(("reservation", reservation.reservation, reservation.reserved_at))
        return found

    def _referenced_contract(self, cmd: c.Command) -> ContractState | None:
        """The contract a command names, or the only one a payment fits (rule 3 picks it later)."""
        if isinstance(cmd, c.SignContract):
            return None  # it creates the contract
        named = getattr(cmd, "contract", None)
        if named is not None:
            return self.contracts.get(named)
        if isinstance(cmd, (c.Transfer, c.Reserve)):
            fitting = [k for k in self.contracts.values() if k.customer == cmd.payer and k.supplier == cmd.payee]
            return fitting[0] if len(fitting) == 1 else None
        return None

    def _event(self, cls: type[e.LedgerEvent], command: c.Command, **derived: object) -> e.LedgerEvent:
        """An event of this color: the command's fields of the same names, then what was `derived`."""
        fields = c.shared_fields(command, cls)
        fields.update(derived)
        fields.setdefault("color", self.color)
        return cls(originator_id=self.id, originator_version=self.version + 1, command_id=command.id, **fields)

    def _decide_allocate(self, cmd: c.Allocate, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        if self.allocated:
            return Rejection("color_already_allocated", f"color {cmd.color} was allocated by {self.allocation_id}")
        for role, party in (("treasury", cmd.treasury), ("administrator", cmd.administrator)):
            rejection = _require_party(parties, party, role)
            if rejection:
                return rejection
            registered_at = parties.registered_at(party)
            assert registered_at is not None, "a party with a kind is registered"
            if cmd.at < registered_at:
                return Rejection(
                    "dated_before_reference",
                    f"allocate {cmd.id} is dated {cmd.at.isoformat()}, before the registration of party "
                    f"{party} ({registered_at.isoformat()})",
                )
        color = _split_color(cmd.color)
        return self._event(e.FundsAllocated, cmd, pilot=color[0], fiscal_year=int(color[1]))

    def _decide_sign(self, cmd: c.SignContract, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        if cmd.contract in self.contracts:
            return Rejection("contract_already_exists", f"contract {cmd.contract} exists under {self.color}")
        assert len(self.contracts) < CONTRACTS_PER_COLOR_MAX, "contracts per color limit"
        if cmd.customer == cmd.supplier:
            return Rejection("customer_and_supplier_must_differ", f"{cmd.customer} is both customer and supplier")
        for party in (cmd.customer, cmd.supplier):
            rejection = _require_party(parties, party, None)
            if rejection:
                return rejection
        if cmd.customer != self.administrator and not self._is_supplier(cmd.customer):
            return Rejection(
                "customer_must_be_in_the_chain",
                f"{cmd.customer} is neither the administrator of {self.color} nor a supplier under it",
            )
        return self._event(e.ContractSigned, cmd)

    def _decide_amend(self, cmd: c.AmendContract, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        contract = self.contracts.get(cmd.contract)
        if contract is None:
            return Rejection("unknown_contract", f"no contract {cmd.contract} under {self.color}")
        if cmd.amount_tiyn < contract.paid_tiyn:
            return Rejection(
                "amendment_below_paid",
                f"new amount {format_kzt(cmd.amount_tiyn)} KZT is below {format_kzt(contract.paid_tiyn)} KZT "
                f"already paid under {cmd.contract}",
            )
        if cmd.amount_tiyn < contract.accepted_tiyn:
            return Rejection(
                "acceptance_exceeds_contract",
                f"new amount {format_kzt(cmd.amount_tiyn)} KZT is below {format_kzt(contract.accepted_tiyn)} KZT "
                f"already accepted under {cmd.contract}",
            )
        return self._event(e.ContractAmended, cmd, previous_amount_tiyn=contract.amount_tiyn)

    def _decide_accept(self, cmd: c.Accept, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        contract = self.contracts.get(cmd.contract)
        if contract is None:
            return Rejection("unknown_contract", f"no contract {cmd.contract} under {self.color}")
        if contract.accepted_tiyn + cmd.amount_tiyn > contract.amount_tiyn:
            return Rejection(
                "acceptance_exceeds_contract",
                f"accepting {format_kzt(cmd.amount_tiyn)} KZT would bring accepted value to "
                f"{format_kzt(contract.accepted_tiyn + cmd.amount_tiyn)} KZT, above the contract's "
                f"{format_kzt(contract.amount_tiyn)} KZT",
            )
        return self._event(e.DeliveryAccepted, cmd)

    def _decide_pay(self, cmd: c.Transfer | c.Reserve, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        for party in (cmd.payer, cmd.payee):
            rejection = _require_party(parties, party, None)
            if rejection:
                return rejection
        rejection = self._check_can_move(cmd, cmd.payer, parties.time_zone)
        if rejection:
            return rejection
        contract = self._contract_for_payment(cmd)
        if isinstance(contract, Rejection):
            return contract
        if contract.paid_tiyn + cmd.amount_tiyn > contract.amount_tiyn:
            return Rejection(
                "contract_amount_exceeded",
                f"paying {format_kzt(cmd.amount_tiyn)} KZT under {contract.contract} would bring payments to "
                f"{format_kzt(contract.paid_tiyn + cmd.amount_tiyn)} KZT, above its amount "
                f"{format_kzt(contract.amount_tiyn)} KZT",
            )
        sources = cmd.sources if isinstance(cmd, c.Transfer) else None
        consumed = take_lots(self.lots.get(cmd.payer, {}), cmd.amount_tiyn, sources, cmd.payer)
        if isinstance(consumed, Rejection):
            return consumed
        cls = e.FundsTransferred if isinstance(cmd, c.Transfer) else e.FundsReserved
        return self._event(cls, cmd, contract=contract.contract, consumed=consumed)

    def _decide_settle(self, cmd: c.Release | c.Void, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        reservation = self.reservations.get(cmd.reservation)
        if reservation is None:
            if cmd.reservation in self.settled_reservations:
                return Rejection("reservation_already_settled", f"reservation {cmd.reservation} is settled")
            return Rejection("unknown_reservation", f"no open reservation {cmd.reservation} under {self.color}")
        if self.frozen:
            return Rejection("color_is_frozen", f"color {self.color} is frozen")
        if isinstance(cmd, c.Void):
            return self._event(
                e.ReservationVoided, cmd, payer=reservation.payer, amount_tiyn=reservation.amount_tiyn,
                contract=reservation.contract,
            )
        rejection = self._check_release(cmd, reservation, parties)
        if rejection:
            return rejection
        return self._event(
            e.ReservationReleased, cmd, payer=reservation.payer, payee=reservation.payee,
            amount_tiyn=reservation.amount_tiyn, contract=reservation.contract,
        )

    def _check_release(self, cmd: c.Release, reservation: Reservation, parties: PartyDirectory) -> Rejection | None:
        if business_date(cmd.at, parties.time_zone) > self.expires_on:
            return Rejection("color_expired", f"color {self.color} expired on {self.expires_on}")
        rejection = _require_party(parties, reservation.payee, None)
        if rejection:
            return rejection
        contract = self.contracts[reservation.contract]
        released_tiyn = contract.released_tiyn + reservation.amount_tiyn
        if released_tiyn > contract.accepted_tiyn:
            return Rejection(
                "acceptance_does_not_cover_release",
                f"releasing {format_kzt(reservation.amount_tiyn)} KZT would bring releases under "
                f"{contract.contract} to {format_kzt(released_tiyn)} KZT, above the "
                f"{format_kzt(contract.accepted_tiyn)} KZT accepted",
            )
        if self.pilot in PILOTS_NEEDING_FINAL_EVIDENCE and not contract.final_with_evidence:
            return Rejection(
                "delivery_not_proven",
                f"{self.pilot} releases need a final acceptance with evidence_sha256 under {contract.contract}",
            )
        return None

    def _decide_spend(self, cmd: c.Spend, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        if cmd.category == "cash_withdrawal":
            return Rejection("cash_withdrawal_is_forbidden", f"{cmd.holder} tried to withdraw {format_kzt(cmd.amount_tiyn)} KZT as cash")
        if cmd.category not in ALLOWED_SPEND_CATEGORIES[self.pilot]:
            return Rejection(
                "category_not_allowed_in_pilot",
                f"{self.pilot} allows {', '.join(sorted(ALLOWED_SPEND_CATEGORIES[self.pilot]))}; not {cmd.category}",
            )
        rejection = _require_party(parties, cmd.holder, None) or self._check_can_move(cmd, cmd.holder, parties.time_zone)
        if rejection:
            return rejection
        if cmd.contract is not None and cmd.contract not in self.contracts:
            return Rejection("unknown_contract", f"no contract {cmd.contract} under {self.color}")
        consumed = take_lots(self.lots.get(cmd.holder, {}), cmd.amount_tiyn, None, cmd.holder)
        if isinstance(consumed, Rejection):
            return consumed
        return self._event(e.FundsSpent, cmd, consumed=consumed)

    def _decide_return(self, cmd: c.Return, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        rejection = self._check_can_move(cmd, cmd.holder, parties.time_zone, expiry_applies=False)
        if rejection:
            return rejection
        consumed = take_lots(self.lots.get(cmd.holder, {}), cmd.amount_tiyn, None, cmd.holder)
        if isinstance(consumed, Rejection):
            return consumed
        return self._event(e.FundsReturned, cmd, consumed=consumed)

    def _decide_freeze(self, cmd: c.Freeze | c.Unfreeze, parties: PartyDirectory) -> e.LedgerEvent | Rejection:
        freezing = isinstance(cmd, c.Freeze)
        frozen = self.frozen if cmd.holder is None else cmd.holder in self.frozen_holders
        target = f"color {self.color}" if cmd.holder is None else f"{cmd.holder}'s share of {self.color}"
        if freezing and frozen:
            return Rejection("already_frozen", f"{target} is frozen already")
        if not freezing and not frozen:
            return Rejection("not_frozen", f"{target} is not frozen")
        if cmd.holder is not None and parties.kind_and_status(cmd.holder) is None:
            return Rejection("unknown_party", f"party {cmd.holder} is not registered")
        cls = e.ColorFrozen if freezing else e.ColorUnfrozen
        return self._event(cls, cmd)

    # --- checks shared by decisions ---------------------------------------------------------

    def _check_can_move(self, cmd: c.Command, holder: str, time_zone: tzinfo, *,
                        expiry_applies: bool = True) -> Rejection | None:
        """SPEC §4 rules 2 and 6 for money leaving `holder`; the day is the ledger zone's (SPEC §2.5)."""
        if self.frozen:
            return Rejection("color_is_frozen", f"color {self.color} is frozen")
        if holder in self.frozen_holders:
            return Rejection("holder_is_frozen", f"{holder}'s share of {self.color} is frozen")
        if expiry_applies and business_date(cmd.at, time_zone) > self.expires_on:
            return Rejection("color_expired", f"color {self.color} expired on {self.expires_on}")
        if holder not in self.lots:
            return Rejection(
                "payer_does_not_hold_color",
                f"{holder} is neither the administrator of {self.color} nor a party that received it",
            )
        return None

    def _contract_for_payment(self, cmd: c.Transfer | c.Reserve) -> ContractState | Rejection:
        """SPEC §4 rule 3: the payee is the supplier of a contract whose customer is the payer."""
        if cmd.contract is not None:
            contract = self.contracts.get(cmd.contract)
            if contract is None:
                return Rejection("unknown_contract", f"no contract {cmd.contract} under {self.color}")
            if contract.customer != cmd.payer:
                return Rejection("payer_must_be_contract_customer", f"{cmd.payer} is not the customer of {cmd.contract}")
            if contract.supplier != cmd.payee:
                return Rejection("recipient_must_be_contract_supplier", f"{cmd.payee} is not the supplier of {cmd.contract}")
            return contract
        fitting = [k for k in self.contracts.values() if k.customer == cmd.payer and k.supplier == cmd.payee]
        if not fitting:
            return Rejection(
                "recipient_must_have_a_contract",
                f"{cmd.payee} is not the supplier of any contract with {cmd.payer} under {self.color}",
            )
        if len(fitting) > 1:
            names = ", ".join(k.contract for k in fitting)
            return Rejection("contract_must_be_named", f"{len(fitting)} contracts fit ({names}); name one")
        return fitting[0]

    def _is_supplier(self, party: str) -> bool:
        return any(k.supplier == party for k in self.contracts.values())

    # --- snapshots (derived data: a copy of this state at a version, see `AllocationSnapshot`) ---

    def snapshot_state(self) -> dict[str, Any]:
        """This state as plain values (str, int, bool, date, datetime, lists): what a snapshot
        stores, in the insertion order of every mapping (first-in first-out lots and the order of
        contracts are part of the decisions)."""
        return {
            "color": self.color, "pilot": self.pilot, "administrator": self.administrator,
            "treasury": self.treasury, "expires_on": self.expires_on, "allocated_at": self.allocated_at,
            "latest_at": self.latest_at, "allocation_command_id": self._allocation_command_id,
            "allocated_tiyn": self.allocated_tiyn, "held_tiyn": self.held_tiyn,
            "reserved_tiyn": self.reserved_tiyn, "spent_tiyn": self.spent_tiyn,
            "returned_tiyn": self.returned_tiyn, "frozen": self.frozen,
            "frozen_holders": sorted(self.frozen_holders),
            "balances": list(self.balances.items()),
            "lots": [(holder, list(lots.items())) for holder, lots in self.lots.items()],
            "reservations": [_values(r) for r in self.reservations.values()],
            "settled_reservations": sorted(self.settled_reservations),
            "contracts": [_values(k) for k in self.contracts.values()],
        }

    def snapshot_entries(self) -> int:
        """How many entries a snapshot of this state holds (open lots, holders, reservations,
        contracts): what taking or restoring one costs, roughly."""
        return (sum(len(lots) for lots in self.lots.values()) + len(self.balances) + len(self.reservations)
                + len(self.settled_reservations) + len(self.contracts) + len(self.frozen_holders))

    @classmethod
    def from_snapshot_state(cls, originator_id: UUID, version: int, state: dict[str, Any]) -> Allocation:
        """The aggregate a snapshot stands for (the inverse of `snapshot_state`); raises on a
        state that is not well-formed (KeyError, TypeError, ValueError, AssertionError)."""
        assert version > 0 and set(state) == set(_SNAPSHOT_FIELDS), sorted(set(state) ^ set(_SNAPSHOT_FIELDS))
        allocation = cls(originator_id)
        allocation.version = version
        allocation.color, allocation.pilot = _text(state["color"]), _text(state["pilot"])
        allocation.administrator, allocation.treasury = _text(state["administrator"]), _text(state["treasury"])
        allocation.expires_on = state["expires_on"]
        allocation.allocated_at, allocation.latest_at = state["allocated_at"], state["latest_at"]
        assert type(allocation.expires_on) is date and all(
            isinstance(t, datetime) for t in (allocation.allocated_at, allocation.latest_at)), "dates and times"
        allocation._allocation_command_id = _text(state["allocation_command_id"])
        for name in ("allocated_tiyn", "held_tiyn", "reserved_tiyn", "spent_tiyn", "returned_tiyn"):
            setattr(allocation, name, _tiyn(state[name]))
        allocation.frozen = bool(state["frozen"])
        allocation.frozen_holders = {_text(h) for h in state["frozen_holders"]}
        allocation.balances = {_text(h): _tiyn(t) for h, t in state["balances"]}
        allocation.lots = {_text(h): {_text(lot): _tiyn(t) for lot, t in lots} for h, lots in state["lots"]}
        allocation.reservations = {r.reservation: r for r in (Reservation(*fields) for fields in state["reservations"])}
        allocation.settled_reservations = {_text(r) for r in state["settled_reservations"]}
        allocation.contracts = {k.contract: k for k in (ContractState(*fields) for fields in state["contracts"])}
        assert allocation.allocated, "a snapshot is taken of an allocated color"
        allocation.check()
        return allocation

    @property
    def allocated(self) -> bool:
        """True once the color's allocation was recorded (a blocked attempt does not count)."""
        return bool(self.color)

    @property
    def allocation_id(self) -> str:
        return self._allocation_command_id

    # --- the mutator ------------------------------------------------------------------------

    def _mutate(self, event: e.LedgerEvent) -> None:
        mutate = _MUTATORS.get(type(event))
        if mutate is None:
            super()._mutate(event)
        else:
            mutate(self, event)
            if self.latest_at is None or event.at > self.latest_at:
                self.latest_at = event.at

    def _check_after_event(self) -> None:
        assert self.held_tiyn + self.reserved_tiyn + self.spent_tiyn + self.returned_tiyn == self.allocated_tiyn, (
            f"conservation broken on {self.color} at version {self.version}"
        )

    def _on_allocated(self, ev: e.FundsAllocated) -> None:
        self.color, self.pilot = ev.color, ev.pilot
        self.administrator, self.treasury = ev.administrator, ev.treasury
        self.expires_on = ev.expires_on
        self.allocated_at = ev.at
        self.allocated_tiyn = ev.amount_tiyn
        self._allocation_command_id = ev.command_id
        self._credit(ev.administrator, ev.command_id, ev.amount_tiyn)

    def _on_signed(self, ev: e.ContractSigned) -> None:
        self.contracts[ev.contract] = ContractState(ev.contract, ev.customer, ev.supplier, ev.amount_tiyn, ev.at)

    def _on_amended(self, ev: e.ContractAmended) -> None:
        self.contracts[ev.contract].amount_tiyn = ev.amount_tiyn

    def _on_accepted(self, ev: e.DeliveryAccepted) -> None:
        contract = self.contracts[ev.contract]
        contract.accepted_tiyn += ev.amount_tiyn
        if ev.final and ev.evidence_sha256:
            contract.final_with_evidence = True

    def _on_transferred(self, ev: e.FundsTransferred) -> None:
        self._debit(ev.payer, ev.consumed, ev.amount_tiyn)
        self._credit(ev.payee, ev.command_id, ev.amount_tiyn)
        self.contracts[ev.contract].paid_tiyn += ev.amount_tiyn

    def _on_reserved(self, ev: e.FundsReserved) -> None:
        self._debit(ev.payer, ev.consumed, ev.amount_tiyn)
        self.reserved_tiyn += ev.amount_tiyn
        self.reservations[ev.command_id] = Reservation(ev.command_id, ev.payer, ev.payee, ev.amount_tiyn, ev.contract, ev.at)
        self.contracts[ev.contract].paid_tiyn += ev.amount_tiyn

    def _on_released(self, ev: e.ReservationReleased) -> None:
        reservation = self._settle(ev.reservation, ev.amount_tiyn)
        self._credit(reservation.payee, ev.command_id, ev.amount_tiyn)
        self.contracts[reservation.contract].released_tiyn += ev.amount_tiyn

    def _on_voided(self, ev: e.ReservationVoided) -> None:
        reservation = self._settle(ev.reservation, ev.amount_tiyn)
        self._credit(reservation.payer, ev.command_id, ev.amount_tiyn)
        self.contracts[reservation.contract].paid_tiyn -= ev.amount_tiyn

    def _on_spent(self, ev: e.FundsSpent) -> None:
        self._debit(ev.holder, ev.consumed, ev.amount_tiyn)
        self.spent_tiyn += ev.amount_tiyn

    def _on_returned(self, ev: e.FundsReturned) -> None:
        self._debit(ev.holder, ev.consumed, ev.amount_tiyn)
        self.returned_tiyn += ev.amount_tiyn

    def _on_frozen(self, ev: e.ColorFrozen) -> None:
        if ev.holder is None:
            self.frozen = True
        else:
            self.frozen_holders.add(ev.holder)

    def _on_unfrozen(self, ev: e.ColorUnfrozen) -> None:
        if ev.holder is None:
            self.frozen = False
        else:
            self.frozen_holders.discard(ev.holder)

    def _settle(self, reservation_id: str, amount_tiyn: int) -> Reservation:
        reservation = self.reservations.pop(reservation_id)
        assert reservation.amount_tiyn == amount_tiyn
        self.settled_reservations.add(reservation_id)
        self.reserved_tiyn -= amount_tiyn
        assert self.reserved_tiyn >= 0
        return reservation

    def _credit(self, holder: str, lot: str, amount_tiyn: int) -> None:
        assert amount_tiyn > 0
        lots = self.lots.setdefault(holder, {})
        assert lot not in lots, f"lot {lot} opened twice"
        lots[lot] = amount_tiyn
        self.balances[holder] = self.balances.get(holder, 0) + amount_tiyn
        self.held_tiyn += amount_tiyn

    def _debit(self, holder: str, consumed: e.Consumed, amount_tiyn: int) -> None:
        lots = self.lots[holder]
        taken_tiyn = 0
        for lot, lot_amount_tiyn in consumed:
            remaining_tiyn = lots[lot] - lot_amount_tiyn
            assert lot_amount_tiyn > 0 and remaining_tiyn >= 0, (lot, lot_amount_tiyn)
            if remaining_tiyn:
                lots[lot] = remaining_tiyn
            else:
                del lots[lot]
            taken_tiyn += lot_amount_tiyn
        assert taken_tiyn == amount_tiyn, "lots consumed must sum to the movement"
        self.balances[holder] -= amount_tiyn
        assert self.balances[holder] >= 0, "no balance ever goes below zero"
        self.held_tiyn -= amount_tiyn

    # --- invariants for tests and verify ----------------------------------------------------

    def check(self) -> None:
        """Recompute every invariant from scratch; raises AssertionError if one fails."""
        for holder, lots in self.lots.items():
            assert all(amount > 0 for amount in lots.values()), holder
            assert sum(lots.values()) == self.balances.get(holder, 0), holder
        assert all(balance >= 0 for balance in self.balances.values())
        assert sum(self.balances.values()) == self.held_tiyn
        assert sum(r.amount_tiyn for r in self.reservations.values()) == self.reserved_tiyn
        assert self.held_tiyn + self.reserved_tiyn + self.spent_tiyn + self.returned_tiyn == self.allocated_tiyn
        for contract in self.contracts.values():
            assert 0 <= contract.released_tiyn <= contract.paid_tiyn <= contract.amount_tiyn, contract.contract


def _require_party(parties: PartyDirectory, party: str, kind: str | None) -> Rejection | None:
    known = parties.kind_and_status(party)
    if known is None:
        return Rejection("unknown_party", f"party {party} is not registered")
    party_kind, status = known
    if kind is not None and party_kind != kind:
        return Rejection("party_has_wrong_kind", f"party {party} is a {party_kind}, not a {kind}")
    if status != "active":
        return Rejection("party_is_not_active", f"party {party} is {status}")
    return None


def _named_parties(cmd: c.Command) -> list[str]:
    """The parties a color command names (it relies on the registration of those registered)."""
    fields = ("payer", "payee", "holder", "customer", "supplier")
    return [value for name in fields if isinstance(value := getattr(cmd, name, None), str)]


def _split_color(color: str) -> list[str]:
    parts = color.split("-")
    assert len(parts) == 5, color
    return parts



def _values(record: ContractState | Reservation) -> tuple[Any, ...]:
    """A record's field values in declaration order (what its constructor takes back)."""
    return tuple(getattr(record, name) for name in _FIELD_NAMES[type(record)])


def _text(value: Any) -> str:
    assert isinstance(value, str), type(value)
    return value


def _tiyn(value: Any) -> int:
    assert type(value) is int, type(value)
    return value


_FIELD_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in (ContractState, Reservation)}
_SNAPSHOT_FIELDS = (
    "color", "pilot", "administrator", "treasury", "expires_on", "allocated_at", "latest_at",
    "allocation_command_id", "allocated_tiyn", "held_tiyn", "reserved_tiyn", "spent_tiyn", "returned_tiyn",
    "frozen", "frozen_holders", "balances", "lots", "reservations", "settled_reservations", "contracts",
)


@dataclass(frozen=True)
class AllocationSnapshot:
    """An `Allocation`'s state at one version of its stream (eventsourcing's snapshot shape:
    `originator_id`, `originator_version`, stored in the snapshot store, encrypted like events).

    Derived data: `last_command_id` is the transaction id of the stream's event at that version,
    so a snapshot that does not belong to the stream as stored is recognised and ignored.
    """

    TOPIC: ClassVar[str] = "tenge:AllocationSnapshot"
    originator_id: UUID
    originator_version: int
    last_command_id: str
    state: dict[str, Any]

    @classmethod
    def take(cls, allocation: Allocation, last_command_id: str) -> AllocationSnapshot:
        assert allocation.allocated and not allocation.pending_events, "snapshots are of recorded state"
        return cls(allocation.id, allocation.version, last_command_id, allocation.snapshot_state())

    def restore(self) -> Allocation:
        state = self.state
        assert isinstance(state, dict) and isinstance(self.last_command_id, str), "a snapshot's shape"
        return Allocation.from_snapshot_state(self.originator_id, self.originator_version, state)


register_topic(AllocationSnapshot.TOPIC, AllocationSnapshot)


_OPENS_A_LOT = (c.Transfer, c.Release, c.Void)  # their id names the lot they open (_credit)

_DECISIONS = {
    c.Allocate: Allocation._decide_allocate,
    c.SignContract: Allocation._decide_sign,
    c.AmendContract: Allocation._decide_amend,
    c.Accept: Allocation._decide_accept,
    c.Transfer: Allocation._decide_pay,
    c.Reserve: Allocation._decide_pay,
    c.Release: Allocation._decide_settle,
    c.Void: Allocation._decide_settle,
    c.Spend: Allocation._decide_spend,
    c.Return: Allocation._decide_return,
    c.Freeze: Allocation._decide_freeze,
    c.Unfreeze: Allocation._decide_freeze,
}

_MUTATORS = {
    e.FundsAllocated: Allocation._on_allocated,
    e.ContractSigned: Allocation._on_signed,
    e.ContractAmended: Allocation._on_amended,
    e.DeliveryAccepted: Allocation._on_accepted,
    e.FundsTransferred: Allocation._on_transferred,
    e.FundsReserved: Allocation._on_reserved,
    e.ReservationReleased: Allocation._on_released,
    e.ReservationVoided: Allocation._on_voided,
    e.FundsSpent: Allocation._on_spent,
    e.FundsReturned: Allocation._on_returned,
    e.ColorFrozen: Allocation._on_frozen,
    e.ColorUnfrozen: Allocation._on_unfrozen,
}
