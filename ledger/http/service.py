"""The process's ledger, shared by every request of one server process.

One `Ledger` (and its read side) per process, used by one request at a time: `acting(actor)` holds
the process's lock and sets the ledger's actor for the request, so the roles policy is checked and
events are recorded with the authenticated actor. Several processes (`serve --workers N` on
PostgreSQL) write concurrently through the store's own locking, as several CLI imports do.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ledger.app import Ledger
from ledger.read import ReadSide
from ledger.roles import load_roles
from ledger.store.preflight import check_store
from ledger.store.url import parse_store_url
from ledger.tokens import TokenBook
from projections.rules.config import load_config
from ledger.http.settings import Settings


class Service:
    """The ledger of this server process, its read side and its token book."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = check_store(parse_store_url(settings.store_url), create=False)
        self.ledger = Ledger(config, cipher_key=os.environ.get("TENGE_LEDGER_KEY") or None,
                             roles=load_roles(settings.roles_path), wait_seconds=settings.wait_seconds)
        self.rules = load_config(settings.rules_path)
        self.tokens = TokenBook()
        self._lock = threading.RLock()
        self.stopping = threading.Event()

    @contextmanager
    def acting(self, actor: str) -> Iterator[Ledger]:
        """The ledger, for this thread alone, acting as `actor` ("" for the server's own questions:
        token look-ups, health)."""
        with self._lock:
            self.ledger.actor = actor
            try:
                yield self.ledger
            finally:
                self.ledger.actor = ""

    def read_side(self, ledger: Ledger) -> ReadSide:
        """The ledger's read side (call inside `acting`)."""
        return ledger.read_side(self.rules)

    def actor_of(self, token: str) -> str | None:
        """Who a presented token acts as, or None."""
        with self.acting("") as ledger:
            return self.tokens.actor_of(ledger, token)

    def close(self) -> None:
        self.stopping.set()
        with self._lock:
            self.ledger.close()
