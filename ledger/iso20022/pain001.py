"""pain.001.001.10 in (SPEC §3.1): every `CdtTrfTxInf` of a customer credit transfer initiation
becomes one `transfer` command, through the same validation as a JSON Lines line.

`read_transactions` streams a file with `lxml.etree.iterparse`, validating it against the shipped
schema *while* parsing (so a file of any size is read once, in bounded memory: each transaction is
dropped from the tree once mapped). Before that, the root element is looked at alone: a document
in another namespace (another version, a national variant such as the Swiss
`pain.001.001.03.ch.02`, a camt.053 or a pain.002) is refused in one line naming what was found.

Each transaction is mapped to the interchange object SPEC §3.1's table gives (`record_of`), which
`ledger.interchange.parse_record` then checks exactly as it checks a JSON Lines object: same
pydantic schemas, same identifier and amount rules. Its field errors are renamed back to the
element they came from (`from` -> `PmtInf/Dbtr/Id`). Every error names the message id
(`GrpHdr/MsgId`), the `EndToEndId` and the element; its line is the line of the `CdtTrfTxInf`
(or of the element that broke the schema).

Time (`at`): `PmtInf/ReqdExctnDt/DtTm`; with only `ReqdExctnDt/Dt`, `GrpHdr/CreDtTm` if it falls on
that date (in the ledger's time zone), else that date at 09:00 in the ledger's time zone; a time
written without an offset is in the ledger's time zone. The zone is asked for (`zone()`) only
when a file needs it, since the caller may have to open the store to learn it.

`write_pain001` is the inverse, for tests, benchmarks and systems that want to send what a ledger
holds as a payment file: `read(write(transfers))` gives the same commands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from functools import cache
from typing import IO, Any

from lxml import etree

from domain.commands import Transfer
from domain.errors import MalformedInput
from domain.money import format_kzt
from domain.policy import LEDGER_TIME_ZONE_DEFAULT, time_zone_text
from ledger.interchange import MalformedInputs, parse_record
from ledger.iso20022 import PAIN001_NS
from ledger.iso20022.xsd import message_name, schema

MESSAGE = "pain.001.001.10"
CURRENCY = "KZT"
NS = {"p": PAIN001_NS}
_GRP_HDR, _TRANSACTION, _PAYMENT, _DOCUMENT = (f"{{{PAIN001_NS}}}{name}" for name in ("GrpHdr", "CdtTrfTxInf", "PmtInf", "Document"))
CONTRACT_TYPE = "CONTRACT"  # RfrdDocInf/Tp/CdOrPrtry/Prtry of the contract paid under
INVOICE_CODE = "CINV"  # RfrdDocInf/Tp/CdOrPrtry/Cd of the invoice paid
TEXT_MAX = 35  # Max35Text: EndToEndId, Purp/Prtry, RfrdDocInf/Nb, Othr/Id
DATE_ONLY_HOUR = 9  # ReqdExctnDt/Dt alone: that date at 09:00 in the ledger's time zone
NOT_PROVIDED = "NOTPROVIDED"  # the placeholder EndToEndId of ISO 20022: no transaction id

# interchange field -> the element it comes from (for errors)
ELEMENTS = {
    "id": "CdtTrfTxInf/PmtId/EndToEndId",
    "type": "CdtTrfTxInf",
    "line": "CdtTrfTxInf",
    "at": "PmtInf/ReqdExctnDt",
    "from": "PmtInf/Dbtr/Id",
    "to": "CdtTrfTxInf/Cdtr/Id",
    "amount": "CdtTrfTxInf/Amt/InstdAmt",
    "color": "CdtTrfTxInf/Purp/Prtry",
    "contract": "CdtTrfTxInf/RmtInf/Strd/RfrdDocInf/Nb (Tp/CdOrPrtry/Prtry CONTRACT)",
    "invoice": "CdtTrfTxInf/RmtInf/Strd/RfrdDocInf/Nb (Tp/CdOrPrtry/Cd CINV)",
    "kind": "CdtTrfTxInf/PmtTpInf/CtgyPurp/Prtry",
}
_TAG = re.compile(r"\{[^}]*\}")
_NAMESPACE = re.compile(r"\{[a-z]+:[^}]*\}")
LOCATE_BYTES_MAX = 32 << 20  # a file with a schema error is read again as a whole tree to say where (~10x its size in memory)
LOCATED_ERRORS_MAX = 100
_OFFSET = re.compile(r"(Z|z|[+-]\d{2}:\d{2})$")
_EXTRA_ZEROS = re.compile(r"^(\d+\.\d{2})0+$")

ZoneSource = Callable[[], tzinfo]


@dataclass(frozen=True, slots=True)
class Pain001Transaction:
    """One `CdtTrfTxInf` read (its command or its errors, never both), or an error of the document
    itself (then `end_to_end_id` may be None and `line` is where the document broke)."""

    line: int
    msg_id: str | None
    pmt_inf_id: str | None
    end_to_end_id: str | None
    command: Transfer | None
    errors: tuple[MalformedInput, ...]


@dataclass(frozen=True, slots=True)
class Pain001Header:
    msg_id: str
    created: str  # GrpHdr/CreDtTm as written
    transactions: int | None  # GrpHdr/NbOfTxs (None when it is not a number: the schema check says so)


@cache
def _p(path: str) -> str:
    """`A/B` in pain.001's namespace, in Clark notation (faster to look up than with a prefix map)."""
    return "/".join(f"{{{PAIN001_NS}}}{step}" for step in path.split("/"))


def is_xml(head: bytes) -> bool:
    """Does a file starting with these bytes hold XML (rather than JSON Lines)?"""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return text.startswith(b"<")


def _field(msg_id: str | None, end_to_end_id: str | None, element: str) -> str:
    parts = [f"MsgId {msg_id}" if msg_id else None, f"EndToEndId {end_to_end_id}" if end_to_end_id else None, element]
    return " ".join(part for part in parts if part)


def _local(tag: Any) -> str:
    return _TAG.sub("", tag) if isinstance(tag, str) else ""


def _document_error(line: int | None, element: str, message: str, msg_id: str | None = None,
                    pmt_inf_id: str | None = None, end_to_end_id: str | None = None) -> Pain001Transaction:
    error = MalformedInput(_field(msg_id, end_to_end_id, element), message)
    return Pain001Transaction(max(line or 1, 1), msg_id, pmt_inf_id, end_to_end_id, None, (error,))


def _refusal(stream: IO[bytes]) -> Pain001Transaction | None:
    """Why this document is not a pain.001.001.10 (namespace, root), or None if it is one."""
    try:
        for _, root in etree.iterparse(stream, events=("start",), no_network=True,
                                       load_dtd=False, huge_tree=True):
            namespace = etree.QName(root).namespace
            if root.getroottree().docinfo.doctype:
                return _document_error(1, "DOCTYPE", "a pain.001 file carries no document type declaration "
                                                     "(entities are not expanded)")
            if namespace == PAIN001_NS and etree.QName(root).localname == "Document":
                return None
            found = message_name(namespace)
            what = f"{found} (namespace {namespace})" if found else (
                f"namespace {namespace}" if namespace else f"a {_local(root.tag)} element without a namespace")
            return _document_error(root.sourceline, _local(root.tag),
                                   f"not a {MESSAGE} file: found {what}; tenge-ledger imports only {MESSAGE} "
                                   f"(namespace {PAIN001_NS})")
    except etree.XMLSyntaxError as error:
        return _document_error(error.lineno, "Document", f"not well-formed XML: {error.msg}")
    return _document_error(1, "Document", "no XML element found")


def read_transactions(stream: IO[bytes], zone: ZoneSource | None = None) -> Iterator[Pain001Transaction]:
    """Every transaction of a pain.001.001.10 file, in document order (see the module docstring).

    `stream` must be seekable (the root is looked at before the validating parse). Stops at the
    first schema or syntax error (yielded as an error naming the element)."""
    start = stream.tell()
    refusal = _refusal(stream)
    if refusal is not None:
        yield refusal
        return
    stream.seek(start)
    yield from _Reader(zone or (lambda: LEDGER_TIME_ZONE_DEFAULT)).read(stream)


class _Reader:
    def __init__(self, zone: ZoneSource) -> None:
        self._zone_source = zone
        self._zone: tzinfo | None = None
        self.msg_id: str | None = None
        self.created: str | None = None
        self.declared: int | None = None
        self.header_line = 1
        self.pmt_inf_id: str | None = None
        self.count = 0
        self._payment: Any = None  # the PmtInf whose fields `_payment_cache` holds
        self._payment_cache: Any = None

    def zone(self) -> tzinfo:
        if self._zone is None:
            self._zone = self._zone_source()
        return self._zone

    def read(self, stream: IO[bytes]) -> Iterator[Pain001Transaction]:
        start = stream.tell()
        # only the elements mapped are reported (the parser still builds and validates every one)
        events = etree.iterparse(stream, events=("end",), tag=(_GRP_HDR, _TRANSACTION, _PAYMENT, _DOCUMENT),
                                 schema=schema(MESSAGE), no_network=True, load_dtd=False, huge_tree=True,
                                 remove_comments=True)
        element: Any = None
        finished = False
        try:
            for _, element in events:
                tag = element.tag
                if tag == _TRANSACTION:
                    self.count += 1
                    yield self._transaction(element)
                    _drop(element)
                elif tag == _PAYMENT:
                    _drop(element)
                elif tag == _GRP_HDR:
                    self._header(element)
                elif element.getparent() is None:
                    finished = True
        except etree.LxmlError as error:  # XMLSyntaxError, and XMLSchemaValidateError on what validation cannot take
            yield from self._schema_errors(error, stream, start)
            return
        if not finished:
            yield _document_error(element.sourceline if element is not None else 1, "Document",
                                  "not well-formed XML: the file ends before </Document>", self.msg_id)
            return
        if self.declared is not None and self.declared != self.count:
            yield _document_error(self.header_line, "GrpHdr/NbOfTxs",
                                  f"says {self.declared} transaction(s), the file holds {self.count}", self.msg_id)

    def header(self) -> Pain001Header | None:
        if self.msg_id is None or self.created is None:
            return None  # no message to answer (the schema check says what is missing)
        return Pain001Header(self.msg_id, self.created, self.declared)

    def _header(self, element: Any) -> None:
        self.msg_id = element.findtext(_p("MsgId"))
        self.created = element.findtext(_p("CreDtTm"))
        declared = (element.findtext(_p("NbOfTxs")) or "").strip()
        self.declared = int(declared) if declared.isdigit() else None  # else the schema says what is wrong
        self.header_line = element.sourceline or 1

    def _schema_errors(self, error: etree.LxmlError, stream: IO[bytes], start: int) -> Iterator[Pain001Transaction]:
        """The errors of a file that broke while being read, each with its line, message id,
        EndToEndId and element.

        Validation while streaming knows no line numbers, so the document is read again as a
        tree (when it is not too large) and validated whole: every error then has its line and
        path, and the path gives the transaction it is in."""
        size = stream.seek(0, 2) - start
        if size <= LOCATE_BYTES_MAX:
            stream.seek(start)
            parser = etree.XMLParser(no_network=True, load_dtd=False, huge_tree=True)
            try:
                tree = etree.parse(stream, parser)
            except etree.XMLSyntaxError as broken:
                yield _document_error(broken.lineno, "Document", f"not well-formed XML: {broken.msg}", self.msg_id)
                return
            checker = schema(MESSAGE)
            try:
                valid = checker.validate(tree)
            except etree.LxmlError as unvalidatable:
                yield _document_error(1, "Document", f"cannot be validated against the {MESSAGE} schema: {unvalidatable}",
                                      self.msg_id)
                return
            if not valid:
                for entry in list(checker.error_log)[:LOCATED_ERRORS_MAX]:
                    found = tree.xpath(entry.path) if entry.path else []
                    yield self._schema_error(entry.line, entry.message, found[0] if found else None)
                return
        entries = list(getattr(error, "error_log", None) or [])
        lineno = getattr(error, "lineno", None)
        if entries and entries[-1].domain_name != "SCHEMASV":
            yield _document_error(lineno, "Document", f"not well-formed XML: {error}", self.msg_id)
            return
        yield self._schema_error(lineno, getattr(error, "msg", None) or str(error), None)

    def _schema_error(self, line: int | None, message: str, element: Any) -> Pain001Transaction:
        message = _NAMESPACE.sub("", message or "invalid").strip()
        pmt_inf_id, end_to_end_id = self.pmt_inf_id, None
        named = re.match(r"Element '([^']+)'", message)
        where = named.group(1) if named else "Document"
        if element is not None:
            names = [_local(node.tag) for node in reversed(list(element.iterancestors()))] + [_local(element.tag)]
            where = "/".join(names[2:]) or names[-1]
            for node in [element, *element.iterancestors()]:
                if _local(node.tag) == "CdtTrfTxInf":
                    end_to_end_id = node.findtext(_p("PmtId/EndToEndId"))
                    where = "/".join(names[names.index("CdtTrfTxInf"):])
                elif _local(node.tag) == "PmtInf":
                    pmt_inf_id = node.findtext(_p("PmtInfId"))
        return _document_error(line, where, f"does not match the {MESSAGE} schema: {message}",
                               self.msg_id, pmt_inf_id, end_to_end_id)

    def _transaction(self, tx: Any) -> Pain001Transaction:
        payment = tx.getparent()
        self.pmt_inf_id = self._payment_fields(payment)[0]
        line = tx.sourceline or 1
        end_to_end_id = tx.findtext(_p("PmtId/EndToEndId"))
        record, errors = self.record_of(payment, tx)
        command: Transfer | None = None
        if not errors:
            try:
                parsed = parse_record(record)
            except MalformedInputs as malformed:
                errors = [(ELEMENTS.get(error.field, error.field), error.message) for error in malformed.errors]
            else:
                assert isinstance(parsed, Transfer), parsed
                command = parsed
        found = tuple(MalformedInput(_field(self.msg_id, end_to_end_id, element), message) for element, message in errors)
        return Pain001Transaction(line, self.msg_id, self.pmt_inf_id, end_to_end_id, command, found)

    def record_of(self, payment: Any, tx: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The interchange object of one transaction (SPEC §3.1's table) and the errors found in
        mapping it (before any interchange check)."""
        errors: list[tuple[str, str]] = []
        end_to_end_id = tx.findtext(_p("PmtId/EndToEndId"))
        if end_to_end_id == NOT_PROVIDED:
            errors.append((ELEMENTS["id"], f"{NOT_PROVIDED} cannot be a transaction id: every transfer needs its own EndToEndId"))
        _, at, payer, payment_kind, payment_kind_code, payment_errors = self._payment_fields(payment)
        errors += payment_errors
        record: dict[str, Any] = {"id": end_to_end_id, "type": "transfer", "at": at, "from": payer}
        record["to"] = _party(tx.find(_p("Cdtr")), "CdtTrfTxInf/Cdtr", errors)
        record["amount"] = _amount(tx, errors)
        record["color"] = _color(tx, errors)
        contract, invoice = _documents(tx, errors)
        if contract is not None:
            record["contract"] = contract
        if invoice is not None:
            record["invoice"] = invoice
        kind = tx.findtext(_p("PmtTpInf/CtgyPurp/Prtry"))
        if kind is None:
            kind = payment_kind
        if kind is None and (tx.find(_p("PmtTpInf/CtgyPurp/Cd")) is not None or payment_kind_code):
            errors.append((ELEMENTS["kind"], "the kind of payment is a Prtry (advance, progress, final, subsidy), not a Cd"))
        if kind is not None:
            record["kind"] = kind
        return record, errors

    def _payment_fields(self, payment: Any) -> tuple[str | None, str | None, str | None, str | None, bool, tuple[tuple[str, str], ...]]:
        """What a `PmtInf` gives each of its transactions: (PmtInfId, at, from, kind, whether the
        kind is a Cd, errors), worked out once per `PmtInf`."""
        if self._payment is not payment:
            errors: list[tuple[str, str]] = []
            at = self._at(payment, errors)
            payer = _party(payment.find(_p("Dbtr")), "PmtInf/Dbtr", errors)
            self._payment = payment
            self._payment_cache = (payment.findtext(_p("PmtInfId")), at, payer, payment.findtext(_p("PmtTpInf/CtgyPurp/Prtry")),
                                   payment.find(_p("PmtTpInf/CtgyPurp/Cd")) is not None, tuple(errors))
        return self._payment_cache

    def _at(self, payment: Any, errors: list[tuple[str, str]]) -> str | None:
        written = payment.findtext(_p("ReqdExctnDt/DtTm"))
        if written is not None:
            return self._with_offset(written.strip())
        day_text = payment.findtext(_p("ReqdExctnDt/Dt"))
        assert day_text is not None, "the schema requires Dt or DtTm"
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError as error:
            errors.append(("PmtInf/ReqdExctnDt/Dt", f"is not a valid date ({error}): {day_text!r}"))
            return None
        created = self._with_offset((self.created or "").strip())
        try:
            created_at = datetime.fromisoformat(created.upper())
        except ValueError:
            created_at = None
        if created_at is not None and created_at.astimezone(self.zone()).date() == day:
            return created
        return datetime.combine(day, time(DATE_ONLY_HOUR), self.zone()).isoformat()

    def _with_offset(self, text: str) -> str:
        """An ISO date-time with an explicit offset: one written without is in the ledger's zone."""
        if _OFFSET.search(text) or "T" not in text:
            return text
        return text + time_zone_text(self.zone())


def _drop(element: Any) -> None:
    """Free a mapped element and every finished sibling before it (bounded memory)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is None:
        return
    while (previous := element.getprevious()) is not None and previous.tag == element.tag:
        parent.remove(previous)


def _party(party: Any, where: str, errors: list[tuple[str, str]]) -> str | None:
    if party is None:
        errors.append((where, "missing: the party is identified by its BIN or IIN"))
        return None
    for path, scheme in (("Id/OrgId/Othr", "BIN"), ("Id/PrvtId/Othr", "IIN")):
        for other in party.findall(_p(path)):
            if other.findtext(_p("SchmeNm/Prtry")) == scheme:
                return other.findtext(_p("Id"))
    errors.append((f"{where}/Id", "needs OrgId/Othr with SchmeNm/Prtry BIN (an organisation) or "
                                  "PrvtId/Othr with SchmeNm/Prtry IIN (a person)"))
    return None


def _amount(tx: Any, errors: list[tuple[str, str]]) -> str | None:
    amount = tx.find(_p("Amt/InstdAmt"))
    if amount is None:
        errors.append(("CdtTrfTxInf/Amt", f"must be InstdAmt in {CURRENCY} (EqvtAmt is not taken)"))
        return None
    currency = amount.get("Ccy")
    if currency != CURRENCY:
        errors.append(("CdtTrfTxInf/Amt/InstdAmt/@Ccy", f"must be {CURRENCY}, got {currency}"))
        return None
    text = (amount.text or "").strip()
    return _EXTRA_ZEROS.sub(r"\1", text)


def _color(tx: Any, errors: list[tuple[str, str]]) -> str | None:
    color = tx.findtext(_p("Purp/Prtry"))
    if color is None:
        found = "Purp/Cd " + (tx.findtext(_p("Purp/Cd")) or "") if tx.find(_p("Purp")) is not None else "no Purp"
        errors.append((ELEMENTS["color"], f"missing (found {found.strip()}): every transfer names its color in Purp/Prtry"))
    return color


def _documents(tx: Any, errors: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    contracts: list[str] = []
    invoices: list[str] = []
    for document in tx.findall(_p("RmtInf/Strd/RfrdDocInf")):
        number = document.findtext(_p("Nb"))
        if document.findtext(_p("Tp/CdOrPrtry/Prtry")) == CONTRACT_TYPE:
            contracts.append(number or "")
        elif document.findtext(_p("Tp/CdOrPrtry/Cd")) == INVOICE_CODE:
            invoices.append(number or "")
    for values, field in ((contracts, "contract"), (invoices, "invoice")):
        if len(values) > 1:
            errors.append((ELEMENTS[field], f"given {len(values)} times; a transfer pays under one {field}"))
    return (contracts[0] if contracts else None), (invoices[0] if invoices else None)


def read_header(stream: IO[bytes]) -> Pain001Header | None:
    """GrpHdr of a pain.001.001.10 file (None if the file is not one), without reading on."""
    start = stream.tell()
    if _refusal(stream) is not None:
        return None
    stream.seek(start)
    for _, element in etree.iterparse(stream, events=("end",), tag=f"{{{PAIN001_NS}}}GrpHdr",
                                      no_network=True, load_dtd=False, huge_tree=True):
        reader = _Reader(lambda: LEDGER_TIME_ZONE_DEFAULT)
        reader._header(element)
        return reader.header()
    return None


# --- writing ---------------------------------------------------------------------------------

class Unwritable(ValueError):
    """A transfer that a pain.001 cannot carry (an id over 35 characters, `sources`)."""


def check_writable(transfer: Transfer) -> None:
    if transfer.sources is not None:
        raise Unwritable(f"{transfer.id}: a pain.001 cannot name the lots paid from (sources)")
    for name, value in (("id", transfer.id), ("contract", transfer.contract), ("invoice", transfer.invoice)):
        if value is not None and len(value) > TEXT_MAX:
            raise Unwritable(f"{transfer.id}: {name} is longer than {TEXT_MAX} characters (Max35Text)")


def write_pain001(out: IO[bytes], transfers: Sequence[Transfer], msg_id: str, created: datetime,
                  individuals: Iterable[str] = (), initiator: str = "tenge-ledger") -> None:
    """Write `transfers` as one pain.001.001.10 document (consecutive transfers of one payer at one
    time share a `PmtInf`). `individuals`: the parties identified by an IIN (PrvtId), the others
    go as organisations (OrgId, BIN). Raises `Unwritable` for a transfer the format cannot carry."""
    assert created.utcoffset() is not None, "CreDtTm is written with its offset"
    persons = frozenset(individuals)
    for transfer in transfers:
        check_writable(transfer)
    groups: list[list[Transfer]] = []
    for transfer in transfers:
        if groups and (groups[-1][0].payer, groups[-1][0].at) == (transfer.payer, transfer.at):
            groups[-1].append(transfer)
        else:
            groups.append([transfer])
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{PAIN001_NS}}}Document", nsmap={None: PAIN001_NS}):
            xf.write("\n")
            with xf.element(f"{{{PAIN001_NS}}}CstmrCdtTrfInitn"):
                header = build("GrpHdr", [("MsgId", msg_id), ("CreDtTm", created.isoformat()),
                                           ("NbOfTxs", str(len(transfers))), ("InitgPty", [("Nm", initiator)])])
                xf.write(header)
                xf.write("\n")
                for number, group in enumerate(groups, 1):
                    _write_payment(xf, f"{msg_id[:TEXT_MAX - 8]}-{number:07d}", group, persons)


def _write_payment(xf: Any, pmt_inf_id: str, group: list[Transfer], persons: frozenset[str]) -> None:
    first = group[0]
    with xf.element(f"{{{PAIN001_NS}}}PmtInf"):
        head = [("PmtInfId", pmt_inf_id), ("PmtMtd", "TRF"), ("NbOfTxs", str(len(group))),
                ("ReqdExctnDt", [("DtTm", first.at.isoformat())]), ("Dbtr", _party_content(first.payer, persons)),
                ("DbtrAcct", [("Id", [("Othr", [("Id", first.payer)])])]),
                ("DbtrAgt", [("FinInstnId", [("BICFI", "NBRKKZKX")])])]
        for name, value in head:
            xf.write(build(name, value))
        xf.write("\n")
        for transfer in group:
            xf.write(build("CdtTrfTxInf", _transaction_content(transfer, persons)))
            xf.write("\n")


def _party_content(party: str, persons: frozenset[str]) -> list[tuple[str, Any]]:
    choice, scheme = ("PrvtId", "IIN") if party in persons else ("OrgId", "BIN")
    return [("Id", [(choice, [("Othr", [("Id", party), ("SchmeNm", [("Prtry", scheme)])])])])]


def _transaction_content(transfer: Transfer, persons: frozenset[str]) -> list[tuple[str, Any]]:
    content: list[tuple[str, Any]] = [("PmtId", [("EndToEndId", transfer.id)])]
    if transfer.kind is not None:
        content.append(("PmtTpInf", [("CtgyPurp", [("Prtry", transfer.kind)])]))
    content.append(("Amt", [("InstdAmt", (format_kzt(transfer.amount_tiyn), {"Ccy": CURRENCY}))]))
    content.append(("Cdtr", _party_content(transfer.payee, persons)))
    content.append(("CdtrAcct", [("Id", [("Othr", [("Id", transfer.payee)])])]))
    content.append(("Purp", [("Prtry", transfer.color)]))
    documents = []
    if transfer.contract is not None:
        documents.append(("RfrdDocInf", [("Tp", [("CdOrPrtry", [("Prtry", CONTRACT_TYPE)])]), ("Nb", transfer.contract)]))
    if transfer.invoice is not None:
        documents.append(("RfrdDocInf", [("Tp", [("CdOrPrtry", [("Cd", INVOICE_CODE)])]), ("Nb", transfer.invoice)]))
    if documents:
        content.append(("RmtInf", [("Strd", documents)]))
    return content


def build(name: str, value: Any) -> Any:
    """An element from (name, text | [(child, value)...] | (text, attributes))."""
    element = etree.Element(name)
    if isinstance(value, tuple):
        value, attributes = value
        for key, attribute in attributes.items():
            element.set(key, attribute)
    if isinstance(value, str):
        element.text = value
    else:
        for child_name, child_value in value:
            element.append(build(child_name, child_value))
    return element
