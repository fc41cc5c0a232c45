"""SPEC §4 (attempts are recorded, nothing moves), §2.3 (duplicates and conflicts), and
conservation at every event.
"""

from __future__ import annotations

from domain import events as e
from domain.allocation import Allocation
from tests.unit.enforcement_support import EVIDENCE_SHA256, Book, tiyn, two_colors

# --- a blocked command is recorded and moves nothing ---------------------------------------


def test_a_blocked_transfer_is_recorded_in_the_colors_history_with_its_rule() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    last = book.ledger.history(book.color)[-1]
    assert isinstance(last, e.CommandBlocked)
    assert (last.command_id, last.command_type, last.reason) == (command, "transfer", "balance_would_go_negative")
    assert "1000.01" in last.detail
    assert last.command["id"] == command
    assert last.command["from"] == book.admin
    assert last.command["to"] == book.contractor
    assert last.command["amount"] == "1000.01"


def test_a_blocked_transfer_is_never_written_as_a_transfer() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    assert not any(isinstance(ev, e.FundsTransferred) for ev in book.ledger.history(book.color))
    assert [type(ev) for ev in book.ledger.history(book.color) if ev.command_id == command] == [e.CommandBlocked]


def test_a_blocked_spend_is_recorded_with_its_category_rule() -> None:
    book = Book(pilot="AGRO")
    command = book.spend(book.admin, "10.00", "fuel")
    book.expect_blocked("category_not_allowed_in_pilot")
    blocked = book.event(command)
    assert isinstance(blocked, e.CommandBlocked)
    assert (blocked.command_type, blocked.command["category"]) == ("spend", "fuel")


def test_a_blocked_command_changes_no_balance_of_any_holder() -> None:
    book = Book(allocated="1000.00")
    book.transfer(book.admin, book.contractor, "300.00")
    book.transfer(book.contractor, book.sub, "100.00")
    book.given()
    before = {p: book.balance(p) for p in (book.admin, book.contractor, book.sub)}
    book.transfer(book.contractor, book.sub, "200.01")
    book.expect_blocked("balance_would_go_negative")
    assert {p: book.balance(p) for p in (book.admin, book.contractor, book.sub)} == before


def test_blocked_attempts_do_not_stop_the_commands_after_them() -> None:
    book = Book(allocated="1000.00")
    book.given()
    blocked = book.transfer(book.admin, book.sub, "10.00")
    applied = book.transfer(book.admin, book.contractor, "10.00")
    outcomes = book.run_pending_together()
    assert [(o.command_id, o.status) for o in outcomes] == [(blocked, "blocked"), (applied, "applied")]
    assert book.balance(book.contractor) == tiyn("10.00")
    book.check_conservation()


def test_a_whole_chain_defined_and_used_in_one_run_is_applied() -> None:
    """SPEC §3: references are resolved when the command is applied, in order."""
    book = Book(allocated="1000.00")
    supplier = book.party("supplier")
    book.sign("C-9", book.contractor, supplier, "100.00")
    book.transfer(book.admin, book.contractor, "300.00")
    reservation = book.reserve(book.contractor, supplier, "100.00", "C-9")
    book.accept("C-9", "100.00", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.spend(supplier, "100.00", "equipment")
    book.expect_applied()
    assert book.allocation().spent_tiyn == tiyn("100.00")


# --- duplicates and conflicts --------------------------------------------------------------


def test_the_same_command_submitted_again_is_a_duplicate_and_changes_nothing() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.given()
    before, history = book.state(), len(book.ledger.history(book.color))
    book.resubmit(command)
    outcome = book.attempt()
    assert (outcome.command_id, outcome.status, outcome.reason) == (command, "duplicate", None)
    assert book.state() == before
    assert len(book.ledger.history(book.color)) == history
    assert book.balance(book.contractor) == tiyn("10.00")


def test_the_same_command_twice_in_one_run_is_applied_once_then_a_duplicate() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.resubmit(command)
    outcomes = book.run_pending_together()
    assert [o.status for o in outcomes] == ["applied", "duplicate"]
    assert book.balance(book.contractor) == tiyn("10.00")
    book.check_conservation()


def test_the_same_content_spelled_differently_is_a_duplicate() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.given()
    book.resubmit(command, amount="10")
    assert book.attempt().status == "duplicate"
    assert book.balance(book.contractor) == tiyn("10.00")


def test_a_blocked_command_submitted_again_stays_blocked_for_its_first_reason_even_when_it_would_now_pass() -> None:
    """Issue 10 item 11: the same attempt again reports its original outcome and is not recorded twice."""
    book = Book(allocated="1000.00")
    book.freeze()
    command = book.spend(book.admin, "10.00")
    first = book.expect_blocked("color_is_frozen")
    book.unfreeze()
    book.given()
    history = len(book.ledger.history(book.color))
    book.resubmit(command)
    again = book.attempt()
    assert (again.status, again.reason, again.detail) == ("blocked", "color_is_frozen", first.detail)
    assert book.allocation().spent_tiyn == 0
    assert len(book.ledger.history(book.color)) == history


def test_the_same_id_with_a_different_amount_is_a_conflict_and_changes_nothing() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.given()
    before, history = book.state(), len(book.ledger.history(book.color))
    position = book.ledger.position()
    book.resubmit(command, amount="20.00")
    outcome = book.attempt()
    assert (outcome.command_id, outcome.status) == (command, "conflict")
    assert outcome.reason
    assert book.state() == before
    assert len(book.ledger.history(book.color)) == history
    assert book.ledger.position() == position


def test_the_same_id_with_a_different_payee_is_a_conflict() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.given()
    book.resubmit(command, to=book.sub)
    assert book.attempt().status == "conflict"
    assert book.balance(book.sub) == 0


def test_the_same_id_reused_for_another_kind_of_command_is_a_conflict() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.given()
    book.spend(book.admin, "10.00", id=command)
    outcome = book.attempt()
    assert (outcome.command_id, outcome.status) == (command, "conflict")
    assert book.allocation().spent_tiyn == 0


def test_the_id_of_a_blocked_command_reused_with_other_content_is_a_conflict() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    book.resubmit(command, amount="10.00")
    assert book.attempt().status == "conflict"
    assert book.balance(book.contractor) == 0


def test_a_conflict_within_one_run_leaves_the_first_command_applied() -> None:
    book = Book(allocated="1000.00")
    command = book.transfer(book.admin, book.contractor, "10.00")
    book.resubmit(command, amount="20.00")
    outcomes = book.run_pending_together()
    assert [o.status for o in outcomes] == ["applied", "conflict"]
    assert book.balance(book.contractor) == tiyn("10.00")


# --- conservation at every event -----------------------------------------------------------


def _busy_book() -> Book:
    """Every kind of movement, applied and blocked, on one color."""
    book = Book(allocated="1000.00", contract_amount="600.00")
    supplier = book.party("supplier")
    book.sign("C-9", book.contractor, supplier, "200.00")
    book.transfer(book.admin, book.contractor, "300.00")
    book.transfer(book.admin, book.contractor, "1000.00")  # blocked: contract / balance
    reservation = book.reserve(book.admin, book.contractor, "200.00", "C-1")
    voided = book.reserve(book.admin, book.contractor, "50.00", "C-1")
    book.void(voided)
    book.accept("C-1", "200.00")
    book.release(reservation)
    book.release(reservation)  # blocked: settled
    book.transfer(book.contractor, book.sub, "120.00", contract="C-2")
    book.transfer(book.contractor, supplier, "80.00")
    book.spend(book.sub, "100.00", "fuel")
    book.spend(book.sub, "20.00", "cash_withdrawal")  # blocked
    book.return_(supplier, "30.00")
    book.freeze(holder=book.contractor)
    book.spend(book.contractor, "1.00")  # blocked: frozen holder
    book.unfreeze(holder=book.contractor)
    book.return_(book.admin, "100.00")
    outcomes = book.run_pending_together()
    assert [o.status for o in outcomes].count("blocked") == 4
    return book


def test_conservation_holds_after_every_event_of_a_busy_color() -> None:
    book = _busy_book()
    history = book.ledger.history(book.color)
    assert any(isinstance(ev, e.CommandBlocked) for ev in history)
    replay = Allocation(history[0].originator_id)
    for event in history:
        replay.apply(event)
        replay.check()
        assert replay.allocated_tiyn == (
            sum(replay.balances.values()) + replay.reserved_tiyn + replay.spent_tiyn + replay.returned_tiyn
        ), event.command_id


def test_conservation_of_a_busy_color_adds_up_to_the_tiyn() -> None:
    book = _busy_book()
    a = book.allocation()
    assert a.spent_tiyn == tiyn("100.00")
    assert a.returned_tiyn == tiyn("130.00")
    assert a.reserved_tiyn == 0
    assert sum(a.balances.values()) == tiyn("770.00")
    assert a.allocated_tiyn == tiyn("1000.00")


def test_conservation_holds_for_each_color_separately() -> None:
    book, other = two_colors(allocated="1000.00", other_allocated="5000.00")
    book.transfer(book.admin, book.contractor, "400.00")
    book.spend(book.admin, "700.00", color=other)
    book.return_(book.admin, "4300.00", color=other)
    book.expect_applied()
    assert book.allocation().allocated_tiyn == tiyn("1000.00")
    assert book.allocation(other).spent_tiyn + book.allocation(other).returned_tiyn == tiyn("5000.00")
    assert book.balance(book.admin, other) == 0
