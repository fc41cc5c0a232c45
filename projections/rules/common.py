"""Small facts and comparisons that several rules read the same way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from domain import events as e
from projections.rules.world import World

ADVANCE = "advance"  # the payment kind of an advance (F10, F11)
INFLOWS = (e.FundsTransferred, e.ReservationReleased)  # money reaching a payee
WORKS_PILOTS = frozenset({"ROAD", "LOCAL"})  # pilots that buy works (RULES.md F01, H01)


def time_of(iso: str) -> datetime:
    """A business time kept in rule state as its ISO text."""
    return datetime.fromisoformat(iso)


def local_date(moment: datetime, zone: timezone) -> date:
    """The date of an instant in the ledger's time zone (SPEC §2.5), whatever offset it was written in."""
    assert moment.tzinfo is not None, moment
    return moment.astimezone(zone).date()


def start_of_day(day: date, zone: timezone) -> datetime:
    """The first instant of a date in the ledger's time zone."""
    return datetime.combine(day, time(0), tzinfo=zone)


def day_after(day: date, zone: timezone) -> datetime:
    """The first instant after a date (an expiry day, a year's last day) in the ledger's time zone."""
    return start_of_day(day + timedelta(days=1), zone)


def at_least(amount: int, share: Fraction, of: int) -> bool:
    """amount ≥ share × of, exactly."""
    return amount * share.denominator >= share.numerator * of


def above(amount: int, share: Fraction, of: int) -> bool:
    """amount > share × of, exactly."""
    return amount * share.denominator > share.numerator * of


def contract_parties(info: dict[str, Any] | None) -> list[str]:
    """A contract's customer and supplier (none for an unknown contract)."""
    info = info or {}
    return [party for party in (info.get("customer"), info.get("supplier")) if party]


def road_geometry(info: dict[str, Any]) -> tuple[Fraction, Fraction, Fraction] | None:
    """(length km, width m, asphalt cm) of a road contract, exactly; None without a road."""
    if not info.get("road"):
        return None
    length, width, asphalt = (Fraction(Decimal(text)) for text in info["road"])
    return length, width, asphalt


def related_parties(world: World, party: str) -> list[str]:
    """The party and every party sharing its normalised address or phone, an owner or a director."""
    info = world.parties.get(party)
    found = {party}
    if info:
        if info["address_norm"]:
            found |= world.by_address.get(info["address_norm"], set())
        if info["phone_norm"]:
            found |= world.by_phone.get(info["phone_norm"], set())
        for owner in info["owners"]:
            found |= world.by_owner.get(owner, set())
        for director in info["directors"]:
            found |= world.by_director.get(director, set())
    return sorted(found)


def forget_reservation(state: dict[str, Any], event: e.ReservationReleased) -> None:
    """Drop a released reservation from the contract record of `state` (F10, F11: a released
    reservation is paid, so it no longer counts as reserved)."""
    record = state.get("contracts", {}).get(event.contract)
    if record is not None:
        record["reserved"].pop(event.reservation, None)
