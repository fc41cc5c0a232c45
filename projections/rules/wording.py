"""The one wording of numbers in flag explanations: amounts, percentages, multiples, durations.

Every rule's explanation prints through these functions, so the same number always reads the
same way (RULES.md: "say, in a sentence, what was seen against which threshold"):

- amounts: `kzt(tiyn)` -> "1500000.00 KZT" (two decimals, no thousands separator, as the
  ledger's other output);
- percentages: `percent(Fraction(23, 25))` -> "92 %" — rounded half-up to two decimals, trailing
  zeros dropped;
- multiples: `times(Fraction(13, 10))` -> "1.3×" — half-up to two decimals;
- durations: `duration_days(start, end)` -> "29.5", `duration_hours(start, end)` -> "48" — half-up to one decimal;
- ratios in `evidence` (machine-read): `decimal_text(value, places)`.

Where a measured value is compared with a threshold (`against=`), more decimals are shown as long
as rounding would make it read the same as the threshold: 30.0000003 % above a 30 % threshold reads
"30.0000003 %", never "30 % (threshold above 30 %)".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING

from domain.money import format_kzt

if TYPE_CHECKING:
    from projections.rules.world import World

PERCENT_PLACES = 2
TIMES_PLACES = 2
DURATION_PLACES = 1
MAX_PLACES = 12
_MICROSECONDS_PER_HOUR = 3_600_000_000
_MICROSECONDS_PER_DAY = 24 * _MICROSECONDS_PER_HOUR


def kzt(tiyn: int) -> str:
    """An amount: 150000000 -> "1500000.00 KZT"."""
    assert isinstance(tiyn, int), tiyn
    return f"{format_kzt(tiyn)} KZT"


def round_half_up(value: Fraction) -> int:
    """The nearest whole number, halves away from zero (an average in whole tiyn)."""
    return int(_fixed(Fraction(value), 0))


def _fixed(value: Fraction, places: int) -> str:
    """`value` to exactly `places` decimals, half-up, as plain digits."""
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return format(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def decimal_text(value: Fraction, places: int, *, strip: bool = False, against: Fraction | None = None) -> str:
    """`value` half-up to `places` decimals ("0.9200"; "0.92" with strip), more while it would read
    as `against`."""
    value = Fraction(value)
    text = _fixed(value, places)
    while against is not None and value != against and places < MAX_PLACES and text == _fixed(Fraction(against), places):
        places += 1
        text = _fixed(value, places)
    return _strip(text) if strip else text


def percent(value: Fraction, against: Fraction | None = None) -> str:
    """A share as a percentage: Fraction(23, 25) -> "92 %"."""
    shown = decimal_text(Fraction(value) * 100, PERCENT_PLACES, strip=True,
                         against=None if against is None else Fraction(against) * 100)
    return f"{shown} %"


def times(value: Fraction, against: Fraction | None = None) -> str:
    """A multiple: Fraction(13, 10) -> "1.3×"."""
    return f"{decimal_text(Fraction(value), TIMES_PLACES, strip=True, against=against)}×"


def _elapsed(start: datetime, end: datetime, unit_microseconds: int) -> Fraction:
    return Fraction((end - start) // timedelta(microseconds=1), unit_microseconds)


def duration_days(start: datetime, end: datetime, against: int | Fraction | None = None) -> str:
    """Days between two instants: 29 days 23 h -> "30" (or "29.96" against a 30-day threshold)."""
    return decimal_text(_elapsed(start, end, _MICROSECONDS_PER_DAY), DURATION_PLACES, strip=True,
                        against=None if against is None else Fraction(against))


def duration_hours(start: datetime, end: datetime, against: int | Fraction | None = None) -> str:
    """Hours between two instants: 48 h -> "48"."""
    return decimal_text(_elapsed(start, end, _MICROSECONDS_PER_HOUR), DURATION_PLACES, strip=True,
                        against=None if against is None else Fraction(against))


def named(world: World, party: str | None) -> str:
    """"Name (id)" when the party is registered, else the id."""
    info = world.party(party)
    return f"{info['name']} ({party})" if info else str(party)
