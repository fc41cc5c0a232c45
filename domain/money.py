"""Money and decimal quantities at the edges (SPEC §1).

Inside the program every amount is an `int` of tiyn (1 KZT = 100 tiyn). This module parses the
strict KZT strings of the interchange format and the command line into tiyn, prints tiyn back as
KZT with exactly two decimals, and parses non-money decimal quantities. No float anywhere.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext

from domain.errors import InvalidValue

TIYN_PER_KZT = 100

# Explicit [0-9], never \d: \d also matches non-ASCII digits such as '١'. Always used with
# fullmatch, never with `$`, which also matches before a trailing newline.
_KZT_PATTERN = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,2}))?")
_PRINTED_KZT_PATTERN = re.compile(r"-?[0-9]+\.[0-9]{2}")
_KZT_EXAMPLE = '"1500000.50" (up to 15 digits, at most 2 decimals)'

_SHOW_CHARS_MAX = 40


def parse_kzt(text: object) -> int:
    """Parse a KZT string like "1500000.5" into tiyn (150000050). Zero is allowed."""
    match = _KZT_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(f"amount must be a string of KZT like {_KZT_EXAMPLE}, got {_show(text)}")
    kzt_digits, tiyn_digits = match.group(1), match.group(2) or ""
    amount_tiyn = int(kzt_digits) * TIYN_PER_KZT + int(tiyn_digits.ljust(2, "0"))
    assert isinstance(amount_tiyn, int) and 0 <= amount_tiyn < 10**17, amount_tiyn
    return amount_tiyn


def format_kzt(amount_tiyn: int) -> str:
    """Print tiyn as KZT with exactly two decimals: 150000050 -> "1500000.50"."""
    assert isinstance(amount_tiyn, int) and not isinstance(amount_tiyn, bool), amount_tiyn
    sign = "-" if amount_tiyn < 0 else ""
    kzt, tiyn = divmod(abs(amount_tiyn), TIYN_PER_KZT)
    text = f"{sign}{kzt}.{tiyn:02d}"
    assert _PRINTED_KZT_PATTERN.fullmatch(text), text
    return text


def parse_decimal(text: object, *, max_int_digits: int = 12, max_frac_digits: int = 6) -> Decimal:
    """Parse a non-money decimal quantity string like "12.5" (ASCII digits, optional fraction)."""
    assert max_int_digits >= 1, max_int_digits
    assert max_frac_digits >= 0, max_frac_digits
    fraction = rf"(?:\.[0-9]{{1,{max_frac_digits}}})?" if max_frac_digits > 0 else ""
    pattern = rf"[0-9]{{1,{max_int_digits}}}{fraction}"
    if not isinstance(text, str) or re.fullmatch(pattern, text) is None:
        raise InvalidValue(
            f'quantity must be a decimal string like "12.5" (up to {max_int_digits} digits, '
            f"at most {max_frac_digits} decimals), got {_show(text)}"
        )
    quantity = Decimal(text)
    assert quantity.is_finite() and quantity >= 0
    return quantity


def line_total_tiyn(quantity: Decimal, unit_price_tiyn: int) -> int:
    """Quantity × unit price, rounded half-up to a whole tiyn (SPEC §3 contract items)."""
    assert isinstance(quantity, Decimal) and quantity.is_finite() and quantity >= 0, quantity
    assert isinstance(unit_price_tiyn, int) and not isinstance(unit_price_tiyn, bool)
    assert unit_price_tiyn >= 0, unit_price_tiyn
    with localcontext() as context:
        context.prec = 50
        context.traps[Inexact] = True  # The product itself must be exact; only the
        context.traps[InvalidOperation] = True  # quantize below may round.
        product_tiyn = quantity * unit_price_tiyn
    with localcontext() as context:
        context.prec = 50
        total_tiyn = int(product_tiyn.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert abs(total_tiyn - product_tiyn) <= Decimal("0.5"), (product_tiyn, total_tiyn)  # one rounding, to the nearest
    assert total_tiyn >= 0
    return total_tiyn


def _show(value: object) -> str:
    """A short repr of a rejected value for error messages."""
    shown = repr(value)
    if len(shown) > _SHOW_CHARS_MAX:
        shown = shown[: _SHOW_CHARS_MAX - 3] + "..."
    return shown
