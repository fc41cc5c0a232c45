"""Lot provenance: which open lots an outgoing movement consumes (SPEC §3 `sources`, DESIGN.md)."""

from __future__ import annotations

from domain.commands import LotSource
from domain.money import format_kzt
from domain.policy import OPEN_LOTS_PER_HOLDER_MAX, Rejection


def take_lots(
    open_lots: dict[str, int],
    amount_tiyn: int,
    sources: tuple[LotSource, ...] | None,
    holder: str,
) -> tuple[tuple[str, int], ...] | Rejection:
    """The (lot, tiyn) pairs that pay `amount_tiyn` out of `open_lots`, or why they cannot.

    Without `sources`, lots are consumed first-in first-out (the dict's insertion order).
    `open_lots` is not changed: the mutator applies the result.
    """
    assert isinstance(amount_tiyn, int) and amount_tiyn > 0, amount_tiyn
    assert len(open_lots) <= OPEN_LOTS_PER_HOLDER_MAX, "open lots per holder limit"
    assert all(remaining_tiyn > 0 for remaining_tiyn in open_lots.values()), "only open lots are kept"
    assert sources is None or all(source.amount_tiyn > 0 for source in sources), "the parser checks sources"
    balance_tiyn = sum(open_lots.values())
    if balance_tiyn < amount_tiyn:
        return Rejection(
            "balance_would_go_negative",
            f"{holder} holds {format_kzt(balance_tiyn)} KZT of the color, less than {format_kzt(amount_tiyn)} KZT",
        )
    consumed = _first_in_first_out(open_lots, amount_tiyn) if sources is None else _named(
        open_lots, amount_tiyn, sources, holder)
    if not isinstance(consumed, Rejection):
        _check_consumed(open_lots, amount_tiyn, consumed)
    return consumed


def _check_consumed(open_lots: dict[str, int], amount_tiyn: int, consumed: tuple[tuple[str, int], ...]) -> None:
    """What the mutator relies on: distinct open lots, each taken 0 < t <= what it holds, summing to the amount."""
    assert len({lot for lot, _ in consumed}) == len(consumed), f"a lot consumed twice: {consumed}"
    assert all(0 < taken_tiyn <= open_lots.get(lot, 0) for lot, taken_tiyn in consumed), consumed
    assert sum(taken_tiyn for _, taken_tiyn in consumed) == amount_tiyn, (consumed, amount_tiyn)


def _first_in_first_out(open_lots: dict[str, int], amount_tiyn: int) -> tuple[tuple[str, int], ...]:
    consumed: list[tuple[str, int]] = []
    left_tiyn = amount_tiyn
    for lot, remaining_tiyn in open_lots.items():
        taken_tiyn = min(remaining_tiyn, left_tiyn)
        consumed.append((lot, taken_tiyn))
        left_tiyn -= taken_tiyn
        if left_tiyn == 0:
            break
    assert left_tiyn == 0, "the balance check guarantees the lots cover the amount"
    return tuple(consumed)


def _named(
    open_lots: dict[str, int], amount_tiyn: int, sources: tuple[LotSource, ...], holder: str
) -> tuple[tuple[str, int], ...] | Rejection:
    wanted: dict[str, int] = {}
    for source in sources:
        wanted[source.lot] = wanted.get(source.lot, 0) + source.amount_tiyn
    assert sum(wanted.values()) == amount_tiyn, "the parser checks that sources sum to the amount"
    for lot, taken_tiyn in wanted.items():
        remaining_tiyn = open_lots.get(lot)
        if remaining_tiyn is None:
            return Rejection("unknown_lot", f"{holder} holds no open lot {lot}")
        if remaining_tiyn < taken_tiyn:
            return Rejection(
                "lot_would_go_negative",
                f"lot {lot} of {holder} holds {format_kzt(remaining_tiyn)} KZT, less than {format_kzt(taken_tiyn)} KZT",
            )
    return tuple(wanted.items())
