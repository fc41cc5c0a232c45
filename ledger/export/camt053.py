"""`export camt.053`: one ISO 20022 `camt.053.001.08` statement per holder and color (SPEC §3.2).

Each holder's share of a color is an account: `Acct/Id/Othr/Id` is `BIN-COLOR` (the color without
its dashes, scheme `COLOR`), its owner the holder (`Othr/Id` with scheme `BIN` or `IIN`, as a
pain.001 names parties, SPEC §3.1). The statement runs from the holder's first movement in the color
to the question's time: opening balance (`OPBD`, zero: a color starts empty), one entry per
movement, closing balance (`CLBD`) — opening + credits − debits = closing, to the tiyn (asserted).

An entry: `Amt` in KZT, `CdtDbtInd`, status `BOOK`, booking and value date-times (business time),
`BkTxCd/Prtry/Cd` the movement kind (`ALLOCATE`, `TRANSFER`, `RESERVE`, `RELEASE`, `VOID`, `SPEND`,
`RETURN`, issuer `tenge-ledger`), `EndToEndId` the transaction id (SPEC §2.3 ids up to 35
characters; a longer one is `NOTPROVIDED` there and given whole in `AddtlTxInf`), the counterparty
as debtor or creditor, the contract as `RmtInf/Strd/RfrdDocInf` (`Prtry` `CONTRACT`, as pain.001
carries it), and the color in `AddtlNtryInf`.

The document streams: each statement is serialised on its own as its color is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from domain.money import format_kzt
from ledger.export.source import ColorSlice, ExportSource, Movement, OnColor

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
MAX35 = 35
ISSUER = "tenge-ledger"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attributes)
    if text is not None:
        child.text = text
    return child


def _time(moment: datetime) -> str:
    """ISODateTime with its offset, to the second (as written, SPEC §2.5)."""
    return moment.isoformat(timespec="seconds")


def _amount(parent: ET.Element, tag: str, amount_tiyn: int) -> None:
    assert amount_tiyn >= 0
    _sub(parent, tag, format_kzt(amount_tiyn), Ccy="KZT")


def _party(parent: ET.Element, source: ExportSource, party: str) -> None:
    """`Nm` and `Id/OrgId|PrvtId/Othr` with scheme `BIN`/`IIN` of a party."""
    _sub(parent, "Nm", source.name(party)[:140])
    scheme = source.scheme(party)
    ident = _sub(_sub(parent, "Id"), "PrvtId" if scheme == "IIN" else "OrgId")
    other = _sub(ident, "Othr")
    _sub(other, "Id", party)
    _sub(_sub(other, "SchmeNm"), "Prtry", scheme)


def _balance(parent: ET.Element, code: str, amount_tiyn: int, moment: datetime) -> None:
    balance = _sub(parent, "Bal")
    _sub(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
    _amount(balance, "Amt", amount_tiyn)
    _sub(balance, "CdtDbtInd", "CRDT")
    _sub(_sub(balance, "Dt"), "DtTm", _time(moment))


def _summary(parent: ET.Element, movements: tuple[Movement, ...]) -> None:
    credits = [m.amount_tiyn for m in movements if m.amount_tiyn > 0]
    debits = [-m.amount_tiyn for m in movements if m.amount_tiyn < 0]
    net_tiyn = sum(credits) - sum(debits)
    summary = _sub(parent, "TxsSummry")
    total = _sub(summary, "TtlNtries")
    _sub(total, "NbOfNtries", str(len(movements)))
    _sub(total, "Sum", format_kzt(sum(credits) + sum(debits)))
    net = _sub(total, "TtlNetNtry")
    _sub(net, "Amt", format_kzt(abs(net_tiyn)))
    _sub(net, "CdtDbtInd", "CRDT" if net_tiyn >= 0 else "DBIT")
    for tag, amounts in (("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
        part = _sub(summary, tag)
        _sub(part, "NbOfNtries", str(len(amounts)))
        _sub(part, "Sum", format_kzt(sum(amounts)))


def _entry(parent: ET.Element, source: ExportSource, movement: Movement) -> None:
    entry = _sub(parent, "Ntry")
    _sub(entry, "NtryRef", str(movement.position))
    _amount(entry, "Amt", abs(movement.amount_tiyn))
    credit = movement.amount_tiyn > 0
    _sub(entry, "CdtDbtInd", "CRDT" if credit else "DBIT")
    _sub(_sub(entry, "Sts"), "Cd", "BOOK")
    _sub(_sub(entry, "BookgDt"), "DtTm", _time(movement.at))
    _sub(_sub(entry, "ValDt"), "DtTm", _time(movement.at))
    code = _sub(_sub(entry, "BkTxCd"), "Prtry")
    _sub(code, "Cd", movement.kind.upper())
    _sub(code, "Issr", ISSUER)
    details = _sub(_sub(entry, "NtryDtls"), "TxDtls")
    whole_id = len(movement.transaction) <= MAX35
    _sub(_sub(details, "Refs"), "EndToEndId", movement.transaction if whole_id else "NOTPROVIDED")
    _amount(details, "Amt", abs(movement.amount_tiyn))
    _sub(details, "CdtDbtInd", "CRDT" if credit else "DBIT")
    if movement.counterparty is not None and movement.counterparty != movement.holder:
        parties = _sub(details, "RltdPties")
        _party(_sub(_sub(parties, "Dbtr" if credit else "Cdtr"), "Pty"), source, movement.counterparty)
    if movement.contract is not None:
        document = _sub(_sub(_sub(details, "RmtInf"), "Strd"), "RfrdDocInf")
        _sub(_sub(_sub(document, "Tp"), "CdOrPrtry"), "Prtry", "CONTRACT")
        _sub(document, "Nb", movement.contract[:MAX35])
    if not whole_id:
        _sub(details, "AddtlTxInf", f"transaction {movement.transaction}")
    info = movement.color if movement.detail is None else f"{movement.color} {movement.kind} {movement.detail}"
    _sub(entry, "AddtlNtryInf", info[:500])


def statements(source: ExportSource, piece: ColorSlice, created: datetime) -> Iterator[ET.Element]:
    """One `Stmt` per holder of the color (holders in order), opening + entries = closing."""
    holders = sorted({m.holder for m in piece.movements})
    compact = piece.color.replace("-", "")
    for holder in holders:
        movements = tuple(m for m in piece.movements if m.holder == holder)
        statement = ET.Element("Stmt")
        _sub(statement, "Id", f"{holder}-{compact}")
        _sub(statement, "CreDtTm", _time(created))
        period = _sub(statement, "FrToDt")
        closing_at = source.moment if source.moment is not None else movements[-1].at
        _sub(period, "FrDtTm", _time(movements[0].at))
        _sub(period, "ToDtTm", _time(max(closing_at, movements[-1].at)))
        account = _sub(statement, "Acct")
        other = _sub(_sub(account, "Id"), "Othr")
        _sub(other, "Id", f"{holder}-{compact}")
        _sub(_sub(other, "SchmeNm"), "Prtry", "COLOR")
        _sub(account, "Ccy", "KZT")
        _sub(account, "Nm", piece.color)
        _party(_sub(account, "Ownr"), source, holder)
        opening_tiyn = 0
        closing_tiyn = opening_tiyn + sum(m.amount_tiyn for m in movements)
        assert closing_tiyn >= 0, f"{holder} holds no negative balance of {piece.color}"
        _balance(statement, "OPBD", opening_tiyn, movements[0].at)
        _balance(statement, "CLBD", closing_tiyn, max(closing_at, movements[-1].at))
        _summary(statement, movements)
        for movement in movements:
            _entry(statement, source, movement)
        yield statement


def write_camt053(source: ExportSource, out: IO[bytes], created: datetime | None = None,
                  on_color: OnColor | None = None) -> int:
    """Write the statement document to `out` (binary); returns the number of statements."""
    created = created or datetime.now(timezone.utc).replace(microsecond=0)
    message_id = f"TENGE-{created:%Y%m%d%H%M%S}-{source.position}"[:MAX35]
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'.encode())
    out.write(f"<GrpHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>{_time(created)}</CreDtTm>".encode())
    as_of = source.as_of or f"@{source.position}"
    out.write(f"<AddtlInf>{escape(f'tenge-ledger statements as of {as_of}')}</AddtlInf></GrpHdr>".encode())
    count = 0
    for piece in source.slices(on_color):
        for statement in statements(source, piece, created):
            out.write(ET.tostring(statement, encoding="utf-8", xml_declaration=False))
            count += 1
    out.write(b"</BkToCstmrStmt></Document>\n")
    return count
