"""The process's ledger, shared by every request of one server process.

A small pool of `Ledger`s (each with its read side and its own connections), each used by one
request at a time: `acting(actor)` takes an idle one (opening another while fewer than
`settings.ledgers` are open, else waiting for one) and sets its actor for the request, so the roles
policy is checked and events are recorded with the authenticated actor. Requests of one process
and of several processes (`serve --workers N`) write concurrently through the store's own locking,
as several CLI imports do.
"""

from __future__ import annotations

import os
import queue
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
        self._config = check_store(parse_store_url(settings.store_url), create=False)
        self._roles = load_roles(settings.roles_path)
        self.rules = load_config(settings.rules_path)
        self.tokens = TokenBook()
        self._open: list[Ledger] = []
        self._idle: queue.LifoQueue[Ledger] = queue.LifoQueue()
        self._opening = threading.Lock()
        self.stopping = threading.Event()
        self._idle.put(self._new_ledger())  # the store must open now: a failure stops the server at start

    def _new_ledger(self) -> Ledger:
        ledger = Ledger(self._config, cipher_key=os.environ.get("TENGE_LEDGER_KEY") or None, roles=self._roles,
                        wait_seconds=self.settings.wait_seconds)
        self._open.append(ledger)
        return ledger

    def _take(self) -> Ledger:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._opening:
            if len(self._open) < self.settings.ledgers:
                return self._new_ledger()
        return self._idle.get()

    @contextmanager
    def acting(self, actor: str) -> Iterator[Ledger]:
        """A ledger, for this request alone, acting as `actor` ("" for the server's own questions:
        token look-ups, health). Not reentrant: do not nest."""
        ledger = self._take()
        ledger.actor = actor
        try:
            yield ledger
        finally:
            ledger.actor = ""
            self._idle.put(ledger)

    def read_side(self, ledger: Ledger) -> ReadSide:
        """The ledger's read side (call inside `acting`)."""
        return ledger.read_side(self.rules)

    def actor_of(self, token: str) -> str | None:
        """Who a presented token acts as, or None."""
        with self.acting("") as ledger:
            return self.tokens.actor_of(ledger, token)

    def close(self) -> None:
        self.stopping.set()
        for ledger in self._open:
            ledger.close()
        self._open.clear()
