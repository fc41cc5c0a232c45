"""The purpose-bound policy: what each pilot allows, and the names of every rejection (SPEC §4).

A rejection reason is a sentence-like name (`balance_would_go_negative`) that stays stable: it is
written into `CommandBlocked` events, import reports and `F07` flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from domain.errors import InvalidValue

ALLOWED_SPEND_CATEGORIES: dict[str, frozenset[str]] = {
    "ROAD": frozenset({
        "materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services",
        "utilities",
    }),
    "AGRO": frozenset({"equipment", "taxes", "services"}),
    "LOCAL": frozenset({
        "materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services",
        "utilities", "livestock",
    }),
}
assert all("cash_withdrawal" not in allowed for allowed in ALLOWED_SPEND_CATEGORIES.values())

# Pilots whose releases need a final acceptance carrying evidence (SPEC §4 rule 7).
PILOTS_NEEDING_FINAL_EVIDENCE = frozenset({"AGRO"})

# The ledger's time zone when a store is created without `--time-zone` (SPEC §2.5): Kazakhstan
# has had one time zone, UTC+05:00, since 2024-03-01. A fixed offset, not a tz database name, so
# that no tzdata update can ever move a deadline already judged.
LEDGER_TIME_ZONE_DEFAULT: tzinfo = timezone(timedelta(hours=5))
_OFFSET = re.compile(r"(?:UTC)?([+-])(\d\d):(\d\d)")


def parse_time_zone(text: str) -> timezone:
    """A ledger time zone from `+05:00`, `UTC+05:00`, `-03:30`, `Z` or `UTC` (fixed offsets only)."""
    if text in ("Z", "UTC", "UTC+00:00", "+00:00", "-00:00"):
        return timezone.utc
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise InvalidValue(f"time zone must be a fixed UTC offset like +05:00 or UTC+05:00, got {text!r}")
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes) > 59:
        raise InvalidValue(f"time zone offset {text!r} is out of range (-14:00 to +14:00)")
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-offset if sign == "-" else offset)


def time_zone_text(zone: tzinfo) -> str:
    """The canonical `+HH:MM` text of a fixed-offset zone (what the store records)."""
    offset = zone.utcoffset(None)
    assert offset is not None, "the ledger's time zone is a fixed offset"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def business_date(at: datetime, zone: tzinfo) -> date:
    """The calendar day of instant `at` in the ledger's zone: the submitter's offset never counts."""
    assert at.tzinfo is not None, "business times carry an explicit offset"
    return at.astimezone(zone).date()


# Limits (TigerBeetle style: a limit on everything).
OPEN_LOTS_PER_HOLDER_MAX = 100_000
CONTRACTS_PER_COLOR_MAX = 100_000


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a command was blocked: the rule's name and a sentence with the numbers."""

    reason: str
    detail: str

    def __post_init__(self) -> None:
        assert self.reason in REASONS, f"unknown rejection reason {self.reason!r}"
        assert self.detail


REASONS: dict[str, str] = {
    # references (SPEC §3: unknown references are blocked, not malformed)
    "unknown_color": "the color was never allocated",
    "unknown_party": "the party is not registered",
    "unknown_contract": "no such contract under this color",
    "unknown_reservation": "no such reservation",
    "unknown_lot": "the payer holds no open lot of that name",
    # identity
    "color_already_allocated": "the color was allocated before",
    "party_already_registered": "the party was registered before",
    "contract_already_exists": "the contract id is taken",
    "party_has_wrong_kind": "the party's kind does not fit its role",
    # rule 1
    "balance_would_go_negative": "the holder's balance of the color is too small",
    "lot_would_go_negative": "a named source lot holds less than is taken from it",
    # rule 2
    "payer_does_not_hold_color": "only the administrator and parties that received the color can pay it",
    # rule 3
    "recipient_must_have_a_contract": "the recipient is not the supplier of a contract with the payer",
    "contract_must_be_named": "several contracts fit: the contract must be named",
    "payer_must_be_contract_customer": "the payer is not the contract's customer",
    "recipient_must_be_contract_supplier": "the recipient is not the contract's supplier",
    "party_is_not_active": "the party is liquidated or debarred",
    "customer_must_be_in_the_chain": "a contract's customer must be the administrator or a supplier under the color",
    "customer_and_supplier_must_differ": "a party cannot contract with itself",
    # rule 4
    "contract_amount_exceeded": "payments under the contract would exceed its amount",
    "amendment_below_paid": "the contract cannot be amended below what was paid under it",
    "acceptance_exceeds_contract": "accepted value cannot exceed the contract amount",
    # rule 5
    "cash_withdrawal_is_forbidden": "marked money is never withdrawn as cash",
    "category_not_allowed_in_pilot": "the pilot does not allow this spend category",
    # rule 6
    "color_expired": "nothing but returns and voids moves after the color expires",
    "color_is_frozen": "nothing moves out of a frozen color",
    "holder_is_frozen": "nothing moves out of a frozen holder's share",
    "already_frozen": "the color or holder is frozen already",
    "not_frozen": "the color or holder is not frozen",
    # rule 7
    "acceptance_does_not_cover_release": "accepted value must cover everything released under the contract",
    "delivery_not_proven": "the pilot releases only after a final acceptance with evidence",
    "reservation_already_settled": "the reservation was released or voided before",
    # time (SPEC §2.5)
    "dated_before_reference": "the command is dated before something it relies on was recorded",
    "out_of_order_time": "within one color, business time never goes back",
}
