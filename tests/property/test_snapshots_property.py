"""Deciding from snapshots equals deciding by full replay (issue 11, "Snapshots").

Random command lists (`simulations.strategies.command_lists`) run, in random chunks, through two
ledgers on the same kind of store: one that snapshots every color after every batch that touched
it (interval 1), so each chunk's decisions start from a snapshot taken mid-history, and one that
never snapshots, so each decision replays the color's whole stream. Each chunk is its own
`execute` call, which empties the aggregate cache, so the next chunk really loads from the store.
Same outcomes, same events, same state, and `verify` finds nothing (snapshots included).

Runs on `memory://`, a SQLite file, and PostgreSQL when `TENGE_LEDGER_TEST_POSTGRES` is set.
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
    pytest.param(memory_store, 25, id="memory"),
    pytest.param(sqlite_store, 10, id="sqlite"),
    pytest.param(postgres_store, 5, id="postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES"),
    ]),
]




def _run(open_store: Callable[[], tuple[str, Callable[[], None]]], records: list[dict[str, Any]],
         sizes: list[int]) -> None:
    commands = to_commands(records)
    urls = [open_store(), open_store()]
    snapshotting, replaying = Ledger(urls[0][0]), Ledger(urls[1][0])
    try:
        snapshotting.snapshot_interval, replaying.snapshot_interval = 1, None
        assert execute_in_chunks(snapshotting, commands, sizes) == execute_in_chunks(replaying, commands, sizes)
        assert ledger_state(snapshotting) == ledger_state(replaying)
        assert replaying.recorder.snapshot_streams() == []
        colors = snapshotting.colors()
        assert sorted(snapshotting.recorder.snapshot_streams()) == sorted(color_stream(color) for color in colors)
        for color in colors:  # every attribute, not only what `ledger_state` compares
            restored = snapshotting._from_snapshot(color_stream(color))
            assert restored is not None, color
            assert vars(restored) == vars(replaying._fresh(Allocation, color_stream(color)))
        assert Verifier(snapshotting).run() == []
    finally:
        snapshotting.close()
        replaying.close()
        for _, drop in urls:
            drop()


@pytest.mark.parametrize(("open_store", "examples"), STORES)
def test_deciding_from_snapshots_equals_deciding_by_full_replay(open_store: Any, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(records=command_lists(operations_max=60), sizes=st.lists(st.integers(1, 15), min_size=1, max_size=6))
    def check(records: list[dict[str, Any]], sizes: list[int]) -> None:
        _run(open_store, records, sizes)

    check()
