"""Every format's balances are the ledger's `balance`, as of now, a business time and a position,
and under each filter (SPEC §3.2)."""

from __future__ import annotations

import pytest

from tests.export.readers import BALANCE_READERS

AS_OF = ["now", "mid", "before_late", "@400"]


def _as_of(world, which: str) -> list[str]:
    if which == "now":
        return []
    return ["--as-of", which if which.startswith("@") else getattr(world, f"{which}_time" if which == "mid" else which)]


@pytest.mark.parametrize("as_of", AS_OF)
@pytest.mark.parametrize("fmt", sorted(BALANCE_READERS))
def test_the_exported_balances_are_the_ledgers_as_of_any_time(world, read_balances, fmt: str, as_of: str) -> None:
    options = _as_of(world, as_of)
    expected = read_balances(*options)
    exported = BALANCE_READERS[fmt](world.export(fmt, *options))
    assert exported == expected
    assert expected  # something to compare


@pytest.mark.parametrize("fmt", sorted(BALANCE_READERS))
def test_a_color_filter_exports_that_color_only(world, read_balances, fmt: str) -> None:
    exported = BALANCE_READERS[fmt](world.export(fmt, "--color", world.color))
    assert exported == read_balances("--color", world.color)
    assert {color for color, _ in exported} == {world.color}


@pytest.mark.parametrize("fmt", sorted(BALANCE_READERS))
def test_a_party_filter_exports_that_holders_balances(world, read_balances, fmt: str) -> None:
    exported = BALANCE_READERS[fmt](world.export(fmt, "--party", world.contractor))
    assert exported == read_balances("--party", world.contractor)
    assert {holder for _, holder in exported} == {world.contractor}
    assert {color for color, _ in exported} == {world.color, world.late_color}


def test_the_mid_time_really_is_earlier(world, read_balances) -> None:
    """The as-of points differ from now (so the tests above could fail)."""
    now, mid = read_balances(), read_balances("--as-of", world.mid_time)
    assert now[world.color, world.sub] == 120_000_00 - 20_000_37
    assert (world.color, world.sub) not in mid and now != mid
    assert (world.late_color, world.admin) not in read_balances("--as-of", world.before_late)
