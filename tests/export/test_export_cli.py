"""`tenge-ledger export` as a user runs it: exit codes and one-line errors (SPEC §5), never a store
created, never a half-written file."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from ledger.cli import main
from tests.support import color_id


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().err


def test_an_unknown_format_is_a_usage_error_listing_the_formats(world, capsys, tmp_path: Path) -> None:
    code, err = run(capsys, "--store", world.url, "export", "xlsx", "--out", str(tmp_path / "x"))
    assert code == 2
    assert all(name in err for name in ("camt.053", "ocds", "beancount", "parquet"))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_is_69_and_is_not_created(capsys, tmp_path: Path) -> None:
    store = tmp_path / "none.sqlite"
    code, err = run(capsys, "--store", str(store), "export", "ocds", "--out", str(tmp_path / "x.json"))
    assert code == 69 and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_out_is_74_in_one_line(world, capsys, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, err = run(capsys, "--store", world.url, "export", "beancount", "--out", str(locked / "x.beancount"))
    assert code == 74 and len(err.strip().splitlines()) == 1 and str(locked / "x.beancount") in err


@pytest.mark.parametrize("fmt", ["camt.053", "parquet"])
def test_an_out_in_a_missing_folder_is_74_in_one_line(world, capsys, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "no" / "such" / "x"
    code, err = run(capsys, "--store", world.url, "export", fmt, "--out", str(out))
    assert code == 74, err
    assert err.count("\n") == 1 and str(out) in err
    assert list(tmp_path.iterdir()) == []


def test_an_out_that_is_a_folder_is_74_for_a_file_format(world, capsys, tmp_path: Path) -> None:
    code, err = run(capsys, "--store", world.url, "export", "ocds", "--out", str(tmp_path))
    assert code == 74 and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_nothing_to_state_is_exit_1_and_no_file(world, capsys, tmp_path: Path) -> None:
    """A camt.053 document needs a statement: a filter matching no movement writes nothing."""
    out = tmp_path / "empty.xml"
    code, err = run(capsys, "--store", world.url, "export", "camt.053", "--color", color_id("ROAD", 9999), "--out", str(out))
    assert code == 1 and "nothing to export" in err
    assert list(tmp_path.iterdir()) == []


def test_malformed_filters_are_usage_errors(world, capsys, tmp_path: Path) -> None:
    for option in (["--color", "ROAD-2025-041-000001-00"], ["--party", "040612345678"], ["--as-of", "@x"]):
        code, err = run(capsys, "--store", world.url, "export", "ocds", *option, "--out", str(tmp_path / "x.json"))
        assert code == 2, option
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_an_export_replaces_the_file_whole(world, capsys, tmp_path: Path) -> None:
    out = tmp_path / "again.beancount"
    out.write_text("old", encoding="utf-8")
    code, err = run(capsys, "--store", world.url, "export", "beancount", "--color", world.color, "--out", str(out))
    assert code == 0 and "transaction(s)" in err
    assert out.read_text(encoding="utf-8").startswith("; tenge-ledger export")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.beancount"]


def test_a_long_export_shows_a_bar_over_the_colors(world, capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(importlib.import_module("ledger.cli.export"), "BAR_MIN_COLORS", 1)
    code, err = run(capsys, "--store", world.url, "export", "parquet", "--out", str(tmp_path / "p"), "--progress", "bar")
    assert code == 0 and "exporting colors" in err and "colors/s" in err, err


def test_on_a_pipe_an_export_prints_one_line(world, capsys, tmp_path: Path) -> None:
    code, err = run(capsys, "--store", world.url, "export", "parquet", "--out", str(tmp_path / "p"))
    assert code == 0 and err.count("\n") == 1 and "movements" in err and "\x1b" not in err


def test_the_cli_loads_pyarrow_only_for_a_parquet_export() -> None:
    """Every command starts with the CLI imported: pyarrow (~35 MB) must not come with it."""
    import subprocess
    import sys

    probe = "import sys, ledger.cli; print(sorted(m for m in ('pyarrow', 'duckdb') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.strip()
    assert out == "[]"
