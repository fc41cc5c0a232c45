"""Hypothesis strategies for valid tenge-ledger commands and small worlds.

Researchers and tests import this module to generate interchange records (SPEC §3) that always
*parse* — every id, color, party id, amount and time is well formed — while their *meaning* is
random: some commands are applied, others are blocked by the rules of SPEC §4 (too large amounts,
wrong payees, frozen or expired colors, forbidden spend categories, unknown lots, …). Nothing here
predicts outcomes; pair the strategies with a model (see `tests/property/`) or compare two runs.

Needs `hypothesis` (the `test` extra of the distribution): it is not a runtime dependency.

Building blocks
---------------
- `party_id(n)` / `color_for(pilot)` / `kzt(amount_tiyn)`: valid identifiers and amount strings.
- `RecordBuilder`: builds one record per call (`register_party`, `allocate`, `transfer`, …) with
  fresh command ids and non-decreasing business time (`advance(days)` jumps forward, e.g. past a
  color's `expires_on`). Times are `T0` (10:00 at +05:00) plus whole days plus one second per
  record, so a record's local date and UTC date agree (below ~50 000 records).
- `worlds()`: a small valid world — a treasury, one administrator per color, 1–3 colors of
  different pilots, suppliers of several kinds, contracts and subcontracts. `World.records` applied
  in order are all `applied`.
- `command_lists()`: a world followed by random operations on it — transfers (with and without
  `sources`), reservations, releases, voids, acceptances (final, with evidence), spends (allowed
  and forbidden categories), returns, freezes/unfreezes, party status changes, new subcontracts,
  amendments and time jumps past `expires_on`. Ids are unique within a list.
- `to_commands(records)`: the typed commands (`ledger.interchange.parse_record`).
- `ledger_state(ledger)`: a comparable snapshot of a `Ledger` (position, every event in position
  order, every color's holders, lots, reservations and contracts) — to compare two runs.

Example::

    from hypothesis import given
    from ledger.app import Ledger
    from simulations.strategies import command_lists, to_commands

    @given(command_lists(operations_max=60))
    def test_replay_is_deterministic(records):
        commands = to_commands(records)
        first, second = Ledger("memory://"), Ledger("memory://")
        assert first.execute(commands) == second.execute(commands)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from domain.commands import SPEND_CATEGORIES, Command
from domain.identifiers import PILOTS, make_color, make_party_id
from domain.money import format_kzt
from ledger.interchange import parse_record

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=5)))
DAY0 = T0.date()
PILOT_SEQ = {"ROAD": 1, "AGRO": 2, "LOCAL": 3}  # one color per pilot: different sequence numbers
SUPPLIER_KINDS = ("contractor", "supplier", "dealer", "farmer")
EXPIRY_DAYS = (10, 30, 120, 400)  # `expires_on` = T0's date + one of these
ALLOCATION_TIYN_MIN = 10_000_00
ALLOCATION_TIYN_MAX = 5_000_000_00
RECORDS_PER_LIST_MAX = 2_000


def party_id(n: int, *, person: bool = False) -> str:
    """A valid BIN (or IIN, `person=True`) numbered n; distinct n give distinct ids."""
    assert 0 <= n < 10_000, n
    prefix = "850312" if person else "190840"
    for spare in range(10):  # the rare stems without a check digit take another spare digit
        made = make_party_id(f"{prefix}{spare}{n:04d}")
        if made:
            return made
    raise AssertionError(f"no valid party id for {n}")


def color_for(pilot: str, seq: int | None = None, fiscal_year: int = 2025, program: int = 41) -> str:
    """A valid color of `pilot` (sequence number `PILOT_SEQ[pilot]` unless given)."""
    assert pilot in PILOTS, pilot
    return make_color(pilot, fiscal_year, program, PILOT_SEQ[pilot] if seq is None else seq)


def kzt(amount_tiyn: int) -> str:
    """The interchange amount string of `amount_tiyn` ("1500000.50")."""
    assert isinstance(amount_tiyn, int) and amount_tiyn >= 0, amount_tiyn
    return format_kzt(amount_tiyn)


def sha256_of(n: int) -> str:
    """A well-formed (fake) SHA-256 evidence hash."""
    return f"{n:064x}"


def to_commands(records: Sequence[dict[str, Any]]) -> list[Command]:
    """Parse records into typed commands (every record of this module parses)."""
    return [parse_record(record) for record in records]


def ledger_state(ledger: Any, events_max: int = 100_000) -> dict[str, Any]:
    """A comparable snapshot of `ledger` (a `ledger.app.Ledger`): equal snapshots, equal ledgers.

    Holds the position, the decoded events in position order, and per color the allocation's
    open lots (in first-in-first-out order), balances, reservations, totals, freezes and contracts.
    Every allocation's `check()` must pass.
    """
    notifications = ledger.recorder.select_notifications(start=1, limit=events_max)
    assert len(notifications) < events_max, "raise events_max"
    colors: dict[str, Any] = {}
    for color in sorted(ledger.colors()):
        allocation = ledger.allocation(color)
        assert allocation is not None, color
        allocation.check()
        colors[color] = {
            "allocated_tiyn": allocation.allocated_tiyn,
            "lots": {holder: list(lots.items()) for holder, lots in sorted(allocation.lots.items()) if lots},
            "balances": {holder: tiyn for holder, tiyn in sorted(allocation.balances.items()) if tiyn},
            "reservations": sorted(
                (r.reservation, r.payer, r.payee, r.amount_tiyn, r.contract)
                for r in allocation.reservations.values()
            ),
            "reserved_tiyn": allocation.reserved_tiyn,
            "spent_tiyn": allocation.spent_tiyn,
            "returned_tiyn": allocation.returned_tiyn,
            "frozen": (allocation.frozen, sorted(allocation.frozen_holders)),
            "contracts": sorted(
                (k.contract, k.customer, k.supplier, k.amount_tiyn, k.paid_tiyn, k.released_tiyn,
                 k.accepted_tiyn, k.final_with_evidence)
                for k in allocation.contracts.values()
            ),
            "version": allocation.version,
        }
    return {
        "position": ledger.position(),
        "events": [ledger.mapper.to_domain_event(n) for n in notifications],
        "colors": colors,
    }


class RecordBuilder:
    """Builds valid interchange records with fresh ids and non-decreasing business time.

    Every method appends the record to `records` and returns it. `prefix` keeps ids of two
    builders apart. The builder knows nothing of outcomes: it only spells records correctly.
    """

    def __init__(self, prefix: str = "X", start: datetime = T0) -> None:
        assert prefix and prefix[0].isalnum(), prefix
        self.prefix = prefix
        self.start = start
        self.day = 0
        self.count = 0
        self.records: list[dict[str, Any]] = []

    # --- time and ids -----------------------------------------------------------------------

    def now(self) -> datetime:
        """The business time the next record gets."""
        return self.start + timedelta(days=self.day, seconds=self.count)

    def today(self) -> date:
        return self.now().date()

    def advance(self, days: int) -> None:
        """Move business time forward by whole days (e.g. past a color's `expires_on`)."""
        assert days >= 0, days
        self.day += days

    def add(self, type_: str, *, id: str | None = None, **fields: Any) -> dict[str, Any]:
        """A record of `type_`; fields whose value is None are left out (absent = null)."""
        assert len(self.records) < 1_000_000
        self.count += 1
        record: dict[str, Any] = {
            "id": id or f"{self.prefix}{self.count:05d}-{type_[:3]}",
            "type": type_,
            "at": self.now().isoformat(),
        }
        record.update({name.rstrip("_"): value for name, value in fields.items() if value is not None})
        self.records.append(record)
        return record

    # --- parties ----------------------------------------------------------------------------

    def register_party(self, party: str, kind: str, **fields: Any) -> dict[str, Any]:
        return self.add("register_party", party=party, name=f"{kind.title()} {party[-4:]}", kind=kind, **fields)

    def update_party(self, party: str, **fields: Any) -> dict[str, Any]:
        return self.add("update_party", party=party, **fields)

    # --- colors and contracts ---------------------------------------------------------------

    def allocate(self, color: str, treasury: str, administrator: str, amount_tiyn: int,
                 expires_on: date, **fields: Any) -> dict[str, Any]:
        return self.add("allocate", color=color, program=color.split("-")[2], purpose="simulated allocation",
                        amount=kzt(amount_tiyn), treasury=treasury, administrator=administrator,
                        expires_on=expires_on.isoformat(), **fields)

    def sign_contract(self, contract: str, color: str, customer: str, supplier: str, amount_tiyn: int,
                      **fields: Any) -> dict[str, Any]:
        items = [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": kzt(amount_tiyn)}]
        return self.add("sign_contract", contract=contract, color=color, customer=customer, supplier=supplier,
                        amount=kzt(amount_tiyn), items=items, **fields)

    def amend_contract(self, contract: str, amount_tiyn: int, **fields: Any) -> dict[str, Any]:
        return self.add("amend_contract", contract=contract, amount=kzt(amount_tiyn), **fields)

    def accept(self, contract: str, amount_tiyn: int, *, final: bool = False,
               evidence_sha256: str | None = None) -> dict[str, Any]:
        return self.add("accept", contract=contract, amount=kzt(amount_tiyn), final=final or None,
                        evidence_sha256=evidence_sha256)

    # --- movements --------------------------------------------------------------------------

    def transfer(self, color: str, payer: str, payee: str, amount_tiyn: int, *, contract: str | None = None,
                 sources: Sequence[tuple[str, int]] | None = None, **fields: Any) -> dict[str, Any]:
        """`sources` are (lot, tiyn) pairs; they must sum to `amount_tiyn` (the format says so)."""
        listed = None
        if sources is not None:
            assert sum(tiyn for _, tiyn in sources) == amount_tiyn, (sources, amount_tiyn)
            listed = [{"lot": lot, "amount": kzt(tiyn)} for lot, tiyn in sources]
        return self.add("transfer", color=color, from_=payer, to=payee, amount=kzt(amount_tiyn),
                        contract=contract, sources=listed, **fields)

    def reserve(self, color: str, payer: str, payee: str, amount_tiyn: int, contract: str,
                **fields: Any) -> dict[str, Any]:
        return self.add("reserve", color=color, from_=payer, to=payee, amount=kzt(amount_tiyn),
                        contract=contract, **fields)

    def release(self, reservation: str, evidence_sha256: str | None = None) -> dict[str, Any]:
        return self.add("release", reservation=reservation, evidence_sha256=evidence_sha256)

    def void(self, reservation: str, reason: str | None = None) -> dict[str, Any]:
        return self.add("void", reservation=reservation, reason=reason)

    def spend(self, color: str, holder: str, amount_tiyn: int, category: str, **fields: Any) -> dict[str, Any]:
        return self.add("spend", color=color, from_=holder, amount=kzt(amount_tiyn), category=category, **fields)

    def return_(self, color: str, holder: str, amount_tiyn: int, reason: str | None = None) -> dict[str, Any]:
        return self.add("return", color=color, from_=holder, amount=kzt(amount_tiyn), reason=reason)

    def freeze(self, color: str, holder: str | None = None, reason: str = "audit") -> dict[str, Any]:
        return self.add("freeze", color=color, reason=reason, holder=holder)

    def unfreeze(self, color: str, holder: str | None = None, reason: str = "audit closed") -> dict[str, Any]:
        return self.add("unfreeze", color=color, reason=reason, holder=holder)


@dataclass
class World:
    """A small valid world: `records` applied in order are all applied.

    `builder` continues the world (its ids and clock); the dictionaries name what exists.
    """

    builder: RecordBuilder
    treasury: str
    colors: dict[str, str]  # color -> pilot
    administrators: dict[str, str]  # color -> administrator
    allocated_tiyn: dict[str, int]  # color -> amount
    expires_on: dict[str, date]  # color -> last day money may move
    suppliers: tuple[str, ...]
    contracts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> (color, customer, supplier)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.builder.records

    @property
    def parties(self) -> tuple[str, ...]:
        return (self.treasury, *self.administrators.values(), *self.suppliers)


@st.composite
def worlds(draw: st.DrawFn, *, colors_max: int = 3, suppliers_max: int = 5, prefix: str = "W") -> World:
    """A treasury, 1..`colors_max` colors of different pilots (one administrator each),
    2..`suppliers_max` suppliers, a contract administrator → supplier per color and sometimes
    subcontracts supplier → supplier."""
    assert 1 <= colors_max <= len(PILOTS) and 2 <= suppliers_max <= 50
    b = RecordBuilder(prefix)
    pilots = draw(st.lists(st.sampled_from(PILOTS), min_size=1, max_size=colors_max, unique=True))
    treasury = party_id(1)
    b.register_party(treasury, "treasury")
    supplier_count = draw(st.integers(2, suppliers_max))
    suppliers = tuple(party_id(100 + i) for i in range(supplier_count))
    for supplier in suppliers:
        b.register_party(supplier, draw(st.sampled_from(SUPPLIER_KINDS)))
    world = World(b, treasury, {}, {}, {}, {}, suppliers)
    for index, pilot in enumerate(pilots):
        color, admin = color_for(pilot), party_id(10 + index)
        b.register_party(admin, "administrator")
        amount_tiyn = draw(st.integers(ALLOCATION_TIYN_MIN, ALLOCATION_TIYN_MAX))
        expires_on = DAY0 + timedelta(days=draw(st.sampled_from(EXPIRY_DAYS)))
        b.allocate(color, treasury, admin, amount_tiyn, expires_on)
        world.colors[color], world.administrators[color] = pilot, admin
        world.allocated_tiyn[color], world.expires_on[color] = amount_tiyn, expires_on
        _sign(draw, world, color, admin, draw(st.sampled_from(suppliers)), amount_tiyn)
        if draw(st.booleans()):  # a subcontract down the chain
            _, _, first = world.contracts[f"K{len(world.contracts)}"]
            others = [s for s in suppliers if s != first]
            _sign(draw, world, color, first, draw(st.sampled_from(others)), amount_tiyn)
    return world


def _sign(draw: st.DrawFn, world: World, color: str, customer: str, supplier: str, cap_tiyn: int) -> str:
    contract = f"K{len(world.contracts) + 1}"
    amount_tiyn = draw(st.integers(max(1, cap_tiyn // 10), cap_tiyn))
    world.builder.sign_contract(contract, color, customer, supplier, amount_tiyn)
    world.contracts[contract] = (color, customer, supplier)
    return contract


OPERATIONS = (
    "transfer", "transfer", "transfer", "transfer_sources", "reserve", "release", "void", "accept",
    "spend", "spend", "return", "freeze", "unfreeze", "unfreeze", "party_status", "subcontract", "amend",
    "advance",
)


@st.composite
def command_lists(draw: st.DrawFn, *, operations_min: int = 1, operations_max: int = 40,
                  colors_max: int = 3) -> list[dict[str, Any]]:
    """A world's records followed by `operations_min..operations_max` random operations on it.

    The result is a list of interchange records with unique ids, in business-time order.
    """
    assert 0 <= operations_min <= operations_max <= RECORDS_PER_LIST_MAX
    world = draw(worlds(colors_max=colors_max))
    count = draw(st.integers(operations_min, operations_max))
    state = _Intent(world)
    for _ in range(count):
        state.operate(draw, draw(st.sampled_from(OPERATIONS)))
    return list(world.records)


class _Intent:
    """What the operations believe exists (lots, reservations, holders) — not what was applied."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.b = world.builder
        # color -> holder -> lot ids that may have reached the holder
        self.lots: dict[str, dict[str, list[str]]] = {
            color: {admin: [self._allocation_id(color)]} for color, admin in world.administrators.items()
        }
        self.reservations: list[tuple[str, str, str]] = []  # (id, color, payee)

    def _allocation_id(self, color: str) -> str:
        return next(r["id"] for r in self.b.records if r["type"] == "allocate" and r["color"] == color)

    def _amount(self, draw: st.DrawFn, color: str) -> int:
        cap_tiyn = self.world.allocated_tiyn[color]
        return draw(st.one_of(st.integers(1, max(1, cap_tiyn // 8)), st.integers(1, cap_tiyn + cap_tiyn // 4)))

    def _contract(self, draw: st.DrawFn, color: str | None = None) -> tuple[str, tuple[str, str, str]]:
        names = sorted(k for k, v in self.world.contracts.items() if color is None or v[0] == color)
        contract = draw(st.sampled_from(names))
        return contract, self.world.contracts[contract]

    def operate(self, draw: st.DrawFn, operation: str) -> None:
        getattr(self, "_" + operation)(draw)

    def _transfer(self, draw: st.DrawFn, *, with_sources: bool = False) -> None:
        contract, (color, payer, payee) = self._contract(draw)
        amount_tiyn = self._amount(draw, color)
        named = draw(st.booleans())
        sources = None
        if with_sources:
            lots = self.lots[color].get(payer) or ["NO-SUCH-LOT"]
            lot = draw(st.sampled_from(lots))
            split_tiyn = draw(st.integers(0, amount_tiyn - 1))
            other = draw(st.sampled_from(lots))
            sources = [(lot, amount_tiyn - split_tiyn)] + ([(other, split_tiyn)] if split_tiyn else [])
        record = self.b.transfer(color, payer, payee, amount_tiyn, contract=contract if named else None,
                                 sources=sources)
        self.lots[color].setdefault(payee, []).append(record["id"])

    def _transfer_sources(self, draw: st.DrawFn) -> None:
        self._transfer(draw, with_sources=True)

    def _reserve(self, draw: st.DrawFn) -> None:
        contract, (color, payer, payee) = self._contract(draw)
        record = self.b.reserve(color, payer, payee, self._amount(draw, color), contract)
        self.reservations.append((record["id"], color, payee))

    def _settle(self, draw: st.DrawFn, release: bool) -> None:
        reservation, color, payee = draw(st.sampled_from(self.reservations or [("NO-SUCH-RES", "", "")]))
        if release:
            evidence = sha256_of(draw(st.integers(0, 9))) if draw(st.booleans()) else None
            record = self.b.release(reservation, evidence)
            if color:
                self.lots[color].setdefault(payee, []).append(record["id"])
        else:
            self.b.void(reservation, reason="cancelled")  # its lot goes back to the payer

    def _release(self, draw: st.DrawFn) -> None:
        self._settle(draw, True)

    def _void(self, draw: st.DrawFn) -> None:
        self._settle(draw, False)

    def _accept(self, draw: st.DrawFn) -> None:
        contract, (color, _, _) = self._contract(draw)
        final = draw(st.booleans())
        evidence = sha256_of(draw(st.integers(0, 9))) if draw(st.booleans()) else None
        self.b.accept(contract, self._amount(draw, color), final=final, evidence_sha256=evidence)

    def _holder(self, draw: st.DrawFn, color: str) -> str:
        return draw(st.sampled_from(sorted(self.lots[color]) + [draw(st.sampled_from(self.world.suppliers))]))

    def _spend(self, draw: st.DrawFn) -> None:
        color = draw(st.sampled_from(sorted(self.world.colors)))
        category = draw(st.sampled_from(SPEND_CATEGORIES))
        self.b.spend(color, self._holder(draw, color), self._amount(draw, color), category)

    def _return(self, draw: st.DrawFn) -> None:
        color = draw(st.sampled_from(sorted(self.world.colors)))
        self.b.return_(color, self._holder(draw, color), self._amount(draw, color))

    def _freeze(self, draw: st.DrawFn, *, unfreeze: bool = False) -> None:
        color = draw(st.sampled_from(sorted(self.world.colors)))
        holder = self._holder(draw, color) if draw(st.booleans()) else None
        (self.b.unfreeze if unfreeze else self.b.freeze)(color, holder)

    def _unfreeze(self, draw: st.DrawFn) -> None:
        self._freeze(draw, unfreeze=True)

    def _party_status(self, draw: st.DrawFn) -> None:
        party = draw(st.sampled_from(self.world.parties))
        self.b.update_party(party, status=draw(st.sampled_from(("active", "active", "liquidated", "debarred"))))

    def _subcontract(self, draw: st.DrawFn) -> None:
        color = draw(st.sampled_from(sorted(self.world.colors)))
        customer = draw(st.sampled_from(sorted(self.lots[color])))
        supplier = draw(st.sampled_from(self.world.suppliers))
        _sign(draw, self.world, color, customer, supplier, self.world.allocated_tiyn[color])

    def _amend(self, draw: st.DrawFn) -> None:
        contract, (color, _, _) = self._contract(draw)
        self.b.amend_contract(contract, self._amount(draw, color), reason="scope changed")

    def _advance(self, draw: st.DrawFn) -> None:
        self.b.advance(draw(st.sampled_from((1, 7, 30, 90, 400))))
