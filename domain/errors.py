"""One root for every error the ledger raises on purpose."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error tenge-ledger raises on purpose."""


class MalformedInput(LedgerError):
    """A value broke the interchange format (SPEC §1–§3): nothing may be written.

    `field` names the offending field (dotted for nested ones, e.g. `items[2].unit_price`).
    """

    def __init__(self, field: str, message: str) -> None:
        assert field, "a malformed-input error must name its field"
        assert message, "a malformed-input error must say what is wrong"
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StoreError(LedgerError):
    """The store could not be opened or is not a tenge-ledger store."""


class StoreBusy(StoreError):
    """Another process holds what this one needs (SPEC §5: busy, exit 75; try again later)."""


class HistoryInconsistent(LedgerError):
    """The color's history already holds what a new command would create, although the keys table
    says the command is new: the store was changed outside the ledger (a damaged store, SPEC §5)."""


class InvalidValue(LedgerError, ValueError):
    """A single value has the wrong shape (an amount, an identifier, a date).

    Raised by the value parsers of `domain`; the interchange parser wraps it into
    `MalformedInput` naming the field.
    """
