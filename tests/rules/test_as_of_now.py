"""`flags` with no `--as-of` judges as of the current time (SPEC §5): windows and deadlines the
clock has passed are closed, with no later event needed. The clock is read by the face (the CLI),
injected here; the projections never read it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.cli import read as read_commands
from tests.rules.baseline import Baseline
from tests.rules.test_assets import rush

ASTANA = timezone(timedelta(hours=5))
DURING_2025 = datetime(2025, 12, 31, 23, 0, tzinfo=ASTANA)
IN_2026 = datetime(2026, 3, 1, 9, 0, tzinfo=ASTANA)


def rushed_world() -> Baseline:
    """The clean world with a year-end rush in the last week of 2025 and nothing after it, so no
    later event closes the year: only the clock can."""
    world = Baseline()
    rush(world, "5000000.00")
    return world


def l03(flags: list[dict[str, object]]) -> list[dict[str, object]]:
    return [flag for flag in flags if flag["rule"] == "L03"]


def test_the_read_side_closes_the_windows_the_wall_time_has_passed() -> None:
    world = rushed_world()
    ledger = world.run()
    assert world.unexpected == []
    read = ledger.read_side()
    now = read.catch_up()
    assert l03(read.flags(now, now, None)) == []  # no wall time given: only what events closed
    assert l03(read.flags(now, now, None, DURING_2025)) == []  # the year is not over yet
    [flag] = l03(read.flags(now, now, None, IN_2026))
    assert flag["evidence"]["fiscal_year"] == 2025 and flag["at"] == "2026-01-01T00:00:00+05:00"
    assert l03(read.flags(now, now, None)) == []  # judging as of a time stores nothing


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = rushed_world().run(url)
    ledger.close()
    return url


def flags_cli(store: str, capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["--store", store, "flags", "--format", "json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_flags_with_no_as_of_judges_as_of_the_clock(store: str, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(read_commands, "wall_clock", lambda: DURING_2025)
    assert l03(flags_cli(store, capsys)) == []
    monkeypatch.setattr(read_commands, "wall_clock", lambda: IN_2026)
    [flag] = l03(flags_cli(store, capsys))  # an auditor running `flags` in 2026 sees fiscal 2025's rush
    assert flag["evidence"]["fiscal_year"] == 2025
    assert l03(flags_cli(store, capsys, "--rule", "L03")) == [flag]


def test_an_explicit_as_of_ignores_the_clock(store: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(read_commands, "wall_clock", lambda: IN_2026)
    assert l03(flags_cli(store, capsys, "--as-of", "2025-12-31T23:00:00+05:00")) == []
    assert len(l03(flags_cli(store, capsys, "--as-of", "2026-01-01T00:00:00+05:00"))) == 1


def test_the_real_clock_is_timezone_aware() -> None:
    assert read_commands.wall_clock().tzinfo is not None
