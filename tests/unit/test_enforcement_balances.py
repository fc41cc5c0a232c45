"""SPEC §4 rule 1: no holder's balance of a color goes below zero; colors never mix.

Also SPEC §3 `sources`: named lots, and first-in first-out when `sources` is absent.
"""

from __future__ import annotations

from domain import events as e
from tests.unit.enforcement_support import Book, tiyn, two_colors

# --- transfer ------------------------------------------------------------------------------


def test_a_transfer_of_exactly_the_payers_balance_is_applied() -> None:
    book = Book(allocated="1000.00")
    book.transfer(book.admin, book.contractor, "1000.00")
    book.expect_applied()
    assert book.balance(book.admin) == 0
    assert book.balance(book.contractor) == tiyn("1000.00")


def test_a_transfer_one_tiyn_larger_than_the_payers_balance_is_blocked() -> None:
    book = Book(allocated="1000.00")
    book.transfer(book.admin, book.contractor, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    assert book.balance(book.admin) == tiyn("1000.00")
    assert book.balance(book.contractor) == 0


def test_a_subcontractor_payment_of_exactly_what_the_contractor_received_is_applied() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "400.00")
    book.transfer(book.contractor, book.sub, "400.00")
    book.expect_applied()
    assert book.balance(book.contractor) == 0
    assert book.balance(book.sub) == tiyn("400.00")


def test_a_subcontractor_payment_one_tiyn_above_what_the_contractor_received_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "400.00")
    book.transfer(book.contractor, book.sub, "400.01")
    book.expect_blocked("balance_would_go_negative")
    assert book.balance(book.contractor) == tiyn("400.00")


# --- reserve, spend, return ----------------------------------------------------------------


def test_a_reservation_of_exactly_the_payers_balance_is_applied() -> None:
    book = Book(allocated="1000.00")
    book.reserve(book.admin, book.contractor, "1000.00", "C-1")
    book.expect_applied()
    assert book.balance(book.admin) == 0
    assert book.allocation().reserved_tiyn == tiyn("1000.00")


def test_a_reservation_one_tiyn_larger_than_the_payers_balance_is_blocked() -> None:
    book = Book(allocated="1000.00")
    book.reserve(book.admin, book.contractor, "1000.01", "C-1")
    book.expect_blocked("balance_would_go_negative")
    assert book.allocation().reserved_tiyn == 0


def test_a_spend_of_exactly_the_holders_balance_is_applied() -> None:
    book = Book(allocated="1000.00")
    book.spend(book.admin, "1000.00")
    book.expect_applied()
    assert book.balance(book.admin) == 0
    assert book.allocation().spent_tiyn == tiyn("1000.00")


def test_a_spend_one_tiyn_larger_than_the_holders_balance_is_blocked() -> None:
    book = Book(allocated="1000.00")
    book.spend(book.admin, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    assert book.allocation().spent_tiyn == 0


def test_a_return_of_exactly_the_holders_balance_is_applied() -> None:
    book = Book(allocated="1000.00")
    book.return_(book.admin, "1000.00")
    book.expect_applied()
    assert book.balance(book.admin) == 0
    assert book.allocation().returned_tiyn == tiyn("1000.00")


def test_a_return_one_tiyn_larger_than_the_holders_balance_is_blocked() -> None:
    book = Book(allocated="1000.00")
    book.return_(book.admin, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    assert book.allocation().returned_tiyn == 0


def test_money_already_reserved_is_no_longer_in_the_payers_balance() -> None:
    book = Book(allocated="1000.00")
    book.reserve(book.admin, book.contractor, "600.00", "C-1")
    book.spend(book.admin, "400.01")
    book.expect_blocked("balance_would_go_negative")


def test_the_rest_after_a_reservation_can_still_be_spent_to_the_tiyn() -> None:
    book = Book(allocated="1000.00")
    book.reserve(book.admin, book.contractor, "600.00", "C-1")
    book.spend(book.admin, "400.00")
    book.expect_applied()
    assert book.balance(book.admin) == 0


# --- colors never mix ----------------------------------------------------------------------


def test_a_holders_balance_of_another_color_does_not_pay_for_this_one() -> None:
    book, other = two_colors()
    book.transfer(book.admin, book.contractor, "1000.01")
    book.expect_blocked("balance_would_go_negative")
    assert book.balance(book.admin, other) == tiyn("5000.00")


def test_a_party_that_holds_only_another_color_cannot_spend_this_one() -> None:
    book, other = two_colors()
    book.sign("K-OTHER", book.admin, book.contractor, "5000.00", color=other)
    book.transfer(book.admin, book.contractor, "100.00", color=other)
    book.spend(book.contractor, "50.00")
    book.expect_blocked("payer_does_not_hold_color")
    assert book.balance(book.contractor, other) == tiyn("100.00")


def test_a_party_spends_the_color_it_holds_and_only_that_color_moves() -> None:
    book, other = two_colors()
    book.sign("K-OTHER", book.admin, book.contractor, "5000.00", color=other)
    book.transfer(book.admin, book.contractor, "100.00", color=other)
    book.spend(book.contractor, "100.00", color=other)
    book.expect_applied()
    assert book.balance(book.contractor, other) == 0
    assert book.allocation(other).spent_tiyn == tiyn("100.00")
    assert book.allocation().spent_tiyn == 0
    assert book.balance(book.admin) == tiyn("1000.00")


def test_a_transfer_cannot_name_a_contract_of_another_color() -> None:
    book, other = two_colors()
    book.transfer(book.admin, book.contractor, "10.00", color=other, contract="C-1")
    book.expect_blocked("unknown_contract", recorded_in=other)


def test_a_transfer_cannot_take_its_sources_from_a_lot_of_another_color() -> None:
    book, other = two_colors()
    other_lot = book.allocation(other).allocation_id
    book.transfer(book.admin, book.contractor, "10.00", sources=[{"lot": other_lot, "amount": "10.00"}])
    book.expect_blocked("unknown_lot")


# --- named sources -------------------------------------------------------------------------


def _contractor_with_two_lots() -> tuple[Book, str, str]:
    """The contractor holds lot T1 of 100.00 then lot T2 of 50.00."""
    book = Book(allocated="1000.00")
    first = book.transfer(book.admin, book.contractor, "100.00")
    second = book.transfer(book.admin, book.contractor, "50.00")
    book.given()
    assert book.lots(book.contractor) == {first: tiyn("100.00"), second: tiyn("50.00")}
    return book, first, second


def test_sources_naming_a_lot_the_payer_does_not_hold_are_blocked_as_unknown_lot() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "10.00", sources=[{"lot": book.allocation_lot, "amount": "10.00"}])
    book.expect_blocked("unknown_lot")


def test_sources_naming_a_lot_that_was_never_opened_are_blocked_as_unknown_lot() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "10.00", sources=[{"lot": "NO-SUCH-LOT", "amount": "10.00"}])
    book.expect_blocked("unknown_lot")


def test_sources_naming_a_lot_already_used_up_are_blocked_as_unknown_lot() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "50.00", sources=[{"lot": second, "amount": "50.00"}])
    book.transfer(book.contractor, book.sub, "1.00", sources=[{"lot": second, "amount": "1.00"}])
    book.expect_blocked("unknown_lot")


def test_sources_taking_one_tiyn_more_than_a_lot_holds_are_blocked() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "60.00", sources=[{"lot": second, "amount": "50.01"},
                                                              {"lot": first, "amount": "9.99"}])
    book.expect_blocked("lot_would_go_negative")


def test_sources_taking_more_than_a_lot_holds_are_blocked_even_when_the_balance_suffices() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "60.00", sources=[{"lot": second, "amount": "60.00"}])
    book.expect_blocked("lot_would_go_negative")


def test_sources_taking_exactly_what_each_lot_holds_are_applied_and_recorded_as_consumed() -> None:
    book, first, second = _contractor_with_two_lots()
    payment = book.transfer(book.contractor, book.sub, "150.00",
                            sources=[{"lot": second, "amount": "50.00"}, {"lot": first, "amount": "100.00"}])
    book.expect_applied()
    assert isinstance(book.event(payment), e.FundsTransferred)
    assert book.consumed(payment) == ((second, tiyn("50.00")), (first, tiyn("100.00")))
    assert book.lots(book.contractor) == {}
    assert book.lots(book.sub) == {payment: tiyn("150.00")}


def test_sources_taking_part_of_a_later_lot_leave_the_earlier_lot_untouched() -> None:
    book, first, second = _contractor_with_two_lots()
    payment = book.transfer(book.contractor, book.sub, "20.00", sources=[{"lot": second, "amount": "20.00"}])
    book.expect_applied()
    assert book.consumed(payment) == ((second, tiyn("20.00")),)
    assert book.lots(book.contractor) == {first: tiyn("100.00"), second: tiyn("30.00")}


def test_sources_summing_above_the_balance_are_blocked_as_balance_would_go_negative() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "150.01", sources=[{"lot": second, "amount": "50.01"},
                                                               {"lot": first, "amount": "100.00"}])
    book.expect_blocked("balance_would_go_negative")


# --- first in, first out -------------------------------------------------------------------


def test_without_sources_a_transfer_consumes_the_oldest_lot_first() -> None:
    book, first, second = _contractor_with_two_lots()
    payment = book.transfer(book.contractor, book.sub, "120.00")
    book.expect_applied()
    assert isinstance(book.event(payment), e.FundsTransferred)
    assert book.consumed(payment) == ((first, tiyn("100.00")), (second, tiyn("20.00")))
    assert book.lots(book.contractor) == {second: tiyn("30.00")}


def test_without_sources_a_transfer_smaller_than_the_oldest_lot_takes_only_from_it() -> None:
    book, first, second = _contractor_with_two_lots()
    payment = book.transfer(book.contractor, book.sub, "99.99")
    book.expect_applied()
    assert book.consumed(payment) == ((first, tiyn("99.99")),)
    assert book.lots(book.contractor) == {first: 1, second: tiyn("50.00")}


def test_first_in_first_out_continues_where_the_previous_payment_stopped() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "99.99")
    payment = book.transfer(book.contractor, book.sub, "0.02")
    book.expect_applied()
    assert book.consumed(payment) == ((first, 1), (second, 1))


def test_the_administrators_transfers_consume_the_allocation_lot() -> None:
    book = Book(allocated="1000.00")
    payment = book.transfer(book.admin, book.contractor, "250.00")
    book.expect_applied()
    assert book.consumed(payment) == ((book.allocation_lot, tiyn("250.00")),)
    assert book.lots(book.contractor) == {payment: tiyn("250.00")}


def test_a_spend_consumes_lots_first_in_first_out() -> None:
    book, first, second = _contractor_with_two_lots()
    spend = book.spend(book.contractor, "130.00")
    book.expect_applied()
    assert isinstance(book.event(spend), e.FundsSpent)
    assert book.consumed(spend) == ((first, tiyn("100.00")), (second, tiyn("30.00")))


def test_a_return_consumes_lots_first_in_first_out() -> None:
    book, first, second = _contractor_with_two_lots()
    returned = book.return_(book.contractor, "100.01")
    book.expect_applied()
    assert isinstance(book.event(returned), e.FundsReturned)
    assert book.consumed(returned) == ((first, tiyn("100.00")), (second, 1))


def test_sources_naming_the_same_lot_twice_take_the_sum_from_it() -> None:
    """Code's choice (SPEC silent): repeated lots in `sources` add up, recorded once."""
    book, first, second = _contractor_with_two_lots()
    payment = book.transfer(book.contractor, book.sub, "100.00", sources=[{"lot": first, "amount": "60.00"},
                                                                          {"lot": first, "amount": "40.00"}])
    book.expect_applied()
    assert book.consumed(payment) == ((first, tiyn("100.00")),)


def test_sources_naming_the_same_lot_twice_beyond_what_it_holds_are_blocked() -> None:
    book, first, second = _contractor_with_two_lots()
    book.transfer(book.contractor, book.sub, "100.01", sources=[{"lot": first, "amount": "60.00"},
                                                               {"lot": first, "amount": "40.01"}])
    book.expect_blocked("lot_would_go_negative")


def test_the_administrator_may_name_the_allocation_itself_as_the_source() -> None:
    book = Book(allocated="1000.00")
    payment = book.transfer(book.admin, book.contractor, "1000.00",
                            sources=[{"lot": book.allocation_lot, "amount": "1000.00"}])
    book.expect_applied()
    assert book.consumed(payment) == ((book.allocation_lot, tiyn("1000.00")),)
