"""The hash chain: every stored event's canonical bytes, chained to the one before it.

Written by the recorders in the same transaction as the events (`ledger.store`), so an event
without its chain row — forged, or inserted behind the ledger's back — stands out, and so does any
altered, removed or reordered event. The canonical bytes of an event are exactly what is stored
(position, stream, version, topic, payload as stored, i.e. encrypted when encryption is on), so an
auditor can recompute them without any key. They are also the leaves of the RFC 9162 Merkle tree.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

GENESIS = bytes(32)
LEAF_MAGIC = b"tenge-ledger/event/1\n"

# (position, leaf_index, leaf_hash, chain_hash)
ChainRow = tuple[int, int, bytes, bytes]


def encode_leaf(position: int, originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of one stored event (the Merkle leaf data)."""
    assert position > 0 and version > 0
    stream = originator_id.bytes if isinstance(originator_id, UUID) else UUID(str(originator_id)).bytes
    topic_bytes = topic.encode()
    return b"".join((
        LEAF_MAGIC, struct.pack(">QQ", position, version), stream,
        struct.pack(">H", len(topic_bytes)), topic_bytes, struct.pack(">I", len(state)), bytes(state),
    ))


def decode_leaf(data: bytes) -> tuple[int, UUID, int, str, bytes]:
    """(position, stream, version, topic, state) from canonical bytes; ValueError if malformed."""
    if not data.startswith(LEAF_MAGIC):
        raise ValueError("not a tenge-ledger event leaf")
    offset = len(LEAF_MAGIC)
    position, version = struct.unpack_from(">QQ", data, offset)
    offset += 16
    stream = UUID(bytes=data[offset:offset + 16])
    offset += 16
    (topic_length,) = struct.unpack_from(">H", data, offset)
    offset += 2
    topic = data[offset:offset + topic_length].decode()
    offset += topic_length
    (state_length,) = struct.unpack_from(">I", data, offset)
    offset += 4
    state = data[offset:offset + state_length]
    if len(state) != state_length or offset + state_length != len(data):
        raise ValueError("event leaf has the wrong length")
    return position, stream, version, topic, state


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 ‖ leaf): the same as `ledger.integrity.merkle.leaf_hash`
    (a test keeps them equal), written here so the store needs nothing from the integrity layer."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def chain_rows(last: tuple[int, bytes] | None, positions: Sequence[int], stored_events: Sequence[StoredEvent]) -> list[ChainRow]:
    """Chain rows for newly stored events, after `last` = (leaf_index, chain_hash) or None."""
    assert len(positions) == len(stored_events), "every stored event has a position"
    index, previous = (last[0] + 1, last[1]) if last else (0, GENESIS)
    rows: list[ChainRow] = []
    for position, event in zip(positions, stored_events):
        leaf = leaf_hash(encode_leaf(position, event.originator_id, event.originator_version, event.topic, event.state))
        previous = chain_hash(previous, leaf)
        rows.append((position, index, leaf, previous))
        index += 1
    return rows
