"""Property: any interchange `transfer` a pain.001 can carry -> pain.001 -> import gives the same command.

"Can carry": ids, contract and invoice of at most 35 characters (Max35Text) and no `sources`
(SPEC §3.1's table has no element for them); `write_pain001` refuses anything else by name.
The read goes through `ledger.inputs.read_input`, the importer's own reader.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.commands import TRANSFER_KINDS, Transfer
from domain.identifiers import make_color
from ledger.inputs import read_input
from ledger.interchange import MalformedInputs, command_digest, parse_record
from ledger.iso20022.pain001 import Unwritable, write_pain001
from ledger.iso20022.xsd import validation_errors
from tests.support import party_id

IDS = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,34}\Z")
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), blacklist_characters="\ufffe\uffff"),
               min_size=1, max_size=35)
ZONES = st.integers(-12 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
TIMES = st.datetimes(datetime(2001, 1, 1), datetime(2099, 12, 31), timezones=ZONES)
COLORS = st.builds(make_color, st.sampled_from(["ROAD", "AGRO", "LOCAL"]), st.integers(2000, 2099), st.integers(0, 999),
                   st.integers(0, 999_999))
PARTIES = st.builds(party_id, st.integers(0, 9_999), person=st.booleans())
AMOUNTS = st.integers(1, 10**17 - 1).map(lambda tiyn: f"{tiyn // 100}" + st_cents(tiyn % 100))


def st_cents(cents: int) -> str:
    """Spellings of an amount's cents, all valid interchange: none, one or two decimals."""
    if cents == 0:
        return ""
    return f".{cents:02d}".rstrip("0") if cents % 10 == 0 else f".{cents:02d}"


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    record = {"id": draw(IDS), "type": "transfer", "at": draw(TIMES).isoformat(), "color": draw(COLORS),
              "from": draw(PARTIES), "to": draw(PARTIES), "amount": draw(AMOUNTS)}
    for field, values in (("contract", IDS), ("invoice", TEXT), ("kind", st.sampled_from(TRANSFER_KINDS))):
        if draw(st.booleans()):
            record[field] = draw(values)
    try:
        command = parse_record(record)
    except MalformedInputs:
        assume(False)
        raise
    assert isinstance(command, Transfer)
    return command


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transfers(), min_size=1, max_size=6), st.data())
def test_any_transfer_through_a_pain001_is_the_same_command(commands, data):
    persons = {command.payer for command in commands if data.draw(st.booleans())}
    out = io.BytesIO()
    write_pain001(out, commands, "MSG-P", datetime(2025, 1, 1, tzinfo=timezone.utc), individuals=persons)
    assert validation_errors(out.getvalue(), "pain.001.001.10") == []
    out.seek(0)
    parsed = list(read_input(out, "p.xml", lambda: pytest.fail("every time is written with its offset")))
    assert [line.errors for line in parsed] == [()] * len(commands)
    back = [line.command for line in parsed]
    assert back == commands
    assert [command_digest(command) for command in back] == [command_digest(command) for command in commands]
    assert [command.at.utcoffset() for command in back] == [command.at.utcoffset() for command in commands]


def test_what_a_pain001_cannot_carry_is_refused_by_name():
    base = {"id": "T-1", "type": "transfer", "at": "2025-03-01T10:00:00+05:00", "color": make_color("ROAD", 2025, 41, 1),
            "from": party_id(1), "to": party_id(2), "amount": "10"}
    for extra, says in (({"id": "T" * 36}, "id is longer than 35"), ({"contract": "C" * 36}, "contract is longer than 35"),
                        ({"sources": [{"lot": "A-1", "amount": "10"}]}, "sources")):
        command = parse_record({**base, **extra})
        with pytest.raises(Unwritable, match=says):
            write_pain001(io.BytesIO(), [command], "MSG", datetime(2025, 1, 1, tzinfo=timezone.utc))
