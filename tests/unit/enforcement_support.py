"""A small book of one colored allocation on `memory://`, for the SPEC §4 enforcement tests.

    book = Book()                                    # treasury, admin, contractor, sub, one color
    book.transfer(book.admin, book.contractor, "1000.00")
    book.expect_applied()
    book.transfer(book.admin, book.contractor, "0.01")
    book.expect_blocked("balance_would_go_negative")

Commands are added to a `tests.support.Script` and run only when the test asks
(`given`, `attempt`, `expect_applied`, `expect_blocked`). Every run ends with the conservation
check (`Allocation.check()` and the SPEC §4 equation) on every color of the book.
"""

from __future__ import annotations

import copy
from typing import Any

from domain import events as e
from domain.allocation import Allocation
from domain.money import parse_kzt
from ledger.app import Ledger, Outcome
from ledger.interchange import parse_record
from tests.support import Script, color_id, party_id

EVIDENCE_SHA256 = "ab" * 32
ALLOCATED_DEFAULT = "1000.00"
CONTRACT_AMOUNT_DEFAULT = "1000000.00"  # large: the contract limit stays out of the way


def tiyn(kzt: str) -> int:
    return parse_kzt(kzt)


def two_colors(allocated: str = ALLOCATED_DEFAULT, other_allocated: str = "5000.00") -> tuple[Book, str]:
    """A book whose administrator holds a second ROAD color too (no contracts under it)."""
    book = Book(allocated=allocated)
    other = color_id("ROAD", 2)
    book.allocate(other, other_allocated)
    book.given()
    return book, other


class Book:
    """One ledger, one script, a small valid world: treasury, administrator, contractor, sub.

    `store` is a store URL (default `memory://`), `time_zone` the ledger's zone (default UTC+05:00).

    Contracts: `C-1` admin → contractor, `C-2` contractor → sub, both of `contract_amount`.
    Records are stamped on day 0 (2025-03-01) onwards unless a test gives `days=`;
    `days=n` means 10:00+05:00 on 2025-03-01 + n days.
    """

    def __init__(
        self,
        pilot: str = "ROAD",
        allocated: str = ALLOCATED_DEFAULT,
        contract_amount: str = CONTRACT_AMOUNT_DEFAULT,
        expires_on: str = "2025-12-31",
        store: str = "memory://",
        time_zone: str | None = None,
    ) -> None:
        self.script = Script()
        self.ledger = Ledger(store, time_zone=time_zone)
        self.colors: list[str] = []
        self._sent = 0
        s = self.script
        self.treasury = s.party("treasury")
        self.admin = s.party("administrator")
        self.contractor = s.party("contractor")
        self.sub = s.party("contractor")
        self.color = color_id(pilot, 1)
        self.allocation_lot = self.allocate(self.color, allocated, expires_on=expires_on)
        self.sign("C-1", self.admin, self.contractor, contract_amount)
        self.sign("C-2", self.contractor, self.sub, contract_amount)
        self.given()

    # --- building commands (each returns the command id) -----------------------------------

    def party(self, kind: str = "contractor") -> str:
        return self.script.party(kind)

    def unregistered_party(self) -> str:
        return party_id(9_999)

    def allocate(self, color: str, amount: str, expires_on: str = "2025-12-31", **kw: Any) -> str:
        self.colors.append(color)
        return self.script.allocate(color, self.treasury, self.admin, amount, expires_on, **kw)["id"]

    def sign(
        self, contract: str, customer: str, supplier: str, amount: str, color: str | None = None, **kw: Any
    ) -> str:
        return self.script.contract(contract, color or self.color, customer, supplier, amount, **kw)["id"]

    def amend(self, contract: str, amount: str, **kw: Any) -> str:
        return self.script.add("amend_contract", contract=contract, amount=amount, **kw)["id"]

    def accept(self, contract: str, amount: str, **kw: Any) -> str:
        return self.script.add("accept", contract=contract, amount=amount, **kw)["id"]

    def transfer(self, payer: str, payee: str, amount: str, color: str | None = None, **kw: Any) -> str:
        return self.script.transfer(color or self.color, payer, payee, amount, **kw)["id"]

    def reserve(self, payer: str, payee: str, amount: str, contract: str, color: str | None = None, **kw: Any) -> str:
        return self.script.reserve(color or self.color, payer, payee, amount, contract, **kw)["id"]

    def release(self, reservation: str, **kw: Any) -> str:
        return self.script.add("release", reservation=reservation, **kw)["id"]

    def void(self, reservation: str, **kw: Any) -> str:
        return self.script.add("void", reservation=reservation, **kw)["id"]

    def spend(self, holder: str, amount: str, category: str = "materials", color: str | None = None, **kw: Any) -> str:
        return self.script.spend(color or self.color, holder, amount, category, **kw)["id"]

    def return_(self, holder: str, amount: str, color: str | None = None, **kw: Any) -> str:
        return self.script.return_(color or self.color, holder, amount, **kw)["id"]

    def freeze(self, holder: str | None = None, color: str | None = None, **kw: Any) -> str:
        return self.script.add("freeze", color=color or self.color, reason="audit", holder=holder, **kw)["id"]

    def unfreeze(self, holder: str | None = None, color: str | None = None, **kw: Any) -> str:
        return self.script.add("unfreeze", color=color or self.color, reason="audit done", holder=holder, **kw)["id"]

    def update_party(self, party: str, **changes: Any) -> str:
        return self.script.add("update_party", party=party, **changes)["id"]

    def resubmit(self, command_id: str, **changes: Any) -> str:
        """Add again the record of `command_id` (same id), with `changes` applied to its fields."""
        record = next(r for r in self.script.records if r["id"] == command_id)
        again = copy.deepcopy(record)
        again.update(changes)
        self.script.records.append(again)
        return command_id

    # --- running ---------------------------------------------------------------------------

    def _run(self, records: list[dict[str, Any]]) -> list[Outcome]:
        outcomes = self.ledger.execute([parse_record(record) for record in records])
        assert len(outcomes) == len(records)
        self.check_conservation()
        return outcomes

    def _pending(self) -> list[dict[str, Any]]:
        pending = self.script.records[self._sent:]
        self._sent = len(self.script.records)
        return pending

    def close(self) -> None:
        self.ledger.close()

    def reopen(self) -> None:
        """A fresh `Ledger` on the same store (as another process would open it); not for memory://."""
        store = self.ledger.store
        self.ledger.close()
        self.ledger = Ledger(store)

    def given(self) -> None:
        """Run every pending command; each must be applied."""
        self._setup(self._pending())

    def _setup(self, records: list[dict[str, Any]]) -> None:
        if records:
            outcomes = self._run(records)
            not_applied = [o for o in outcomes if o.status != "applied"]
            assert not not_applied, f"setup commands not applied: {not_applied}"

    def attempt(self) -> Outcome:
        """Run the pending commands (all but the last must be applied); the last one's outcome."""
        pending = self._pending()
        assert pending, "nothing to attempt"
        self._setup(pending[:-1])
        return self._run(pending[-1:])[0]

    def run_pending_together(self) -> list[Outcome]:
        """Run every pending command in one `execute` call; their outcomes, whatever they are."""
        return self._run(self._pending())

    def expect_applied(self) -> Outcome:
        outcome = self.attempt()
        assert (outcome.status, outcome.reason) == ("applied", None), outcome
        return outcome

    def expect_blocked(self, reason: str, recorded_in: str | None = "") -> Outcome:
        """The last pending command is blocked for `reason`, changes nothing, and is recorded.

        `recorded_in` is the color whose history must end with the `CommandBlocked` event
        (default: the book's color; None for commands that no color can be named for).
        """
        pending = self._pending()
        assert pending, "nothing to attempt"
        self._setup(pending[:-1])
        before = self.state()
        history_before = {color: len(self.ledger.history(color)) for color in self.colors}
        outcome = self._run(pending[-1:])[0]
        assert (outcome.status, outcome.reason) == ("blocked", reason), outcome
        assert outcome.detail, "a blocked command explains itself"
        assert self.state() == before, "a blocked command changes no balance, lot, reservation or contract"
        color = self.color if recorded_in == "" else recorded_in
        for other in self.colors:
            grew = len(self.ledger.history(other)) - history_before[other]
            assert grew == (1 if other == color else 0), (other, grew)
        if color is not None:
            last = self.ledger.history(color)[-1]
            assert isinstance(last, e.CommandBlocked), last
            assert (last.command_id, last.reason) == (outcome.command_id, reason)
            assert last.command_type == pending[-1]["type"]
        return outcome

    # --- reading ---------------------------------------------------------------------------

    def allocation(self, color: str | None = None) -> Allocation:
        allocation = self.ledger.allocation(color or self.color)
        assert allocation is not None
        return allocation

    def balance(self, holder: str, color: str | None = None) -> int:
        return self.allocation(color).balances.get(holder, 0)

    def lots(self, holder: str, color: str | None = None) -> dict[str, int]:
        return dict(self.allocation(color).lots.get(holder, {}))

    def event(self, command_id: str, color: str | None = None) -> e.LedgerEvent:
        matching = [ev for ev in self.ledger.history(color or self.color) if ev.command_id == command_id]
        assert len(matching) == 1, (command_id, matching)
        return matching[0]

    def consumed(self, command_id: str, color: str | None = None) -> tuple[tuple[str, int], ...]:
        """The (lot, tiyn) pairs the recorded movement of `command_id` consumed."""
        event = self.event(command_id, color)
        assert isinstance(event, (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.FundsReturned)), event
        return tuple(tuple(pair) for pair in event.consumed)  # type: ignore[misc]

    def state(self) -> dict[str, Any]:
        """Everything a movement could change, for every color of the book."""
        state: dict[str, Any] = {}
        for color in self.colors:
            a = self.ledger.allocation(color)
            if a is None or not a.allocation_id:  # never allocated (maybe only blocked attempts)
                state[color] = None
                continue
            state[color] = {
                "balances": dict(a.balances),
                "lots": {holder: dict(lots) for holder, lots in a.lots.items()},
                "held": a.held_tiyn,
                "reserved": a.reserved_tiyn,
                "spent": a.spent_tiyn,
                "returned": a.returned_tiyn,
                "reservations": dict(a.reservations),
                "settled": set(a.settled_reservations),
                "contracts": {
                    k: (v.customer, v.supplier, v.amount_tiyn, v.paid_tiyn, v.released_tiyn,
                        v.accepted_tiyn, v.final_with_evidence)
                    for k, v in a.contracts.items()
                },
                "frozen": (a.frozen, frozenset(a.frozen_holders)),
            }
        return state

    def check_conservation(self) -> None:
        """SPEC §4: allocated = Σ balances + Σ reserved + Σ spent + Σ returned, for each color."""
        for color in self.colors:
            a = self.ledger.allocation(color)
            if a is None or not a.allocation_id:
                continue
            a.check()
            assert a.allocated_tiyn == (
                sum(a.balances.values()) + a.reserved_tiyn + a.spent_tiyn + a.returned_tiyn
            ), color
