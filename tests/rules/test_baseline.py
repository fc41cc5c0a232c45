"""The baseline world is valid and clean: every command applies and no rule raises a flag."""

from __future__ import annotations

from tests.rules.baseline import Baseline, codes


def test_every_baseline_command_is_applied() -> None:
    world = Baseline()
    world.run()
    assert world.unexpected == []


def test_no_rule_flags_the_baseline() -> None:
    assert Baseline().flags() == []


def test_no_rule_flags_the_baseline_even_after_the_fiscal_year_ends() -> None:
    """Windows that close later (idle funds, ghost projects, year-end rush) stay silent too."""
    assert codes(Baseline().flags(as_of="2026-02-01T00:00:00+05:00")) == []
