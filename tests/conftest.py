"""Shared fixtures: the same tests run against every store kind (SPEC §5 `--store`).

PostgreSQL tests run when TENGE_LEDGER_TEST_POSTGRES holds a URL (e.g.
postgresql://postgres@127.0.0.1:5432/test) and are skipped otherwise; each test gets a schema of
its own, dropped afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import POSTGRES_URL, postgres_schema  # noqa: E402 - after the repository is on the path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL store URL with a fresh schema, dropped after the test."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES=postgresql://user@host:port/db")
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store kind, one after another: memory://, a SQLite file, PostgreSQL."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Stores that two Ledger instances (two writers) can open at once."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("postgres_url")
