"""A projection worker: keeps the read side up to date as the log grows (`tenge-ledger project --follow`).

It catches up, beats (a row in `projection_workers`: alive at time t, projections at position p),
then waits for news: on PostgreSQL a `LISTEN` on the channel the event recorder `NOTIFY`s in every
insert transaction (eventsourcing's `channel_name`; a notification is delivered on commit), with a
bounded wait so a missed one costs at most `poll_s`; on SQLite it polls every `poll_s`.

Killed at any moment (kill -9) it loses nothing and applies nothing twice: the runner writes each
chunk's rows and positions in one transaction (`projections.runner`). Told to stop (the face maps
SIGTERM/SIGINT to `stop`), it ends after the chunk it is in and removes its heartbeat row; a
killed worker's row just goes stale, and queries then catch up themselves (`ledger.read`).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Any

from ledger.read import ReadSide, wall_clock_ms
from projections.runner import OnProgress

POLL_S_DEFAULT = 0.5
BEAT_EVERY_MS = 1_000

# on_backlog(start, last) -> an OnProgress for catching up from `start` to `last`, or None
OnBacklog = Callable[[int, int], OnProgress | None]


def worker_name() -> str:
    """host:pid:random — unique per run, and says where the worker runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Waiter:
    """Waits for news of new events, at most `timeout_s` (or until `stop` is set)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def wait(self, timeout_s: float) -> None:
        self.stop.wait(timeout_s)

    def close(self) -> None:
        """Nothing to release."""


class PostgresWaiter(Waiter):
    """`LISTEN` on the recorder's channel, on a connection of its own."""

    def __init__(self, stop: threading.Event, env: dict[str, str], channel: str) -> None:
        super().__init__(stop)
        import psycopg
        from psycopg.sql import SQL, Identifier

        self.conn: Any = psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "10")), autocommit=True,
        )
        self.conn.execute(SQL("LISTEN {}").format(Identifier(channel)))

    def wait(self, timeout_s: float) -> None:
        if self.stop.is_set():
            return
        for _ in self.conn.notifies(timeout=timeout_s, stop_after=1):
            pass  # one is enough: the catch-up reads whatever has been committed since

    def close(self) -> None:
        self.conn.close()


def waiter_for(read: ReadSide, stop: threading.Event) -> Waiter:
    store = read.ledger.store
    channel = getattr(read.ledger.recorder, "channel_name", None)
    if store.kind == "postgresql" and channel:
        return PostgresWaiter(stop, store.env, channel)
    return Waiter(stop)


class ProjectionWorker:
    """Follows the log of one ledger until told to stop."""

    def __init__(self, read: ReadSide, name: str | None = None, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.read = read
        self.runner = read.runner
        self.name = name or worker_name()
        self.clock_ms = clock_ms
        self._last_beat_ms = 0
        self._following = False  # beats only while following (a one-off catch-up is no worker)

    def catch_up_once(self, on_backlog: OnBacklog | None = None, should_stop: Callable[[], bool] | None = None) -> int:
        """Apply everything up to the current head (or until `should_stop`); the position reached."""
        last = self.read.ledger.position()
        start = self.runner.reached()
        if start >= last:
            return start
        self.read.ledger.authorize("read")  # the same right a query needs to bring them up to date
        listener = on_backlog(start, last) if on_backlog else None

        def on_progress(reached: int, last_position: int) -> None:
            self._beat(force=False)
            if listener is not None:
                listener(reached, last_position)

        return self.runner.catch_up(until=last, last_position=last, on_progress=on_progress, should_stop=should_stop)

    def _beat(self, force: bool) -> None:
        if not self._following:
            return
        now = self.clock_ms()
        if force or now - self._last_beat_ms >= BEAT_EVERY_MS:
            self.runner.beat(self.name, now)
            self._last_beat_ms = now

    def follow(self, stop: threading.Event, poll_s: float = POLL_S_DEFAULT, on_backlog: OnBacklog | None = None) -> int:
        """Catch up, beat, wait for news; again, until `stop` is set. Returns the position reached."""
        assert poll_s > 0
        self.runner.register_worker(self.name, self.clock_ms())
        self._following = True
        waiter = waiter_for(self.read, stop)
        reached = self.runner.reached()
        try:
            while not stop.is_set():
                reached = self.catch_up_once(on_backlog, stop.is_set)
                self._beat(force=False)
                waiter.wait(poll_s)
        finally:
            self._following = False
            waiter.close()
            self.runner.retire(self.name)
        return reached
