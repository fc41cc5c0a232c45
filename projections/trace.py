"""Where an allocation went: the trace document of SPEC §6.1, computed from one color's events.

Provenance is exact to the tiyn. Every open lot is a queue of *segments* — (amount, the chain of
transaction ids that carried it here) — and an outgoing movement takes the lots it names in its
`consumed` record, each from the front of its queue. A final spend therefore knows, for each of its
tiyn, the chain from the allocation to the spend; segments with the same chain are merged. The cost
is proportional to the color's own history, never to the size of the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import events as e
from domain.money import format_kzt

Path = tuple[str, ...]
Segments = list[list[Any]]  # [[amount_tiyn, path], ...], front first


@dataclass
class _Holder:
    party: str
    order: int
    received_tiyn: int = 0
    paid_on_tiyn: int = 0
    spent_tiyn: int = 0
    returned_tiyn: int = 0
    reserved_tiyn: int = 0

    @property
    def balance_tiyn(self) -> int:
        return self.received_tiyn - self.paid_on_tiyn - self.reserved_tiyn - self.spent_tiyn - self.returned_tiyn


@dataclass
class _Edge:
    payer: str
    payee: str
    amount_tiyn: int = 0
    transactions: list[str] = field(default_factory=list)


class TraceBuilder:
    """Folds a color's events into holders, edges, spends with provenance, and conservation."""

    def __init__(self) -> None:
        self.color = ""
        self.pilot = ""
        self.administrator = ""
        self.allocated_tiyn = 0
        self.holders: dict[str, _Holder] = {}
        self.lots: dict[str, dict[str, Segments]] = {}
        self.reservations: dict[str, tuple[str, str, Segments]] = {}
        self.edges: dict[tuple[str, str], _Edge] = {}
        self.spends: list[dict[str, Any]] = []

    def apply(self, event: e.LedgerEvent) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    # --- handlers -----------------------------------------------------------------------------

    def _allocated(self, ev: e.FundsAllocated) -> None:
        self.color, self.pilot, self.administrator = ev.color, ev.pilot, ev.administrator
        self.allocated_tiyn = ev.amount_tiyn
        self._receive(ev.administrator, ev.command_id, [[ev.amount_tiyn, (ev.command_id,)]])

    def _transferred(self, ev: e.FundsTransferred) -> None:
        taken = self._take(ev.payer, ev.consumed, ev.command_id)
        self._holder(ev.payer).paid_on_tiyn += ev.amount_tiyn
        self._receive(ev.payee, ev.command_id, taken)
        self._edge(ev.payer, ev.payee, ev.amount_tiyn, [ev.command_id])

    def _reserved(self, ev: e.FundsReserved) -> None:
        taken = self._take(ev.payer, ev.consumed, ev.command_id)
        self._holder(ev.payer).reserved_tiyn += ev.amount_tiyn
        self.reservations[ev.command_id] = (ev.payer, ev.payee, taken)

    def _released(self, ev: e.ReservationReleased) -> None:
        payer, payee, taken = self.reservations.pop(ev.reservation)
        self._holder(payer).reserved_tiyn -= ev.amount_tiyn
        self._holder(payer).paid_on_tiyn += ev.amount_tiyn
        self._receive(payee, ev.command_id, _extend(taken, ev.command_id))
        self._edge(payer, payee, ev.amount_tiyn, [ev.reservation, ev.command_id])

    def _voided(self, ev: e.ReservationVoided) -> None:
        payer, _, taken = self.reservations.pop(ev.reservation)
        self._holder(payer).reserved_tiyn -= ev.amount_tiyn  # back in the payer's balance
        self.lots.setdefault(payer, {})[ev.command_id] = _extend(taken, ev.command_id)

    def _spent(self, ev: e.FundsSpent) -> None:
        taken = self._take(ev.holder, ev.consumed, ev.command_id)
        self._holder(ev.holder).spent_tiyn += ev.amount_tiyn
        paths: dict[Path, int] = {}
        for amount_tiyn, path in taken:
            paths[path] = paths.get(path, 0) + amount_tiyn
        self.spends.append({
            "transaction": ev.command_id, "holder": ev.holder, "category": ev.category,
            "amount_tiyn": ev.amount_tiyn,
            "paths": [{"amount_tiyn": amount, "transactions": list(path)} for path, amount in paths.items()],
        })
        assert sum(p["amount_tiyn"] for p in self.spends[-1]["paths"]) == ev.amount_tiyn

    def _returned(self, ev: e.FundsReturned) -> None:
        self._take(ev.holder, ev.consumed, ev.command_id)
        self._holder(ev.holder).returned_tiyn += ev.amount_tiyn

    # --- lots and segments --------------------------------------------------------------------

    def _holder(self, party: str) -> _Holder:
        holder = self.holders.get(party)
        if holder is None:
            holder = self.holders[party] = _Holder(party, len(self.holders))
        return holder

    def _receive(self, party: str, lot: str, segments: Segments) -> None:
        self._holder(party).received_tiyn += sum(s[0] for s in segments)
        self.lots.setdefault(party, {})[lot] = segments

    def _take(self, party: str, consumed: e.Consumed, transaction: str) -> Segments:
        """Take each consumed amount from the front of its lot; paths end with `transaction`."""
        lots = self.lots[party]
        taken: Segments = []
        for lot, amount_tiyn in consumed:
            queue = lots[lot]
            left_tiyn = amount_tiyn
            while left_tiyn:
                front = queue[0]
                part_tiyn = min(front[0], left_tiyn)
                taken.append([part_tiyn, front[1] + (transaction,)])
                front[0] -= part_tiyn
                left_tiyn -= part_tiyn
                if front[0] == 0:
                    queue.pop(0)
            if not queue:
                del lots[lot]
        return _merged(taken)

    def _edge(self, payer: str, payee: str, amount_tiyn: int, transactions: list[str]) -> None:
        edge = self.edges.get((payer, payee))
        if edge is None:
            edge = self.edges[payer, payee] = _Edge(payer, payee)
        edge.amount_tiyn += amount_tiyn
        edge.transactions.extend(transactions)

    # --- the document -------------------------------------------------------------------------

    def depths(self) -> dict[str, int]:
        depth = {self.administrator: 0}
        queue = deque([self.administrator])
        while queue:
            payer = queue.popleft()
            for (source, payee) in self.edges:
                if source == payer and payee not in depth:
                    depth[payee] = depth[payer] + 1
                    queue.append(payee)
        return depth

    def document(self, names: Mapping[str, str], as_of: str | None, position: int) -> dict[str, Any]:
        depth = self.depths()
        holders = sorted(self.holders.values(), key=lambda h: (depth.get(h.party, 99), h.order))
        held = sum(h.balance_tiyn for h in holders)
        reserved = sum(h.reserved_tiyn for h in holders)
        spent = sum(h.spent_tiyn for h in holders)
        returned = sum(h.returned_tiyn for h in holders)
        for h in holders:
            assert h.balance_tiyn == sum(s[0] for lot in self.lots.get(h.party, {}).values() for s in lot), h.party
        return {
            "color": self.color, "pilot": self.pilot,
            "allocated": format_kzt(self.allocated_tiyn), "allocated_tiyn": self.allocated_tiyn,
            "as_of": as_of or f"@{position}", "position": position,
            "holders": [{
                "party": h.party, "name": names.get(h.party, ""), "depth": depth.get(h.party),
                "received_tiyn": h.received_tiyn, "paid_on_tiyn": h.paid_on_tiyn, "spent_tiyn": h.spent_tiyn,
                "returned_tiyn": h.returned_tiyn, "reserved_tiyn": h.reserved_tiyn, "balance_tiyn": h.balance_tiyn,
            } for h in holders],
            "edges": [{"from": x.payer, "to": x.payee, "amount_tiyn": x.amount_tiyn, "transactions": x.transactions}
                      for x in self.edges.values()],
            "spends": self.spends,
            "conservation": {
                "allocated_tiyn": self.allocated_tiyn, "held_tiyn": held, "reserved_tiyn": reserved,
                "spent_tiyn": spent, "returned_tiyn": returned,
                "ok": held + reserved + spent + returned == self.allocated_tiyn,
            },
        }


def _extend(segments: Segments, transaction: str) -> Segments:
    return [[amount, path + (transaction,)] for amount, path in segments]


def _merged(segments: Segments) -> Segments:
    merged: Segments = []
    for amount_tiyn, path in segments:
        if merged and merged[-1][1] == path:
            merged[-1][0] += amount_tiyn
        else:
            merged.append([amount_tiyn, path])
    return merged


def build_trace(events: Sequence[e.LedgerEvent], names: Mapping[str, str], as_of: str | None, position: int) -> dict[str, Any]:
    """The SPEC §6.1 document for one color's events (in stream order, up to the as-of cut)."""
    builder = TraceBuilder()
    for event in events:
        builder.apply(event)
    assert builder.color, "a trace needs the color's allocation"
    return builder.document(names, as_of, position)


_HANDLERS = {
    e.FundsAllocated: TraceBuilder._allocated,
    e.FundsTransferred: TraceBuilder._transferred,
    e.FundsReserved: TraceBuilder._reserved,
    e.ReservationReleased: TraceBuilder._released,
    e.ReservationVoided: TraceBuilder._voided,
    e.FundsSpent: TraceBuilder._spent,
    e.FundsReturned: TraceBuilder._returned,
}
