"""`export camt.053`: valid against the official camt.053.001.08 schema (vendored, offline); one
statement per holder and color; opening + entries = closing, to the tiyn (SPEC §3.2)."""

from __future__ import annotations

from lxml import etree

from tests.export.conftest import LONG_ID
from tests.export.readers import NS, camt_schema, camt_statements


def test_the_statements_validate_against_the_camt_053_001_08_schema(world) -> None:
    path = world.export("camt.053", name="all.camt053.xml")
    schema = camt_schema()
    assert schema.validate(etree.parse(str(path))), schema.error_log
    assert len(camt_statements(path)) > 40


def test_a_broken_statement_fails_the_schema(world) -> None:
    """The validation above could fail: an entry without its status is refused."""
    document = etree.parse(str(world.export("camt.053", "--color", world.color, name="broken.xml")))
    document.find(".//c:Ntry/c:Sts", NS).getparent().remove(document.find(".//c:Ntry/c:Sts", NS))
    assert not camt_schema().validate(document)


def test_opening_plus_entries_is_closing_to_the_tiyn_for_every_statement(world) -> None:
    statements = camt_statements(world.export("camt.053", name="sum.xml"))
    for statement in statements:
        assert statement.opening_tiyn + sum(amount for _, amount, _ in statement.entries) == statement.closing_tiyn
        assert statement.closing_tiyn >= 0
    assert len({(s.holder, s.color) for s in statements}) == len(statements), "one statement per holder and color"


def test_entries_carry_the_transaction_id_and_the_color(world) -> None:
    statements = camt_statements(world.export("camt.053", "--color", world.color, name="ids.xml"))
    sub = next(s for s in statements if s.holder == world.sub)
    assert [(ident, amount) for ident, amount, _ in sub.entries] == [("NOTPROVIDED", 120_000_00), ("X-SPEND", -20_000_37)]
    assert all(info.startswith(world.color) for s in statements for _, _, info in s.entries)
    contractor = next(s for s in statements if s.holder == world.contractor)
    assert [amount for _, amount, _ in contractor.entries] == [25_000_000, 10_000_000, -12_000_000, -1_000_001]
    text = (world.folder / "ids.xml").read_text(encoding="utf-8")
    assert f"transaction {LONG_ID}" in text, "an id longer than EndToEndId allows is given whole"


def test_a_party_filter_states_only_that_holder(world) -> None:
    statements = camt_statements(world.export("camt.053", "--party", world.person, name="person.xml"))
    assert [(s.holder, s.closing_tiyn) for s in statements] == [(world.person, 1_000_50)]
    document = etree.parse(str(world.folder / "person.xml"))
    assert document.find(".//c:Acct/c:Ownr/c:Id/c:PrvtId/c:Othr/c:SchmeNm/c:Prtry", NS).text == "IIN"
