"""The answer to an imported pain.001: a `pain.002.001.11` customer payment status report (SPEC §3.1).

One `TxInfAndSts` per transaction of the pain.001, in its order, under the `PmtInf` it came in:
- `ACCP` for a transfer applied now or before (a `duplicate` says so in `AddtlInf`);
- `RJCT` for one blocked by a rule (`StsRsnInf/Rsn/Prtry` is the rule, `AddtlInf` its sentence),
  an id reused with different content (`conflict`), or malformed input (`malformed`, with the
  error; nothing of the file was applied then, and the group says so).
Group and payment-information status: `ACCP` when every transaction is accepted, `RJCT` when none
is, `PART` otherwise, with the count per status (`NbOfTxsPerSts`).

Statuses are kept only for transactions that are not plainly accepted, so the report of a large
file costs memory for its problems only; the transactions themselves are read again from the file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from itertools import groupby
from typing import IO, Any

from lxml import etree

from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, Outcome
from ledger.iso20022 import PAIN002_NS
from ledger.iso20022.pain001 import MESSAGE as PAIN001, Pain001Header, Pain001Transaction, ZoneSource, read_header, read_transactions
from ledger.iso20022.pain001 import build as _build

ACCEPTED = "ACCP"
REJECTED = "RJCT"
PARTIAL = "PART"
MALFORMED = "malformed"
NOT_APPLIED = "not_applied"
ADDITIONAL_MAX = 105  # Max105Text
REASON_MAX = 35  # Max35Text
ADDITIONAL_LINES_MAX = 20  # AddtlInf lines kept per reason


Key = tuple[str | None, str | None]  # (PmtInfId, EndToEndId) of a transaction


@dataclass
class StatusBook:
    """What became of each transaction (by the line of its `CdtTrfTxInf`), as the import goes; and,
    for a malformed file, the errors of each transaction (one transaction may be named by a mapping
    error and again by a schema error found later: the report names it once, with both)."""

    reasons: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # line -> (status, rule, sentence)
    malformed: bool = False
    errors: dict[Key, list[str]] = field(default_factory=dict)

    def outcome(self, line: int, outcome: Outcome) -> None:
        if outcome.status == APPLIED:
            return
        if outcome.status == DUPLICATE:
            self.reasons[line] = (ACCEPTED, DUPLICATE, "already applied: this EndToEndId was imported before")
        elif outcome.status == BLOCKED:
            self.reasons[line] = (REJECTED, outcome.reason or BLOCKED, outcome.detail or outcome.reason or BLOCKED)
        else:
            assert outcome.status == CONFLICT, outcome.status
            self.reasons[line] = (REJECTED, CONFLICT, outcome.detail or "the EndToEndId was used before for another payment")

    def note_errors(self, transaction: Pain001Transaction) -> None:
        if transaction.errors:
            self.malformed = True
            if transaction.end_to_end_id is not None:
                key = (transaction.pmt_inf_id, transaction.end_to_end_id)
                self.errors.setdefault(key, []).extend(str(error) for error in transaction.errors)

    def rows(self, transactions: Iterable[Pain001Transaction]) -> Iterator[tuple[Pain001Transaction, tuple[str, str | None, str | None]]]:
        """Each transaction of the file with its status, once (after `note_errors` saw them all)."""
        named: set[Key] = set()
        for transaction in transactions:
            if transaction.end_to_end_id is None:
                continue
            if not self.malformed:
                yield transaction, self.reasons.get(transaction.line, (ACCEPTED, None, None))
                continue
            key = (transaction.pmt_inf_id, transaction.end_to_end_id)
            errors = self.errors.get(key)
            if errors is None:
                yield transaction, (REJECTED, NOT_APPLIED, "nothing in the file was applied: it holds malformed transactions")
            elif key not in named:
                named.add(key)
                yield transaction, (REJECTED, MALFORMED, "; ".join(errors))


def group_status(counts: Counter[str]) -> str:
    if not counts[REJECTED]:
        return ACCEPTED
    return REJECTED if not counts[ACCEPTED] else PARTIAL


def report_id(header: Pain001Header, created: datetime) -> str:
    digest = hashlib.sha256(f"{header.msg_id}|{created.isoformat()}".encode()).hexdigest()[:10]
    return f"TL-{created:%Y%m%d%H%M%S}-{digest}"


def write_pain002(out: IO[bytes], header: Pain001Header, transactions: Callable[[], Iterable[Pain001Transaction]],
                  book: StatusBook, created: datetime) -> Counter[str]:
    """Write the status report of the pain.001 `header`; `transactions()` reads its transactions
    again from the file, in order (two or three times: the group's counts come first); `book` holds
    what became of them. Errors of the document as a whole (schema, count of transactions) reject the group,
    with them as its reasons. Returns the count per status."""
    assert created.utcoffset() is not None
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for transaction in transactions():
        book.note_errors(transaction)
        if transaction.end_to_end_id is None:
            problems += [str(error) for error in transaction.errors]
        elif not book.malformed:
            counts[book.reasons.get(transaction.line, (ACCEPTED,))[0]] += 1
    if book.malformed:
        counts = Counter(status for _, (status, _, _) in book.rows(transactions()))
    status = REJECTED if book.malformed else group_status(counts)
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{PAIN002_NS}}}Document", nsmap={None: PAIN002_NS}):
            xf.write("\n")
            with xf.element(f"{{{PAIN002_NS}}}CstmrPmtStsRpt"):
                xf.write(_build("GrpHdr", [("MsgId", report_id(header, created)), ("CreDtTm", created.isoformat())]))
                xf.write("\n")
                original = [("OrgnlMsgId", _max35(header.msg_id)), ("OrgnlMsgNmId", PAIN001)]
                if _is_date_time(header.created):
                    original.append(("OrgnlCreDtTm", header.created))
                if header.transactions is not None:
                    original.append(("OrgnlNbOfTxs", str(header.transactions)))
                original.append(("GrpSts", status))
                original += [("StsRsnInf", _reason(MALFORMED, problem)) for problem in problems[:ADDITIONAL_LINES_MAX]]
                original += _per_status(counts)
                xf.write(_build("OrgnlGrpInfAndSts", original))
                xf.write("\n")
                for pmt_inf_id, group in groupby(book.rows(transactions()), key=lambda row: row[0].pmt_inf_id):
                    _write_payment(xf, pmt_inf_id or "", list(group))
    return counts


def _write_payment(xf: Any, pmt_inf_id: str, rows: list[tuple[Pain001Transaction, tuple[str, str | None, str | None]]]) -> None:
    counts = Counter(status for _, (status, _, _) in rows)
    with xf.element(f"{{{PAIN002_NS}}}OrgnlPmtInfAndSts"):
        head = [("OrgnlPmtInfId", _max35(pmt_inf_id)), ("OrgnlNbOfTxs", str(len(rows))), ("PmtInfSts", group_status(counts))]
        for name, value in head + _per_status(counts):
            xf.write(_build(name, value))
        xf.write("\n")
        for transaction, (status, rule, sentence) in rows:
            content: list[tuple[str, Any]] = [("OrgnlEndToEndId", _max35(transaction.end_to_end_id)), ("TxSts", status)]
            if rule is not None:
                content.append(("StsRsnInf", _reason(rule, sentence or rule)))
            xf.write(_build("TxInfAndSts", content))
            xf.write("\n")


def _max35(text: str | None) -> str:
    """An identifier as a Max35Text (a malformed pain.001 may hold a longer or an empty one)."""
    return (text or "")[:REASON_MAX] or "-"


def _is_date_time(text: str) -> bool:
    """Is `text` an xs:dateTime (a malformed pain.001's CreDtTm is left out of the answer)?"""
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text


def _per_status(counts: Counter[str]) -> list[tuple[str, Any]]:
    return [("NbOfTxsPerSts", [("DtldNbOfTxs", str(counts[status])), ("DtldSts", status)])
            for status in (ACCEPTED, REJECTED) if counts[status]]


def _reason(rule: str, sentence: str) -> list[tuple[str, Any]]:
    """`Rsn/Prtry` the rule, `AddtlInf` its sentence cut into Max105Text pieces."""
    return [("Rsn", [("Prtry", rule[:REASON_MAX] or "-")])] + [("AddtlInf", piece) for piece in _pieces(sentence)]


def _pieces(text: str) -> Iterator[str]:
    text = " ".join("".join(char for char in text if char.isprintable() or char.isspace()).split()) or "-"
    for number, start in enumerate(range(0, len(text), ADDITIONAL_MAX)):
        if number == ADDITIONAL_LINES_MAX:
            return
        yield text[start:start + ADDITIONAL_MAX]


class Pain002Answer:
    """The answer to one pain.001 file being imported: collects what became of each transaction
    (`on_outcome`, the importer's callback) and writes the pain.002 (`write`)."""

    def __init__(self, path: Path, zone: ZoneSource | None = None) -> None:
        self.path = path
        self.zone = zone
        self.book = StatusBook()
        self.header: Pain001Header | None = None
        try:
            with path.open("rb") as stream:
                self.header = read_header(stream)
        except (OSError, etree.LxmlError):
            self.header = None  # the import's own validation says what is wrong with the file

    def on_outcome(self, source: object, line: int, outcome: Outcome) -> None:
        self.book.outcome(line, outcome)

    def write(self, out: IO[bytes], created: datetime | None = None) -> bool:
        """Write the report; False (nothing written) when the file is not a pain.001 at all:
        there is no message to answer."""
        if self.header is None:
            return False

        def transactions() -> Iterator[Pain001Transaction]:
            with self.path.open("rb") as stream:
                yield from read_transactions(stream, self.zone)

        write_pain002(out, self.header, transactions, self.book, created or datetime.now(timezone.utc).replace(microsecond=0))
        return True
