"""SPEC §4 rule 7: a `release` needs acceptances covering everything released under the contract;
in AGRO it also needs a `final` acceptance carrying `evidence_sha256`. A reservation settles once.
"""

from __future__ import annotations

import pytest

from domain import events as e
from tests.unit.enforcement_support import EVIDENCE_SHA256, Book, tiyn

# --- acceptance covers releases ------------------------------------------------------------


def test_a_release_with_acceptance_exactly_covering_it_is_applied() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00")
    release = book.release(reservation)
    book.expect_applied()
    assert book.balance(book.contractor) == tiyn("100.00")
    assert book.allocation().reserved_tiyn == 0
    assert book.lots(book.contractor) == {release: tiyn("100.00")}


def test_a_release_with_acceptance_one_tiyn_short_is_blocked() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "99.99")
    book.release(reservation)
    book.expect_blocked("acceptance_does_not_cover_release")
    assert book.allocation().reserved_tiyn == tiyn("100.00")
    assert book.balance(book.contractor) == 0


def test_a_release_without_any_acceptance_is_blocked() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.release(reservation)
    book.expect_blocked("acceptance_does_not_cover_release")


def test_acceptance_must_cover_all_releases_so_far_not_just_this_one() -> None:
    book = Book()
    first = book.reserve(book.admin, book.contractor, "60.00", "C-1")
    second = book.reserve(book.admin, book.contractor, "40.00", "C-1")
    book.accept("C-1", "99.99")
    book.release(first)
    book.release(second)
    book.expect_blocked("acceptance_does_not_cover_release")


def test_cumulative_acceptances_exactly_covering_all_releases_let_the_last_one_through() -> None:
    book = Book()
    first = book.reserve(book.admin, book.contractor, "60.00", "C-1")
    second = book.reserve(book.admin, book.contractor, "40.00", "C-1")
    book.accept("C-1", "60.00")
    book.release(first)
    book.accept("C-1", "40.00")
    book.release(second)
    book.expect_applied()
    assert book.allocation().contracts["C-1"].released_tiyn == tiyn("100.00")


def test_acceptance_under_another_contract_does_not_cover_a_release() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "100.00")
    reservation = book.reserve(book.contractor, book.sub, "50.00", "C-2")
    book.accept("C-1", "50.00")
    book.release(reservation)
    book.expect_blocked("acceptance_does_not_cover_release")


def test_a_released_reservation_does_not_release_more_than_it_reserved() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "500.00")
    release = book.release(reservation)
    book.expect_applied()
    event = book.event(release)
    assert isinstance(event, e.ReservationReleased)
    assert (event.payee, event.amount_tiyn) == (book.contractor, tiyn("100.00"))


def test_a_road_release_needs_no_final_acceptance_or_evidence() -> None:
    book = Book(pilot="ROAD")
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00")
    book.release(reservation)
    book.expect_applied()


def test_a_local_release_needs_no_final_acceptance_or_evidence() -> None:
    book = Book(pilot="LOCAL")
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00")
    book.release(reservation)
    book.expect_applied()


def test_a_release_to_a_payee_debarred_since_the_reservation_is_blocked() -> None:
    """Code's choice (rule 3, parties active) applied to the moment the money reaches the payee."""
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00")
    book.update_party(book.contractor, status="debarred")
    book.release(reservation)
    book.expect_blocked("party_is_not_active")


# --- AGRO: delivery proven -----------------------------------------------------------------


def agro_reserved_and_accepted(**acceptance: object) -> tuple[Book, str]:
    book = Book(pilot="AGRO")
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00", **acceptance)
    book.given()
    return book, reservation


def test_an_agro_release_without_a_final_acceptance_with_evidence_is_blocked() -> None:
    book, reservation = agro_reserved_and_accepted()
    book.release(reservation)
    book.expect_blocked("delivery_not_proven")


def test_an_agro_release_after_a_final_acceptance_without_evidence_is_blocked() -> None:
    book, reservation = agro_reserved_and_accepted(final=True)
    book.release(reservation)
    book.expect_blocked("delivery_not_proven")


def test_an_agro_release_after_evidence_on_a_non_final_acceptance_is_blocked() -> None:
    book, reservation = agro_reserved_and_accepted(evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.expect_blocked("delivery_not_proven")


def test_an_agro_release_with_evidence_only_on_the_release_itself_is_blocked() -> None:
    book, reservation = agro_reserved_and_accepted()
    book.release(reservation, evidence_sha256=EVIDENCE_SHA256)
    book.expect_blocked("delivery_not_proven")


def test_an_agro_release_after_a_final_acceptance_with_evidence_is_applied() -> None:
    book, reservation = agro_reserved_and_accepted(final=True, evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.expect_applied()
    assert book.balance(book.contractor) == tiyn("100.00")


def test_an_agro_release_needs_the_proof_under_its_own_contract() -> None:
    book = Book(pilot="AGRO")
    book.transfer(book.admin, book.contractor, "100.00")
    reservation = book.reserve(book.contractor, book.sub, "50.00", "C-2")
    book.accept("C-1", "100.00", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.accept("C-2", "50.00")
    book.release(reservation)
    book.expect_blocked("delivery_not_proven")


def test_a_later_final_acceptance_with_evidence_proves_delivery_for_the_whole_agro_contract() -> None:
    book, reservation = agro_reserved_and_accepted()
    second = book.reserve(book.admin, book.contractor, "0.01", "C-1")
    book.accept("C-1", "0.01", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.release(second)
    book.expect_applied()


def test_an_agro_release_beyond_acceptance_is_blocked_for_acceptance_even_with_proof() -> None:
    book = Book(pilot="AGRO")
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "99.99", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.release(reservation)
    book.expect_blocked("acceptance_does_not_cover_release")


# --- a reservation settles once ------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [
    ("release", "release"), ("release", "void"), ("void", "release"), ("void", "void"),
])
def test_settling_an_already_settled_reservation_is_blocked(first: str, second: str) -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    book.accept("C-1", "100.00")
    getattr(book, first)(reservation)
    getattr(book, second)(reservation)
    book.expect_blocked("reservation_already_settled")


def test_a_void_gives_the_reserved_money_back_to_the_payer_as_a_new_lot() -> None:
    book = Book(allocated="1000.00")
    reservation = book.reserve(book.admin, book.contractor, "100.00", "C-1")
    void = book.void(reservation)
    book.expect_applied()
    assert book.balance(book.admin) == tiyn("1000.00")
    assert book.lots(book.admin) == {book.allocation_lot: tiyn("900.00"), void: tiyn("100.00")}
    assert book.allocation().contracts["C-1"].paid_tiyn == 0
