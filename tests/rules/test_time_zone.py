"""Dates in rules are judged in the ledger's time zone (SPEC §2.5: UTC+05:00 unless the store
records another), never in the offset a submitter wrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from projections.rules.common import day_after, local_date
from projections.rules.config import LEDGER_TIME_ZONE, default_config
from tests.rules.baseline import Baseline
from tests.rules.test_assets import rush

AFTER_NEW_YEAR = "2026-01-02T00:00:00+05:00"
MINUS_12 = timezone(timedelta(hours=-12))


def rushed_at(at: str) -> Baseline:
    """A year-end rush of A3 at `at` (the LOCAL color lasts into 2026, so the date is all that matters)."""
    world = Baseline()
    world.replace("A-LOCAL", expires_on="2026-06-30")
    rush(world, "5000000.00")
    world.script.records[-1]["at"] = at
    return world


def year_end_flags(world: Baseline, config: object = None) -> list[dict[str, object]]:
    flags = [flag for flag in world.flags(as_of=AFTER_NEW_YEAR, rules=config) if flag["rule"] == "L03"]
    assert world.unexpected == []
    return flags


def test_the_ledger_time_zone_is_astana_by_default() -> None:
    assert LEDGER_TIME_ZONE.utcoffset(None) == timedelta(hours=5)
    assert default_config().time_zone == LEDGER_TIME_ZONE


def test_a_payment_late_on_31_december_in_astana_counts_in_the_year_end_rush() -> None:
    [flag] = year_end_flags(rushed_at("2025-12-31T23:00:00+05:00"))
    assert flag["evidence"]["fiscal_year"] == 2025 and flag["transactions"] == ["T-LOCAL-YE"]


def test_an_event_written_at_23_00_minus_12_counts_in_fiscal_2026() -> None:
    """2025-12-31T23:00:00-12:00 is 2026-01-01 16:00 in Astana: not part of fiscal 2025's last week."""
    assert year_end_flags(rushed_at("2025-12-31T23:00:00-12:00")) == []


def test_the_rules_time_zone_decides_not_the_offset_written() -> None:
    """A ledger whose recorded time zone is UTC−12 puts the same instant on 31 December 2025."""
    config = default_config(MINUS_12)
    assert config.digest != default_config().digest  # flags judged in another zone are rebuilt
    [flag] = year_end_flags(rushed_at("2025-12-31T23:00:00-12:00"), config)
    assert flag["evidence"]["fiscal_year"] == 2025
    assert flag["at"] == "2026-01-01T00:00:00-12:00"  # the year closes at midnight in that zone


def test_local_dates_and_day_boundaries() -> None:
    late = datetime.fromisoformat("2025-12-31T23:00:00-12:00")
    assert local_date(late, LEDGER_TIME_ZONE).isoformat() == "2026-01-01"
    assert local_date(late, MINUS_12).isoformat() == "2025-12-31"
    assert day_after(local_date(late, MINUS_12), LEDGER_TIME_ZONE).isoformat() == "2026-01-01T00:00:00+05:00"
