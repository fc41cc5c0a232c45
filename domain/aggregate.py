"""What every aggregate of the ledger shares: identity, version, pending events, blocked attempts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import events as e
from domain.commands import Command
from domain.policy import Rejection


class Aggregate:
    """A stream's state. `apply` is the only mutator; `trigger` applies and keeps a new event.

    Subclasses implement `_mutate(event)` for their own event types; `CommandBlocked` changes
    nothing but the version (the attempt is history, not state).
    """

    def __init__(self, originator_id: UUID) -> None:
        self.id = originator_id
        self.version = 0
        self.pending_events: list[e.LedgerEvent] = []

    def blocked(self, command: Command, rejection: Rejection, record: dict[str, Any]) -> e.CommandBlocked:
        """The event recording that `command` was refused for `rejection`."""
        return e.CommandBlocked(
            originator_id=self.id, originator_version=self.version + 1, command_id=command.id,
            at=command.at, actor=command.actor, color=getattr(self, "color", None) or getattr(command, "color", None),
            command_type=command.TYPE, reason=rejection.reason, detail=rejection.detail, command=record,
        )

    def trigger(self, event: e.LedgerEvent) -> None:
        self.apply(event)
        self.pending_events.append(event)

    def collect_events(self) -> list[e.LedgerEvent]:
        """eventsourcing's CollectEventsProtocol: hand over the pending events."""
        collected, self.pending_events = self.pending_events, []
        return collected

    def apply(self, event: e.LedgerEvent) -> None:
        assert event.originator_id == self.id, (event.originator_id, self.id)
        assert event.originator_version == self.version + 1, (event.originator_version, self.version)
        if not isinstance(event, e.CommandBlocked):
            self._mutate(event)
        self.version = event.originator_version
        self._check_after_event()

    def _mutate(self, event: e.LedgerEvent) -> None:
        raise AssertionError(f"{type(self).__name__} has no event {type(event).__name__}")

    def _check_after_event(self) -> None:
        """Cheap invariants asserted after every event."""


class Attempt(Aggregate):
    """The stream of a command blocked before any other stream could be named (unknown color)."""
