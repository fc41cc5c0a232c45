"""Hypothesis strategies for simulated worlds and misuse schemes, for researchers' own tests.

Needs `hypothesis` (the `test` extra); the simulator itself does not. A drawn world is a
`simulations.runs.SimulatedWorld`: its records are generated on first use, `flags()` runs them
through a `memory://` ledger, `evaluate()` scores the flags against the ground truth.

Clean worlds raise no flag — a property worth keeping when you change a rule or a threshold::

    from hypothesis import given, settings, strategies as st
    from simulations.hypothesis import worlds

    @settings(max_examples=5, deadline=None)
    @given(worlds(pilots=st.just(("LOCAL",)), transactions=st.integers(200, 600)))
    def test_clean_worlds_stay_silent(world):
        assert world.flags() == []

Every scheme is caught by its rules, and only by them::

    from simulations.hypothesis import schemes, worlds_with_scheme

    @settings(max_examples=10, deadline=None)
    @given(worlds_with_scheme(schemes(rules=("F09", "H01"))))
    def test_schemes_are_detected(world):
        result = world.evaluate()
        assert result.missed == []
        assert all(score.false_positives == 0 for score in result.rules)

Worlds with misuse at a rate, to study recall and precision as a rule's thresholds change::

    @given(worlds(transactions=st.integers(1_000, 3_000), misuse_rate=st.sampled_from(["0.05", "0.2"])))
    def test_recall(world): ...

Draws shrink towards small worlds and seed 0. Generation is deterministic: a failing example
prints the configuration (pilots, seed, transactions, forced scheme) that reproduces it, also with
`tenge-ledger simulate … --seed N --transactions N`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from domain.identifiers import PILOTS
from simulations.runs import SimulatedWorld, project_for_scheme
from simulations.schemes import SCHEMES, Scheme
from simulations.world import SimulationConfig

SEED_MAX = 2**32 - 1


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, SEED_MAX)


def pilot_sets() -> st.SearchStrategy[tuple[str, ...]]:
    """Non-empty sets of pilots, as tuples in catalog order."""
    return st.lists(st.sampled_from(PILOTS), min_size=1, max_size=len(PILOTS), unique=True).map(
        lambda chosen: tuple(p for p in PILOTS if p in chosen))


def _as_rate(value: Any) -> Fraction:
    rate = Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)
    assert 0 <= rate <= 1, value
    return rate


@st.composite
def worlds(draw: st.DrawFn, *, pilots: st.SearchStrategy[tuple[str, ...]] | None = None,
           transactions: st.SearchStrategy[int] | None = None, misuse_rate: st.SearchStrategy[Any] | None = None,
           seed: st.SearchStrategy[int] | None = None) -> SimulatedWorld:
    """A simulated world: pilots (default any non-empty set), about `transactions` money-moving
    records (default 150–1 500), misuse at `misuse_rate` (default 0: clean; decimal strings, Fractions
    or ints 0..1), any seed."""
    config = SimulationConfig(
        pilots=draw(pilots if pilots is not None else pilot_sets()),
        seed=draw(seed if seed is not None else seeds()),
        transactions=draw(transactions if transactions is not None else st.integers(150, 1_500)),
        misuse_rate=_as_rate(draw(misuse_rate if misuse_rate is not None else st.just(0))),
    )
    return SimulatedWorld(config)


def schemes(*, pilot: str | None = None, rules: Sequence[str] | None = None) -> st.SearchStrategy[Scheme]:
    """Registered misuse schemes (those for `pilot`, those expecting one of `rules`)."""
    chosen = [s for s in SCHEMES if (pilot is None or pilot in s.pilots)
              and (rules is None or set(rules) & set(s.rules))]
    assert chosen, f"no scheme for pilot {pilot} and rules {rules}"
    return st.sampled_from(chosen)


@st.composite
def worlds_with_scheme(draw: st.DrawFn, scheme: st.SearchStrategy[Scheme] | None = None, *,
                       transactions: st.SearchStrategy[int] | None = None,
                       seed: st.SearchStrategy[int] | None = None) -> SimulatedWorld:
    """A clean one-pilot world with one scheme (default: any) forced onto the first project that
    has a place for it; examples where no project has one are rejected (`assume`)."""
    chosen = draw(scheme if scheme is not None else schemes())
    pilot = draw(st.sampled_from(sorted(chosen.pilots)))
    count = draw(transactions if transactions is not None else st.integers(150, 800))
    drawn_seed = draw(seed if seed is not None else seeds())
    index = project_for_scheme(pilot, chosen.name, seed=drawn_seed, transactions=count)
    assume(index is not None)
    assert index is not None
    return SimulatedWorld(SimulationConfig(pilots=(pilot,), seed=drawn_seed, transactions=count,
                                           forced=((pilot, index, chosen.name),)))
