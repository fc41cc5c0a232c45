"""The ledger against an independent model, one random command at a time (SPEC §3–§4).

`LedgerMachine` drives a `Ledger` with random parties, allocations of 1–3 colors
(ROAD, AGRO, LOCAL), contracts and subcontracts, acceptances, transfers (FIFO and with `sources`),
reservations, releases, voids, spends (allowed and forbidden categories), returns, freezes,
status changes, duplicates, conflicting ids and business time jumping past `expires_on`.

Beside it, `Model` is a plain re-statement of SPEC §4: for each command it computes the set of
rules the command breaks. Empty set: the ledger must apply it (and the model applies the same
effect, including which lots are consumed); otherwise the ledger must block it for one of those
reasons and the model stays unchanged. After every step the invariants compare the model with the
ledger, call the production `Allocation.check()`, and check conservation and lot provenance.

Hypothesis prints the failing steps; the `note` lines show each record and its outcome.

At the end of every run `verify` (SPEC §7) must find the store intact.

The machine runs on every store kind: `memory://`, a SQLite file, and PostgreSQL when
`TENGE_LEDGER_TEST_POSTGRES` names a server, since each recorder is its own implementation of the
key, conflict and read checks. The slower stores run fewer examples.

The tests at the bottom run random command lists from `simulations.strategies` through batches of
random size versus one by one, re-execute them to get only duplicates, and check that the
strategies' worlds are valid.

Default example counts keep the file well under a minute; a failure shrinks for longer (up to a
couple of minutes) and then prints the steps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain import events as e
from domain.commands import SPEND_CATEGORIES
from domain.policy import ALLOWED_SPEND_CATEGORIES
from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, Ledger, Outcome
from ledger.interchange import parse_record
from ledger.integrity.verify import Verifier
from simulations.strategies import (
    DAY0,
    RecordBuilder,
    color_for,
    command_lists,
    ledger_state,
    party_id,
    sha256_of,
    to_commands,
    worlds,
)
from tests.support import outcomes_again
from tests.support import POSTGRES_URL, memory_store, postgres_store, sqlite_store

PILOTS = ("ROAD", "AGRO", "LOCAL")
COLORS = {pilot: color_for(pilot) for pilot in PILOTS}
TREASURY = party_id(1)
ADMINS = (party_id(11), party_id(12), party_id(13))
SUPPLIERS = (party_id(101), party_id(102), party_id(103), party_id(104), party_id(105))
SUPPLIER_KINDS = ("contractor", "contractor", "supplier", "dealer", "farmer")
KINDS = {TREASURY: "treasury", **dict.fromkeys(ADMINS, "administrator"), **dict(zip(SUPPLIERS, SUPPLIER_KINDS))}
PARTIES = tuple(KINDS)
LOT_CONSUMING = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.FundsReturned)
AMOUNT_KINDS = ("part", "part", "all", "over")


def sized(kind: str, cap_tiyn: int, raw: int) -> int:
    """An amount relative to a cap (a balance, a contract's room): a part, all of it, or more."""
    if cap_tiyn <= 0:
        return 1 + raw % 10_000_00
    if kind == "part":
        return 1 + raw % cap_tiyn
    if kind == "all":
        return cap_tiyn
    return cap_tiyn + 1 + raw % 1_000_00


# --- the model ------------------------------------------------------------------------------

@dataclass
class PartyModel:
    kind: str
    status: str = "active"


@dataclass
class ContractModel:
    contract: str
    customer: str
    supplier: str
    amount_tiyn: int
    paid_tiyn: int = 0
    released_tiyn: int = 0
    accepted_tiyn: int = 0
    final_with_evidence: bool = False

    def row(self) -> tuple[Any, ...]:
        return (self.contract, self.customer, self.supplier, self.amount_tiyn, self.paid_tiyn,
                self.released_tiyn, self.accepted_tiyn, self.final_with_evidence)


@dataclass
class ReservationModel:
    reservation: str
    color: str
    payer: str
    payee: str
    amount_tiyn: int
    contract: str


@dataclass
class ColorModel:
    color: str
    pilot: str
    administrator: str
    expires_on: date
    allocated_tiyn: int
    lots: dict[str, dict[str, int]] = field(default_factory=dict)  # holder -> lot -> tiyn, FIFO order
    reservations: dict[str, ReservationModel] = field(default_factory=dict)
    contracts: dict[str, ContractModel] = field(default_factory=dict)
    spent_tiyn: int = 0
    returned_tiyn: int = 0
    frozen: bool = False
    frozen_holders: set[str] = field(default_factory=set)

    def balance(self, holder: str) -> int:
        return sum(self.lots.get(holder, {}).values())

    @property
    def reserved_tiyn(self) -> int:
        return sum(r.amount_tiyn for r in self.reservations.values())

    @property
    def held_tiyn(self) -> int:
        return sum(sum(lots.values()) for lots in self.lots.values())


class Model:
    """SPEC §4, restated plainly. `problems_*` return the rules a command breaks."""

    def __init__(self) -> None:
        self.parties: dict[str, PartyModel] = {}
        self.colors: dict[str, ColorModel] = {}
        self.contract_colors: dict[str, str] = {}  # every contract id ever signed -> its color
        self.reservation_colors: dict[str, str] = {}  # every reservation ever made -> its color
        self.settled: set[str] = set()

    # --- shared checks ----------------------------------------------------------------------

    def party_problems(self, party: str, kind: str | None = None) -> set[str]:
        known = self.parties.get(party)
        if known is None:
            return {"unknown_party"}
        problems = set()
        if kind is not None and known.kind != kind:
            problems.add("party_has_wrong_kind")
        if known.status != "active":
            problems.add("party_is_not_active")
        return problems

    @staticmethod
    def move_problems(cm: ColorModel, holder: str, today: date, *, expiry_applies: bool = True) -> set[str]:
        """Rules 2 and 6 for money leaving `holder`."""
        problems = set()
        if cm.frozen:
            problems.add("color_is_frozen")
        if holder in cm.frozen_holders:
            problems.add("holder_is_frozen")
        if expiry_applies and today > cm.expires_on:
            problems.add("color_expired")
        if holder not in cm.lots:
            problems.add("payer_does_not_hold_color")
        return problems

    @staticmethod
    def consume(cm: ColorModel, holder: str, amount_tiyn: int,
                sources: list[tuple[str, int]] | None) -> list[tuple[str, int]] | str:
        """The lots an outgoing movement takes (FIFO or named), or the rule it breaks."""
        lots = cm.lots.get(holder, {})
        if sum(lots.values()) < amount_tiyn:
            return "balance_would_go_negative"
        if sources is None:
            taken, left = [], amount_tiyn
            for lot, tiyn in lots.items():
                if left == 0:
                    break
                take = min(tiyn, left)
                taken.append((lot, take))
                left -= take
            return taken
        wanted: dict[str, int] = {}
        for lot, tiyn in sources:
            wanted[lot] = wanted.get(lot, 0) + tiyn
        for lot, tiyn in wanted.items():
            if lot not in lots:
                return "unknown_lot"
            if lots[lot] < tiyn:
                return "lot_would_go_negative"
        return list(wanted.items())

    # --- effects ----------------------------------------------------------------------------

    @staticmethod
    def debit(cm: ColorModel, holder: str, consumed: list[tuple[str, int]]) -> None:
        lots = cm.lots[holder]
        for lot, tiyn in consumed:
            lots[lot] -= tiyn
            assert lots[lot] >= 0
            if lots[lot] == 0:
                del lots[lot]

    @staticmethod
    def credit(cm: ColorModel, holder: str, lot: str, amount_tiyn: int) -> None:
        lots = cm.lots.setdefault(holder, {})
        assert lot not in lots
        lots[lot] = amount_tiyn


# --- the machine ----------------------------------------------------------------------------









class LedgerMachine(RuleBasedStateMachine):
    open_store: Callable[[], tuple[str, Callable[[], None]]] = staticmethod(memory_store)

    def __init__(self) -> None:
        super().__init__()
        store_url, self.drop_store = self.open_store()
        self.ledger = Ledger(store_url)
        self.model = Model()
        self.b = RecordBuilder("M")
        self.submitted: list[dict[str, Any]] = []
        self.outcomes: dict[str, Outcome] = {}  # command id -> its first outcome
        self.contract_count = 0

    # --- running one command against both -------------------------------------------------

    def run(self, record: dict[str, Any], problems: set[str]) -> bool:
        """Execute `record`; the ledger must block it for one of `problems`, or apply it if none.

        Returns whether it was applied (the caller then applies the effect to the model).
        """
        command = parse_record(record)
        before = self.ledger.position()
        [outcome] = self.ledger.execute([command])
        expected = sorted(problems) or "applied"
        note(f"{json.dumps(record)} -> {outcome.status} {outcome.reason or ''} (model: {expected})")
        self.submitted.append(record)
        self.outcomes[record["id"]] = outcome
        assert self.ledger.position() == before + 1, "every applied or blocked command is one event"
        if problems:
            assert outcome.status == BLOCKED, f"{record['id']} breaks {sorted(problems)} but was {outcome.status}"
            assert outcome.reason in problems, (
                f"{record['id']} blocked for {outcome.reason}, expected one of {sorted(problems)}: {outcome.detail}"
            )
        else:
            assert outcome.status == APPLIED, (
                f"{record['id']} breaks no rule but was {outcome.status} {outcome.reason}: {outcome.detail}"
            )
        return outcome.status == APPLIED

    def last_event(self, color: str, command_id: str, cls: type[e.LedgerEvent]) -> e.LedgerEvent:
        event = self.ledger.history(color)[-1]
        assert event.command_id == command_id and type(event) is cls, (event, command_id, cls)
        return event

    def check_blocked_event(self, color: str | None, command_id: str) -> None:
        """A blocked command on a known color is recorded on that color's stream."""
        if color is not None and color in self.model.colors:
            event = self.ledger.history(color)[-1]
            assert isinstance(event, e.CommandBlocked) and event.command_id == command_id, event

    def color_of(self, pick: int) -> str:
        """Mostly an allocated color, sometimes any color of the pool."""
        allocated = sorted(self.model.colors)
        pool = allocated * 5 + sorted(COLORS.values()) if allocated else sorted(COLORS.values())
        return pool[pick % len(pool)]

    def holder_of(self, color: str, pick: int) -> str:
        cm = self.model.colors.get(color)
        holders = sorted(cm.lots) * 4 if cm else []
        pool = holders + list(PARTIES)
        return pool[pick % len(pool)]

    def all_contracts(self) -> list[tuple[str, ColorModel, ContractModel]]:
        return [(k, cm, cm.contracts[k]) for k, color in sorted(self.model.contract_colors.items())
                for cm in [self.model.colors[color]]]

    # --- setup ------------------------------------------------------------------------------

    @initialize(pilot=st.sampled_from(PILOTS), amount_tiyn=st.integers(10_000_00, 5_000_000_00),
                expiry_days=st.sampled_from((30, 120, 400)), share=st.integers(1, 100))
    def a_first_world(self, pilot: str, amount_tiyn: int, expiry_days: int, share: int) -> None:
        """A treasury, an administrator, three suppliers, one allocated color, a contract
        administrator → first supplier and a subcontract first → second supplier."""
        for party in (TREASURY, ADMINS[0], *SUPPLIERS[:3]):
            self.register_party(PARTIES.index(party))
        self.allocate(pilot, 0, 0, amount_tiyn, expiry_days)
        contract_tiyn = max(1, amount_tiyn * share // 100)
        self.sign(COLORS[pilot], ADMINS[0], SUPPLIERS[0], contract_tiyn, self.new_contract_id())
        self.sign(COLORS[pilot], SUPPLIERS[0], SUPPLIERS[1], contract_tiyn, self.new_contract_id())
        assert len(self.model.contract_colors) == 2, self.model.contract_colors

    # --- parties ----------------------------------------------------------------------------

    @rule(index=st.integers(0, len(PARTIES) - 1),
          status=st.sampled_from((None, None, "active", "liquidated", "debarred")))
    def party_registers_or_changes_status(self, index: int, status: str | None) -> None:
        if status is None:
            self.register_party(index)
        else:
            self.set_party_status(index, status)

    def register_party(self, index: int) -> None:
        party = PARTIES[index]
        record = self.b.register_party(party, KINDS[party])
        problems = {"party_already_registered"} if party in self.model.parties else set()
        if self.run(record, problems):
            self.model.parties[party] = PartyModel(KINDS[party])

    def set_party_status(self, index: int, status: str) -> None:
        party = PARTIES[index]
        record = self.b.update_party(party, status=status)
        problems = set() if party in self.model.parties else {"unknown_party"}
        if self.run(record, problems):
            self.model.parties[party].status = status

    # --- colors and contracts ---------------------------------------------------------------

    @rule(pilot=st.sampled_from(PILOTS), admin_pick=st.sampled_from((0, 1, 2, 1, 2, 4)),
          treasury_pick=st.sampled_from((0, 0, 0, 1)),
          amount_tiyn=st.integers(10_000_00, 5_000_000_00), expiry_days=st.sampled_from((10, 30, 120, 400)))
    def allocate(self, pilot: str, admin_pick: int, treasury_pick: int, amount_tiyn: int, expiry_days: int) -> None:
        color = COLORS[pilot]
        admin = (ADMINS + SUPPLIERS)[admin_pick]
        treasury = (TREASURY, ADMINS[0])[treasury_pick]
        expires_on = DAY0 + timedelta(days=expiry_days)
        record = self.b.allocate(color, treasury, admin, amount_tiyn, expires_on)
        problems = self.model.party_problems(treasury, "treasury") | self.model.party_problems(admin, "administrator")
        if color in self.model.colors:
            problems.add("color_already_allocated")
        if self.run(record, problems):
            cm = ColorModel(color, pilot, admin, expires_on, amount_tiyn)
            self.model.credit(cm, admin, record["id"], amount_tiyn)
            self.model.colors[color] = cm
            self.last_event(color, record["id"], e.FundsAllocated)

    @rule(color_pick=st.integers(0, 50), customer_pick=st.integers(0, 50), supplier_pick=st.integers(0, 50),
          amount_tiyn=st.integers(1_00, 5_000_000_00), reuse_id=st.sampled_from((False, False, False, True)))
    def sign_contract(self, color_pick: int, customer_pick: int, supplier_pick: int, amount_tiyn: int,
                      reuse_id: bool) -> None:
        color = self.color_of(color_pick)
        customer = self.holder_of(color, customer_pick)  # an administrator or holder, mostly
        supplier = SUPPLIERS[supplier_pick % len(SUPPLIERS)]
        known = sorted(self.model.contract_colors)
        contract = known[customer_pick % len(known)] if reuse_id and known else self.new_contract_id()
        self.sign(color, customer, supplier, amount_tiyn, contract)

    def new_contract_id(self) -> str:
        self.contract_count += 1
        return f"K{self.contract_count}"

    def sign(self, color: str, customer: str, supplier: str, amount_tiyn: int, contract: str) -> None:
        cm = self.model.colors.get(color)
        record = self.b.sign_contract(contract, color, customer, supplier, amount_tiyn)
        if cm is None:
            problems = {"unknown_color"}
        else:
            problems = self.model.party_problems(customer) | self.model.party_problems(supplier)
            if contract in self.model.contract_colors:
                problems.add("contract_already_exists")
            if customer == supplier:
                problems.add("customer_and_supplier_must_differ")
            if customer != cm.administrator and not any(k.supplier == customer for k in cm.contracts.values()):
                problems.add("customer_must_be_in_the_chain")
        if self.run(record, problems):
            cm.contracts[contract] = ContractModel(contract, customer, supplier, amount_tiyn)
            self.model.contract_colors[contract] = color
            self.last_event(color, record["id"], e.ContractSigned)
        else:
            self.check_blocked_event(color, record["id"])

    @precondition(lambda self: self.model.contract_colors)
    @rule(pick=st.integers(0, 50), kind=st.sampled_from(("part", "all", "over")), raw=st.integers(0, 10**12))
    def amend_contract(self, pick: int, kind: str, raw: int) -> None:
        contract, cm, k = self.all_contracts()[pick % len(self.model.contract_colors)]
        amount_tiyn = max(1, sized(kind, k.amount_tiyn, raw))
        record = self.b.amend_contract(contract, amount_tiyn, reason="scope")
        problems = set()
        if amount_tiyn < k.paid_tiyn:
            problems.add("amendment_below_paid")
        if amount_tiyn < k.accepted_tiyn:
            problems.add("acceptance_exceeds_contract")
        if self.run(record, problems):
            k.amount_tiyn = amount_tiyn
            self.last_event(cm.color, record["id"], e.ContractAmended)
        else:
            self.check_blocked_event(cm.color, record["id"])

    @precondition(lambda self: self.model.contract_colors)
    @rule(pick=st.integers(0, 50), kind=st.sampled_from(AMOUNT_KINDS), raw=st.integers(0, 10**12),
          final=st.booleans(), evidence=st.booleans())
    def accept(self, pick: int, kind: str, raw: int, final: bool, evidence: bool) -> None:
        if raw % 20 == 7:  # sometimes a contract nobody signed
            self.run(self.b.accept("NO-SUCH-CONTRACT", 1 + raw % 10**6), {"unknown_contract"})
            return
        contract, cm, k = self.all_contracts()[pick % len(self.model.contract_colors)]
        self.do_accept(contract, sized(kind, k.amount_tiyn - k.accepted_tiyn, raw), final, evidence, sha256_of(raw))

    def do_accept(self, contract: str, amount_tiyn: int, final: bool, evidence: bool, sha256: str) -> None:
        cm = self.model.colors[self.model.contract_colors[contract]]
        k = cm.contracts[contract]
        record = self.b.accept(contract, amount_tiyn, final=final, evidence_sha256=sha256 if evidence else None)
        problems = set()
        if k.accepted_tiyn + amount_tiyn > k.amount_tiyn:
            problems.add("acceptance_exceeds_contract")
        if self.run(record, problems):
            k.accepted_tiyn += amount_tiyn
            k.final_with_evidence |= final and evidence
            self.last_event(cm.color, record["id"], e.DeliveryAccepted)
        else:
            self.check_blocked_event(cm.color, record["id"])

    @precondition(lambda self: self.model.reservation_colors)
    @rule(pick=st.integers(0, 50), final=st.booleans(), evidence=st.booleans())
    def deliver_then_release(self, pick: int, final: bool, evidence: bool) -> None:
        """Accept exactly a reservation's amount (final or not, with evidence or not), then release it."""
        reservation = self.pick_reservation(pick)
        color = self.model.reservation_colors.get(reservation)
        r = self.model.colors[color].reservations.get(reservation) if color else None
        if r is not None:
            self.do_accept(r.contract, r.amount_tiyn, final, evidence, sha256_of(pick))
        self.release(pick, evidence)

    # --- payments ---------------------------------------------------------------------------

    def payment_problems(self, cm: ColorModel, payer: str, payee: str, amount_tiyn: int, contract: str | None,
                         sources: list[tuple[str, int]] | None) -> tuple[set[str], ContractModel | None, Any]:
        problems = self.model.move_problems(cm, payer, self.b.today())
        problems |= self.model.party_problems(payer) | self.model.party_problems(payee)
        k: ContractModel | None = None
        if contract is not None:
            named = cm.contracts.get(contract)
            if named is None:
                problems.add("unknown_contract")
            elif named.customer != payer:
                problems.add("payer_must_be_contract_customer")
            elif named.supplier != payee:
                problems.add("recipient_must_be_contract_supplier")
            else:
                k = named
        else:
            fitting = [x for x in cm.contracts.values() if x.customer == payer and x.supplier == payee]
            if not fitting:
                problems.add("recipient_must_have_a_contract")
            elif len(fitting) > 1:
                problems.add("contract_must_be_named")
            else:
                k = fitting[0]
        if k is not None and k.paid_tiyn + amount_tiyn > k.amount_tiyn:
            problems.add("contract_amount_exceeded")
        consumed = self.model.consume(cm, payer, amount_tiyn, sources)
        if isinstance(consumed, str):
            problems.add(consumed)
        return problems, k, consumed

    def pick_payment(self, pick: int, twist: str) -> tuple[ColorModel, str, str, str]:
        contract, cm, k = self.all_contracts()[pick % len(self.model.contract_colors)]
        payer, payee = k.customer, k.supplier
        if twist == "wrong_payee":
            others = [s for s in SUPPLIERS if s != payee]
            payee = others[pick % len(others)]
        elif twist == "wrong_payer":
            payer = cm.administrator if payer != cm.administrator else SUPPLIERS[pick % len(SUPPLIERS)]
        return cm, payer, payee, contract

    @precondition(lambda self: self.model.contract_colors)
    @rule(pick=st.integers(0, 50), kind=st.sampled_from(AMOUNT_KINDS), raw=st.integers(0, 10**12),
          name_contract=st.booleans(), twist=st.sampled_from(("none",) * 6 + ("wrong_payee", "wrong_payer")),
          sources_plan=st.one_of(st.none(), st.lists(st.tuples(st.integers(0, 20), st.integers(0, 10**12)),
                                                      min_size=1, max_size=3)))
    def transfer(self, pick: int, kind: str, raw: int, name_contract: bool, twist: str,
                 sources_plan: list[tuple[int, int]] | None) -> None:
        cm, payer, payee, contract = self.pick_payment(pick, twist)
        lots = cm.lots.get(payer, {})
        amount_tiyn = sized(kind, min(cm.balance(payer), cm.contracts[contract].amount_tiyn
                                      - cm.contracts[contract].paid_tiyn), raw)
        sources = None
        if sources_plan is not None:  # name lots: the payer's open ones, someone else's, or none at all
            others = [lot for holder, held in cm.lots.items() if holder != payer for lot in held][:2]
            names = list(lots) + others + ["NO-SUCH-LOT"]
            sources, left = [], amount_tiyn
            for lot_pick, share in sources_plan:
                if left == 0:
                    break
                lot = names[lot_pick % len(names)]
                tiyn = min(left, 1 + share % max(1, lots.get(lot, left)))
                sources.append((lot, tiyn))
                left -= tiyn
            if left:
                sources.append((names[0], left))
        record = self.b.transfer(cm.color, payer, payee, amount_tiyn, contract=contract if name_contract else None,
                                 sources=sources)
        problems, k, consumed = self.payment_problems(cm, payer, payee, amount_tiyn,
                                                      contract if name_contract else None, sources)
        if self.run(record, problems):
            event = self.last_event(cm.color, record["id"], e.FundsTransferred)
            assert [tuple(x) for x in event.consumed] == [tuple(x) for x in consumed], (event.consumed, consumed)
            assert event.contract == k.contract
            self.model.debit(cm, payer, consumed)
            self.model.credit(cm, payee, record["id"], amount_tiyn)
            k.paid_tiyn += amount_tiyn
        else:
            self.check_blocked_event(cm.color, record["id"])

    @precondition(lambda self: self.model.contract_colors)
    @rule(pick=st.integers(0, 50), kind=st.sampled_from(AMOUNT_KINDS), raw=st.integers(0, 10**12),
          twist=st.sampled_from(("none",) * 6 + ("wrong_payee", "wrong_payer")))
    def reserve(self, pick: int, kind: str, raw: int, twist: str) -> None:
        cm, payer, payee, contract = self.pick_payment(pick, twist)
        k0 = cm.contracts[contract]
        amount_tiyn = sized(kind, min(cm.balance(payer), k0.amount_tiyn - k0.paid_tiyn), raw)
        record = self.b.reserve(cm.color, payer, payee, amount_tiyn, contract)
        problems, k, consumed = self.payment_problems(cm, payer, payee, amount_tiyn, contract, None)
        if self.run(record, problems):
            event = self.last_event(cm.color, record["id"], e.FundsReserved)
            assert [tuple(x) for x in event.consumed] == [tuple(x) for x in consumed], (event.consumed, consumed)
            self.model.debit(cm, payer, consumed)
            r = ReservationModel(record["id"], cm.color, payer, payee, amount_tiyn, contract)
            cm.reservations[r.reservation] = r
            self.model.reservation_colors[record["id"]] = cm.color
            k.paid_tiyn += amount_tiyn
        else:
            self.check_blocked_event(cm.color, record["id"])

    def pick_reservation(self, pick: int) -> str:
        pool = sorted(self.model.reservation_colors) * 3 + ["NO-SUCH-RESERVATION"]
        return pool[pick % len(pool)]

    def settle_problems(self, reservation: str) -> tuple[set[str], ColorModel | None]:
        color = self.model.reservation_colors.get(reservation)
        if color is None:
            return {"unknown_reservation"}, None
        cm = self.model.colors[color]
        if reservation in self.model.settled:
            return {"reservation_already_settled"}, cm
        return ({"color_is_frozen"} if cm.frozen else set()), cm

    @precondition(lambda self: self.model.reservation_colors)
    @rule(pick=st.integers(0, 50), releasing=st.booleans(), evidence=st.booleans())
    def release_or_void(self, pick: int, releasing: bool, evidence: bool) -> None:
        if releasing:
            self.release(pick, evidence)
        else:
            self.void(pick)

    def release(self, pick: int, evidence: bool) -> None:
        reservation = self.pick_reservation(pick)
        record = self.b.release(reservation, sha256_of(pick) if evidence else None)
        problems, cm = self.settle_problems(reservation)
        r = cm.reservations.get(reservation) if cm else None
        if r is not None:
            k = cm.contracts[r.contract]
            if self.b.today() > cm.expires_on:
                problems.add("color_expired")
            problems |= self.model.party_problems(r.payee)
            if k.released_tiyn + r.amount_tiyn > k.accepted_tiyn:
                problems.add("acceptance_does_not_cover_release")
            if cm.pilot == "AGRO" and not k.final_with_evidence:
                problems.add("delivery_not_proven")
        if self.run(record, problems):
            self.last_event(cm.color, record["id"], e.ReservationReleased)
            del cm.reservations[reservation]
            self.model.settled.add(reservation)
            self.model.credit(cm, r.payee, record["id"], r.amount_tiyn)
            k.released_tiyn += r.amount_tiyn
        else:
            self.check_blocked_event(cm.color if cm else None, record["id"])

    def void(self, pick: int) -> None:
        reservation = self.pick_reservation(pick)
        record = self.b.void(reservation, reason="cancelled")
        problems, cm = self.settle_problems(reservation)
        if self.run(record, problems):
            self.last_event(cm.color, record["id"], e.ReservationVoided)
            r = cm.reservations.pop(reservation)
            self.model.settled.add(reservation)
            self.model.credit(cm, r.payer, record["id"], r.amount_tiyn)
            cm.contracts[r.contract].paid_tiyn -= r.amount_tiyn
        else:
            self.check_blocked_event(cm.color if cm else None, record["id"])

    # --- spends and returns -----------------------------------------------------------------

    @rule(color_pick=st.integers(0, 50), holder_pick=st.integers(0, 50), kind=st.sampled_from(AMOUNT_KINDS),
          raw=st.integers(0, 10**12), category=st.sampled_from(SPEND_CATEGORIES),
          contract_pick=st.one_of(st.none(), st.integers(0, 50)))
    def spend(self, color_pick: int, holder_pick: int, kind: str, raw: int, category: str,
              contract_pick: int | None) -> None:
        color = self.color_of(color_pick)
        cm = self.model.colors.get(color)
        holder = self.holder_of(color, holder_pick)
        amount_tiyn = sized(kind, cm.balance(holder) if cm else 0, raw)
        contract = None
        if contract_pick is not None:
            pool = sorted(self.model.contract_colors) + ["NO-SUCH-CONTRACT"]
            contract = pool[contract_pick % len(pool)]
        record = self.b.spend(color, holder, amount_tiyn, category, contract=contract)
        consumed: Any = None
        if cm is None:
            problems = {"unknown_color"}
        else:
            problems = self.model.move_problems(cm, holder, self.b.today()) | self.model.party_problems(holder)
            if category == "cash_withdrawal":
                problems.add("cash_withdrawal_is_forbidden")
            elif category not in ALLOWED_SPEND_CATEGORIES[cm.pilot]:
                problems.add("category_not_allowed_in_pilot")
            if contract is not None and contract not in cm.contracts:
                problems.add("unknown_contract")
            consumed = self.model.consume(cm, holder, amount_tiyn, None)
            if isinstance(consumed, str):
                problems.add(consumed)
        if self.run(record, problems):
            event = self.last_event(color, record["id"], e.FundsSpent)
            assert [tuple(x) for x in event.consumed] == [tuple(x) for x in consumed], (event.consumed, consumed)
            self.model.debit(cm, holder, consumed)
            cm.spent_tiyn += amount_tiyn
        else:
            self.check_blocked_event(color, record["id"])

    @rule(color_pick=st.integers(0, 50), holder_pick=st.integers(0, 50), kind=st.sampled_from(AMOUNT_KINDS),
          raw=st.integers(0, 10**12))
    def return_funds(self, color_pick: int, holder_pick: int, kind: str, raw: int) -> None:
        color = self.color_of(color_pick)
        cm = self.model.colors.get(color)
        holder = self.holder_of(color, holder_pick)
        amount_tiyn = sized(kind, cm.balance(holder) if cm else 0, raw)
        record = self.b.return_(color, holder, amount_tiyn, reason="unused")
        consumed: Any = None
        if cm is None:
            problems = {"unknown_color"}
        else:
            problems = self.model.move_problems(cm, holder, self.b.today(), expiry_applies=False)
            consumed = self.model.consume(cm, holder, amount_tiyn, None)
            if isinstance(consumed, str):
                problems.add(consumed)
        if self.run(record, problems):
            event = self.last_event(color, record["id"], e.FundsReturned)
            assert [tuple(x) for x in event.consumed] == [tuple(x) for x in consumed], (event.consumed, consumed)
            self.model.debit(cm, holder, consumed)
            cm.returned_tiyn += amount_tiyn
        else:
            self.check_blocked_event(color, record["id"])

    # --- freezes, time, ids -----------------------------------------------------------------

    @rule(color_pick=st.integers(0, 50), holder_pick=st.one_of(st.none(), st.integers(0, 50)),
          freezing=st.sampled_from((True, False, False)))
    def freeze_or_unfreeze(self, color_pick: int, holder_pick: int | None, freezing: bool) -> None:
        color = self.color_of(color_pick)
        cm = self.model.colors.get(color)
        holder = None if holder_pick is None else self.holder_of(color, holder_pick)
        if cm is not None and not freezing and color_pick % 4 and (cm.frozen or cm.frozen_holders):
            targets = ([None] if cm.frozen else []) + sorted(cm.frozen_holders)  # mostly lift a real freeze
            holder = targets[color_pick % len(targets)]
        record = (self.b.freeze if freezing else self.b.unfreeze)(color, holder)
        if cm is None:
            problems = {"unknown_color"}
        else:
            frozen = cm.frozen if holder is None else holder in cm.frozen_holders
            problems = set()
            if freezing and frozen:
                problems.add("already_frozen")
            elif not freezing and not frozen:
                problems.add("not_frozen")
            elif holder is not None and holder not in self.model.parties:
                problems.add("unknown_party")
        if self.run(record, problems):
            self.last_event(color, record["id"], e.ColorFrozen if freezing else e.ColorUnfrozen)
            if holder is None:
                cm.frozen = freezing
            elif freezing:
                cm.frozen_holders.add(holder)
            else:
                cm.frozen_holders.discard(holder)
        else:
            self.check_blocked_event(color, record["id"])

    @rule(days=st.sampled_from((1, 2, 5, 20, 200)))
    def time_passes(self, days: int) -> None:
        self.b.advance(days)
        note(f"business date is now {self.b.today()}")

    @precondition(lambda self: self.submitted)
    @rule(pick=st.integers(0, 10**6), same_content=st.booleans())
    def an_id_comes_again(self, pick: int, same_content: bool) -> None:
        """The same id again: with the same content a duplicate (or, if it was blocked, blocked again
        for its first rule), with other content a conflict (SPEC §2.3)."""
        record = dict(self.submitted[pick % len(self.submitted)])
        if not same_content:
            record["at"] = self.b.now().replace(microsecond=1).isoformat()  # another time: other content
        before = self.ledger.position()
        [outcome] = self.ledger.execute([parse_record(record)])
        note(f"again {record['id']} (same content: {same_content}) -> {outcome.status}")
        first = self.outcomes[record["id"]]
        if not same_content:
            assert outcome.status == CONFLICT, outcome
        elif first.status == BLOCKED:
            assert outcome == first, (outcome, first)
        else:
            assert outcome.status == DUPLICATE, outcome
        assert self.ledger.position() == before

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def every_color_is_as_the_model_says(self) -> None:
        assert sorted(self.ledger.colors()) == sorted(self.model.colors)
        for pilot, color in COLORS.items():
            allocation = self.ledger.allocation(color)
            cm = self.model.colors.get(color)
            if cm is None:
                assert allocation is None, f"{color} was never allocated, but the ledger has a state for it"
                continue
            assert allocation is not None
            allocation.check()  # the production invariants
            assert allocation.allocated_tiyn == cm.allocated_tiyn
            assert (sum(allocation.balances.values()) + allocation.reserved_tiyn + allocation.spent_tiyn
                    + allocation.returned_tiyn) == allocation.allocated_tiyn, "conservation"
            assert all(b >= 0 for b in allocation.balances.values()), allocation.balances
            assert {h: list(lots.items()) for h, lots in allocation.lots.items() if lots} == {
                h: list(lots.items()) for h, lots in cm.lots.items() if lots
            }, "open lots (FIFO order included)"
            assert {h: b for h, b in allocation.balances.items() if b} == {
                h: cm.balance(h) for h in cm.lots if cm.balance(h)
            }
            assert sorted(allocation.reservations) == sorted(cm.reservations)
            assert allocation.reserved_tiyn == cm.reserved_tiyn
            assert allocation.spent_tiyn == cm.spent_tiyn and allocation.returned_tiyn == cm.returned_tiyn
            assert (allocation.frozen, allocation.frozen_holders) == (cm.frozen, cm.frozen_holders)
            assert sorted(
                (k.contract, k.customer, k.supplier, k.amount_tiyn, k.paid_tiyn, k.released_tiyn,
                 k.accepted_tiyn, k.final_with_evidence) for k in allocation.contracts.values()
            ) == sorted(k.row() for k in cm.contracts.values())
            assert cm.held_tiyn + cm.reserved_tiyn + cm.spent_tiyn + cm.returned_tiyn == cm.allocated_tiyn

    @invariant()
    def lot_consuming_events_name_their_lots(self) -> None:
        for color in self.model.colors:
            for event in self.ledger.history(color):
                if isinstance(event, LOT_CONSUMING):
                    assert all(tiyn > 0 for _, tiyn in event.consumed), event
                    assert sum(tiyn for _, tiyn in event.consumed) == event.amount_tiyn, event


    def teardown(self) -> None:
        """At the end of every run, `verify` (SPEC §7) finds the store intact."""
        try:
            findings = Verifier(self.ledger).run()
            assert findings == [], [str(finding) for finding in findings]
        finally:
            self.ledger.close()
            self.drop_store()


def machine_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class SqliteLedgerMachine(LedgerMachine):
    open_store = staticmethod(sqlite_store)


class PostgresLedgerMachine(LedgerMachine):
    open_store = staticmethod(postgres_store)


TestLedgerStateMachine = LedgerMachine.TestCase
TestLedgerStateMachine.settings = machine_settings(50)
TestLedgerStateMachineOnSqlite = SqliteLedgerMachine.TestCase
TestLedgerStateMachineOnSqlite.settings = machine_settings(12)
TestLedgerStateMachineOnPostgres = pytest.mark.postgres(pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES=postgresql://user@host:port/db",
)(PostgresLedgerMachine.TestCase))
TestLedgerStateMachineOnPostgres.settings = machine_settings(4)


# --- the same command lists, batched differently ------------------------------------------------

def _run_in_chunks(ledger: Ledger, commands: list[Any], sizes: list[int]) -> list[Any]:
    outcomes, start, i = [], 0, 0
    while start < len(commands):
        size = sizes[i % len(sizes)]
        outcomes.extend(ledger.execute_batch(commands[start:start + size]))
        start, i = start + size, i + 1
    return outcomes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=command_lists(operations_max=60), sizes=st.lists(st.integers(1, 25), min_size=1, max_size=8))
def test_batches_of_random_size_give_the_state_of_one_by_one_execution(records: list[dict[str, Any]],
                                                                        sizes: list[int]) -> None:
    commands = to_commands(records)
    one_by_one = Ledger("memory://")
    single = [outcome for command in commands for outcome in one_by_one.execute([command])]
    batched = Ledger("memory://")
    in_batches = _run_in_chunks(batched, commands, sizes)
    assert in_batches == single
    assert ledger_state(batched) == ledger_state(one_by_one)
    configured = Ledger("memory://", batch_size=sizes[0])
    assert configured.execute(commands) == single
    assert ledger_state(configured) == ledger_state(one_by_one)
    assert Verifier(batched).run() == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=command_lists(operations_max=60), sizes=st.lists(st.integers(1, 25), min_size=1, max_size=8))
def test_re_executing_the_whole_list_is_all_duplicate_and_changes_nothing(records: list[dict[str, Any]],
                                                                         sizes: list[int]) -> None:
    commands = to_commands(records)
    ledger = Ledger("memory://", batch_size=sizes[0])
    first = ledger.execute(commands)
    assert all(outcome.status in (APPLIED, BLOCKED) for outcome in first)
    before = ledger_state(ledger)
    again = _run_in_chunks(ledger, commands, sizes)
    assert again == outcomes_again(first)
    assert ledger_state(ledger) == before
    assert ledger.execute(commands) == outcomes_again(first)
    assert ledger_state(ledger) == before


@settings(max_examples=30, deadline=None)
@given(world=worlds())
def test_a_generated_world_is_all_applied(world: Any) -> None:
    """`simulations.strategies.worlds()` promises valid worlds: every record is applied."""
    ledger = Ledger("memory://")
    outcomes = ledger.execute(to_commands(world.records))
    assert [o for o in outcomes if o.status != APPLIED] == []
    assert sorted(ledger.colors()) == sorted(world.colors)
