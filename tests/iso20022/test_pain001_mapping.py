"""SPEC §3.1's table, element by element, on hand-written pain.001.001.10 documents."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from ledger.iso20022.pain001 import read_header, read_transactions
from ledger.iso20022.xsd import validation_errors
from tests.support import color_id, party_id

COLOR = color_id("ROAD", 1)
PAYER = party_id(1)
PAYEE = party_id(2)
PERSON = party_id(3, person=True)
ZONE = timezone(timedelta(hours=6))  # a ledger that is not in the default zone


def party(bin_or_iin: str, choice: str = "OrgId", scheme: str = "BIN") -> str:
    return f"<Id><{choice}><Othr><Id>{bin_or_iin}</Id><SchmeNm><Prtry>{scheme}</Prtry></SchmeNm></Othr></{choice}></Id>"


def transaction(end_to_end_id: str = "PAY-1", amount: str = "1500.50", currency: str = "KZT", payee: str | None = None,
                purpose: str | None = None, type_info: str = "", remittance: str = "") -> str:
    creditor = "" if payee == "" else f"<Cdtr>{payee or party(PAYEE)}</Cdtr>"  # "": no Cdtr at all
    purpose = purpose if purpose is not None else f"<Purp><Prtry>{COLOR}</Prtry></Purp>"
    return (f"<CdtTrfTxInf><PmtId><EndToEndId>{end_to_end_id}</EndToEndId></PmtId>{type_info}"
            f"<Amt><InstdAmt Ccy=\"{currency}\">{amount}</InstdAmt></Amt>{creditor}{purpose}{remittance}</CdtTrfTxInf>")


def document(*transactions: str, when: str = "<DtTm>2025-03-01T10:00:00+05:00</DtTm>", created: str = "2025-03-01T08:00:00+05:00",
             payer: str | None = None, payment_type: str = "") -> bytes:
    txs = transactions or (transaction(),)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"><CstmrCdtTrfInitn>\n'
        f"<GrpHdr><MsgId>MSG-T</MsgId><CreDtTm>{created}</CreDtTm><NbOfTxs>{len(txs)}</NbOfTxs><InitgPty/></GrpHdr>\n"
        f"<PmtInf><PmtInfId>P-1</PmtInfId><PmtMtd>TRF</PmtMtd>{payment_type}<ReqdExctnDt>{when}</ReqdExctnDt>"
        f"<Dbtr>{payer if payer is not None else party(PAYER)}</Dbtr><DbtrAcct><Id><Othr><Id>ACC</Id></Othr></Id></DbtrAcct>"
        "<DbtrAgt><FinInstnId/></DbtrAgt>\n" + "\n".join(txs) + "\n</PmtInf></CstmrCdtTrfInitn></Document>\n"
    )
    return text.encode()


def read(content: bytes):
    assert validation_errors(content, "pain.001.001.10") == [], "the test documents are valid pain.001.001.10"
    return list(read_transactions(io.BytesIO(content), lambda: ZONE))


def one(content: bytes):
    [found] = read(content)
    return found


def errors(content: bytes) -> list[str]:
    return [str(error) for found in read(content) for error in found.errors]


def test_every_field_of_the_table():
    contract = "<RfrdDocInf><Tp><CdOrPrtry><Prtry>CONTRACT</Prtry></CdOrPrtry></Tp><Nb>C-9</Nb></RfrdDocInf>"
    invoice = "<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV 12/3</Nb></RfrdDocInf>"
    other = "<RfrdDocInf><Tp><CdOrPrtry><Cd>CREN</Cd></CdOrPrtry></Tp><Nb>CN-1</Nb></RfrdDocInf>"
    found = one(document(transaction(type_info="<PmtTpInf><CtgyPurp><Prtry>progress</Prtry></CtgyPurp></PmtTpInf>",
                                     remittance=f"<RmtInf><Ustrd>free text</Ustrd><Strd>{other}{contract}{invoice}</Strd></RmtInf>")))
    assert found.errors == () and (found.msg_id, found.pmt_inf_id, found.end_to_end_id) == ("MSG-T", "P-1", "PAY-1")
    command = found.command
    assert (command.id, command.color, command.payer, command.payee, command.amount_tiyn) == ("PAY-1", COLOR, PAYER, PAYEE, 150_050)
    assert (command.contract, command.invoice, command.kind, command.sources) == ("C-9", "INV 12/3", "progress", None)
    assert command.at == datetime(2025, 3, 1, 10, tzinfo=timezone(timedelta(hours=5)))
    assert command.at.utcoffset() == timedelta(hours=5), "the offset as written is kept"


def test_kind_may_come_from_the_payment_information():
    kind = "<PmtTpInf><CtgyPurp><Prtry>subsidy</Prtry></CtgyPurp></PmtTpInf>"
    assert one(document(payment_type=kind)).command.kind == "subsidy"


def test_persons_are_identified_by_iin_under_prvtid():
    found = one(document(transaction(payee=party(PERSON, "PrvtId", "IIN"))))
    assert found.errors == () and found.command.payee == PERSON


@pytest.mark.parametrize(("when", "created", "expected"), [
    # DtTm without offset: the ledger's zone
    ("<DtTm>2025-03-01T10:00:00</DtTm>", "2025-03-01T08:00:00+05:00", datetime(2025, 3, 1, 10, tzinfo=ZONE)),
    # Dt only, CreDtTm on that date (in the ledger's zone): CreDtTm
    ("<Dt>2025-03-01</Dt>", "2025-03-01T08:00:00+05:00", datetime(2025, 3, 1, 8, tzinfo=timezone(timedelta(hours=5)))),
    ("<Dt>2025-03-01</Dt>", "2025-03-01T08:00:00", datetime(2025, 3, 1, 8, tzinfo=ZONE)),
    # CreDtTm 2025-02-28T19:00Z is 2025-03-01 01:00 in UTC+06:00: on that date
    ("<Dt>2025-03-01</Dt>", "2025-02-28T19:00:00Z", datetime(2025, 2, 28, 19, tzinfo=timezone.utc)),
    # Dt only, CreDtTm another day: 09:00 in the ledger's zone
    ("<Dt>2025-03-05</Dt>", "2025-03-01T08:00:00+05:00", datetime(2025, 3, 5, 9, tzinfo=ZONE)),
    # CreDtTm 2025-03-01T20:00Z is already 2025-03-02 in UTC+06:00: not on that date
    ("<Dt>2025-03-01</Dt>", "2025-03-01T20:00:00Z", datetime(2025, 3, 1, 9, tzinfo=ZONE)),
])
def test_the_business_time(when, created, expected):
    found = one(document(when=when, created=created))
    assert found.errors == ()
    assert found.command.at == expected and found.command.at.utcoffset() == expected.utcoffset()


def test_the_ledgers_zone_is_asked_for_only_when_needed():
    asked = []

    def zone():
        asked.append(1)
        return ZONE

    content = document()
    assert [found.command for found in read_transactions(io.BytesIO(content), zone)][0] is not None
    assert asked == []


@pytest.mark.parametrize(("tx", "element", "says"), [
    (transaction(currency="EUR"), "CdtTrfTxInf/Amt/InstdAmt/@Ccy", "must be KZT, got EUR"),
    (transaction(purpose="<Purp><Cd>SALA</Cd></Purp>"), "CdtTrfTxInf/Purp/Prtry", "found Purp/Cd SALA"),
    (transaction(purpose=""), "CdtTrfTxInf/Purp/Prtry", "found no Purp"),
    (transaction(payee=""), "CdtTrfTxInf/Cdtr", "missing"),
    (transaction(payee=party(PAYEE, "OrgId", "IIN")), "CdtTrfTxInf/Cdtr/Id", "SchmeNm/Prtry BIN"),
    (transaction(type_info="<PmtTpInf><CtgyPurp><Cd>SUPP</Cd></CtgyPurp></PmtTpInf>"),
     "CdtTrfTxInf/PmtTpInf/CtgyPurp/Prtry", "not a Cd"),
    (transaction(amount="0"), "CdtTrfTxInf/Amt/InstdAmt", "0"),
    (transaction(remittance="<RmtInf><Strd>" + 2 * "<RfrdDocInf><Tp><CdOrPrtry><Prtry>CONTRACT</Prtry></CdOrPrtry></Tp><Nb>C</Nb></RfrdDocInf>"
                 + "</Strd></RmtInf>"), "CdtTrfTxInf/RmtInf/Strd/RfrdDocInf/Nb (Tp/CdOrPrtry/Prtry CONTRACT)", "given 2 times"),
])
def test_what_the_table_cannot_take_is_named(tx, element, says):
    [message] = errors(document(tx))
    assert message.startswith(f"MsgId MSG-T EndToEndId PAY-1 {element}: "), message
    assert says in message, message


def test_amounts_with_more_zeros_are_the_same_amount_a_third_decimal_is_not():
    assert one(document(transaction(amount="1500.500"))).command.amount_tiyn == 150_050
    [message] = errors(document(transaction(amount="1500.505")))
    assert "CdtTrfTxInf/Amt/InstdAmt" in message


def test_every_transaction_is_read_and_each_error_is_its_own():
    found = read(document(transaction("A-1"), transaction("A-2", currency="USD"), transaction("A-3", amount="2")))
    assert [item.end_to_end_id for item in found] == ["A-1", "A-2", "A-3"]
    assert [bool(item.errors) for item in found] == [False, True, False]
    assert [item.line for item in found] == [5, 6, 7]  # each CdtTrfTxInf's own line


def test_the_header_is_read_without_the_rest():
    header = read_header(io.BytesIO(document(transaction("A-1"), transaction("A-2"))))
    assert header is not None and (header.msg_id, header.transactions) == ("MSG-T", 2)
    assert read_header(io.BytesIO(b"<Document xmlns='urn:other'/>")) is None


def test_a_schema_error_in_a_file_too_large_to_reread_still_names_the_element(monkeypatch):
    from ledger.iso20022 import pain001
    content = document(transaction(), when="<DtTm>2025-03-01T10:00:00+05:00</DtTm>").replace(b"<PmtMtd>TRF", b"<PmtMtd>XXX")
    monkeypatch.setattr(pain001, "LOCATE_BYTES_MAX", 0)
    found = list(read_transactions(io.BytesIO(content), lambda: ZONE))
    messages = [str(error) for item in found for error in item.errors]
    assert any("PmtMtd" in message and "does not match the pain.001.001.10 schema" in message for message in messages), messages
