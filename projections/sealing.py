"""How projections keep personal data sealed in their tables (SPEC §7: with a key, no name, BIN,
IIN, address or phone is readable in the store's files — read models and rule state included).

A projection never sees a key: it is handed a `Sealer` (as it is handed its database) and passes
every personal value through it on the way in and out of its tables. Three kinds of value:

- *identifiers* a query filters, joins or groups on (party ids, holders, transaction ids, flag
  ids): sealed **deterministically** — the same text always seals to the same text — so
  `WHERE holder = ?` works when the parameter is sealed the same way;
- *text* (names, addresses, phones, the people of a party, flag documents): sealed
  deterministically too, in a separate domain, so that a read model stays a pure function of the
  events and the key, and `verify` can compare it with a rebuild cell by cell without opening it;
- *blobs* (the rule engine's saved state): sealed with a fresh nonce each time (never compared).

Only equality of values within one kind shows through (which the identifiers need anyway). Colors,
amounts, positions, times, rule codes and severities are not personal data and stay plain; an order
that SQL used to give on a sealed column is restored after opening, in Python, per query result.

`PLAIN` is the sealer of a store without a key: the identity, so unencrypted stores keep the very
bytes they always had. The keyed sealer lives in the core (`ledger.store.sealing`).
"""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    """Seals and opens the personal values of read models (see the module docstring)."""

    keyed: bool  # False: the identity (no key); True: values are encrypted

    def seal_id(self, text: str) -> str:
        """Deterministic: equal identifiers seal to equal text (usable in WHERE/JOIN/GROUP BY)."""

    def open_id(self, sealed: str) -> str: ...

    def seal_text(self, text: str) -> str:
        """Deterministic, in its own domain (a name never seals like the same text as an id)."""

    def open_text(self, sealed: str) -> str: ...

    def seal_blob(self, data: bytes) -> bytes:
        """Randomized: the same blob seals differently each time."""

    def open_blob(self, sealed: bytes) -> bytes: ...


class PlainSealer:
    """No key: every value is stored as it is."""

    keyed = False

    def seal_id(self, text: str) -> str:
        return text

    def open_id(self, sealed: str) -> str:
        return sealed

    def seal_text(self, text: str) -> str:
        return text

    def open_text(self, sealed: str) -> str:
        return sealed

    def seal_blob(self, data: bytes) -> bytes:
        return data

    def open_blob(self, sealed: bytes) -> bytes:
        return sealed


PLAIN: Sealer = PlainSealer()


def sealed_version(version: int | str, sealer: Sealer) -> int | str:
    """A projection's version under `sealer`: unchanged without a key, marked with one — so read
    models written in plain text into an encrypted store (by an older version) are rebuilt sealed."""
    return f"{version}+sealed" if sealer.keyed else version
