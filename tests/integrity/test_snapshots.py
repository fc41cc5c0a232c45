"""Snapshots of colors (issue 11): what they hold, when they are taken, and what a bad one does.

A snapshot is derived data. The ledger loads a color from its latest snapshot plus the events
after it; one it cannot read, or one that does not belong to the stream as stored, is ignored and
the stream replayed, so it never changes an outcome. One that reads well but holds another state
is what `verify` is for: every snapshot is compared with the replay of its stream (exit 3).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from domain.allocation import Allocation, AllocationSnapshot
from ledger.app import APPLIED, Ledger, color_stream
from ledger.integrity.verify import Verifier
from ledger.store.cipher import new_key
from simulations.strategies import ledger_state
from tests.integrity.integrity_support import cli, sql, verify
from tests.support import Script, road_world


def rich_world(transfers: int = 5) -> tuple[Script, dict[str, str]]:
    """A color with several open lots per holder, two contracts, a settled and an open reservation,
    an acceptance with evidence, a spend and a return."""
    s, n = road_world()
    for _ in range(transfers):
        s.transfer(n["color"], n["admin"], n["contractor"], "100.00", contract="C-1")
    s.reserve(n["color"], n["contractor"], n["sub"], "50.00", "C-2", id="RS-1")
    s.add("accept", contract="C-2", amount="50.00", final=True, evidence_sha256="ab" * 32)
    s.add("release", reservation="RS-1")
    s.reserve(n["color"], n["contractor"], n["sub"], "20.00", "C-2", id="RS-2")
    s.spend(n["color"], n["sub"], "10.00")
    s.return_(n["color"], n["sub"], "5.00")
    return s, n


def more(s: Script, n: dict[str, str], count: int, prefix: str) -> list[Any]:
    """`count` further transfers on the color (new ids), as commands."""
    first = len(s.records)
    for i in range(count):
        s.transfer(n["color"], n["admin"], n["contractor"], "1.00", contract="C-1", id=f"{prefix}-{i}")
    return s.commands()[first:]


def replayed(ledger: Ledger, color: str) -> Allocation:
    allocation = Allocation(color_stream(color))
    for event in ledger.events.get(color_stream(color)):
        allocation.apply(event)
    return allocation


def snapshot_rows(ledger: Ledger, color: str) -> list[StoredEvent]:
    return list(ledger.snapshots.recorder.select_events(color_stream(color)))


def test_a_snapshot_round_trips_every_attribute_of_the_color(store_url: str) -> None:
    s, n = rich_world()
    ledger = Ledger(store_url)
    ledger.snapshot_interval = 1
    assert {o.status for o in ledger.execute(s.commands())} == {APPLIED}
    [row] = snapshot_rows(ledger, n["color"])[-1:]
    snapshot = ledger.mapper.to_domain_event(row)
    assert isinstance(snapshot, AllocationSnapshot)
    restored, expected = snapshot.restore(), replayed(ledger, n["color"])
    assert expected.lots and expected.contracts and expected.reservations and expected.settled_reservations
    assert vars(restored) == vars(expected)
    assert list(restored.lots["150740000034"]) == list(expected.lots["150740000034"]), "first-in first-out order kept"
    ledger.close()


def test_snapshots_are_taken_after_a_batch_once_a_color_grew_by_the_interval() -> None:
    s, n = rich_world()
    ledger = Ledger("memory://", batch_size=10)
    ledger.snapshot_interval = 25
    ledger.execute(s.commands())
    assert snapshot_rows(ledger, n["color"]) == [], "fewer than 25 events: no snapshot"
    ledger.execute(more(s, n, 30, "A"))
    versions = [row.originator_version for row in snapshot_rows(ledger, n["color"])]
    assert len(versions) == 1 and versions[0] >= 25
    ledger.execute(more(s, n, 10, "B"))
    assert [row.originator_version for row in snapshot_rows(ledger, n["color"])] == versions, "grew by fewer than 25"
    ledger.execute(more(s, n, 30, "C"))
    [row] = snapshot_rows(ledger, n["color"])
    assert row.originator_version >= versions[0] + 25, "a newer snapshot replaced the older one"


def test_a_color_with_a_large_state_is_snapshotted_less_often(tmp_path: Path) -> None:
    """Taking a snapshot costs its entries (open lots): a color is snapshotted again only once its
    stream grew by a quarter of them, so writing snapshots stays a small cost per event imported."""
    s, n = rich_world(transfers=80)
    ledger = Ledger(f"sqlite:///{tmp_path}/l.sqlite")
    ledger.snapshot_interval = 1
    ledger.execute(s.commands())
    [first] = snapshot_rows(ledger, n["color"])
    entries = replayed(ledger, n["color"]).snapshot_entries()
    assert entries > 80
    for i in range(entries):  # one transfer (one more open lot) per batch, until the next snapshot
        ledger.execute(more(s, n, 1, f"A{i}"))
        [latest] = snapshot_rows(ledger, n["color"])
        if latest.originator_version != first.originator_version:
            break
    grown = latest.originator_version - first.originator_version
    entries_then = replayed(ledger, n["color"]).snapshot_entries()
    assert grown > 20 and (grown - 1) * 4 < entries_then <= grown * 4, (grown, entries_then)


def test_a_color_is_loaded_from_its_snapshot_and_the_events_after_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/l.sqlite"
    s, n = rich_world()
    writer = Ledger(url)
    writer.snapshot_interval = 1
    writer.execute(s.commands())
    version = replayed(writer, n["color"]).version
    writer.snapshot_interval = None
    writer.execute(more(s, n, 3, "A"))
    writer.close()
    reader = Ledger(url)
    asked: list[dict[str, Any]] = []
    get = reader.events.get
    reader.events.get = lambda stream, **kw: asked.append(kw) or get(stream, **kw)  # type: ignore[method-assign]
    allocation = reader.allocation(n["color"])
    assert allocation is not None and allocation.version == version + 3
    assert asked == [{"gt": version - 1}], "only the snapshot's own event and the ones after it are read"
    assert vars(allocation) == vars(replayed(reader, n["color"]))
    reader.close()


def test_a_failure_to_take_a_snapshot_does_not_fail_the_committed_batch() -> None:
    s, n = rich_world()
    ledger = Ledger("memory://")
    ledger.snapshot_interval = 1

    def broken(_: Any) -> None:
        raise OSError("disk full")
    ledger.recorder.put_snapshots = broken  # type: ignore[method-assign]
    assert {o.status for o in ledger.execute(s.commands())} == {APPLIED}
    assert ledger.position() == len(s.records)


# --- a bad snapshot never changes an outcome -------------------------------------------------

def _forge(ledger: Ledger, color: str, change: Any) -> None:
    """Store, at the color's current version, a snapshot row made by `change(row) -> row` from a true one."""
    true = ledger.mapper.to_stored_event(AllocationSnapshot.take(replayed(ledger, color), _last_command(ledger, color)))
    ledger.snapshots.recorder.insert_events([change(true)])


def _last_command(ledger: Ledger, color: str) -> str:
    return list(ledger.events.get(color_stream(color)))[-1].command_id


def _garbage(row: StoredEvent) -> StoredEvent:
    return replace(row, state=b"\x00not a snapshot")


def _other_history(ledger: Ledger) -> Any:
    def change(row: StoredEvent) -> StoredEvent:
        snapshot = ledger.mapper.to_domain_event(row)
        return ledger.mapper.to_stored_event(replace(snapshot, last_command_id="SOMEONE-ELSE"))  # type: ignore[type-var]
    return change


def _frozen_state(ledger: Ledger) -> Any:
    """A well-formed snapshot (its invariants hold) of a frozen color: decisions would differ."""
    def change(row: StoredEvent) -> StoredEvent:
        snapshot = ledger.mapper.to_domain_event(row)
        assert isinstance(snapshot, AllocationSnapshot)
        state = dict(snapshot.state)
        state["frozen"] = True
        return ledger.mapper.to_stored_event(replace(snapshot, state=state))
    return change


@pytest.mark.parametrize("corruption", ["garbage", "other history"])
def test_an_unreadable_or_foreign_snapshot_falls_back_to_replay_and_changes_no_outcome(store_url: str, corruption: str) -> None:
    s, n = rich_world()
    base = s.commands()
    extra = more(s, n, 3, "A") + base[-1:]  # three new transfers and a duplicate
    ledger, control = Ledger(store_url), Ledger("memory://")
    ledger.snapshot_interval = control.snapshot_interval = None
    ledger.execute(base)
    control.execute(base)
    _forge(ledger, n["color"], _garbage if corruption == "garbage" else _other_history(ledger))
    assert ledger._from_snapshot(color_stream(n["color"])) is None, "the bad snapshot is ignored"
    assert ledger.execute(extra) == control.execute(extra), "the same decisions as by full replay"
    assert ledger_state(ledger) == ledger_state(control)
    findings = Verifier(ledger).run()
    assert [f.check for f in findings] == ["snapshot"], findings
    why = "cannot be read" if corruption == "garbage" else "belongs to another history"
    assert why in findings[0].message and findings[0].color == n["color"]
    ledger.close()


def test_a_tampered_snapshot_is_a_verify_finding_exit_3(tmp_path: Path) -> None:
    store = tmp_path / "l.sqlite"
    s, n = rich_world(transfers=210)
    assert cli("--store", store, "import", s.write(tmp_path / "in.jsonl")).code == 0
    assert verify(store)[0] == 0
    ledger = Ledger(f"sqlite:///{store}")
    [row] = snapshot_rows(ledger, n["color"])  # taken by the import: the color grew past 200 events
    forged = _frozen_state(ledger)(row)
    ledger.close()
    with sql(store) as conn:
        conn.execute("UPDATE stored_snapshots SET state = ? WHERE originator_version = ?", (forged.state, row.originator_version))
    code, findings, run = verify(store)
    assert code == 3, run.out
    [finding] = findings
    assert finding["check"] == "snapshot" and finding["color"] == n["color"]
    assert "disagrees with the replay of its stream" in finding["message"] and "frozen" in finding["message"]


def test_snapshots_are_encrypted_like_events(tmp_path: Path) -> None:
    s, n = rich_world()
    plain = Ledger("memory://")
    plain.snapshot_interval = 1
    plain.execute(s.commands())
    assert n["color"].encode() in snapshot_rows(plain, n["color"])[-1].state, "control: plaintext without a key"
    key = new_key()
    sealed = Ledger(f"sqlite:///{tmp_path}/l.sqlite", cipher_key=key)
    sealed.snapshot_interval = 1
    sealed.execute(s.commands())
    row = snapshot_rows(sealed, n["color"])[-1]
    assert n["color"].encode() not in row.state and n["admin"].encode() not in row.state
    sealed.close()
    reopened = Ledger(f"sqlite:///{tmp_path}/l.sqlite", cipher_key=key)
    restored = reopened._from_snapshot(color_stream(n["color"]))
    assert restored is not None and vars(restored) == vars(replayed(reopened, n["color"]))
    assert Verifier(reopened).run() == []
    reopened.close()
