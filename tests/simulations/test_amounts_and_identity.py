"""The simulator's money and identifiers: integer log-uniform draws, Benford-balanced payments that
avoid F01's bands and round amounts, valid and unique BINs, IINs and VINs."""

from __future__ import annotations

import random
from datetime import date
from fractions import Fraction

from domain.identifiers import is_valid_party_id
from projections.rules.f12_round_amounts import benford_mad
from simulations.amounts import F01_BANDS, KZT, BenfordBook, in_band, log_uniform
from simulations.identity import bin_for, iin_for, vin_check_ok, vin_for


def test_log_uniform_stays_in_bounds_and_spreads_over_decades() -> None:
    rng = random.Random(1)
    draws = [log_uniform(rng, 1_000, 10_000_000) for _ in range(3_000)]
    assert min(draws) >= 1_000 and max(draws) <= 10_000_000
    decades = {len(str(d)) for d in draws}
    assert decades >= {4, 5, 6, 7}


def test_a_payer_with_narrow_windows_stays_on_benfords_curve_at_every_prefix() -> None:
    rng = random.Random(2)
    book = BenfordBook()
    for n in range(1, 1_001):
        hi = log_uniform(rng, 10**9, 10**11)
        book.choose("payer", hi * 55 // 100, hi, rng, "ROAD")
        if n > 100:
            assert benford_mad(book.counts["payer"][:9]) <= Fraction(15, 1000), n


def test_chosen_amounts_avoid_the_band_and_round_amounts() -> None:
    rng = random.Random(3)
    book = BenfordBook()
    low, high = F01_BANDS["ROAD"]
    for _ in range(500):
        amount = book.choose("p", low - 5 * 10**8, high + 5 * 10**8, rng, "ROAD")
        assert not in_band(amount, "ROAD") and amount % (100_000 * KZT) != 0
    assert book.choose("q", low + 1, high - 1, rng, "ROAD") <= low  # a window inside the band: just below it


def test_bins_and_iins_are_valid_distinct_and_never_collide() -> None:
    bins = {bin_for(n, date(2010 + n % 10, n % 12 + 1, 5)) for n in range(3_000)}
    iins = {iin_for(m, random.Random(m)) for m in range(0, 200_000, 67)}
    assert len(bins) == 3_000 and len(iins) == len(range(0, 200_000, 67))
    assert all(is_valid_party_id(p) for p in bins | iins)
    assert not bins & iins


def test_vins_carry_their_check_digit() -> None:
    assert vin_check_ok("1HGCM82633A004352")  # the textbook example
    vins = {vin_for(serial, "XTZ", "K7414") for serial in range(0, 23_000_000, 9_973)}
    assert len(vins) == len(range(0, 23_000_000, 9_973)) and all(vin_check_ok(v) for v in vins)
