"""Projections are disposable and exact (DESIGN.md, SPEC §5 `--as-of`, §6.1 trace).

For random valid command lists — the colleague's `simulations.strategies.command_lists`, and
`flowing_command_lists` below (built on its `worlds()` and `RecordBuilder`) where money travels
several hops through transfers, reservations, releases and voids before it is spent:

1. Built incrementally — the log written in a few segments, the projections caught up in random
   chunk sizes to random positions, a restart (a new `Ledger` and `ReadSide` on the same SQLite
   file) before every catch-up, and some catch-ups crashing part-way (inside a projection after it
   applied part of a chunk, or at a failed write to a random table, after other rows of the chunk
   were written) — every projection table equals a from-scratch build in another view database up
   to the same position, at every step (each event applied exactly once); at the end also equal to
   `ReadSide.rebuild()` (drop and rebuild in place).
2. Every trace, now and as of random positions, keeps conservation and exact provenance: each
   spend's paths sum to its amount, start at the allocation, end at the spend, follow real
   transactions of the color in log order, each hop consumes the lot the previous hop opened (or
   settles the reservation), the last hops of a spend equal the lots it consumed, and no hop
   carries more than it took from its lot; each holder's balance is the balance projection's
   (and, now, the production aggregate's).
3. As of position k the read side answers what a ledger holding only the first k commands answers
   now — by store position `@k` and by business time (the k-th record's `at`).

The oracles are the store itself (`recorder.select_notifications`, `Ledger.history`,
`Ledger.allocation`), never the projections under test. A failed write retried in the *same*
process is tested in tests/integration/test_read_side.py.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from domain import events as e
from domain.policy import ALLOWED_SPEND_CATEGORIES
from ledger.app import Ledger
from ledger.read import ReadSide, UnknownColor
from ledger.store.url import parse_store_url
from projections.base import Projection, ViewDatabase
from projections.runner import POSITIONS_TABLE, ProjectionRunner
from simulations.strategies import World, command_lists, sha256_of, to_commands, worlds

SETTINGS = settings(
    max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MOVES = (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased,
         e.ReservationVoided, e.FundsSpent, e.FundsReturned)
CONSUMING = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.FundsReturned)
SETTLING = (e.ReservationReleased, e.ReservationVoided)
WRITES = ("INSERT", "UPDATE", "DELETE")  # the statements a projection writes with

Tables = dict[str, list[tuple[Any, ...]]]


# --- command lists where money flows far --------------------------------------------------------

class _Flows:
    """Operations on a `World` sized to what its holders (probably) hold, so that money moves down
    contract chains, through reservations, releases and voids, and is spent several hops away from
    the allocation. (`command_lists` sizes amounts to the allocation, so most multi-hop spends are
    blocked there.) A rough mirror of open lots, first in first out; being wrong only means a block.
    """

    def __init__(self, world: World) -> None:
        self.w, self.b = world, world.builder
        self.lots: dict[str, dict[str, dict[str, int]]] = {}  # color -> holder -> lot -> tiyn (FIFO)
        for record in world.records:
            if record["type"] == "allocate":
                self.lots[record["color"]] = {record["administrator"]: {record["id"]: tiyn_of(record["amount"])}}
        self.room = {r["contract"]: tiyn_of(r["amount"]) for r in world.records if r["type"] == "sign_contract"}
        self.pending: list[tuple[str, str, str, str, int, str]] = []  # reservation, color, payer, payee, tiyn, contract

    def holders(self, color: str) -> list[str]:
        return sorted(h for h, lots in self.lots[color].items() if sum(lots.values()) > 0)

    def take(self, color: str, holder: str, amount_tiyn: int, named: dict[str, int] | None = None) -> None:
        lots = self.lots[color][holder]
        for lot, tiyn in (named or {}).items():
            lots[lot] -= tiyn
        left = amount_tiyn if named is None else 0
        for lot in list(lots):
            taken = min(left, lots[lot])
            lots[lot] -= taken
            left -= taken
        for lot in [lot for lot, tiyn in lots.items() if tiyn == 0]:
            del lots[lot]

    def credit(self, color: str, holder: str, lot: str, amount_tiyn: int) -> None:
        self.lots[color].setdefault(holder, {})[lot] = amount_tiyn

    def payable(self, draw: st.DrawFn) -> tuple[str, str, str, str, int] | None:
        """A contract whose customer holds money and has room left, and an amount for it."""
        fitting = [(k, v) for k, v in sorted(self.w.contracts.items())
                   if self.room.get(k, 0) > 0 and v[1] in self.holders(v[0])]
        if not fitting:
            return None
        contract, (color, payer, payee) = draw(st.sampled_from(fitting))
        cap = min(sum(self.lots[color][payer].values()), self.room[contract])
        amount_tiyn = draw(st.one_of(st.integers(1, cap), st.just(cap)))
        self.room[contract] -= amount_tiyn
        return contract, color, payer, payee, amount_tiyn

    def transfer(self, draw: st.DrawFn) -> None:
        found = self.payable(draw)
        if found is None:
            return
        contract, color, payer, payee, amount_tiyn = found
        named = None
        if draw(st.booleans()):  # name the lots, last ones first (not what FIFO would take)
            named, left = {}, amount_tiyn
            for lot, tiyn in reversed(self.lots[color][payer].items()):
                if left:
                    named[lot] = min(tiyn, left)
                    left -= named[lot]
        record = self.b.transfer(color, payer, payee, amount_tiyn, contract=contract,
                                 sources=list(named.items()) if named else None)
        self.take(color, payer, amount_tiyn, named)
        self.credit(color, payee, record["id"], amount_tiyn)

    def reserve(self, draw: st.DrawFn) -> None:
        found = self.payable(draw)
        if found is None:
            return
        contract, color, payer, payee, amount_tiyn = found
        record = self.b.reserve(color, payer, payee, amount_tiyn, contract)
        self.take(color, payer, amount_tiyn)
        self.pending.append((record["id"], color, payer, payee, amount_tiyn, contract))

    def settle(self, draw: st.DrawFn) -> None:
        if not self.pending:
            return
        reservation, color, payer, payee, amount_tiyn, contract = self.pending.pop(draw(st.integers(0, len(self.pending) - 1)))
        if draw(st.booleans()):
            self.b.accept(contract, amount_tiyn, final=True, evidence_sha256=sha256_of(len(self.b.records)))
            self.credit(color, payee, self.b.release(reservation)["id"], amount_tiyn)
        else:
            self.credit(color, payer, self.b.void(reservation, reason="invoice withdrawn")["id"], amount_tiyn)
            self.room[contract] += amount_tiyn

    def spend(self, draw: st.DrawFn, *, returning: bool = False) -> None:
        color = draw(st.sampled_from(sorted(self.lots)))
        holders = self.holders(color)
        if not holders:
            return
        holder = draw(st.sampled_from(holders))
        amount_tiyn = draw(st.integers(1, sum(self.lots[color][holder].values())))
        if returning:
            self.b.return_(color, holder, amount_tiyn, reason="savings")
        else:
            category = draw(st.sampled_from(sorted(ALLOWED_SPEND_CATEGORIES[self.w.colors[color]])))
            self.b.spend(color, holder, amount_tiyn, category)
        self.take(color, holder, amount_tiyn)

    def subcontract(self, draw: st.DrawFn) -> None:
        color = draw(st.sampled_from(sorted(self.lots)))
        customers = [h for h in self.holders(color) if h in self.w.suppliers]
        if not customers:
            return
        customer = draw(st.sampled_from(customers))
        supplier = draw(st.sampled_from([s for s in self.w.suppliers if s != customer]))
        contract = f"FK{len(self.w.contracts) + 1}"
        amount_tiyn = draw(st.integers(1, self.w.allocated_tiyn[color]))
        self.b.sign_contract(contract, color, customer, supplier, amount_tiyn)
        self.w.contracts[contract] = (color, customer, supplier)
        self.room[contract] = amount_tiyn

    def rename(self, draw: st.DrawFn) -> None:
        """A party changes its name: answers as of before the change keep the old one."""
        self.b.update_party(draw(st.sampled_from(self.w.parties)), name=f"Renamed {len(self.b.records)} LLP")

    def blocked(self, draw: st.DrawFn) -> None:
        color = draw(st.sampled_from(sorted(self.lots)))
        self.b.spend(color, self.w.administrators[color], 1_00, "cash_withdrawal")


FLOW_OPERATIONS = ("transfer", "transfer", "transfer", "subcontract", "reserve", "reserve", "settle", "settle",
                   "spend", "spend", "return", "rename", "blocked")


def tiyn_of(kzt_text: str) -> int:
    whole, _, cents = kzt_text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


@st.composite
def flowing_command_lists(draw: st.DrawFn, operations_max: int = 50) -> list[dict[str, Any]]:
    """A `worlds()` world, then operations that mostly apply and carry money several hops."""
    world = draw(worlds())
    flows = _Flows(world)
    for _ in range(draw(st.integers(1, operations_max))):
        operation = draw(st.sampled_from(FLOW_OPERATIONS))
        if operation == "return":
            flows.spend(draw, returning=True)
        else:
            getattr(flows, operation)(draw)
    return list(world.records)


def any_command_lists(operations_max: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.one_of(command_lists(operations_max=operations_max), flowing_command_lists(operations_max))


# --- reading the store and the view database --------------------------------------------------

def projections_of(read: ReadSide) -> list[Projection]:
    """The read side's own projection instances (whatever the read side is made of today)."""
    return list(read.runner.projections.values())


def contents(read: ReadSide) -> Tables:
    """Every read model's rows (sorted: some tables have no key) and the positions; internal
    tables (the rule engine's saved state, a cache saved at intervals) are left out."""
    tables: Tables = {}
    for projection in projections_of(read):
        for table in projection.compared_tables or projection.tables:
            tables[table] = sorted(read.db.query(f"SELECT * FROM {table}"), key=repr)
    tables[POSITIONS_TABLE] = sorted(read.db.query(f"SELECT name, version, position FROM {POSITIONS_TABLE}"))
    return tables


class FreshViews:
    """The ledger's log, seen by a read side whose view database is a new, empty one."""

    def __init__(self, ledger: Ledger) -> None:
        self.store = parse_store_url("memory://")  # the view database of a memory store: fresh SQLite
        self.recorder, self.mapper, self.events, self.position = ledger.recorder, ledger.mapper, ledger.events, ledger.position
        self.time_zone = ledger.time_zone
        self.authorize = ledger.authorize


def rebuilt_up_to(ledger: Ledger, position: int) -> Tables:
    """The tables a from-scratch build in another view database has at `position`."""
    fresh = ReadSide(FreshViews(ledger))
    try:
        assert min(fresh.runner.positions().values()) == 0
        fresh.runner.catch_up(until=position)
        return contents(fresh)
    finally:
        fresh.close()


def positioned_color_events(ledger: Ledger, color: str) -> list[tuple[int, e.LedgerEvent]]:
    """The color's events with their store positions, from the recorder and the aggregate's stream."""
    history = ledger.history(color)
    if not history:
        return []
    stream = history[0].originator_id
    position_of = {
        n.originator_version: n.id
        for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)
        if n.originator_id == stream
    }
    return [(position_of[ev.originator_version], ev) for ev in history]


# --- crashes part-way through a chunk ----------------------------------------------------------

class Crash(Exception):
    """The simulated crash (a kill, a lost connection) in the middle of a chunk."""


class CrashingProjection(Projection):
    """Stands in for `inner`; on its `crash_on_call`-th apply it applies part of the chunk, then raises."""

    def __init__(self, inner: Projection, crash_on_call: int, written_per_mille: int) -> None:
        self.inner = inner
        self.name, self.version, self.tables = inner.name, inner.version, inner.tables
        self.compared_tables = inner.compared_tables
        self.crash_on_call = crash_on_call
        self.written_per_mille = written_per_mille
        self.calls = 0
        self.crashed = False

    def create(self, db: ViewDatabase) -> None:
        self.inner.create(db)

    def drop(self, db: ViewDatabase) -> None:
        self.inner.drop(db)

    def attach(self, read_log: Any) -> None:
        self.inner.attach(read_log)

    def flush(self, db: ViewDatabase) -> None:
        self.inner.flush(db)

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        self.calls += 1
        if self.calls != self.crash_on_call:
            self.inner.apply(db, events)
            return
        written = max(1, len(events) * self.written_per_mille // 1000)
        self.inner.apply(db, events[:written])
        self.crashed = True
        raise Crash(f"{self.name} crashed after applying {written} of {len(events)} events")


class FailingDatabase:
    """A view database whose `occurrence`-th write statement touching `table` fails (the connection
    drops, the disk is full): the rows written before it in the chunk's transaction are rolled back."""

    def __init__(self, db: ViewDatabase, table: str, occurrence: int) -> None:
        self.db, self.kind = db, db.kind
        self.table, self.occurrence = table, occurrence
        self.seen = 0
        self.crashed = False

    def transaction(self) -> AbstractContextManager[None]:
        return self.db.transaction()

    def setup_transaction(self) -> AbstractContextManager[None]:
        return self.db.setup_transaction()

    def has_table(self, name: str) -> bool:
        return self.db.has_table(name)

    def _write(self, sql: str) -> None:
        words = sql.split()
        if words[0].upper() in WRITES and self.table in words[:3] and not self.crashed:
            self.seen += 1
            if self.seen == self.occurrence:
                self.crashed = True
                raise Crash(f"write #{self.seen} to {self.table} failed: {sql[:60]}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._write(sql)
        self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        self._write(sql)
        self.db.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.db.query(sql, params)


def written_tables(read: ReadSide) -> list[str]:
    return [table for p in projections_of(read) for table in p.tables] + [POSITIONS_TABLE]


def crashing_catch_up(read: ReadSide, until: int, chunk_events: int, data: st.DataObject) -> None:
    """A catch-up that crashes part-way, inside a projection after it applied part of a chunk or
    at a write to a random table. It runs the read side's own projection objects, so a retry in
    the same process sees whatever they kept in memory."""
    projections = projections_of(read)
    if data.draw(st.booleans(), label="crash inside a projection (else a failed write)"):
        index = data.draw(st.integers(0, len(projections) - 1), label="crashing projection")
        crashing = CrashingProjection(projections[index], data.draw(st.integers(1, 3), label="crash on call"),
                                      data.draw(st.integers(0, 1000), label="written per mille"))
        projections[index] = crashing
        runner = ProjectionRunner(read.db, projections, read.read_log)
        failure: CrashingProjection | FailingDatabase = crashing
    else:
        failure = FailingDatabase(read.db, data.draw(st.sampled_from(written_tables(read)), label="failing table"),
                                  data.draw(st.integers(1, 3), label="failing occurrence"))
        runner = ProjectionRunner(failure, projections, read.read_log)
    try:
        runner.catch_up(until=until, chunk_events=chunk_events)
    except Crash as crash:
        note(f"crash: {crash}")
        event(f"crashed part-way ({type(failure).__name__})")
    assert failure.crashed or min(runner.positions().values()) == until


# --- incremental == rebuilt --------------------------------------------------------------------

def catch_up_session(url: str, data: st.DataObject) -> None:
    """A restart: a new Ledger and ReadSide on the same store catch up to a random position in
    random chunks, sometimes crashing part-way (then retrying in the same process or not);
    afterwards the tables equal a from-scratch rebuild up to the position reached."""
    ledger = Ledger(url)
    try:
        read = ledger.read_side()
        reached = min(read.runner.positions().values())
        until = data.draw(st.integers(reached, ledger.position()), label="until")
        chunk_events = data.draw(st.integers(1, 12), label="chunk_events")
        if data.draw(st.booleans(), label="crash"):
            crashing_catch_up(read, until, chunk_events, data)
            if data.draw(st.booleans(), label="retry in the same process"):
                assert read.runner.catch_up(until=until, chunk_events=chunk_events) == until
        else:
            assert read.runner.catch_up(until=until, chunk_events=chunk_events) == until
        positions = read.runner.positions()
        assert len(set(positions.values())) == 1, f"projections move together: {positions}"
        position = min(positions.values())
        assert reached <= position <= until
        assert contents(read) == rebuilt_up_to(ledger, position), f"incremental != rebuilt at @{position}"
    finally:
        ledger.close()


def segments(items: Sequence[Any], cuts: Sequence[int]) -> list[Sequence[Any]]:
    bounds = [0, *sorted(cuts), len(items)]
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


@SETTINGS
@given(records=any_command_lists(50), data=st.data())
def test_projections_built_in_random_chunks_with_restarts_and_crashes_equal_a_rebuild(
        records: list[dict[str, Any]], data: st.DataObject) -> None:
    commands = to_commands(records)
    cuts = data.draw(st.lists(st.integers(0, len(commands)), max_size=2), label="log written in segments at")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ledger.sqlite'}"
        writer = Ledger(url)
        try:
            for segment in segments(commands, cuts):
                if segment:
                    writer.execute(segment)
                for _ in range(data.draw(st.integers(1, 3), label="catch-ups")):
                    catch_up_session(url, data)
        finally:
            writer.close()

        ledger = Ledger(url)
        try:
            read = ledger.read_side()
            now = read.catch_up()
            incremental = contents(read)
            assert incremental == rebuilt_up_to(ledger, now)
            assert all(position == now for _, _, position in incremental[POSITIONS_TABLE])
            read.rebuild()
            assert contents(read) == incremental, "rebuild in place changed the tables"
            check_every_trace(ledger, read, now, data)
        finally:
            ledger.close()


# --- traces: conservation and exact provenance -------------------------------------------------

def check_every_trace(ledger: Ledger, read: ReadSide, now: int, data: st.DataObject) -> None:
    for color in sorted(ledger.colors()):
        events = positioned_color_events(ledger, color)
        allocated_at = next(p for p, ev in events if isinstance(ev, e.FundsAllocated))
        document = read.trace(color, now, None)
        check_trace(document, events, read.balances(now, color=color))
        check_against_the_aggregate(document, ledger, color)
        for position in data.draw(st.lists(st.integers(0, now), max_size=3), label=f"as-of {color}"):
            if position < allocated_at:
                try:
                    read.trace(color, position, None)
                except UnknownColor:
                    continue
                raise AssertionError(f"{color} is allocated at @{allocated_at}, but traced as of @{position}")
            document = read.trace(color, position, f"@{position}")
            assert (document["as_of"], document["position"]) == (f"@{position}", position)
            check_trace(document, [(p, ev) for p, ev in events if p <= position], read.balances(position, color=color))


def check_trace(document: dict[str, Any], events: list[tuple[int, e.LedgerEvent]],
                balance_rows: list[tuple[str, str, int]]) -> None:
    """SPEC §6.1 conservation and provenance, checked against the color's events up to the cut."""
    check_conservation(document)
    holders = {h["party"]: h for h in document["holders"]}
    projected = {holder: tiyn for _, holder, tiyn in balance_rows}
    assert {party: projected.get(party, 0) for party in holders} == {p: h["balance_tiyn"] for p, h in holders.items()}
    assert all(tiyn == 0 for party, tiyn in projected.items() if party not in holders), projected

    moves = {ev.command_id: (index, ev) for index, (_, ev) in enumerate(events) if isinstance(ev, MOVES)}
    spent = [ev for _, ev in events if isinstance(ev, e.FundsSpent)]
    assert [(s["transaction"], s["holder"], s["category"], s["amount_tiyn"]) for s in document["spends"]] == [
        (ev.command_id, ev.holder, ev.category, ev.amount_tiyn) for ev in spent
    ]
    [allocation] = [ev for _, ev in events if isinstance(ev, e.FundsAllocated)]
    flow: Counter[tuple[str, str]] = Counter()
    for spend, ev in zip(document["spends"], spent):
        check_spend_paths(spend, ev, allocation.command_id, moves, flow)
    for (lot, hop), tiyn in flow.items():
        assert tiyn <= hop_capacity(lot, moves[hop][1]), f"more tiyn traced through {lot} -> {hop} than it carried"
    check_edges(document, events)


def check_conservation(document: dict[str, Any]) -> None:
    c = document["conservation"]
    assert c["ok"] is True, c
    assert c["held_tiyn"] + c["reserved_tiyn"] + c["spent_tiyn"] + c["returned_tiyn"] == c["allocated_tiyn"]
    assert c["allocated_tiyn"] == document["allocated_tiyn"]
    holders = document["holders"]
    for total, column in (("held_tiyn", "balance_tiyn"), ("reserved_tiyn", "reserved_tiyn"),
                          ("spent_tiyn", "spent_tiyn"), ("returned_tiyn", "returned_tiyn")):
        assert c[total] == sum(h[column] for h in holders), total
    for h in holders:
        assert h["balance_tiyn"] == (h["received_tiyn"] - h["paid_on_tiyn"] - h["spent_tiyn"]
                                     - h["returned_tiyn"] - h["reserved_tiyn"]) >= 0, h
        assert min(h["received_tiyn"], h["paid_on_tiyn"], h["spent_tiyn"], h["returned_tiyn"], h["reserved_tiyn"]) >= 0, h
    assert sum(s["amount_tiyn"] for s in document["spends"]) == c["spent_tiyn"]


def check_spend_paths(spend: dict[str, Any], ev: e.FundsSpent, allocation_id: str,
                      moves: dict[str, tuple[int, e.LedgerEvent]], flow: Counter[tuple[str, str]]) -> None:
    assert sum(p["amount_tiyn"] for p in spend["paths"]) == ev.amount_tiyn, spend
    last_hops: Counter[str] = Counter()
    for path in spend["paths"]:
        ids, tiyn = path["transactions"], path["amount_tiyn"]
        assert tiyn > 0 and len(ids) >= 2, path
        assert ids[0] == allocation_id and ids[-1] == ev.command_id, path
        assert all(i in moves for i in ids), f"not a movement of this color (up to the cut): {ids}"
        assert [moves[i][0] for i in ids] == sorted({moves[i][0] for i in ids}), f"not in log order: {ids}"
        for lot, hop in zip(ids, ids[1:]):
            assert linked(moves[lot][1], moves[hop][1]), f"{hop} did not take from {lot}: {ids}"
            flow[lot, hop] += tiyn
            event(f"a spend traced through {type(moves[hop][1]).__name__}")
        event(f"a spend path of {min(len(ids), 5)}{'+' if len(ids) >= 5 else ''} transactions")
        last_hops[ids[-2]] += tiyn
    consumed: Counter[str] = Counter()
    for lot, tiyn in ev.consumed:
        consumed[lot] += tiyn
    assert last_hops == consumed, f"{ev.command_id}: paths end in {dict(last_hops)}, it consumed {dict(consumed)}"


def credited(ev: e.LedgerEvent) -> str | None:
    """The holder a movement opened a lot for (named by the movement's id), if any."""
    if isinstance(ev, e.FundsAllocated):
        return ev.administrator
    if isinstance(ev, (e.FundsTransferred, e.ReservationReleased)):
        return ev.payee
    if isinstance(ev, e.ReservationVoided):
        return ev.payer
    return None


def linked(lot: e.LedgerEvent, hop: e.LedgerEvent) -> bool:
    """`hop` took money `lot` carried: it consumed the lot `lot` opened, or it settled reservation `lot`."""
    if isinstance(hop, SETTLING):
        return isinstance(lot, e.FundsReserved) and hop.reservation == lot.command_id
    assert isinstance(hop, CONSUMING), hop
    payer = hop.payer if isinstance(hop, (e.FundsTransferred, e.FundsReserved)) else hop.holder
    return credited(lot) == payer and lot.command_id in dict(hop.consumed)


def hop_capacity(lot: str, hop: e.LedgerEvent) -> int:
    if isinstance(hop, SETTLING):
        return hop.amount_tiyn
    return sum(tiyn for name, tiyn in hop.consumed if name == lot)


def check_edges(document: dict[str, Any], events: list[tuple[int, e.LedgerEvent]]) -> None:
    expected: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for _, ev in events:
        if isinstance(ev, e.FundsTransferred):
            amount, ids = expected.get((ev.payer, ev.payee), (0, []))
            expected[ev.payer, ev.payee] = (amount + ev.amount_tiyn, [*ids, ev.command_id])
        elif isinstance(ev, e.ReservationReleased):
            amount, ids = expected.get((ev.payer, ev.payee), (0, []))
            expected[ev.payer, ev.payee] = (amount + ev.amount_tiyn, [*ids, ev.reservation, ev.command_id])
    assert {(x["from"], x["to"]): (x["amount_tiyn"], x["transactions"]) for x in document["edges"]} == expected
    assert len(document["edges"]) == len(expected)


def check_against_the_aggregate(document: dict[str, Any], ledger: Ledger, color: str) -> None:
    """Now, the trace agrees with the production aggregate (its own `check()` passes too)."""
    allocation = ledger.allocation(color)
    assert allocation is not None
    allocation.check()
    holders = {h["party"]: h["balance_tiyn"] for h in document["holders"] if h["balance_tiyn"]}
    assert holders == {holder: tiyn for holder, tiyn in allocation.balances.items() if tiyn}
    c = document["conservation"]
    assert (c["reserved_tiyn"], c["spent_tiyn"], c["returned_tiyn"]) == (
        allocation.reserved_tiyn, allocation.spent_tiyn, allocation.returned_tiyn)


# --- as of position k == a ledger that stopped at k ------------------------------------------------

def answers(read: ReadSide, colors: Sequence[str], position: int, as_of: str | None) -> dict[str, Any]:
    """Every read-side answer as of `position`, with the as-of echo fields left out."""
    found: dict[str, Any] = {"balances": read.balances(None if as_of is None else position)}
    for color in colors:
        try:
            document = read.trace(color, position, as_of)
        except UnknownColor:
            found[color] = "unknown"
            continue
        assert document["position"] == position
        found[color] = ({k: v for k, v in document.items() if k not in ("as_of", "position")},
                        [(p, ev) for p, ev in read.color_events(color, position)])
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=any_command_lists(40), data=st.data())
def test_as_of_position_and_time_answer_what_a_ledger_stopped_there_answers(
        records: list[dict[str, Any]], data: st.DataObject) -> None:
    commands = to_commands(records)
    whole = Ledger("memory://")
    whole.execute(commands)
    assert whole.position() == len(commands), "one event per command (applied or blocked)"
    read = whole.read_side()
    now = read.catch_up()
    colors = sorted(whole.colors())
    for k in data.draw(st.lists(st.integers(1, len(commands)), min_size=1, max_size=3, unique=True), label="k"):
        stopped = Ledger("memory://")
        stopped.execute(commands[:k])
        stopped_read = stopped.read_side()
        position = stopped_read.catch_up()
        assert position == k
        expected = answers(stopped_read, colors, position, None)
        assert read.resolve_as_of(f"@{k}", now) == k
        assert read.resolve_as_of(records[k - 1]["at"], now) == k, "lines are in increasing business time"
        assert answers(read, colors, k, f"@{k}") == expected
        assert answers(read, colors, k, records[k - 1]["at"]) == expected
        stopped.close()
    whole.close()
