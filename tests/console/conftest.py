"""Fixtures of the console's tests: one prepared store per module, an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.http.app import create_app
from ledger.http.settings import Settings
from tests.console.support import prepare_console_store
from tests.http.support import World


@pytest.fixture(scope="module")
def console_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return prepare_console_store(tmp_path_factory.mktemp("console") / "ledger.sqlite")


@pytest.fixture
def client(console_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(console_world.url))) as test_client:
        yield test_client
