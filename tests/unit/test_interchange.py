"""The interchange format (SPEC §3): every command parses; every malformed line names its field."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.commands import (
    PARTY_KINDS,
    SPEND_CATEGORIES,
    TRANSFER_KINDS,
    Accept,
    AcceptedQuantity,
    Allocate,
    AmendContract,
    Command,
    ContractItem,
    Freeze,
    LotSource,
    RegisterParty,
    Release,
    Reserve,
    Return,
    RoadGeometry,
    SetReferencePrice,
    SignContract,
    Spend,
    Transfer,
    Unfreeze,
    UpdateParty,
    Void,
)
from domain.errors import LedgerError, MalformedInput
from domain.identifiers import make_color, make_party_id
from domain.money import line_total_tiyn
from ledger.interchange import (
    LINE_BYTES_MAX,
    MalformedInputs,
    ParsedLine,
    command_digest,
    command_to_record,
    format_error,
    parse_record,
    read_lines,
)

UTC = timezone.utc
ALMATY = timezone(timedelta(hours=5))
AT = "2025-03-01T10:00:00+05:00"
AT_UTC = datetime(2025, 3, 1, 5, 0, tzinfo=UTC)
TREASURY = "040612345679"
ADMIN = make_party_id("05031234567")
CONTRACTOR = make_party_id("06021234567")
SUPPLIER = make_party_id("07011234567")
PERSON = make_party_id("85010130012")
COLOR = make_color("ROAD", 2025, 41, 123)  # ROAD-2025-041-000123-23
AGRO_COLOR = make_color("AGRO", 2025, "112", "000007")
VIN = "1HGCM82633A004352"
SHA = "ab" * 32


def _errors(record: object) -> list[MalformedInput]:
    with pytest.raises(MalformedInputs) as caught:
        parse_record(record)
    return caught.value.errors


def _fields(record: object) -> list[str]:
    return [error.field for error in _errors(record)]


def _lines(data: bytes, source: str = "in.jsonl") -> list[ParsedLine]:
    return list(read_lines(io.BytesIO(data), source))


# --- Valid examples of every command type -------------------------------------------------------

VALID: list[tuple[dict, Command]] = [
    (
        {"id": "p-1", "type": "register_party", "at": AT, "party": ADMIN, "name": "Akimat of Kosshy",
         "kind": "administrator", "registered_on": "2019-05-02", "address": "Kosshy, Republic st. 1",
         "phone": "+7 7172 000000", "owners": [], "directors": [PERSON], "officials": [PERSON],
         "region": "Akmola"},
        RegisterParty(id="p-1", at=AT_UTC, party=ADMIN, name="Akimat of Kosshy", kind="administrator",
                      registered_on=date(2019, 5, 2), address="Kosshy, Republic st. 1",
                      phone="+7 7172 000000", owners=(), directors=(PERSON,), officials=(PERSON,),
                      region="Akmola"),
    ),
    (
        {"id": "p-2", "type": "update_party", "at": AT, "party": CONTRACTOR, "status": "debarred",
         "owners": [], "name": None},
        UpdateParty(id="p-2", at=AT_UTC, party=CONTRACTOR, status="debarred", owners=()),
    ),
    (
        {"id": "rp-1", "type": "set_reference_price", "at": AT, "code": "ASPH-60", "unit": "m2",
         "price": "4500", "region": "Akmola", "description": "asphalt 6 cm"},
        SetReferencePrice(id="rp-1", at=AT_UTC, code="ASPH-60", unit="m2", price_tiyn=450000,
                          region="Akmola", description="asphalt 6 cm"),
    ),
    (
        {"id": "alloc-1", "type": "allocate", "at": AT, "color": COLOR, "program": "041",
         "purpose": "Road Kosshy–Astana", "amount": "1500000000", "treasury": TREASURY,
         "administrator": ADMIN, "expires_on": "2025-12-31", "region": None},
        Allocate(id="alloc-1", at=AT_UTC, color=COLOR, program="041", purpose="Road Kosshy–Astana",
                 amount_tiyn=150_000_000_000, treasury=TREASURY, administrator=ADMIN,
                 expires_on=date(2025, 12, 31)),
    ),
    (
        {"id": "c-1", "type": "sign_contract", "at": AT, "contract": "C-2025-001", "color": COLOR,
         "customer": ADMIN, "supplier": CONTRACTOR, "amount": "900045.05",
         "items": [{"code": "ASPH-60", "unit": "m2", "quantity": "200.01", "unit_price": "4500"},
                   {"code": "KERB", "unit": "m", "quantity": "0.333", "unit_price": "0.15"}],
         "method": "open", "ends_on": "2025-11-30",
         "road": {"length_km": "12.5", "width_m": "7.5", "asphalt_cm": "6"}},
        SignContract(id="c-1", at=AT_UTC, contract="C-2025-001", color=COLOR, customer=ADMIN,
                     supplier=CONTRACTOR, amount_tiyn=90_004_505,
                     items=(ContractItem("ASPH-60", "m2", Decimal("200.01"), 450000),
                            ContractItem("KERB", "m", Decimal("0.333"), 15)),
                     method="open", ends_on=date(2025, 11, 30),
                     road=RoadGeometry(Decimal("12.5"), Decimal("7.5"), Decimal("6"))),
    ),
    (
        {"id": "c-2", "type": "sign_contract", "at": AT, "contract": "C-AGRO-7", "color": AGRO_COLOR,
         "customer": ADMIN, "supplier": SUPPLIER, "amount": "25000000",
         "items": [{"code": "TRACTOR", "unit": "pcs", "quantity": "1", "unit_price": "25000000"}],
         "assets": ["1hg-cm8 2633A004352"], "beneficiary": PERSON},
        SignContract(id="c-2", at=AT_UTC, contract="C-AGRO-7", color=AGRO_COLOR, customer=ADMIN,
                     supplier=SUPPLIER, amount_tiyn=2_500_000_000,
                     items=(ContractItem("TRACTOR", "pcs", Decimal("1"), 2_500_000_000),),
                     assets=(VIN,), beneficiary=PERSON),
    ),
    (
        {"id": "am-1", "type": "amend_contract", "at": AT, "contract": "C-2025-001", "amount": "900",
         "items": [{"code": "KERB", "unit": "m", "quantity": "3", "unit_price": "300"}],
         "reason": "scope cut"},
        AmendContract(id="am-1", at=AT_UTC, contract="C-2025-001", amount_tiyn=90000,
                      items=(ContractItem("KERB", "m", Decimal("3"), 30000),), reason="scope cut"),
    ),
    (
        {"id": "acc-1", "type": "accept", "at": AT, "contract": "C-AGRO-7", "amount": "25000000",
         "evidence_sha256": SHA.upper(), "quantities": [{"code": "TRACTOR", "quantity": "1"}],
         "final": True},
        Accept(id="acc-1", at=AT_UTC, contract="C-AGRO-7", amount_tiyn=2_500_000_000,
               evidence_sha256=SHA, quantities=(AcceptedQuantity("TRACTOR", Decimal("1")),),
               final=True),
    ),
    (
        {"id": "tx-1", "type": "transfer", "at": AT, "color": COLOR, "from": ADMIN, "to": CONTRACTOR,
         "amount": "300000", "contract": "C-2025-001", "invoice": "INV 17", "kind": "advance",
         "sources": [{"lot": "alloc-1", "amount": "300000.00"}]},
        Transfer(id="tx-1", at=AT_UTC, color=COLOR, payer=ADMIN, payee=CONTRACTOR,
                 amount_tiyn=30_000_000, contract="C-2025-001", invoice="INV 17", kind="advance",
                 sources=(LotSource("alloc-1", 30_000_000),)),
    ),
    (
        {"id": "rs-1", "type": "reserve", "at": AT, "color": AGRO_COLOR, "from": ADMIN, "to": SUPPLIER,
         "amount": "25000000", "contract": "C-AGRO-7", "kind": "subsidy"},
        Reserve(id="rs-1", at=AT_UTC, color=AGRO_COLOR, payer=ADMIN, payee=SUPPLIER,
                amount_tiyn=2_500_000_000, contract="C-AGRO-7", kind="subsidy"),
    ),
    (
        {"id": "rl-1", "type": "release", "at": AT, "reservation": "rs-1", "evidence_sha256": SHA},
        Release(id="rl-1", at=AT_UTC, reservation="rs-1", evidence_sha256=SHA),
    ),
    (
        {"id": "vd-1", "type": "void", "at": AT, "reservation": "rs-1", "reason": "machine not delivered"},
        Void(id="vd-1", at=AT_UTC, reservation="rs-1", reason="machine not delivered"),
    ),
    (
        {"id": "sp-1", "type": "spend", "at": AT, "color": COLOR, "from": CONTRACTOR, "amount": "0.01",
         "category": "fuel", "payee": SUPPLIER, "invoice": "F-9", "contract": "C-2025-001"},
        Spend(id="sp-1", at=AT_UTC, color=COLOR, holder=CONTRACTOR, amount_tiyn=1, category="fuel",
              payee=SUPPLIER, invoice="F-9", contract="C-2025-001"),
    ),
    (
        {"id": "rt-1", "type": "return", "at": "2025-03-01T05:00:00Z", "color": COLOR, "from": ADMIN,
         "amount": "5.5", "reason": "unused"},
        Return(id="rt-1", at=AT_UTC, color=COLOR, holder=ADMIN, amount_tiyn=550, reason="unused"),
    ),
    (
        {"id": "fz-1", "type": "freeze", "at": AT, "color": COLOR, "reason": "audit", "holder": CONTRACTOR},
        Freeze(id="fz-1", at=AT_UTC, color=COLOR, reason="audit", holder=CONTRACTOR),
    ),
    (
        {"id": "uf-1", "type": "unfreeze", "at": AT, "color": COLOR, "reason": "audit closed"},
        Unfreeze(id="uf-1", at=AT_UTC, color=COLOR, reason="audit closed"),
    ),
]


@pytest.mark.parametrize(("record", "expected"), VALID, ids=[r["id"] for r, _ in VALID])
def test_a_valid_record_of_every_type_parses_to_its_command(record: dict, expected: Command) -> None:
    command = parse_record(record)
    assert command == expected
    assert type(command) is type(expected)
    assert command.at.utcoffset() == record_offset(record["at"])


def test_every_command_type_has_a_valid_example() -> None:
    from domain.commands import COMMAND_TYPES

    assert {record["type"] for record, _ in VALID} == set(COMMAND_TYPES)


@pytest.mark.parametrize(("record", "expected"), VALID, ids=[r["id"] for r, _ in VALID])
def test_the_canonical_record_parses_back_to_the_same_command(record: dict, expected: Command) -> None:
    canonical = command_to_record(expected)
    assert parse_record(orjson.loads(orjson.dumps(canonical))) == expected
    assert list(canonical)[:3] == ["id", "type", "at"]
    assert canonical["at"].endswith("Z")
    assert all(value is not None for value in canonical.values())


def test_the_canonical_record_restores_from_and_to_and_prints_two_decimals() -> None:
    record = command_to_record(VALID[8][1])  # the transfer
    assert record["from"] == ADMIN and record["to"] == CONTRACTOR
    assert record["amount"] == "300000.00"
    assert record["sources"] == [{"lot": "alloc-1", "amount": "300000.00"}]
    assert "payer" not in record and "payee" not in record


def test_the_canonical_record_of_an_update_party_keeps_an_empty_list_meaning_clear() -> None:
    command = UpdateParty(id="u", at=AT_UTC, party=ADMIN, owners=())
    assert command_to_record(command) == {"id": "u", "type": "update_party", "at": "2025-03-01T05:00:00Z",
                                          "party": ADMIN, "owners": []}


def test_an_at_with_fractional_seconds_is_accepted() -> None:
    record = dict(VALID[15][0], at="2025-03-01T10:00:00.25+05:00")
    assert parse_record(record).at == AT_UTC.replace(microsecond=250000)
    assert command_to_record(parse_record(record))["at"] == "2025-03-01T05:00:00.250000Z"


def test_an_at_may_use_lower_case_t_and_z() -> None:
    assert parse_record(dict(VALID[15][0], at="2025-03-01t05:00:00z")).at == AT_UTC


# --- Malformed input names the right field -------------------------------------------------------

def _transfer(**changes: object) -> dict:
    record = dict(VALID[8][0])
    for key, value in changes.items():
        if value is _DROP:
            del record[key]
        else:
            record[key] = value
    return record


_DROP = object()


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_transfer(amount=300000), "amount"),  # a JSON number is not an amount
        (_transfer(amount=300000.0), "amount"),
        (_transfer(amount="-5"), "amount"),
        (_transfer(amount="1e5"), "amount"),
        (_transfer(amount="1.005"), "amount"),
        (_transfer(amount=" 5"), "amount"),
        (_transfer(amount=""), "amount"),
        (_transfer(amount="0"), "amount"),  # flows must be > 0
        (_transfer(amount="0.00"), "amount"),
        (_transfer(amout="5"), "amout"),  # unknown field (typo)
        (_transfer(color=_DROP), "color"),  # missing required field
        (_transfer(color=None), "color"),  # null required field
        (_transfer(to="040612345678"), "to"),  # bad party checksum
        (_transfer(to="04061234567"), "to"),
        (_transfer(color="ROAD-2025-041-000123-24"), "color"),  # bad check digits
        (_transfer(color="RAOD-2025-041-000123-23"), "color"),
        (_transfer(at="2025-03-01T10:00:00"), "at"),  # naive time
        (_transfer(at="2025-03-01"), "at"),  # a date only
        (_transfer(at="2025-03-01T10:00+05:00"), "at"),  # no seconds
        (_transfer(at="2025-02-30T10:00:00Z"), "at"),
        (_transfer(at="2025-03-01T10:00:00-00:00"), "at"),
        (_transfer(at="2025-03-01T10:00:00+24:00"), "at"),
        (_transfer(at="0001-01-01T00:00:00+05:00"), "at"),  # before year 1 in UTC
        (_transfer(at="2025-03-01T10:00:00.1234567Z"), "at"),
        (_transfer(at=1740805200), "at"),
        (_transfer(kind="bonus"), "kind"),  # wrong enum
        (_transfer(invoice=True), "invoice"),  # a bool is not a string
        (_transfer(invoice=""), "invoice"),
        (_transfer(invoice="x" * 1001), "invoice"),
        (_transfer(id="bad id"), "id"),
        (_transfer(id=_DROP), "id"),
        (_transfer(contract="C 1"), "contract"),
        (_transfer(sources=[{"lot": "alloc-1", "amount": "299999.99"}]), "sources"),  # not summing
        (_transfer(sources=[{"lot": "alloc-1"}]), "sources[0].amount"),
        (_transfer(sources=[{"lot": "alloc-1", "amount": "300000", "x": 1}]), "sources[0].x"),
        (_transfer(sources=[{"lot": "", "amount": "300000"}]), "sources[0].lot"),
        (_transfer(sources=["alloc-1"]), "sources[0]"),
        (_transfer(sources={"lot": "alloc-1"}), "sources"),
        (_transfer(type=_DROP), "type"),
        (_transfer(type="transfers"), "type"),
        (_transfer(type=7), "type"),
    ],
)
def test_a_malformed_transfer_names_the_field(record: dict, field: str) -> None:
    assert _fields(record) == [field]


@pytest.mark.parametrize(
    ("index", "changes", "field"),
    [
        (0, {"registered_on": "2019-5-2"}, "registered_on"),  # bad date
        (0, {"registered_on": "2019-02-29"}, "registered_on"),
        (0, {"registered_on": "20190502"}, "registered_on"),
        (0, {"kind": "bank"}, "kind"),
        (0, {"owners": [ADMIN, "123"]}, "owners[1]"),
        (0, {"owners": [ADMIN, ADMIN]}, "owners[1]"),
        (0, {"owners": ADMIN}, "owners"),
        (0, {"directors": [PERSON] * 101}, "directors"),
        (1, {"status": "dead"}, "status"),
        (2, {"price": "0"}, "price"),
        (3, {"program": "042"}, "program"),  # does not match the color's PROGRAM
        (3, {"program": "41"}, "program"),
        (3, {"program": 41}, "program"),
        (3, {"expires_on": "2025-12-31T00:00:00Z"}, "expires_on"),
        (4, {"amount": "900045.06"}, "items"),  # items not summing
        (4, {"items": []}, "items"),
        (4, {"method": "auction"}, "method"),
        (4, {"road": {"length_km": "12.5", "width_m": "0", "asphalt_cm": "6"}}, "road.width_m"),
        (4, {"road": {"length_km": "12.5", "width_m": "7.5"}}, "road.asphalt_cm"),
        (4, {"road": {"length_km": 12.5, "width_m": "7.5", "asphalt_cm": "6"}}, "road.length_km"),
        (5, {"assets": ["1HGCM82633A00435O"]}, "assets[0]"),  # O is not a VIN character
        (5, {"assets": [VIN, VIN.lower()]}, "assets[1]"),
        (5, {"items": [{"code": "TRACTOR", "unit": "pcs", "quantity": "0", "unit_price": "25000000"}]},
         "items[0].quantity"),
        (5, {"items": [{"code": "TRACTOR", "unit": "pcs", "quantity": "1", "unit_price": 25000000}]},
         "items[0].unit_price"),
        (5, {"items": [{"code": "TRACTOR", "unit": "pcs", "quantity": "1e0", "unit_price": "25000000"}]},
         "items[0].quantity"),
        (6, {"items": None, "amount": "0"}, "amount"),  # amend amount > 0
        (7, {"evidence_sha256": "ab" * 31}, "evidence_sha256"),
        (7, {"final": "true"}, "final"),
        (7, {"final": 1}, "final"),
        (7, {"quantities": [{"code": "TRACTOR"}]}, "quantities[0].quantity"),
        (7, {"amount": "0"}, "amount"),
        (9, {"contract": _DROP}, "contract"),
        (12, {"category": "bribes"}, "category"),
        (12, {"from": "040612345678"}, "from"),
        (12, {"payee": 40612345679}, "payee"),
        (14, {"holder": "x"}, "holder"),
    ],
)
def test_a_malformed_record_names_the_field(index: int, changes: dict, field: str) -> None:
    record = dict(VALID[index][0])
    for key, value in changes.items():
        if value is _DROP:
            del record[key]
        else:
            record[key] = value
    assert _fields(record) == [field]


def test_items_not_summing_name_both_sums_in_kzt() -> None:
    record = dict(VALID[4][0], amount="900045.06")
    [error] = _errors(record)
    assert "900045.05" in error.message and "900045.06" in error.message


def test_every_error_on_one_line_is_reported() -> None:
    record = _transfer(amount=300000, to="040612345678", kind="bonus", extra="?", at="2025-03-01T10:00:00",
                       sources=[{"lot": "a b", "amount": "1"}, {"lot": "b", "amount": 2}])
    del record["color"]
    # Errors come in the order of the object's keys, then missing required fields.
    assert _fields(record) == ["at", "to", "amount", "kind", "sources[0].lot", "sources[1].amount",
                               "extra", "color"]


def test_an_unknown_type_still_reports_id_and_at() -> None:
    assert _fields({"id": "", "type": "transfre", "at": "yesterday", "amount": "5"}) == ["id", "type", "at"]


def test_a_non_object_record_is_malformed() -> None:
    assert _fields([1, 2]) == ["line"]


def test_malformed_inputs_is_a_ledger_error_listing_every_error() -> None:
    with pytest.raises(LedgerError) as caught:
        parse_record(_transfer(amount=1, kind="x"))
    assert isinstance(caught.value, MalformedInputs)
    assert "amount" in str(caught.value) and "kind" in str(caught.value)


def test_optional_fields_may_be_absent_or_null() -> None:
    record = dict(VALID[15][0], holder=None)
    assert parse_record(record) == VALID[15][1]


# --- Reading JSON Lines ---------------------------------------------------------------------------

def test_read_lines_skips_blank_lines_and_counts_them() -> None:
    good = orjson.dumps(VALID[15][0])
    data = b"\n   \n" + good + b"\r\n\t\n" + good.replace(b'"uf-1"', b'"uf-2"') + b"\n\n"
    parsed = _lines(data)
    assert [p.line for p in parsed] == [3, 5]
    assert [p.command.id for p in parsed if p.command] == ["uf-1", "uf-2"]
    assert parsed[0].raw == good and parsed[0].errors == () and parsed[0].source == "in.jsonl"


def test_read_lines_reports_bad_lines_with_their_numbers_and_goes_on() -> None:
    good = orjson.dumps(VALID[15][0])
    data = b"\n".join([
        good,
        b'{"id": "x", ',  # invalid JSON
        b"[1, 2]",  # not an object
        b'"just a string"',
        b'{"id": "caf\xe9"}',  # invalid UTF-8
        orjson.dumps(_transfer(amount=5)),
        good,
    ])
    parsed = _lines(data, "pay.jsonl")
    assert [(p.line, [e.field for e in p.errors]) for p in parsed] == [
        (1, []), (2, ["line"]), (3, ["line"]), (4, ["line"]), (5, ["line"]), (6, ["amount"]), (7, []),
    ]
    assert "JSON" in parsed[1].errors[0].message
    assert "object" in parsed[2].errors[0].message
    assert "UTF-8" in parsed[4].errors[0].message
    assert format_error("pay.jsonl", 6, parsed[5].errors[0]).startswith("pay.jsonl:6: amount: ")
    assert all(p.command is None for p in parsed[1:6])


def test_read_lines_ignores_a_byte_order_mark_and_accepts_no_final_newline() -> None:
    data = b"\xef\xbb\xbf" + orjson.dumps(VALID[15][0])
    [parsed] = _lines(data)
    assert parsed.command == VALID[15][1] and parsed.line == 1


def test_read_lines_rejects_a_line_over_one_mebibyte_and_goes_on() -> None:
    long_line = b'{"id": "' + b"x" * LINE_BYTES_MAX + b'"}'
    good = orjson.dumps(VALID[15][0])
    parsed = _lines(long_line + b"\n" + good + b"\n")
    assert [(p.line, [e.field for e in p.errors]) for p in parsed] == [(1, ["line"]), (2, [])]
    assert "longer" in parsed[0].errors[0].message


def test_read_lines_accepts_a_line_of_exactly_one_mebibyte() -> None:
    record = dict(VALID[15][0])
    record["reason"] = ""
    base = len(orjson.dumps(record))
    record["reason"] = "r" * (LINE_BYTES_MAX - base)
    line = orjson.dumps(record)
    assert len(line) == LINE_BYTES_MAX
    [parsed] = _lines(line + b"\r\n")
    assert [e.field for e in parsed.errors] == ["reason"]  # too long a string, but the line is read


class _LineOnlyStream:
    """A stream that only supports readline(limit): proves read_lines never slurps the input."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)
        self.reads = 0

    def readline(self, limit: int = -1) -> bytes:
        assert 0 < limit <= LINE_BYTES_MAX + 2
        self.reads += 1
        return self._buffer.readline(limit)


def test_read_lines_streams_line_by_line() -> None:
    good = orjson.dumps(VALID[15][0])
    stream = _LineOnlyStream(b"\n".join([good] * 5))
    lines = read_lines(stream, "-")  # type: ignore[arg-type]
    assert next(lines).line == 1 and stream.reads == 1
    assert [p.line for p in lines] == [2, 3, 4, 5]


def test_format_error() -> None:
    error = MalformedInput("items[2].unit_price", "must be a string")
    assert format_error("a.jsonl", 7, error) == "a.jsonl:7: items[2].unit_price: must be a string"


# --- Content identity ----------------------------------------------------------------------------

def test_equivalent_spellings_have_the_same_digest() -> None:
    record = _transfer(amount="300000", sources=[{"lot": "alloc-1", "amount": "300000"}], invoice=None)
    respelled = {
        key: record[key] for key in reversed(list(record)) if key != "invoice"
    } | {"at": "2025-03-01T05:00:00Z", "amount": "300000.00"}
    assert command_digest(parse_record(record)) == command_digest(parse_record(respelled))
    agro = VALID[5][0]
    assert command_digest(parse_record(agro)) == command_digest(
        parse_record(dict(agro, assets=[VIN], amount="25000000.0")))
    contract = VALID[4][0]
    respelled_items = [dict(item, quantity=item["quantity"] + "0") for item in contract["items"]]
    assert command_digest(parse_record(contract)) == command_digest(
        parse_record(dict(contract, items=respelled_items)))
    accept = VALID[7][0]
    assert command_digest(parse_record(accept)) == command_digest(
        parse_record(dict(accept, evidence_sha256=SHA)))


def test_different_content_has_a_different_digest() -> None:
    base = command_digest(parse_record(_transfer()))
    others = [
        _transfer(amount="300000.01", sources=None),
        _transfer(at="2025-03-01T10:00:01+05:00"),
        _transfer(at="2025-03-01T10:00:00Z"),
        _transfer(invoice="INV 18"),
        _transfer(kind=None),
        _transfer(id="tx-2"),
    ]
    digests = {command_digest(parse_record(record)) for record in others}
    assert base not in digests and len(digests) == len(others)
    assert len(base) == 32


# --- Property: parse(to_record(c)) == c ------------------------------------------------------------

_first11 = st.text("0123456789", min_size=11, max_size=11)
party_ids = _first11.map(make_party_id).filter(lambda party: party is not None)
colors = st.builds(
    make_color, st.sampled_from(("ROAD", "AGRO", "LOCAL")), st.integers(2000, 2100),
    st.integers(0, 999), st.integers(0, 999_999),
)
command_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)
# Text never holds control characters (C0, DEL, C1: category Cc) nor bidi controls (SPEC §5).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
texts = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=BIDI_CONTROLS),
                min_size=1, max_size=40).filter(str.strip)
amounts_tiyn = st.integers(0, 10**17 - 1)
flows_tiyn = st.integers(1, 10**17 - 1)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.sampled_from((UTC, ALMATY, timezone(timedelta(hours=-3, minutes=-30)))))
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
quantities = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("999999999999.999999"),
                         places=6, allow_nan=False, allow_infinity=False) | st.integers(1, 10**6).map(Decimal)
vins = st.from_regex(r"[A-HJ-NPR-Z0-9]{17}", fullmatch=True)
shas = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)


def _opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


items = st.lists(
    st.builds(ContractItem, texts, texts, quantities, st.integers(0, 10**9)), min_size=1, max_size=4)


@st.composite
def sign_contracts(draw: st.DrawFn) -> SignContract:
    contract_items = tuple(draw(items))
    total_tiyn = sum(line_total_tiyn(item.quantity, item.unit_price_tiyn) for item in contract_items)
    if total_tiyn == 0:
        contract_items += (ContractItem("X", "pcs", Decimal(1), 1),)
        total_tiyn += 1
    assume(total_tiyn < 10**17)  # an amount has at most 15 KZT digits (SPEC §1)
    return SignContract(
        id=draw(command_ids), at=draw(moments), contract=draw(command_ids), color=draw(colors),
        customer=draw(party_ids), supplier=draw(party_ids), amount_tiyn=total_tiyn, items=contract_items,
        method=draw(_opt(st.sampled_from(("open", "direct", "quotation")))), ends_on=draw(_opt(dates)),
        road=draw(_opt(st.builds(RoadGeometry, quantities, quantities, quantities))),
        assets=tuple(draw(st.lists(vins, max_size=3, unique=True))), beneficiary=draw(_opt(party_ids)),
    )


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    sources = draw(_opt(st.lists(st.builds(LotSource, command_ids, flows_tiyn.map(lambda n: n % 10**12 + 1)),
                                 min_size=1, max_size=4)))
    amount_tiyn = draw(flows_tiyn) if sources is None else sum(source.amount_tiyn for source in sources)
    return Transfer(
        id=draw(command_ids), at=draw(moments), color=draw(colors), payer=draw(party_ids),
        payee=draw(party_ids), amount_tiyn=amount_tiyn, contract=draw(_opt(command_ids)),
        invoice=draw(_opt(texts)), kind=draw(_opt(st.sampled_from(TRANSFER_KINDS))),
        sources=None if sources is None else tuple(sources),
    )


@st.composite
def allocations(draw: st.DrawFn) -> Allocate:
    color = draw(colors)
    return Allocate(
        id=draw(command_ids), at=draw(moments), color=color, program=color.split("-")[2],
        purpose=draw(texts), amount_tiyn=draw(flows_tiyn), treasury=draw(party_ids),
        administrator=draw(party_ids), expires_on=draw(dates), region=draw(_opt(texts)),
    )


register_parties = st.builds(
    RegisterParty, id=command_ids, at=moments, party=party_ids, name=texts,
    kind=st.sampled_from(PARTY_KINDS), registered_on=_opt(dates), address=_opt(texts), phone=_opt(texts),
    owners=st.lists(party_ids, max_size=3, unique=True).map(tuple),
    directors=st.lists(party_ids, max_size=3, unique=True).map(tuple),
    officials=st.lists(party_ids, max_size=3, unique=True).map(tuple), region=_opt(texts),
)
update_parties = st.builds(
    UpdateParty, id=command_ids, at=moments, party=party_ids, name=_opt(texts),
    owners=_opt(st.lists(party_ids, max_size=3, unique=True).map(tuple)),
    status=_opt(st.sampled_from(("active", "liquidated", "debarred"))),
)
accepts = st.builds(
    Accept, id=command_ids, at=moments, contract=command_ids, amount_tiyn=flows_tiyn,
    evidence_sha256=_opt(shas), quantities=st.lists(st.builds(AcceptedQuantity, texts, quantities),
                                                    max_size=3).map(tuple),
    final=st.booleans(),
)
spends = st.builds(
    Spend, id=command_ids, at=moments, color=colors, holder=party_ids, amount_tiyn=flows_tiyn,
    category=st.sampled_from(SPEND_CATEGORIES), payee=_opt(party_ids), invoice=_opt(texts),
    contract=_opt(command_ids), assets=st.lists(vins, max_size=3, unique=True).map(tuple),
)
others = st.one_of(
    st.builds(SetReferencePrice, id=command_ids, at=moments, code=texts, unit=texts, price_tiyn=flows_tiyn,
              region=_opt(texts), description=_opt(texts)),
    st.builds(Reserve, id=command_ids, at=moments, color=colors, payer=party_ids, payee=party_ids,
              amount_tiyn=flows_tiyn, contract=command_ids, invoice=_opt(texts),
              kind=_opt(st.sampled_from(TRANSFER_KINDS))),
    st.builds(Release, id=command_ids, at=moments, reservation=command_ids, evidence_sha256=_opt(shas)),
    st.builds(Void, id=command_ids, at=moments, reservation=command_ids, reason=_opt(texts)),
    st.builds(Return, id=command_ids, at=moments, color=colors, holder=party_ids, amount_tiyn=flows_tiyn,
              reason=_opt(texts)),
    st.builds(Freeze, id=command_ids, at=moments, color=colors, reason=texts, holder=_opt(party_ids)),
    st.builds(Unfreeze, id=command_ids, at=moments, color=colors, reason=texts, holder=_opt(party_ids)),
    st.builds(AmendContract, id=command_ids, at=moments, contract=command_ids, amount_tiyn=flows_tiyn,
              reason=_opt(texts)),
)
commands = st.one_of(sign_contracts(), transfers(), allocations(), register_parties, update_parties,
                     accepts, spends, others)


@settings(max_examples=300, deadline=None)
@given(commands)
def test_parse_of_the_canonical_record_gives_back_the_command(command: Command) -> None:
    record = command_to_record(command)
    line = orjson.dumps(record)
    parsed = parse_record(orjson.loads(line))
    assert parsed == command
    assert command_digest(parsed) == command_digest(command)
    assert orjson.dumps(command_to_record(parsed)) == line


def record_offset(text: str):
    """The offset a record's `at` was written with (parsing keeps it, for local business dates)."""
    from datetime import datetime

    return datetime.fromisoformat(text.upper()).utcoffset()


# --- Duplicate keys (SPEC §5, issue 10 item 7) ---------------------------------------------------

def _one_line(data: bytes) -> ParsedLine:
    [parsed] = _lines(data)
    return parsed


def _with(record: dict, raw_tail: str) -> bytes:
    """The record's JSON with `raw_tail` (e.g. `, "amount": "1"`) written before its closing brace."""
    text = orjson.dumps(record).decode()
    return (text[:-1] + raw_tail + "}").encode()


def test_a_duplicate_key_is_malformed_and_names_the_key() -> None:
    parsed = _one_line(_with(_transfer(), ', "amount": "900000.00"'))
    assert parsed.command is None
    assert (parsed.errors[0].field, parsed.errors[0].message) == ("amount", "duplicate key")
    assert format_error("in.jsonl", 1, parsed.errors[0]) == "in.jsonl:1: amount: duplicate key"


def test_a_duplicate_type_is_malformed_even_though_the_last_value_is_valid() -> None:
    text = orjson.dumps(_transfer()).decode().replace('"type":"transfer"', '"type":"transfer","type":"spend"')
    parsed = _one_line(text.encode())
    assert parsed.command is None and ("type", "duplicate key") in [(e.field, e.message) for e in parsed.errors]


def test_a_duplicate_key_with_the_same_value_is_still_malformed() -> None:
    parsed = _one_line(_with(_transfer(), ', "invoice": "INV 17"'))
    assert [error.field for error in parsed.errors] == ["invoice"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"id": "x", "type": "freeze", "at": "2025-03-01T10:00:00Z", "reason": "a" , "reason"\t:\r "b",'
         b' "color": "ROAD-2025-041-000123-23"}', "reason"),  # whitespace around the colon
        (b'{"id": "x", "type": "freeze", "at": "2025-03-01T10:00:00Z", "reason": "a", "re\\u0061son": "b",'
         b' "color": "ROAD-2025-041-000123-23"}', "reason"),  # the same key spelled with an escape
    ],
)
def test_a_duplicate_key_is_found_however_it_is_spelled(raw: bytes, field: str) -> None:
    parsed = _one_line(raw)
    assert (field, "duplicate key") in [(e.field, e.message) for e in parsed.errors]


def test_a_duplicate_key_inside_a_nested_object_names_its_path() -> None:
    contract = dict(VALID[4][0])
    text = orjson.dumps(contract).decode()
    text = text.replace('"code":"KERB"', '"code":"KERB","code":"KERB"')
    text = text.replace('"width_m":"7.5"', '"width_m":"7.5","width_m":"75"')
    parsed = _one_line(text.encode())
    assert [(e.field, e.message) for e in parsed.errors] == [
        ("items[1].code", "duplicate key"), ("road.width_m", "duplicate key")]


def test_a_string_that_looks_like_a_key_is_not_a_duplicate() -> None:
    record = _transfer(invoice='"amount": "1" and "to":')
    parsed = _one_line(orjson.dumps(record))
    assert parsed.errors == () and parsed.command is not None
    assert parsed.command.invoice == record["invoice"]


def test_a_duplicate_key_is_reported_with_the_other_errors_of_the_line() -> None:
    parsed = _one_line(_with(_transfer(kind="bonus"), ', "invoice": "INV 18"'))
    assert [(error.field, error.message) for error in parsed.errors] == [
        ("invoice", "duplicate key"), ("kind", "must be one of advance, progress, final, subsidy, got 'bonus'")]


# --- Control characters in text (SPEC §5, issue 10 item 8) ----------------------------------------

CONTROL_CHARACTERS = [
    "\x00", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9f", "\u061c", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
]


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda char: f"U+{ord(char):04X}")
def test_a_control_character_in_text_is_malformed(char: str) -> None:
    [error] = _errors(dict(VALID[15][0], reason=f"audit{char}closed"))
    assert error.field == "reason"
    assert error.message == f"must not contain control characters, got U+{ord(char):04X} at character 6"


@pytest.mark.parametrize(
    ("index", "changes", "field"),
    [
        (0, {"name": "Evil\u202eCorp"}, "name"),
        (0, {"address": "\u2066Astana"}, "address"),
        (4, {"items": [{"code": "ASPH\x00", "unit": "m2", "quantity": "1", "unit_price": "900045.05"}]},
         "items[0].code"),
        (7, {"quantities": [{"code": "T\u200f", "quantity": "1"}]}, "quantities[0].code"),
        (8, {"invoice": "INV\u0085"}, "invoice"),
    ],
)
def test_a_control_character_names_its_field_at_any_depth(index: int, changes: dict, field: str) -> None:
    assert _fields(dict(VALID[index][0], **changes)) == [field]


def test_ordinary_unicode_text_is_accepted() -> None:
    name = "ТОО «Қосшы Жол» — 道路 🚧\u00a0Ltd"
    assert parse_record(dict(VALID[0][0], name=name)).name == name


def test_a_control_character_through_read_lines_is_reported_with_its_line() -> None:
    good = orjson.dumps(VALID[15][0])
    bad = orjson.dumps(dict(VALID[15][0], id="uf-2", reason="a\u202eb"))
    parsed = _lines(good + b"\n" + bad + b"\n")
    assert [(p.line, [e.field for e in p.errors]) for p in parsed] == [(1, []), (2, ["reason"])]


def test_an_unknown_key_with_control_characters_is_named_escaped() -> None:
    assert _fields(dict(VALID[15][0], **{"note\u202e\x1b[31m": "x"})) == ["note\\u202e\\x1b[31m"]


def test_a_sum_that_does_not_add_up_is_reported_with_the_other_errors_of_the_line() -> None:
    record = dict(VALID[4][0], amount="900045.06", method="auction")
    assert _fields(record) == ["method", "items"]
    record = _transfer(sources=[{"lot": "alloc-1", "amount": "1"}], kind="bonus")
    assert _fields(record) == ["kind", "sources"]
    assert _fields(dict(VALID[3][0], program="042", region="")) == ["region", "program"]
