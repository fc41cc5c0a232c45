"""Money for simulated worlds, in integer tiyn only (no float ever touches an amount).

- `log_uniform(rng, lo, hi)`: an integer drawn log-uniformly from [lo, hi] (a table of
  10^(j/4096), computed once with `Decimal`, turns uniform integer steps into amounts).
- `scale(amount, num, den)`: amount × num / den, rounded down.
- `BenfordBook`: every payment of the world gets its amount here, when it is written. Each payer
  keeps its first-digit counts; a payment comes with a window [lo, hi] of acceptable amounts and
  takes the first digit that payer is most short of (against log10(1 + 1/d)) among those the
  window allows. Drawn independently, 101..~800 Benford-distributed amounts exceed F12's
  mean-absolute-deviation threshold of 0.015 by chance alone most of the time (sampling noise,
  ≈ 0.23/√n); balanced this way the deviation stays near 1/n from the first payment on, at every
  prefix — and F12 checks every prefix. Windows also leave out F01's bands just below the
  procurement thresholds, and no amount is a multiple of 100 000 KZT (F12's round amounts).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from decimal import Decimal, localcontext

from domain.identifiers import PILOTS
from projections.rules.config import default_config

KZT = 100  # tiyn
_STEPS = 4096  # per decade
_MANTISSA_DIGITS = 15


def _table() -> tuple[int, ...]:
    with localcontext() as context:
        context.prec = 40
        return tuple(int((Decimal(10) ** (Decimal(j) / _STEPS)).scaleb(_MANTISSA_DIGITS)) for j in range(_STEPS + 1))


_LOG_TABLE = _table()  # _LOG_TABLE[j] = floor(10^(15 + j/4096)); the last entry is 10^16
assert _LOG_TABLE[0] == 10**_MANTISSA_DIGITS and _LOG_TABLE[-1] == 10 ** (_MANTISSA_DIGITS + 1)


def _log_step(amount: int) -> int:
    """The table step at or below `amount`: decade × 4096 + position in the decade."""
    decade = len(str(amount)) - 1
    mantissa = amount * 10 ** (_MANTISSA_DIGITS - decade) if decade <= _MANTISSA_DIGITS else amount // 10 ** (decade - _MANTISSA_DIGITS)
    return decade * _STEPS + bisect_right(_LOG_TABLE, mantissa) - 1


def _step_bounds(step: int) -> tuple[int, int]:
    decade, j = divmod(step, _STEPS)
    low = _LOG_TABLE[j] * 10**decade // 10**_MANTISSA_DIGITS
    high = _LOG_TABLE[j + 1] * 10**decade // 10**_MANTISSA_DIGITS
    return low, max(low, high - 1)


def log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    """An integer from [lo, hi], log-uniformly (uniform within each of 4096 steps per decade)."""
    assert 0 < lo <= hi, (lo, hi)
    step = rng.randint(_log_step(lo), _log_step(hi))
    low, high = _step_bounds(step)
    low, high = max(lo, low), min(hi, high)
    amount = rng.randint(low, high) if low <= high else lo
    assert lo <= amount <= hi
    return amount


def scale(amount: int, num: int, den: int) -> int:
    """amount × num / den, rounded down (integers only)."""
    assert den > 0 and amount >= 0 and num >= 0
    return amount * num // den


def between(rng: random.Random, amount: int, lo_percent: int, hi_percent: int) -> int:
    """`amount` times a factor drawn uniformly in [lo_percent, hi_percent] % (to 0.01 %)."""
    return amount * rng.randint(lo_percent * 100, hi_percent * 100) // 10_000


def not_round(amount: int) -> int:
    """Nudge an amount off the multiples of 100 000 KZT (F12's round amounts), by one tiyn."""
    return amount + 1 if amount % (100_000 * KZT) == 0 else amount


# --- F01 bands ------------------------------------------------------------------------------------

def _bands() -> dict[str, tuple[int, int]]:
    """Per pilot, the open band (1 − δ)·T < v < T of F01, in tiyn (from the rules' defaults)."""
    config = default_config()
    bands = {}
    for pilot in PILOTS:
        threshold = config.tiyn("F01", pilot, "threshold_kzt")
        delta = config.ratio("F01", pilot, "delta")
        low = threshold * (1 - delta)
        bands[pilot] = (low.numerator // low.denominator, threshold)
    return bands


F01_BANDS = _bands()


def in_band(amount: int, pilot: str) -> bool:
    """Whether `amount` lies in `pilot`'s F01 band (open interval)."""
    low, high = F01_BANDS[pilot]
    return low < amount < high


def out_of_band(amount: int, pilot: str) -> int:
    """`amount`, or just below the band when it falls inside it (a clean world never bunches there)."""
    low, _ = F01_BANDS[pilot]
    return low - 1 - amount % 997 * KZT if in_band(amount, pilot) else amount


# --- Benford-balanced payments --------------------------------------------------------------------

_P_SCALE = 10**12


def _benford_scaled() -> tuple[int, ...]:
    with localcontext() as context:
        context.prec = 40
        return tuple(int(((Decimal(d + 1) / Decimal(d)).log10()).scaleb(12)) for d in range(1, 10))


BENFORD_SCALED = _benford_scaled()  # log10(1 + 1/d) × 10^12, d = 1..9


class BenfordBook:
    """First-digit counts of every payer's payments so far, and the amounts that keep them Benford."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # payer -> [count of digit 1, …, digit 9, total]

    def record(self, payer: str, amount: int) -> None:
        assert amount > 0, amount
        counts = self.counts.setdefault(payer, [0] * 10)
        counts[int(str(amount)[0]) - 1] += 1
        counts[9] += 1

    def choose(self, payer: str, lo: int, hi: int, rng: random.Random, pilot: str) -> int:
        """An amount in [lo, hi] (outside `pilot`'s F01 band, not round) whose first digit the payer
        is most short of; recorded as the payer's next payment."""
        assert 0 < lo <= hi, (lo, hi)
        counts = self.counts.get(payer) or [0] * 10
        options = _digit_options(_without_band([(lo, hi)], pilot))
        if not options:  # the window lies inside the band: leave it just below
            amount = out_of_band(lo, pilot)
            self.record(payer, amount)
            return amount
        total = counts[9] + 1
        digit = max(options, key=lambda d: (BENFORD_SCALED[d - 1] * total - counts[d - 1] * _P_SCALE, -d))
        pieces = options[digit]
        offset = rng.randrange(sum(b - a + 1 for a, b in pieces))
        for a, b in pieces:
            if offset <= b - a:
                amount = a + offset
                if amount % (100_000 * KZT) == 0:  # never round (its first digit stays)
                    amount = amount + 1 if amount < b else amount - 1
                break
            offset -= b - a + 1
        self.record(payer, amount)
        return amount


def _without_band(intervals: list[tuple[int, int]], pilot: str) -> list[tuple[int, int]]:
    low, high = F01_BANDS[pilot]
    kept = []
    for a, b in intervals:
        if a <= low:
            kept.append((a, min(b, low)))
        if b >= high:
            kept.append((max(a, high), b))
    return [(a, b) for a, b in kept if a <= b]


def _digit_options(intervals: list[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
    """For each first digit, the parts of `intervals` whose amounts start with it."""
    options: dict[int, list[tuple[int, int]]] = {}
    for a, b in intervals:
        for decade in range(len(str(a)) - 1, len(str(b))):
            unit = 10**decade
            for digit in range(1, 10):
                x, y = max(a, digit * unit), min(b, (digit + 1) * unit - 1)
                if x <= y:
                    options.setdefault(digit, []).append((x, y))
    return options
