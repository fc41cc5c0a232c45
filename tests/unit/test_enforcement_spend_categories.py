"""SPEC §4 rule 5: `cash_withdrawal` is blocked in every pilot; each pilot allows its table's categories.

The table is written out here from SPEC §4 on purpose (not imported from `domain.policy`), so a
change to the policy that departs from the SPEC fails these tests.
"""

from __future__ import annotations

import pytest

from tests.unit.enforcement_support import Book, tiyn

ALL_CATEGORIES = (
    "materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services",
    "utilities", "livestock", "cash_withdrawal", "other",
)
SPEC_ALLOWED = {
    "ROAD": ("materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services", "utilities"),
    "AGRO": ("equipment", "taxes", "services"),
    "LOCAL": ("materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services", "utilities",
              "livestock"),
}
ALLOWED_CASES = [(pilot, category) for pilot, allowed in SPEC_ALLOWED.items() for category in allowed]
FORBIDDEN_CASES = [
    (pilot, category)
    for pilot, allowed in SPEC_ALLOWED.items()
    for category in ALL_CATEGORIES
    if category not in allowed and category != "cash_withdrawal"
]


@pytest.mark.parametrize(("pilot", "category"), ALLOWED_CASES)
def test_a_spend_in_a_category_the_pilot_allows_is_applied(pilot: str, category: str) -> None:
    book = Book(pilot=pilot, allocated="1000.00")
    book.spend(book.admin, "250.00", category)
    book.expect_applied()
    assert book.allocation().spent_tiyn == tiyn("250.00")
    assert book.balance(book.admin) == tiyn("750.00")


@pytest.mark.parametrize(("pilot", "category"), FORBIDDEN_CASES)
def test_a_spend_in_a_category_the_pilot_does_not_allow_is_blocked(pilot: str, category: str) -> None:
    book = Book(pilot=pilot, allocated="1000.00")
    book.spend(book.admin, "250.00", category)
    book.expect_blocked("category_not_allowed_in_pilot")
    assert book.allocation().spent_tiyn == 0


@pytest.mark.parametrize("pilot", ["ROAD", "AGRO", "LOCAL"])
def test_a_cash_withdrawal_is_blocked_in_every_pilot(pilot: str) -> None:
    book = Book(pilot=pilot, allocated="1000.00")
    book.spend(book.admin, "0.01", "cash_withdrawal")
    book.expect_blocked("cash_withdrawal_is_forbidden")
    assert book.balance(book.admin) == tiyn("1000.00")


@pytest.mark.parametrize("pilot", ["ROAD", "AGRO", "LOCAL"])
def test_a_cash_withdrawal_by_a_contractor_is_blocked_in_every_pilot(pilot: str) -> None:
    book = Book(pilot=pilot, allocated="1000.00")
    book.transfer(book.admin, book.contractor, "100.00")
    book.spend(book.contractor, "100.00", "cash_withdrawal")
    book.expect_blocked("cash_withdrawal_is_forbidden")
    assert book.balance(book.contractor) == tiyn("100.00")


def test_the_spec_table_covers_every_allowed_category_exactly() -> None:
    """Counting the cases: 8 ROAD + 3 AGRO + 9 LOCAL allowed; the rest (minus cash) forbidden."""
    assert len(ALLOWED_CASES) == 20
    assert len(FORBIDDEN_CASES) == 3 * 10 - 20
    assert ("LOCAL", "livestock") in ALLOWED_CASES
    assert ("ROAD", "livestock") in FORBIDDEN_CASES
    assert all((pilot, "other") in FORBIDDEN_CASES for pilot in SPEC_ALLOWED)
