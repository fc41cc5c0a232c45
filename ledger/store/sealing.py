"""The keyed `Sealer` of read models (see `projections.sealing`), built from `TENGE_LEDGER_KEY`.

Sub-keys are derived from the ledger key with HKDF-SHA256, one per purpose, so the read models
never use the key that seals event payloads, nor one key for two purposes:

- identifiers and text: AES-SIV (RFC 5297), deterministic and authenticated; the associated data
  names the kind (`id` / `text`), so an identifier and a name that happen to be equal seal apart;
- blobs: AES-GCM with a random 96-bit nonce (stored in front of the ciphertext).

Sealed text is URL-safe base64 without padding (ASCII, so it fits the TEXT columns of SQLite and
PostgreSQL alike). A value that does not open — altered in the file, or sealed under another key —
is refused as a damaged store (`SealBroken`), never returned as garbage.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import StoreError

SIV_KEY_BYTES = 64  # AES-256-SIV: two 256-bit halves
GCM_KEY_BYTES = 32
GCM_NONCE_BYTES = 12
ID_DOMAIN = [b"id"]
TEXT_DOMAIN = [b"text"]
CACHED_IDS = 65_536  # holders and parties recur on most events: seal each once per process


class SealBroken(StoreError):
    """A sealed read-model value does not open with the store's key (altered or foreign)."""


def derive(key: bytes, purpose: str, length: int) -> bytes:
    """A sub-key of `key` for one purpose (HKDF-SHA256, no salt: the key is uniformly random)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=b"tenge-ledger read models: " + purpose.encode()).derive(key)


class KeyedSealer:
    """Seals read-model values under sub-keys of the ledger key (see the module docstring)."""

    keyed = True

    def __init__(self, key: bytes) -> None:
        assert len(key) in (16, 24, 32), "an AES key"
        self._siv = AESSIV(derive(key, "deterministic (AES-SIV)", SIV_KEY_BYTES))
        self._gcm = AESGCM(derive(key, "blobs (AES-GCM)", GCM_KEY_BYTES))
        self._sealed_ids = lru_cache(maxsize=CACHED_IDS)(self._seal_id)
        self._opened_ids = lru_cache(maxsize=CACHED_IDS)(self._open_id)

    def seal_id(self, text: str) -> str:
        return self._sealed_ids(text)

    def open_id(self, sealed: str) -> str:
        return self._opened_ids(sealed)

    def _seal_id(self, text: str) -> str:
        return _text(self._siv.encrypt(text.encode(), ID_DOMAIN))

    def _open_id(self, sealed: str) -> str:
        return self._open_siv(sealed, ID_DOMAIN)

    def seal_text(self, text: str) -> str:
        return _text(self._siv.encrypt(text.encode(), TEXT_DOMAIN))

    def open_text(self, sealed: str) -> str:
        return self._open_siv(sealed, TEXT_DOMAIN)

    def seal_blob(self, data: bytes) -> bytes:
        nonce = os.urandom(GCM_NONCE_BYTES)
        return nonce + self._gcm.encrypt(nonce, bytes(data), None)

    def open_blob(self, sealed: bytes) -> bytes:
        sealed = bytes(sealed)
        try:
            return self._gcm.decrypt(sealed[:GCM_NONCE_BYTES], sealed[GCM_NONCE_BYTES:], None)
        except (InvalidTag, ValueError) as error:
            raise _broken("a saved state") from error

    def _open_siv(self, sealed: str, domain: list[bytes]) -> str:
        try:
            data = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            if _text(data) != sealed:  # one spelling per value: equal values stay equal text
                raise ValueError("not the canonical form")
            return self._siv.decrypt(data, domain).decode()
        except (InvalidTag, ValueError, binascii.Error, TypeError, UnicodeDecodeError) as error:
            raise _broken(f"the value {sealed[:24]!r}") from error


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _broken(what: str) -> SealBroken:
    return SealBroken(f"{what} in the read models does not open with TENGE_LEDGER_KEY: they were altered; "
                      "`tenge-ledger verify` says where, `tenge-ledger rebuild` restores them from the events")
