"""SPEC §4 rule 6: nothing moves after the color's `expires_on`, except `return` and `void`;
nothing moves out of a frozen color, or out of a frozen holder's share, until `unfreeze`.

The books here expire on 2025-03-10. `days=9` is 2025-03-10T10:00:00+05:00 (the last day),
`days=10` is 2025-03-11T10:00:00+05:00 (the next day).
"""

from __future__ import annotations

from tests.unit.enforcement_support import EVIDENCE_SHA256, Book, tiyn, two_colors

EXPIRES_ON = "2025-03-10"
LAST_DAY, NEXT_DAY = 9, 10


def expiring_book() -> Book:
    return Book(allocated="1000.00", expires_on=EXPIRES_ON)


# --- expiry --------------------------------------------------------------------------------


def test_a_transfer_on_the_last_day_before_expiry_is_applied() -> None:
    book = expiring_book()
    book.transfer(book.admin, book.contractor, "10.00", days=LAST_DAY)
    book.expect_applied()


def test_a_transfer_on_the_day_after_expiry_is_blocked() -> None:
    book = expiring_book()
    book.transfer(book.admin, book.contractor, "10.00", days=NEXT_DAY)
    book.expect_blocked("color_expired")


def test_a_spend_on_the_last_day_before_expiry_is_applied() -> None:
    book = expiring_book()
    book.spend(book.admin, "10.00", days=LAST_DAY)
    book.expect_applied()


def test_a_spend_on_the_day_after_expiry_is_blocked() -> None:
    book = expiring_book()
    book.spend(book.admin, "10.00", days=NEXT_DAY)
    book.expect_blocked("color_expired")
    assert book.allocation().spent_tiyn == 0


def test_a_spend_in_the_last_second_of_the_last_day_in_kazakhstan_time_is_applied() -> None:
    book = expiring_book()
    book.spend(book.admin, "10.00", at="2025-03-10T23:59:59+05:00")
    book.expect_applied()


def test_a_spend_in_the_first_second_of_the_next_day_in_kazakhstan_time_is_blocked() -> None:
    """`at` carries an explicit offset (SPEC §3); at 00:00 on 11 March (+05:00) it is after expires_on.

    (The same instant is still 10 March in UTC.)
    """
    book = expiring_book()
    book.spend(book.admin, "10.00", at="2025-03-11T00:00:00+05:00")
    book.expect_blocked("color_expired")


def test_a_reservation_on_the_last_day_before_expiry_is_applied() -> None:
    book = expiring_book()
    book.reserve(book.admin, book.contractor, "10.00", "C-1", days=LAST_DAY)
    book.expect_applied()


def test_a_reservation_on_the_day_after_expiry_is_blocked() -> None:
    book = expiring_book()
    book.reserve(book.admin, book.contractor, "10.00", "C-1", days=NEXT_DAY)
    book.expect_blocked("color_expired")


def test_a_return_after_expiry_is_applied() -> None:
    book = expiring_book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.return_(book.contractor, "10.00", days=NEXT_DAY)
    book.expect_applied()
    assert book.allocation().returned_tiyn == tiyn("10.00")


def test_a_return_long_after_expiry_is_applied() -> None:
    book = expiring_book()
    book.return_(book.admin, "1000.00", days=300)
    book.expect_applied()
    assert book.balance(book.admin) == 0


def test_a_void_after_expiry_is_applied_and_gives_the_money_back_to_the_payer() -> None:
    book = expiring_book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.void(reservation, days=NEXT_DAY)
    book.expect_applied()
    assert book.balance(book.admin) == tiyn("1000.00")
    assert book.allocation().reserved_tiyn == 0


def test_a_release_on_the_last_day_before_expiry_is_applied() -> None:
    book = expiring_book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00")
    book.release(reservation, days=LAST_DAY)
    book.expect_applied()
    assert book.balance(book.contractor) == tiyn("10.00")


def test_a_release_on_the_day_after_expiry_is_blocked() -> None:
    book = expiring_book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00")
    book.release(reservation, days=NEXT_DAY)
    book.expect_blocked("color_expired")
    assert book.allocation().reserved_tiyn == tiyn("10.00")


def test_a_subcontractor_payment_after_expiry_is_blocked() -> None:
    book = expiring_book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.transfer(book.contractor, book.sub, "10.00", days=NEXT_DAY)
    book.expect_blocked("color_expired")


# --- a frozen color ------------------------------------------------------------------------


def test_a_frozen_color_blocks_a_transfer() -> None:
    book = Book()
    book.freeze()
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_reservation() -> None:
    book = Book()
    book.freeze()
    book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_spend() -> None:
    book = Book()
    book.freeze()
    book.spend(book.admin, "10.00")
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_return() -> None:
    book = Book()
    book.freeze()
    book.return_(book.admin, "10.00")
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_release() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00", final=True, evidence_sha256=EVIDENCE_SHA256)
    book.freeze()
    book.release(reservation)
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_void() -> None:
    """Code's choice ("nothing at all moves" in a frozen color): a void waits for the unfreeze too."""
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.freeze()
    book.void(reservation)
    book.expect_blocked("color_is_frozen")


def test_a_frozen_color_blocks_a_subcontractor_payment() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.freeze()
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_blocked("color_is_frozen")


def test_an_unfrozen_color_lets_a_transfer_through_again() -> None:
    book = Book()
    book.freeze()
    book.unfreeze()
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()


def test_an_unfrozen_color_lets_a_reservation_through_again() -> None:
    book = Book()
    book.freeze()
    book.unfreeze()
    book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.expect_applied()


def test_an_unfrozen_color_lets_a_spend_through_again() -> None:
    book = Book()
    book.freeze()
    book.unfreeze()
    book.spend(book.admin, "10.00")
    book.expect_applied()


def test_an_unfrozen_color_lets_a_return_through_again() -> None:
    book = Book()
    book.freeze()
    book.unfreeze()
    book.return_(book.admin, "10.00")
    book.expect_applied()


def test_an_unfrozen_color_lets_a_release_through_again() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00")
    book.freeze()
    book.unfreeze()
    book.release(reservation)
    book.expect_applied()
    assert book.balance(book.contractor) == tiyn("10.00")


def test_an_unfrozen_color_lets_a_void_through_again() -> None:
    book = Book()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.freeze()
    book.unfreeze()
    book.void(reservation)
    book.expect_applied()


def test_a_frozen_color_still_records_contracts_and_acceptances() -> None:
    """Code's choice (SPEC: nothing *moves*): signing and accepting move no money."""
    book = Book()
    book.freeze()
    book.sign("C-9", book.admin, book.party("supplier"), "10.00")
    book.accept("C-1", "10.00")
    book.expect_applied()


def test_freezing_a_frozen_color_is_blocked() -> None:
    book = Book()
    book.freeze()
    book.freeze()
    book.expect_blocked("already_frozen")


def test_unfreezing_a_color_that_is_not_frozen_is_blocked() -> None:
    book = Book()
    book.unfreeze()
    book.expect_blocked("not_frozen")


def test_freezing_one_color_leaves_another_color_free() -> None:
    book, other = two_colors()
    book.freeze()
    book.spend(book.admin, "10.00", color=other)
    book.expect_applied()


# --- a frozen holder -----------------------------------------------------------------------


def _contractor_holding_and_frozen() -> Book:
    book = Book()
    book.transfer(book.admin, book.contractor, "100.00")
    book.freeze(holder=book.contractor)
    book.given()
    return book


def test_a_frozen_holder_cannot_pay_its_subcontractor() -> None:
    book = _contractor_holding_and_frozen()
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_blocked("holder_is_frozen")


def test_a_frozen_holder_cannot_reserve() -> None:
    book = _contractor_holding_and_frozen()
    book.reserve(book.contractor, book.sub, "10.00", "C-2")
    book.expect_blocked("holder_is_frozen")


def test_a_frozen_holder_cannot_spend() -> None:
    book = _contractor_holding_and_frozen()
    book.spend(book.contractor, "10.00")
    book.expect_blocked("holder_is_frozen")


def test_a_frozen_holder_cannot_return() -> None:
    book = _contractor_holding_and_frozen()
    book.return_(book.contractor, "10.00")
    book.expect_blocked("holder_is_frozen")


def test_a_frozen_holder_does_not_stop_the_administrator() -> None:
    book = _contractor_holding_and_frozen()
    book.spend(book.admin, "10.00")
    book.expect_applied()


def test_a_frozen_holder_does_not_stop_other_holders() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "100.00")
    book.transfer(book.contractor, book.sub, "40.00")
    book.freeze(holder=book.contractor)
    book.spend(book.sub, "40.00")
    book.expect_applied()


def test_a_frozen_holder_can_still_receive() -> None:
    """Code's choice (SPEC: nothing moves *out of* a frozen holder's share)."""
    book = _contractor_holding_and_frozen()
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()
    assert book.balance(book.contractor) == tiyn("110.00")


def test_an_unfrozen_holder_can_pay_again() -> None:
    book = _contractor_holding_and_frozen()
    book.unfreeze(holder=book.contractor)
    book.transfer(book.contractor, book.sub, "100.00")
    book.expect_applied()


def test_an_unfrozen_holder_can_spend_again() -> None:
    book = _contractor_holding_and_frozen()
    book.unfreeze(holder=book.contractor)
    book.spend(book.contractor, "100.00")
    book.expect_applied()


def test_unfreezing_the_color_does_not_unfreeze_a_frozen_holder() -> None:
    book = _contractor_holding_and_frozen()
    book.freeze()
    book.unfreeze()
    book.spend(book.contractor, "10.00")
    book.expect_blocked("holder_is_frozen")


def test_freezing_an_unregistered_holder_is_blocked_as_unknown_party() -> None:
    book = Book()
    book.freeze(holder=book.unregistered_party())
    book.expect_blocked("unknown_party")
