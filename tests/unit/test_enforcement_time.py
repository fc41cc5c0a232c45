"""SPEC §2.5 time, issue 10 items 1, 2 and 11, on every store kind (memory://, SQLite, PostgreSQL).

- Dates are judged in the ledger's time zone (UTC+05:00 unless the store was created with another),
  never in the offset a submitter wrote: a color expiring 2025-12-31 blocks a transfer at
  2025-12-31T23:00:00-12:00 (2026-01-01 16:00 in Astana).
- A command dated before what it relies on is blocked `dated_before_reference`; within one color, a
  command dated before the color's latest recorded event is blocked `out_of_order_time`. Both are
  recorded attempts (`CommandBlocked`, flag F07).
- `--as-of T` answers, color by color, with exactly the events dated ≤ T.
- A blocked command submitted again reports `blocked` with its first rule and sentence, and is not
  recorded a second time.

The books start on 2025-03-01 (tests.support.T0); `days=n` is n days later at 10:00+05:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain import events as e
from domain.errors import InvalidValue
from domain.policy import parse_time_zone, time_zone_text
from ledger.app import TIME_ZONE_KEY, Ledger, TimeZoneMismatch
from ledger.read import UnknownColor
from tests.support import Script, color_id, party_id
from tests.unit.enforcement_support import Book, tiyn, two_colors

ASTANA_NEXT_DAY = "2025-12-31T23:00:00-12:00"  # = 2026-01-01T16:00:00+05:00
ASTANA_LAST_DAY = "2025-12-31T06:00:00-12:00"  # = 2025-12-31T23:00:00+05:00


@pytest.fixture
def books(store_url: str) -> Iterator[Callable[..., Book]]:
    """Books on the test's store kind, closed afterwards (one book per store)."""
    opened: list[Book] = []

    def open_book(**kwargs: Any) -> Book:
        assert not opened, "one book per store"
        book = Book(store=store_url, **kwargs)
        opened.append(book)
        return book

    yield open_book
    for book in opened:
        book.close()


def reopened_if_possible(book: Book) -> None:
    """Open the store afresh (as the next process would); memory:// lives only in its Ledger."""
    if book.ledger.store.kind != "memory":
        book.reopen()


# --- 1. the ledger's time zone ------------------------------------------------------------


def test_a_transfer_on_the_next_day_in_astana_is_blocked_whatever_offset_it_is_written_in(books) -> None:
    book = books(expires_on="2025-12-31")
    book.transfer(book.admin, book.contractor, "10.00", at=ASTANA_NEXT_DAY)
    book.expect_blocked("color_expired")


def test_a_spend_on_the_next_day_in_astana_is_blocked_whatever_offset_it_is_written_in(books) -> None:
    book = books(expires_on="2025-12-31")
    book.spend(book.admin, "10.00", at=ASTANA_NEXT_DAY)
    book.expect_blocked("color_expired")


def test_a_transfer_on_the_last_day_in_astana_is_applied_though_written_in_another_offset(books) -> None:
    book = books(expires_on="2025-12-31")
    book.transfer(book.admin, book.contractor, "10.00", at=ASTANA_LAST_DAY)
    book.expect_applied()


def test_a_release_on_the_next_day_in_astana_is_blocked(books) -> None:
    book = books(expires_on="2025-12-31")
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1")
    book.accept("C-1", "10.00")
    book.given()
    book.release(reservation, at=ASTANA_NEXT_DAY)
    book.expect_blocked("color_expired")


def test_a_store_created_in_another_zone_judges_the_days_in_that_zone(books) -> None:
    book = books(expires_on="2025-12-31", time_zone="-12:00")
    book.transfer(book.admin, book.contractor, "10.00", at=ASTANA_NEXT_DAY)  # still 31 December at -12:00
    book.expect_applied()
    assert time_zone_text(book.ledger.time_zone) == "-12:00"


def test_the_zone_is_recorded_with_the_first_events_and_never_changed(shared_store_url: str) -> None:
    ledger = Ledger(shared_store_url, time_zone="UTC+06:00")
    try:
        assert ledger.recorder.lookup_keys([TIME_ZONE_KEY]) == {}, "nothing is written before the first events"
        script = Script()
        script.party("treasury")
        assert [o.status for o in ledger.execute(script.commands())] == ["applied"]
        assert ledger.recorder.lookup_keys([TIME_ZONE_KEY])[TIME_ZONE_KEY][0] == b"+06:00"
    finally:
        ledger.close()
    again = Ledger(shared_store_url)  # no --time-zone: the store's own
    try:
        assert time_zone_text(again.time_zone) == "+06:00"
    finally:
        again.close()
    same = Ledger(shared_store_url, time_zone="+06:00")
    same.close()
    with pytest.raises(TimeZoneMismatch, match=r"UTC\+06:00"):
        Ledger(shared_store_url, time_zone="+05:00")


def test_a_new_store_is_in_utc_plus_5_and_records_it(books) -> None:
    book = books()
    assert time_zone_text(book.ledger.time_zone) == "+05:00"
    assert book.ledger.recorder.lookup_keys([TIME_ZONE_KEY])[TIME_ZONE_KEY][0] == b"+05:00"


@pytest.mark.parametrize("text, offset", [
    ("+05:00", timedelta(hours=5)), ("UTC+05:00", timedelta(hours=5)), ("-03:30", -timedelta(hours=3, minutes=30)),
    ("Z", timedelta(0)), ("UTC", timedelta(0)), ("+14:00", timedelta(hours=14)),
])
def test_a_time_zone_is_a_fixed_utc_offset(text: str, offset: timedelta) -> None:
    assert parse_time_zone(text).utcoffset(None) == offset


@pytest.mark.parametrize("text", ["Asia/Almaty", "+5", "+05:60", "+15:00", "05:00", "", "UTC+5"])
def test_anything_but_a_fixed_utc_offset_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_time_zone(text)


# --- 2. backdated entries ------------------------------------------------------------------


def test_a_transfer_dated_before_the_allocation_the_contract_and_the_parties_is_blocked(books) -> None:
    book = books()
    book.transfer(book.admin, book.contractor, "10.00", at="2024-12-01T10:00:00+05:00")
    outcome = book.expect_blocked("dated_before_reference")
    assert "2024-12-01" in (outcome.detail or "")


def test_a_contract_dated_before_its_supplier_was_registered_is_blocked(books) -> None:
    book = books()
    late = book.script.party("supplier", days=5)
    book.given()
    book.sign("C-LATE", book.admin, late, "100.00", days=2)  # after the color's events, before the party
    outcome = book.expect_blocked("dated_before_reference")
    assert late in (outcome.detail or "")


def test_a_payment_dated_before_its_contract_was_signed_is_blocked(books) -> None:
    book = books()
    book.sign("C-3", book.admin, book.sub, "100.00", days=3)
    book.given()
    book.transfer(book.admin, book.sub, "10.00", days=2)
    outcome = book.expect_blocked("dated_before_reference")
    assert "C-3" in (outcome.detail or "")


def test_an_acceptance_dated_before_its_contract_was_signed_is_blocked(books) -> None:
    book = books()
    book.sign("C-3", book.admin, book.sub, "100.00", days=3)
    book.given()
    book.accept("C-3", "10.00", days=2)
    book.expect_blocked("dated_before_reference")


def test_a_release_dated_before_its_reservation_is_blocked(books) -> None:
    book = books()
    reservation = book.reserve(book.admin, book.contractor, "10.00", "C-1", days=3)
    book.given()
    book.release(reservation, days=2)
    outcome = book.expect_blocked("dated_before_reference")
    assert reservation in (outcome.detail or "")


def test_an_allocation_dated_before_its_administrator_was_registered_is_blocked(books) -> None:
    book = books()
    other = color_id("ROAD", 9)
    book.allocate(other, "100.00", at="2024-12-01T10:00:00+05:00")
    book.expect_blocked("dated_before_reference", recorded_in=other)
    assert book.ledger.allocation(other) is None


def test_a_party_update_dated_before_its_registration_is_blocked(books) -> None:
    book = books()
    book.update_party(book.contractor, address="Astana, Late st. 1", at="2024-12-01T10:00:00+05:00")
    book.expect_blocked("dated_before_reference", recorded_in=None)


def test_a_payment_dated_at_the_very_instant_of_its_contract_is_applied(books) -> None:
    book = books()
    signed = book.sign("C-3", book.admin, book.sub, "100.00", at="2025-03-04T10:00:00+05:00")
    book.given()
    book.transfer(book.admin, book.sub, "10.00", at="2025-03-04T05:00:00Z")  # the same instant
    book.expect_applied()
    assert signed


# --- 2. out-of-order entries ---------------------------------------------------------------


def test_a_spend_dated_before_the_colors_latest_spend_is_blocked(books) -> None:
    book = books()
    book.spend(book.admin, "10.00", at="2025-05-01T10:00:00+05:00")
    book.given()
    book.spend(book.admin, "10.00", at="2025-04-01T10:00:00+05:00")
    outcome = book.expect_blocked("out_of_order_time")
    assert "2025-05-01" in (outcome.detail or "")
    assert book.allocation().spent_tiyn == tiyn("10.00")


def test_business_time_is_kept_per_color() -> None:
    book, other = two_colors()
    book.spend(book.admin, "10.00", at="2025-05-01T10:00:00+05:00")
    book.given()
    book.spend(book.admin, "10.00", color=other, at="2025-04-01T10:00:00+05:00")
    book.expect_applied()


def test_a_blocked_attempt_does_not_move_the_colors_time(books) -> None:
    book = books()
    book.spend(book.admin, "10.00", category="cash_withdrawal", at="2025-06-01T10:00:00+05:00")
    book.expect_blocked("cash_withdrawal_is_forbidden")
    book.spend(book.admin, "10.00", at="2025-05-01T10:00:00+05:00")
    book.expect_applied()


def test_time_blocks_are_f07_flags(books) -> None:
    book = books()
    book.spend(book.admin, "10.00", at="2025-05-01T10:00:00+05:00")
    book.given()
    early = book.spend(book.admin, "10.00", at="2025-04-01T10:00:00+05:00")
    book.expect_blocked("out_of_order_time")
    backdated = book.transfer(book.admin, book.contractor, "10.00", at="2024-12-01T10:00:00+05:00")
    book.expect_blocked("dated_before_reference")
    read = book.ledger.read_side()
    now = read.catch_up()
    f07 = [flag for flag in read.flags(now, now, None) if flag["rule"] == "F07"]
    assert sorted(tx for flag in f07 for tx in flag["transactions"]) == sorted([early, backdated])


# --- 3. as of a business time ----------------------------------------------------------------


def _spends_april_and_may(book: Book) -> tuple[str, str]:
    april = book.spend(book.admin, "10.00", at="2025-04-01T10:00:00+05:00")
    may = book.spend(book.admin, "20.00", at="2025-05-01T10:00:00+05:00")
    book.given()
    return april, may


def _as_of(book: Book, as_of: str) -> tuple[Any, int]:
    read = book.ledger.read_side()
    now = read.catch_up()
    return read, read.resolve_as_of(as_of, now)


def test_trace_as_of_a_time_shows_only_the_spends_dated_up_to_it(books) -> None:
    book = books()
    april, may = _spends_april_and_may(book)
    read, position = _as_of(book, "2025-04-15")
    document = read.trace(book.color, position, "2025-04-15")
    assert [spend["transaction"] for spend in document["spends"]] == [april]
    assert document["conservation"]["spent_tiyn"] == tiyn("10.00")


def test_history_and_balances_as_of_a_time_leave_out_a_later_dated_event_recorded_earlier(books) -> None:
    """A blocked attempt dated April recorded after the May spend does not pull the May spend into
    "as of 15 April"; nor does another color's event dated before T recorded after it."""
    book = books()
    other = color_id("ROAD", 2)
    book.allocate(other, "500.00", at="2025-03-20T10:00:00+05:00")
    book.given()
    may = book.spend(book.admin, "20.00", at="2025-05-01T10:00:00+05:00")
    book.given()
    book.spend(book.admin, "10.00", at="2025-04-01T10:00:00+05:00")
    book.expect_blocked("out_of_order_time")
    book.spend(book.admin, "30.00", color=other, at="2025-04-10T10:00:00+05:00")
    book.given()
    read, position = _as_of(book, "2025-04-15")
    history = [event.command_id for _, event in read.color_events(book.color, position, "2025-04-15")]
    assert may not in history
    end_of_day = datetime(2025, 4, 15, 23, 59, 59, 999999, tzinfo=book.ledger.time_zone)
    assert all(event.at <= end_of_day for _, event in read.color_events(book.color, position, "2025-04-15"))
    balances = {(c, holder): amount for c, holder, amount in read.balances(position, None, None, "2025-04-15")}
    assert balances[book.color, book.admin] == tiyn("1000.00")
    assert balances[other, book.admin] == tiyn("470.00")
    trace = read.trace(book.color, position, "2025-04-15")
    assert trace["spends"] == []


# --- 11. a blocked command submitted again ----------------------------------------------------


def test_a_blocked_command_submitted_again_is_reported_blocked_for_its_first_rule_and_recorded_once(books) -> None:
    book = books()
    command = book.spend(book.admin, "10.00", category="cash_withdrawal")
    first = book.expect_blocked("cash_withdrawal_is_forbidden")
    reopened_if_possible(book)
    position, history = book.ledger.position(), len(book.ledger.history(book.color))
    book.resubmit(command)
    again = book.attempt()
    assert again == first
    assert (book.ledger.position(), len(book.ledger.history(book.color))) == (position, history)


def test_a_blocked_attempt_on_an_unknown_color_submitted_again_is_blocked_again(books) -> None:
    book = books()
    command = book.spend(book.admin, "10.00", color=color_id("LOCAL", 5))
    book.colors.remove(book.color)  # the attempt has its own stream: no color of the book grows
    first = book.expect_blocked("unknown_color", recorded_in=None)
    book.colors.append(book.color)
    reopened_if_possible(book)
    position = book.ledger.position()
    book.resubmit(command)
    assert book.attempt() == first
    assert book.ledger.position() == position


def test_a_blocked_command_twice_in_one_run_is_blocked_twice_and_recorded_once(books) -> None:
    book = books()
    command = book.spend(book.admin, "10.00", category="cash_withdrawal")
    book.resubmit(command)
    position = book.ledger.position()
    first, second = book.run_pending_together()
    assert first.status == "blocked" and second == first
    assert book.ledger.position() == position + 1
    blocked = [ev for ev in book.ledger.history(book.color) if isinstance(ev, e.CommandBlocked)]
    assert [ev.command_id for ev in blocked] == [command]


def test_a_blocked_command_resubmitted_with_other_content_is_a_conflict(books) -> None:
    book = books()
    command = book.spend(book.admin, "10.00", category="cash_withdrawal")
    book.expect_blocked("cash_withdrawal_is_forbidden")
    book.resubmit(command, amount="11.00")
    assert book.attempt().status == "conflict"


def test_unregistered_parties_have_no_registration_time_to_rely_on(books) -> None:
    """An unknown party is blocked for being unknown, not for time."""
    book = books()
    book.transfer(book.admin, party_id(9_999), "10.00", at="2024-12-01T10:00:00+05:00")
    book.expect_blocked("dated_before_reference")  # the allocation is still relied on
    book.transfer(book.admin, party_id(9_999), "10.00", days=5)
    book.expect_blocked("unknown_party")


def test_a_color_allocated_after_the_as_of_time_is_unknown_then(books) -> None:
    """Another color's earlier-dated event recorded later does not make this color known before its allocation."""
    book = books()
    other = color_id("ROAD", 2)
    book.allocate(other, "500.00", at="2025-06-01T10:00:00+05:00")
    book.given()
    book.spend(book.admin, "10.00", at="2025-04-10T10:00:00+05:00")
    book.given()
    read, position = _as_of(book, "2025-04-15")
    with pytest.raises(UnknownColor):
        read.trace(other, position, "2025-04-15")
    assert [spend["transaction"] for spend in read.trace(book.color, position, "2025-04-15")["spends"]] != []
