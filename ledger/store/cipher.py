"""Encryption at rest (SPEC §7): event payloads sealed with AES-GCM under `TENGE_LEDGER_KEY`.

eventsourcing's AESCipher (from `cryptography`) encrypts each stored event's payload. Names in the
keys table (command ids, party ids as `party:<IIN>`, …) are stored as keyed hashes, so no
plaintext identifier sits beside the sealed payloads. A check value (an HMAC of a fixed text)
marks an encrypted store: a missing or wrong key is refused with a clear message instead of
decrypting into garbage. The read models beside the events are sealed under sub-keys of the same
key (`sealer()`, see `ledger.store.sealing`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from uuid import UUID

from domain.errors import StoreError
from ledger.store.sealing import KeyedSealer

CIPHER_MARKER = "meta:cipher"
KEY_BYTES_ALLOWED = (16, 24, 32)


def new_key() -> str:
    """A fresh random 256-bit key, base64 (what `TENGE_LEDGER_KEY` holds)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Encryption:
    def __init__(self, key_text: str) -> None:
        try:
            self.key = base64.b64decode(key_text.strip(), validate=True)
        except (binascii.Error, ValueError) as error:
            raise StoreError("TENGE_LEDGER_KEY must be base64 (make one with `tenge-ledger keygen --cipher`)") from error
        if len(self.key) not in KEY_BYTES_ALLOWED:
            raise StoreError(f"TENGE_LEDGER_KEY must hold 16, 24 or 32 bytes, not {len(self.key)}")
        self.key_text = base64.b64encode(self.key).decode()
        self._hide_key = hmac.new(self.key, b"tenge-ledger key names", hashlib.sha256).digest()

    def sealer(self) -> KeyedSealer:
        """What the projections seal their personal values with (sub-keys of this key)."""
        return KeyedSealer(self.key)

    def env(self) -> dict[str, str]:
        return {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": self.key_text}

    @property
    def check_value(self) -> bytes:
        return hmac.new(self.key, b"tenge-ledger key check", hashlib.sha256).digest()

    def hide(self, name: str) -> str:
        return "h:" + hmac.new(self._hide_key, name.encode(), hashlib.sha256).hexdigest()

    def stream_id(self, name: str) -> UUID:
        """A stream id derived from a name with the secret (a UUIDv8 of a keyed hash)."""
        digest = bytearray(hmac.new(self._hide_key, b"stream:" + name.encode(), hashlib.sha256).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
        digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
        return UUID(bytes=bytes(digest))
