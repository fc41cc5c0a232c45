"""Every integrity test starts without TENGE_LEDGER_* variables from the caller's environment."""

from __future__ import annotations

import pytest

from tests.integrity.integrity_support import ENV_VARIABLES


@pytest.fixture(autouse=True)
def _no_ledger_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
