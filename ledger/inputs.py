"""What an import reads: JSON Lines (SPEC §3) or a pain.001.001.10 payment file (SPEC §3.1).

`read_input` looks at the first bytes of a file: XML (`<` after an optional byte-order mark and
white space) is read as a pain.001, anything else as JSON Lines. Both come out as the same
`ParsedLine`s (a command, or the errors naming where), so the importer validates, applies,
reports and resumes them alike; a pain.001 transaction's line is the line of its `CdtTrfTxInf`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from ledger.interchange import ParsedLine, read_lines
from ledger.iso20022.pain001 import ZoneSource, is_xml, read_transactions

SNIFF_BYTES = 512


def read_input(stream: BinaryIO, source: str, zone: ZoneSource | None = None) -> Iterator[ParsedLine]:
    """The ParsedLines of one input file, whichever format it is in. `zone()` gives the ledger's
    time zone, asked for only if a pain.001 needs it (a time written without an offset)."""
    start = stream.tell()
    head = stream.read(SNIFF_BYTES)
    stream.seek(start)
    if not is_xml(head):
        yield from read_lines(stream, source)
        return
    for transaction in read_transactions(stream, zone):
        yield ParsedLine(source, transaction.line, transaction.command, transaction.errors, b"")


def is_pain001(stream: BinaryIO) -> bool:
    """Is this input XML (to be read as a pain.001) rather than JSON Lines?"""
    start = stream.tell()
    head = stream.read(SNIFF_BYTES)
    stream.seek(start)
    return is_xml(head)
