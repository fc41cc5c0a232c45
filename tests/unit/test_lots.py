"""Unit tests of domain.lots: which open lots an outgoing movement consumes (SPEC §3 `sources`).

The model here is the plain statement: first in, first out without `sources`; exactly the named
amounts with them; a rejection (never a partial result) when the lots cannot pay.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import LotSource
from domain.lots import take_lots
from domain.policy import Rejection

HOLDER = "150740012385"


def test_first_in_first_out_takes_the_oldest_lots_first() -> None:
    lots = {"T-1": 300, "T-2": 500, "T-3": 100}
    assert take_lots(lots, 700, None, HOLDER) == (("T-1", 300), ("T-2", 400))
    assert lots == {"T-1": 300, "T-2": 500, "T-3": 100}, "the open lots are not changed"


def test_named_sources_take_exactly_what_they_name_summed_per_lot() -> None:
    lots = {"T-1": 300, "T-2": 500}
    sources = (LotSource("T-2", 200), LotSource("T-1", 100), LotSource("T-2", 50))
    assert take_lots(lots, 350, sources, HOLDER) == (("T-2", 250), ("T-1", 100))


@pytest.mark.parametrize(("amount_tiyn", "sources", "reason"), [
    (901, None, "balance_would_go_negative"),
    (100, (LotSource("T-9", 100),), "unknown_lot"),
    (400, (LotSource("T-1", 400),), "lot_would_go_negative"),
])
def test_what_the_lots_cannot_pay_is_rejected(amount_tiyn: int, sources: tuple[LotSource, ...] | None,
                                               reason: str) -> None:
    result = take_lots({"T-1": 300, "T-2": 500, "T-3": 100}, amount_tiyn, sources, HOLDER)
    assert isinstance(result, Rejection) and result.reason == reason, result


@pytest.mark.parametrize(("lots", "amount_tiyn", "sources"), [
    ({"T-1": 0, "T-2": 500}, 100, None),                     # a closed lot kept as open
    ({"T-1": 300}, 0, None),                                 # nothing to pay
    ({"T-1": 300}, 100, (LotSource("T-1", 0), LotSource("T-1", 100))),  # an empty source
])
def test_broken_preconditions_are_bugs_not_rejections(lots: dict[str, int], amount_tiyn: int,
                                                       sources: tuple[LotSource, ...] | None) -> None:
    with pytest.raises(AssertionError):
        take_lots(lots, amount_tiyn, sources, HOLDER)


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=20), st.data())
def test_first_in_first_out_pays_the_amount_from_a_prefix_of_the_lots(amounts: list[int], data: st.DataObject) -> None:
    lots = {f"T-{i}": amount for i, amount in enumerate(amounts)}
    amount_tiyn = data.draw(st.integers(min_value=1, max_value=sum(amounts)))
    consumed = take_lots(lots, amount_tiyn, None, HOLDER)
    assert not isinstance(consumed, Rejection)
    assert [lot for lot, _ in consumed] == list(lots)[:len(consumed)]
    assert sum(taken for _, taken in consumed) == amount_tiyn
    assert all(taken == lots[lot] for lot, taken in consumed[:-1]), "every lot but the last is emptied"
