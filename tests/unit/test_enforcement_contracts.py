"""SPEC §4 rule 3 (a payee must be the supplier of a contract whose customer is the payer; parties
registered and active) and rule 4 (payments never exceed the contract's current amount).

Also `sign_contract`: the customer must be in the chain; a contract id is unique in the ledger.
"""

from __future__ import annotations

import pytest

from tests.unit.enforcement_support import Book, tiyn, two_colors

# --- rule 3: the recipient must be the supplier of a contract with the payer ---------------


def test_a_transfer_to_the_supplier_of_the_payers_only_contract_is_applied_without_naming_it() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()
    assert book.allocation().contracts["C-1"].paid_tiyn == tiyn("10.00")


def test_a_transfer_to_a_recipient_without_a_contract_with_the_payer_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.sub, "10.00")  # sub contracts with the contractor, not the admin
    book.expect_blocked("recipient_must_have_a_contract")


def test_a_transfer_to_a_registered_party_with_no_contract_at_all_is_blocked() -> None:
    book = Book()
    stranger = book.party("supplier")
    book.transfer(book.admin, stranger, "10.00")
    book.expect_blocked("recipient_must_have_a_contract")


def test_a_payment_back_up_the_chain_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.transfer(book.contractor, book.admin, "10.00")
    book.expect_blocked("recipient_must_have_a_contract")


def test_a_reservation_for_a_recipient_who_is_not_the_contract_supplier_is_blocked() -> None:
    book = Book()
    book.reserve(book.admin, book.sub, "10.00", "C-1")
    book.expect_blocked("recipient_must_be_contract_supplier")


def test_a_transfer_with_two_fitting_contracts_and_no_contract_named_is_blocked() -> None:
    book = Book()
    book.sign("C-1B", book.admin, book.contractor, "500.00")
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_blocked("contract_must_be_named")


def test_a_transfer_with_two_fitting_contracts_naming_one_is_applied_under_that_contract() -> None:
    book = Book()
    book.sign("C-1B", book.admin, book.contractor, "500.00")
    book.transfer(book.admin, book.contractor, "10.00", contract="C-1B")
    book.expect_applied()
    contracts = book.allocation().contracts
    assert (contracts["C-1"].paid_tiyn, contracts["C-1B"].paid_tiyn) == (0, tiyn("10.00"))


def test_a_contract_of_the_payer_with_another_supplier_does_not_count_as_fitting() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "100.00")
    book.sign("C-3", book.contractor, book.party("supplier"), "500.00")
    book.transfer(book.contractor, book.sub, "10.00")  # only C-2 fits
    book.expect_applied()
    assert book.allocation().contracts["C-2"].paid_tiyn == tiyn("10.00")


def test_a_transfer_naming_a_contract_whose_customer_is_not_the_payer_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.sub, "10.00", contract="C-2")  # C-2: contractor → sub
    book.expect_blocked("payer_must_be_contract_customer")


def test_a_transfer_naming_a_contract_whose_supplier_is_not_the_recipient_is_blocked() -> None:
    book = Book()
    other = book.party("contractor")
    book.transfer(book.admin, other, "10.00", contract="C-1")  # C-1: admin → contractor
    book.expect_blocked("recipient_must_be_contract_supplier")


def test_a_transfer_naming_the_fitting_contract_is_applied() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00", contract="C-1")
    book.expect_applied()


# --- rule 3: parties registered and active -------------------------------------------------


@pytest.mark.parametrize("status", ["debarred", "liquidated"])
def test_a_transfer_to_a_payee_no_longer_active_is_blocked(status: str) -> None:
    book = Book()
    book.update_party(book.contractor, status=status)
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_blocked("party_is_not_active")


@pytest.mark.parametrize("status", ["debarred", "liquidated"])
def test_a_reservation_for_a_payee_no_longer_active_is_blocked(status: str) -> None:
    book = Book()
    book.update_party(book.contractor, status=status)
    book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.expect_blocked("party_is_not_active")


def test_a_transfer_to_a_payee_made_active_again_is_applied() -> None:
    book = Book()
    book.update_party(book.contractor, status="debarred")
    book.update_party(book.contractor, status="active")
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()


def test_a_transfer_from_a_debarred_payer_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.update_party(book.contractor, status="debarred")
    book.transfer(book.contractor, book.sub, "10.00")
    book.expect_blocked("party_is_not_active")


def test_a_spend_by_a_liquidated_holder_is_blocked() -> None:
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.update_party(book.contractor, status="liquidated")
    book.spend(book.contractor, "10.00")
    book.expect_blocked("party_is_not_active")


def test_a_debarred_holder_can_still_return_the_money() -> None:
    """Code's choice (SPEC silent): a return gives money back, so a debarred holder may make it."""
    book = Book()
    book.transfer(book.admin, book.contractor, "10.00")
    book.update_party(book.contractor, status="debarred")
    book.return_(book.contractor, "10.00")
    book.expect_applied()


def test_a_debarred_subcontractor_does_not_block_payments_to_the_contractor() -> None:
    book = Book()
    book.update_party(book.sub, status="debarred")
    book.transfer(book.admin, book.contractor, "10.00")
    book.expect_applied()


def test_a_transfer_to_an_unregistered_party_is_blocked_as_unknown_party() -> None:
    book = Book()
    book.transfer(book.admin, book.unregistered_party(), "10.00")
    book.expect_blocked("unknown_party")


def test_a_contract_with_an_unregistered_supplier_cannot_be_signed() -> None:
    book = Book()
    book.sign("C-9", book.admin, book.unregistered_party(), "10.00")
    book.expect_blocked("unknown_party")
    assert "C-9" not in book.allocation().contracts


def test_a_contract_with_a_debarred_supplier_cannot_be_signed() -> None:
    """Code's choice (SPEC: "the parties must be registered and active")."""
    book = Book()
    supplier = book.party("supplier")
    book.update_party(supplier, status="debarred")
    book.sign("C-9", book.admin, supplier, "10.00")
    book.expect_blocked("party_is_not_active")


# --- sign_contract: the customer must be in the chain; ids unique --------------------------


def test_a_contract_whose_customer_is_the_administrator_is_signed() -> None:
    book = Book()
    supplier = book.party("supplier")
    book.sign("C-9", book.admin, supplier, "10.00")
    book.expect_applied()
    assert book.allocation().contracts["C-9"].customer == book.admin


def test_a_contract_whose_customer_is_a_supplier_under_the_color_is_signed() -> None:
    book = Book()
    supplier = book.party("supplier")
    book.sign("C-9", book.sub, supplier, "10.00")  # sub is the supplier of C-2
    book.expect_applied()


def test_a_contract_whose_customer_is_outside_the_chain_is_blocked() -> None:
    book = Book()
    outsider = book.party("contractor")
    supplier = book.party("supplier")
    book.sign("C-9", outsider, supplier, "10.00")
    book.expect_blocked("customer_must_be_in_the_chain")
    assert "C-9" not in book.allocation().contracts


def test_a_contract_whose_customer_is_the_treasury_is_blocked() -> None:
    book = Book()
    book.sign("C-9", book.treasury, book.contractor, "10.00")
    book.expect_blocked("customer_must_be_in_the_chain")


def test_a_supplier_under_another_color_is_not_in_this_colors_chain() -> None:
    book, other = two_colors()
    outsider = book.party("contractor")
    book.sign("K-OTHER", book.admin, outsider, "10.00", color=other)
    book.sign("C-9", outsider, book.sub, "10.00")
    book.expect_blocked("customer_must_be_in_the_chain")


def test_a_contract_with_the_same_customer_and_supplier_is_blocked() -> None:
    book = Book()
    book.sign("C-9", book.admin, book.admin, "10.00")
    book.expect_blocked("customer_and_supplier_must_differ")


def test_a_contract_id_reused_under_the_same_color_is_blocked() -> None:
    book = Book()
    supplier = book.party("supplier")
    book.sign("C-1", book.admin, supplier, "10.00")
    book.expect_blocked("contract_already_exists")
    assert book.allocation().contracts["C-1"].supplier == book.contractor


def test_a_contract_id_reused_under_another_color_is_blocked() -> None:
    book, other = two_colors()
    book.sign("C-1", book.admin, book.contractor, "10.00", color=other)
    book.expect_blocked("contract_already_exists", recorded_in=other)
    assert "C-1" not in book.allocation(other).contracts


def test_a_fresh_contract_id_under_another_color_is_signed() -> None:
    book, other = two_colors()
    book.sign("C-3", book.admin, book.contractor, "10.00", color=other)
    book.expect_applied()
    assert "C-3" in book.allocation(other).contracts


# --- rule 4: payments never exceed the contract's current amount ---------------------------


def test_a_payment_reaching_exactly_the_contract_amount_is_applied() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "100.00")
    book.transfer(book.admin, book.contractor, "200.00")
    book.expect_applied()
    assert book.allocation().contracts["C-1"].paid_tiyn == tiyn("300.00")


def test_a_payment_one_tiyn_beyond_the_contract_amount_is_blocked() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "100.00")
    book.transfer(book.admin, book.contractor, "200.01")
    book.expect_blocked("contract_amount_exceeded")
    assert book.allocation().contracts["C-1"].paid_tiyn == tiyn("100.00")


def test_a_single_payment_one_tiyn_above_the_contract_amount_is_blocked() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "300.01")
    book.expect_blocked("contract_amount_exceeded")


def test_reservations_count_as_payments_under_the_contract() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.reserve(book.admin, book.contractor, "200.00", "C-1")
    book.transfer(book.admin, book.contractor, "100.01")
    book.expect_blocked("contract_amount_exceeded")


def test_a_reservation_beyond_the_contract_amount_is_blocked() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "100.00")
    book.reserve(book.admin, book.contractor, "200.01", "C-1")
    book.expect_blocked("contract_amount_exceeded")


def test_a_reservation_reaching_exactly_the_contract_amount_is_applied() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "100.00")
    book.reserve(book.admin, book.contractor, "200.00", "C-1")
    book.expect_applied()


def test_a_voided_reservation_frees_its_room_under_the_contract() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    reservation = book.reserve(book.admin, book.contractor, "300.00", "C-1")
    book.void(reservation)
    book.transfer(book.admin, book.contractor, "300.00")
    book.expect_applied()


def test_a_contract_amended_upwards_admits_payments_up_to_its_new_amount() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "300.00")
    book.amend("C-1", "450.00")
    book.transfer(book.admin, book.contractor, "150.00")
    book.expect_applied()


def test_a_contract_amended_upwards_still_blocks_one_tiyn_beyond_its_new_amount() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "300.00")
    book.amend("C-1", "450.00")
    book.transfer(book.admin, book.contractor, "150.01")
    book.expect_blocked("contract_amount_exceeded")


def test_a_contract_amended_down_to_exactly_what_was_paid_is_applied() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "120.00")
    book.amend("C-1", "120.00")
    book.expect_applied()
    assert book.allocation().contracts["C-1"].amount_tiyn == tiyn("120.00")


def test_a_contract_amended_one_tiyn_below_what_was_paid_is_blocked() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "120.00")
    book.amend("C-1", "119.99")
    book.expect_blocked("amendment_below_paid")
    assert book.allocation().contracts["C-1"].amount_tiyn == tiyn("300.00")


def test_acceptances_reaching_exactly_the_contract_amount_are_applied() -> None:
    book = Book(contract_amount="300.00")
    book.accept("C-1", "100.00")
    book.accept("C-1", "200.00")
    book.expect_applied()
    assert book.allocation().contracts["C-1"].accepted_tiyn == tiyn("300.00")


def test_an_acceptance_one_tiyn_beyond_the_contract_amount_is_blocked() -> None:
    book = Book(contract_amount="300.00")
    book.accept("C-1", "100.00")
    book.accept("C-1", "200.01")
    book.expect_blocked("acceptance_exceeds_contract")


def test_the_subcontract_limit_is_its_own_amount_not_the_main_contracts() -> None:
    book = Book(allocated="1000.00", contract_amount="300.00")
    book.transfer(book.admin, book.contractor, "300.00")
    book.transfer(book.contractor, book.sub, "300.00")
    book.expect_applied()
    assert book.allocation().contracts["C-2"].paid_tiyn == tiyn("300.00")
