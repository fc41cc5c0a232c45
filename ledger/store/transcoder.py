"""Stored events are msgpack, not JSON: compact, fast, and exact for the types events use.

Extension types keep `UUID`, `datetime`, `date`, `Decimal` and the small value records of commands
round-tripping exactly (plain JSON would give strings back and break replay). Arrays decode as
tuples, which is what frozen events hold.
"""

from __future__ import annotations

import threading
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgpack
from eventsourcing.persistence import Transcoder

from domain.commands import AcceptedQuantity, ContractItem, LotSource, RoadGeometry

_EXT_UUID = 1
_EXT_DATETIME = 2
_EXT_DATE = 3
_EXT_DECIMAL = 4
_EXT_VALUE = 5

# Value records by stable name; the names are part of the stored format: never rename one.
_VALUE_TYPES: dict[str, type] = {
    "ContractItem": ContractItem,
    "RoadGeometry": RoadGeometry,
    "AcceptedQuantity": AcceptedQuantity,
    "LotSource": LotSource,
}
_VALUE_NAMES = {cls: name for name, cls in _VALUE_TYPES.items()}
_VALUE_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in _VALUE_TYPES.values()}


def _default(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, UUID):
        return msgpack.ExtType(_EXT_UUID, obj.bytes)
    if isinstance(obj, datetime):
        assert obj.tzinfo is not None, "stored times are timezone-aware"
        return msgpack.ExtType(_EXT_DATETIME, obj.isoformat().encode())
    if isinstance(obj, date):
        return msgpack.ExtType(_EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, Decimal):
        return msgpack.ExtType(_EXT_DECIMAL, str(obj).encode())
    name = _VALUE_NAMES.get(type(obj))
    if name is not None:
        values = [getattr(obj, f) for f in _VALUE_FIELDS[type(obj)]]
        return msgpack.ExtType(_EXT_VALUE, _pack([name, *values]))
    raise TypeError(f"cannot store a {type(obj).__name__} in an event")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _EXT_UUID:
        return UUID(bytes=data)
    if code == _EXT_DATETIME:
        return datetime.fromisoformat(data.decode())
    if code == _EXT_DATE:
        return date.fromisoformat(data.decode())
    if code == _EXT_DECIMAL:
        return Decimal(data.decode())
    if code == _EXT_VALUE:
        name, *values = _unpack(data)
        return _VALUE_TYPES[name](*values)
    return msgpack.ExtType(code, data)


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default, use_bin_type=True, datetime=False)


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, use_list=False, strict_map_key=False)


class MsgpackTranscoder(Transcoder):
    """eventsourcing Transcoder over msgpack with the extension types above.

    `encode` reuses one `msgpack.Packer` per thread (what `msgpack.packb` builds and drops on every
    call; the bytes are the same): an import encodes every event once, 100 000 times in a row."""

    def __init__(self) -> None:
        self._local = threading.local()

    def encode(self, obj: Any) -> bytes:
        packer = getattr(self._local, "packer", None)
        if packer is None:
            packer = self._local.packer = msgpack.Packer(default=_default, use_bin_type=True, datetime=False)
        return packer.pack(obj)

    def decode(self, data: bytes) -> Any:
        return _unpack(data)
