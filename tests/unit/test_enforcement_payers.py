"""SPEC §4 rule 2: only the allocation's administrator, and parties that received the color, pay it."""

from __future__ import annotations

from tests.unit.enforcement_support import EVIDENCE_SHA256, Book, tiyn


def test_the_administrator_pays_the_color_without_having_received_it_by_transfer() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()


def test_a_contractor_that_never_held_the_color_cannot_pay_its_subcontractor() -> None:
    book = Book()
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_blocked("payer_does_not_hold_color")


def test_a_contractor_that_received_the_color_pays_its_subcontractor() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_applied()
    assert book.balance(book.sub) == tiyn("10.00")


def test_the_treasury_does_not_hold_the_color_it_allocated() -> None:
    book = Book()
    book.spend(book.treasury, "10.00")
    book.expect_blocked("payer_does_not_hold_color")


def test_a_party_that_never_held_the_color_cannot_spend_it() -> None:
    book = Book()
    book.spend(book.sub, "0.01")
    book.expect_blocked("payer_does_not_hold_color")


def test_a_party_that_never_held_the_color_cannot_return_it() -> None:
    book = Book()
    book.return_(book.sub, "0.01")
    book.expect_blocked("payer_does_not_hold_color")


def test_a_party_that_never_held_the_color_cannot_reserve_it() -> None:
    book = Book()
    book.reserve(book.contractor, book.sub, "0.01", "C-2")
    book.expect_blocked("payer_does_not_hold_color")


def test_the_payee_of_a_reservation_not_yet_released_cannot_pay_onward() -> None:
    book = Book()
    book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_blocked("payer_does_not_hold_color")


def test_a_party_that_received_the_color_through_a_release_pays_onward() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_applied()


def test_a_holder_that_spent_everything_it_received_is_blocked_for_balance_not_for_holding() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.spend(book.contractor, "10.00")
    book.transfer(book.contractor, book.sub, "0.01")
    book.expect_blocked("balance_would_go_negative")
