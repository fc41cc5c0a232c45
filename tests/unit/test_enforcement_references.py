"""SPEC §3: a command that refers to something unknown is blocked (`unknown_*`), not malformed;
references are resolved when the command is applied.
"""

from __future__ import annotations

from domain import events as e
from ledger.app import attempt_stream
from tests.support import color_id
from tests.unit.enforcement_support import Book

NEVER_ALLOCATED = color_id("ROAD", 777)


def assert_recorded_as_an_attempt(book: Book, command_id: str, reason: str) -> None:
    """A command no color can be named for is still recorded, on a stream of its own."""
    recorded = list(book.ledger.events.get(attempt_stream(command_id)))
    assert len(recorded) == 1
    assert isinstance(recorded[0], e.CommandBlocked)
    assert (recorded[0].command_id, recorded[0].reason) == (command_id, reason)


# --- unknown color -------------------------------------------------------------------------


def test_a_transfer_of_a_color_never_allocated_is_blocked_as_unknown_color() -> None:
    book = Book()
    command = book.transfer(book.admin, book.contractor, "10.00", color=NEVER_ALLOCATED)
    book.expect_blocked("unknown_color", recorded_in=None)
    assert_recorded_as_an_attempt(book, command, "unknown_color")
    assert book.ledger.allocation(NEVER_ALLOCATED) is None


def test_a_spend_of_a_color_never_allocated_is_blocked_as_unknown_color() -> None:
    book = Book()
    book.spend(book.admin, "10.00", color=NEVER_ALLOCATED)
    book.expect_blocked("unknown_color", recorded_in=None)


def test_a_return_of_a_color_never_allocated_is_blocked_as_unknown_color() -> None:
    book = Book()
    book.return_(book.admin, "10.00", color=NEVER_ALLOCATED)
    book.expect_blocked("unknown_color", recorded_in=None)


def test_a_contract_under_a_color_never_allocated_is_blocked_as_unknown_color() -> None:
    book = Book()
    book.sign("C-9", book.admin, book.contractor, "10.00", color=NEVER_ALLOCATED)
    book.expect_blocked("unknown_color", recorded_in=None)


def test_freezing_a_color_never_allocated_is_blocked_as_unknown_color() -> None:
    book = Book()
    book.freeze(color=NEVER_ALLOCATED)
    book.expect_blocked("unknown_color", recorded_in=None)


def test_a_color_allocated_earlier_in_the_same_run_is_known() -> None:
    book = Book()
    other = color_id("ROAD", 2)
    book.allocate(other, "10.00")
    book.spend(book.admin, "10.00", color=other)
    book.expect_applied()


def test_allocating_a_color_twice_is_blocked() -> None:
    book = Book()
    book.allocate(book.color, "10.00")
    book.colors.pop()  # the same color, listed once
    book.expect_blocked("color_already_allocated")


# --- unknown party -------------------------------------------------------------------------


def test_a_transfer_from_an_unregistered_payer_is_blocked_as_unknown_party() -> None:
    """SPEC §3: "A command that refers to something unknown is blocked (`unknown_party`, …)"."""
    book = Book()
    book.transfer(book.unregistered_party(), book.contractor, "10.00")
    book.expect_blocked("unknown_party")


def test_a_spend_by_an_unregistered_holder_is_blocked_as_unknown_party() -> None:
    """SPEC §3: "A command that refers to something unknown is blocked (`unknown_party`, …)"."""
    book = Book()
    book.spend(book.unregistered_party(), "10.00")
    book.expect_blocked("unknown_party")


def test_a_contract_with_an_unregistered_customer_is_blocked_as_unknown_party() -> None:
    book = Book()
    book.sign("C-9", book.unregistered_party(), book.contractor, "10.00")
    book.expect_blocked("unknown_party")


def test_an_allocation_to_an_unregistered_administrator_is_blocked_as_unknown_party() -> None:
    book = Book()
    other = color_id("ROAD", 2)
    book.colors.append(other)
    book.script.allocate(other, book.treasury, book.unregistered_party(), "10.00")
    book.expect_blocked("unknown_party", recorded_in=other)


def _blocked_allocation() -> tuple[Book, str]:
    """A book whose second color's allocation was blocked (its administrator was not registered)."""
    book = Book()
    other = color_id("ROAD", 2)
    book.colors.append(other)
    book.script.allocate(other, book.treasury, book.unregistered_party(), "10.00")
    book.expect_blocked("unknown_party", recorded_in=other)
    return book, other


def test_a_blocked_allocation_leaves_the_color_unallocated() -> None:
    book, other = _blocked_allocation()
    assert book.ledger.allocation(other) is None


def test_a_color_whose_allocation_was_blocked_can_be_allocated_once_the_cause_is_fixed() -> None:
    book, other = _blocked_allocation()
    book.script.allocate(other, book.treasury, book.admin, "10.00")
    book.expect_applied()
    assert book.balance(book.admin, other) == 1000


def test_a_spend_of_a_color_whose_allocation_was_blocked_is_blocked_as_unknown_color() -> None:
    book, other = _blocked_allocation()
    book.spend(book.admin, "1.00", color=other)
    outcome = book.attempt()
    assert (outcome.status, outcome.reason) == ("blocked", "unknown_color")


def test_an_allocation_whose_administrator_is_not_an_administrator_is_blocked() -> None:
    book = Book()
    other = color_id("ROAD", 2)
    book.colors.append(other)
    book.script.allocate(other, book.treasury, book.contractor, "10.00")
    book.expect_blocked("party_has_wrong_kind", recorded_in=other)


def test_a_party_registered_earlier_in_the_same_run_can_be_paid() -> None:
    book = Book()
    supplier = book.party("supplier")
    book.sign("C-9", book.admin, supplier, "10.00")
    book.transfer(book.admin, supplier, "10.00")
    book.expect_applied()


def test_updating_an_unregistered_party_is_blocked_as_unknown_party() -> None:
    book = Book()
    book.update_party(book.unregistered_party(), status="debarred")
    outcome = book.attempt()
    assert (outcome.status, outcome.reason) == ("blocked", "unknown_party")


# --- unknown contract ----------------------------------------------------------------------


def test_a_transfer_naming_an_unknown_contract_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00", contract="C-404")
    book.expect_blocked("unknown_contract")


def test_a_reservation_naming_an_unknown_contract_is_blocked() -> None:
    book = Book()
    book.reserve(book.admin, book.contractor, "10.00", "C-404")
    book.expect_blocked("unknown_contract")


def test_a_spend_naming_an_unknown_contract_is_blocked() -> None:
    book = Book()
    book.spend(book.admin, "10.00", contract="C-404")
    book.expect_blocked("unknown_contract")


def test_a_spend_naming_a_known_contract_is_applied() -> None:
    book = Book()
    book.spend(book.admin, "10.00", contract="C-1")
    book.expect_applied()


def test_an_acceptance_under_an_unknown_contract_is_blocked() -> None:
    book = Book()
    command = book.accept("C-404", "10.00")
    book.expect_blocked("unknown_contract", recorded_in=None)
    assert_recorded_as_an_attempt(book, command, "unknown_contract")


def test_an_amendment_of_an_unknown_contract_is_blocked() -> None:
    book = Book()
    book.amend("C-404", "10.00")
    book.expect_blocked("unknown_contract", recorded_in=None)


def test_a_contract_signed_earlier_in_the_same_run_can_be_accepted() -> None:
    book = Book()
    book.sign("C-9", book.admin, book.party("supplier"), "10.00")
    book.accept("C-9", "10.00")
    book.expect_applied()


# --- unknown reservation -------------------------------------------------------------------


def test_releasing_an_unknown_reservation_is_blocked() -> None:
    book = Book()
    command = book.release("RES-404")
    book.expect_blocked("unknown_reservation", recorded_in=None)
    assert_recorded_as_an_attempt(book, command, "unknown_reservation")


def test_voiding_an_unknown_reservation_is_blocked() -> None:
    book = Book()
    book.void("RES-404")
    book.expect_blocked("unknown_reservation", recorded_in=None)


def test_releasing_a_transfer_as_if_it_were_a_reservation_is_blocked() -> None:
    book = Book()
    transfer = book.transfer(book.admin, book.contractor, "10.00")
    book.accept("C-1", "10.00")
    book.release(transfer)
    book.expect_blocked("unknown_reservation", recorded_in=None)


def test_releasing_a_blocked_reservation_is_blocked_as_unknown_reservation() -> None:
    book = Book(allocated="10.00")
    reservation = book.reserve(book.admin, book.contractor, "10.01", "C-1")
    book.expect_blocked("balance_would_go_negative")
    book.release(reservation)
    book.expect_blocked("unknown_reservation", recorded_in=None)


def test_a_reservation_made_earlier_in_the_same_run_can_be_voided() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.void(reservation)
    book.expect_applied()
