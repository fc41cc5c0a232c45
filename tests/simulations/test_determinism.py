"""The same seed gives the same bytes (data and truth); another seed another world; the hash seed
of the interpreter changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from simulations.generator import write
from simulations.world import SimulationConfig

CONFIG = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=42, transactions=1_200, misuse_rate=Fraction(3, 10))
ROOT = Path(__file__).resolve().parents[2]


def _files(path: Path) -> tuple[bytes, bytes]:
    return path.read_bytes(), path.with_name(path.name + ".truth.json").read_bytes()


def test_the_same_seed_writes_the_same_bytes_twice(tmp_path: Path) -> None:
    write(CONFIG, tmp_path / "a.jsonl")
    write(CONFIG, tmp_path / "b.jsonl")
    assert _files(tmp_path / "a.jsonl") == _files(tmp_path / "b.jsonl")


def test_another_seed_writes_another_world(tmp_path: Path) -> None:
    from dataclasses import replace

    write(CONFIG, tmp_path / "a.jsonl")
    write(replace(CONFIG, seed=43), tmp_path / "b.jsonl")
    data_a, truth_a = _files(tmp_path / "a.jsonl")
    data_b, truth_b = _files(tmp_path / "b.jsonl")
    assert data_a != data_b and truth_a != truth_b


def test_the_interpreters_hash_seed_changes_nothing(tmp_path: Path) -> None:
    """Two processes with different PYTHONHASHSEED, through the command line, give the same bytes."""
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"world-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "ledger", "simulate", "road", "agro", "local", "--seed", "42", "--transactions",
             "1200", "--misuse-rate", "0.3", "--out", str(out), "--format", "json"],
            cwd=ROOT, env=env, capture_output=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
        outputs.append(_files(out))
    assert outputs[0] == outputs[1]
    write(CONFIG, tmp_path / "in-process.jsonl")
    assert _files(tmp_path / "in-process.jsonl") == outputs[0]
