"""Reading the exports back as their users' tools do, written from the formats' own definitions
(ISO 20022, Beancount, Parquet), not from the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
CAMT = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NS = {"c": CAMT}


def tiyn(text: str) -> int:
    """KZT text to tiyn, exactly (at most two decimals)."""
    amount = Decimal(text) * 100
    assert amount == amount.to_integral_value(), text
    return int(amount)


@dataclass(frozen=True)
class Statement:
    holder: str
    color: str
    opening_tiyn: int
    closing_tiyn: int
    entries: list[tuple[str, int, str]]  # (EndToEndId, signed tiyn, AddtlNtryInf)


def camt_schema() -> etree.XMLSchema:
    """The official schema, as the package ships it (`ledger/iso20022/xsd/`)."""
    from ledger.iso20022.xsd import schema

    return schema("camt.053.001.08")


def camt_statements(path: Path) -> list[Statement]:
    document = etree.parse(str(path))
    found = []
    for statement in document.iterfind("c:BkToCstmrStmt/c:Stmt", NS):
        balances = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): b for b in statement.iterfind("c:Bal", NS)}

        def signed(element: etree._Element) -> int:
            amount = tiyn(element.findtext("c:Amt", namespaces=NS))
            return amount if element.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -amount

        entries = [(entry.findtext("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", namespaces=NS), signed(entry),
                    entry.findtext("c:AddtlNtryInf", namespaces=NS))
                   for entry in statement.iterfind("c:Ntry", NS)]
        owner = statement.find("c:Acct/c:Ownr/c:Id", NS)
        found.append(Statement(owner.findtext(".//c:Othr/c:Id", namespaces=NS), statement.findtext("c:Acct/c:Nm", namespaces=NS),
                               signed(balances["OPBD"]), signed(balances["CLBD"]), entries))
    return found


def camt_balances(path: Path) -> dict[tuple[str, str], int]:
    return {(s.color, s.holder): s.closing_tiyn for s in camt_statements(path)}


def beancount_balances(path: Path) -> dict[tuple[str, str], int]:
    """bean-query's answer: the sum of every `Assets:Holders` account's postings, per commodity."""
    import beanquery

    connection = beanquery.connect(f"beancount:{path}")
    cursor = connection.execute(
        "SELECT account, currency, sum(number) AS total WHERE account ~ '^Assets:Holders:' GROUP BY account, currency")
    balances = {}
    for account, currency, total in cursor.fetchall():
        holder = account.rsplit("-", 1)[1]
        balances[currency, holder] = tiyn(str(total))
    return balances


def parquet_balances(path: Path) -> dict[tuple[str, str], int]:
    """The README's DuckDB query over the Parquet export."""
    import duckdb

    rows = duckdb.sql(f"SELECT color, holder, SUM(amount_tiyn) FROM '{path}/movements.parquet' "
                      "GROUP BY color, holder").fetchall()
    return {(color, holder): int(total) for color, holder, total in rows}


BALANCE_READERS = {"camt.053": camt_balances, "beancount": beancount_balances, "parquet": parquet_balances}
