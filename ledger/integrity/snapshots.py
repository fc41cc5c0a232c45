"""`verify`'s snapshot check: every stored snapshot equals the replay of its stream up to its version.

Snapshots (`domain.allocation.AllocationSnapshot`, written by `ledger.app` after a batch commits)
are derived data: the ledger ignores one it cannot read or that does not belong to the stream's
history, and replays instead, so a bad snapshot never changes a decision by itself. But a snapshot
that reads well and names the right event while holding another state *would* be decided on, so
each one is checked here against a replay of its stream, one stream at a time (memory: one
aggregate and the stream's snapshot rows). Every disagreement is a finding (`check` = "snapshot").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from domain.allocation import Allocation, AllocationSnapshot

CHECK = "snapshot"
REMEDY = "snapshots are derived data: deleting the row is safe (the stream is replayed instead)"


def check_snapshots(ledger: Any, log_end: int) -> list[Any]:
    """Findings (`ledger.integrity.verify.Finding`, at `log_end`: a snapshot is no event of the log)
    for every snapshot row that cannot be read or disagrees with its stream's replay."""
    from ledger.integrity.verify import Finding  # verify imports this module

    findings = []
    for stream in ledger.recorder.snapshot_streams():
        for message, color, transaction in _stream_problems(ledger, stream):
            findings.append(Finding(log_end, CHECK, f"{message}; {REMEDY}", transaction, color))
    return findings


def _stream_problems(ledger: Any, stream: UUID) -> Iterator[tuple[str, str | None, str]]:
    """(sentence, color, transaction id of the stream's event at the snapshot's version) for each bad snapshot of `stream`, replaying the stream once, in version order."""
    rows = sorted(ledger.snapshots.recorder.select_events(stream), key=lambda row: row.originator_version)
    events = iter(ledger.events.get(stream))
    replayed = Allocation(stream)
    last_command = ""
    for row in rows:
        version = row.originator_version
        name = f"the snapshot of stream {stream} at version {version}"
        try:
            while replayed.version < version:
                event = next(events, None)
                if event is None:
                    break
                replayed.apply(event)
                last_command = event.command_id
        except Exception:  # noqa: BLE001 - the stream itself is broken: the domain check reports it
            return
        color = replayed.color or None
        if replayed.version < version:
            yield (f"{name} is beyond the end of its stream (version {replayed.version}): it was written outside the ledger",
                   color, "")
            return
        if not replayed.allocated:
            yield f"{name} belongs to no allocated color: it was written outside the ledger", color, last_command
            continue
        problem = _snapshot_problem(ledger, row, replayed, last_command)
        if problem:
            yield f"{name} (color {replayed.color}) {problem}", color, last_command


def _snapshot_problem(ledger: Any, row: Any, replayed: Allocation, last_command: str) -> str | None:
    """Why the stored snapshot `row` is not the state `replayed` reached at its version, or None."""
    try:
        snapshot = ledger.mapper.to_domain_event(row)
    except Exception as error:  # noqa: BLE001 - unreadable bytes are a finding, whatever the cause
        return f"cannot be read ({type(error).__name__}): the row was altered outside the ledger"
    if not isinstance(snapshot, AllocationSnapshot):
        return f"is a {type(snapshot).__name__}, not a color's snapshot: the row was altered outside the ledger"
    if snapshot.last_command_id != last_command:
        return (f"names transaction {snapshot.last_command_id!r} as its last, but the stream's event at that version is "
                f"{last_command!r}: it belongs to another history")
    try:
        restored = snapshot.restore()
    except Exception as error:  # noqa: BLE001 - a malformed state is a finding
        return f"holds a state that is not well-formed ({type(error).__name__}: {error}): the row was altered outside the ledger"
    expected, found = replayed.snapshot_state(), restored.snapshot_state()
    differing = [field for field in expected if expected[field] != found[field]]
    if differing:
        return (f"disagrees with the replay of its stream up to that version (in {', '.join(differing)}): "
                "the snapshot row was altered outside the ledger")
    return None
