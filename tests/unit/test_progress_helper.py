"""The one progress helper of the faces (`ledger.render.progress`) and the callbacks it draws from."""

from __future__ import annotations

import io

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.progress import Progress

from ledger.app import Ledger
from ledger.integrity.audit import Audit
from ledger.render.progress import Bars, progress_bars, wanted
from tests.support import road_world


def test_bars_off_give_no_callbacks_and_a_pipe_means_off():
    bars = Bars(None)
    assert not bars.on and bars.task("x", 10) is None and bars.positions("x", 0, 10) is None and bars.phases("x") is None
    assert not wanted("none") and wanted("bar")
    with progress_bars("auto") as piped:  # pytest's stderr is no terminal
        assert not piped.on


def test_a_bar_counts_from_where_the_work_starts_and_a_follower_drops_finished_bars():
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=True))
    bars = Bars(progress, drop_finished=True)
    on_progress = bars.positions("catching up", 1_200, 5_000)
    assert on_progress is not None
    on_progress(3_200, 5_000)
    [task] = progress.tasks
    assert (task.completed, task.total) == (2_000, 3_800)
    on_progress(5_000, 5_000)
    assert progress.tasks == []
    on_phase = bars.phases("verify")
    assert on_phase is not None
    on_phase("chain", 5, 10)
    on_phase("chain", 10, 10)
    on_phase("projections", 1, 3)
    assert [(t.description, t.completed) for t in progress.tasks] == [("verify chain", 10), ("verify projections", 1)]


def test_a_checkpoint_reports_the_merkle_log_growing():
    s, n = road_world()
    ledger = Ledger()
    ledger.execute(s.commands())
    seen: list[int] = []
    checkpoint = Audit(ledger).make_checkpoint(Ed25519PrivateKey.generate(), on_progress=seen.append)
    assert seen and seen[-1] == checkpoint.tree_size == ledger.position()
