"""Fixtures of the HTTP tests: a prepared SQLite store and an in-process client over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.settings import Settings
from tests.http.support import World, prepare_store


@pytest.fixture
def world(tmp_path: Path) -> World:
    return prepare_store(f"sqlite:///{tmp_path / 'ledger.sqlite'}")


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(world.url))) as test_client:
        yield test_client
