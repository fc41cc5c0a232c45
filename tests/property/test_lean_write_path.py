"""The lean write path writes exactly the rows eventsourcing's path writes (issue 11).

Random command lists (`simulations.strategies.command_lists`), with a random share of them sent
again (duplicates; blocked attempts answered from their recorded event), run in the same random
batches through two ledgers on two stores of the same kind: one with `lean=True` (`Ledger.save`
encoding once and, on SQLite, `ledger.store.lean`'s `executemany` at explicit positions), one with
`lean=False` (eventsourcing's `Application.save` and row-by-row inserts). Same outcomes, and the
same rows in every table: events (with their positions), keys, hash chain, snapshots.

Then the lean store is read by eventsourcing's normal path — a ledger opened with `lean=False`
replays every aggregate through `EventStore.get` and the notification log — into the same state
as the other store, and `verify` finds nothing.

Runs on a SQLite file, on `memory://`, and on PostgreSQL when `TENGE_LEDGER_TEST_POSTGRES` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.allocation import Allocation
from ledger.app import Ledger, color_stream
from ledger.integrity.verify import Verifier
from simulations.strategies import command_lists, ledger_state, to_commands
from tests.support import POSTGRES_URL, execute_in_chunks, memory_store, postgres_store, sqlite_store

STORES: list[Any] = [
    pytest.param(sqlite_store, 25, id="sqlite"),
    pytest.param(memory_store, 10, id="memory"),
    pytest.param(postgres_store, 6, id="postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES"),
    ]),
]


def stored_rows(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the store's events (with positions), keys, chain and snapshots tables."""
    recorder = ledger.recorder
    kind = ledger.store.kind
    if kind == "memory":
        return {
            "events": [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                       for n in recorder.select_notifications(start=1, limit=100_000)],
            "keys": sorted((key, *value) for key, value in recorder._keys.items()),  # noqa: SLF001
            "chain": list(recorder._chain),  # noqa: SLF001
            "snapshots": sorted((s.originator_id, s.originator_version, s.topic, s.state)
                                for stream in recorder.snapshot_streams()
                                for s in recorder.snapshot_recorder().select_events(stream)),
        }
    if kind == "sqlite":
        statements = {
            "events": f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} ORDER BY rowid",
            "keys": f"SELECT key, digest, stream FROM {recorder.keys_table} ORDER BY key",
            "chain": f"SELECT position, leaf_index, leaf_hash, chain_hash FROM {recorder.chain_table} ORDER BY position",
            "snapshots": f"SELECT * FROM {recorder.snapshots_table} ORDER BY originator_id, originator_version",
        }
        with recorder.datastore.transaction(commit=False) as c:
            found = {}
            for name, statement in statements.items():
                c.execute(statement)
                found[name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in c.fetchall()]
            return found
    from psycopg.sql import SQL, Identifier

    from ledger.store.recorders import CHAIN_TABLE

    schema = recorder.datastore.schema
    tables = {
        "events": (recorder.events_table_name, "notification_id"),
        "keys": (recorder.keys_table, "key"),
        "chain": (CHAIN_TABLE, "position"),
        "snapshots": (recorder.snapshots_table, "originator_id, originator_version"),
    }
    found = {}
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        for name, (table, order) in tables.items():
            curs.execute(SQL("SELECT * FROM {}.{} ORDER BY " + order).format(Identifier(schema), Identifier(table)))
            found[name] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row.values())
                           for row in curs.fetchall()]
    return found




def _run(open_store: Callable[[], tuple[str, Callable[[], None]]], records: list[dict[str, Any]],
         sizes: list[int], again: int, batch_size: int, actor: str) -> None:
    commands = to_commands(records)
    commands += commands[:again]  # sent again: duplicates, and blocked attempts answered from the store
    stores = [open_store(), open_store()]
    lean = Ledger(stores[0][0], batch_size=batch_size, actor=actor)
    plain = Ledger(stores[1][0], batch_size=batch_size, actor=actor, lean=False)
    reader = None
    try:
        assert lean.lean and not plain.lean
        assert execute_in_chunks(lean, commands, sizes) == execute_in_chunks(plain, commands, sizes)
        rows = stored_rows(lean)
        assert len(rows["events"]) == lean.position()
        assert rows == stored_rows(plain)
        # eventsourcing's normal path reads the lean store: every aggregate replayed, the same state
        reader = lean if lean.store.kind == "memory" else Ledger(stores[0][0], lean=False)
        assert ledger_state(reader) == ledger_state(plain)
        for color in reader.colors():
            replayed = Allocation(color_stream(color))
            for event in reader.events.get(color_stream(color)):
                replayed.apply(event)
            assert vars(replayed) == vars(plain._fresh(Allocation, color_stream(color)))
        assert Verifier(reader).run() == []
    finally:
        for ledger in {id(x): x for x in (lean, plain, reader) if x is not None}.values():
            ledger.close()
        for _, drop in stores:
            drop()


@pytest.mark.parametrize(("open_store", "examples"), STORES)
def test_the_lean_write_path_writes_the_rows_eventsourcing_writes(open_store: Any, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(records=command_lists(operations_max=50), sizes=st.lists(st.integers(1, 20), min_size=1, max_size=5),
           again=st.integers(0, 15), batch_size=st.integers(1, 12), actor=st.sampled_from(["", "clerk"]))
    def check(records: list[dict[str, Any]], sizes: list[int], again: int, batch_size: int, actor: str) -> None:
        _run(open_store, records, sizes, again, batch_size, actor)

    check()
