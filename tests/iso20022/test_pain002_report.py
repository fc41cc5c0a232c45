"""`import FILE.xml --report PATH --report-format pain.002`: the status report (SPEC §3.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ledger.iso20022.xsd import schema_path, validation_errors
from tests.iso20022.pain001_files import replace_in, run, world, write_records

NS = {"s": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"}


def statuses(report: Path) -> dict[str, tuple[str, str | None, str]]:
    """EndToEndId -> (TxSts, Rsn/Prtry, AddtlInf joined), read with plain XPath."""
    tree = etree.parse(str(report))
    found = {}
    for tx in tree.iterfind(".//s:TxInfAndSts", NS):
        found[tx.findtext("s:OrgnlEndToEndId", namespaces=NS)] = (
            tx.findtext("s:TxSts", namespaces=NS), tx.findtext("s:StsRsnInf/s:Rsn/s:Prtry", namespaces=NS),
            "".join(tx.xpath("s:StsRsnInf/s:AddtlInf/text()", namespaces=NS)))
    return found


def group(report: Path) -> tuple[str, str, str, dict[str, str]]:
    tree = etree.parse(str(report))
    original = tree.find(".//s:OrgnlGrpInfAndSts", NS)
    per_status = {row.findtext("s:DtldSts", namespaces=NS): row.findtext("s:DtldNbOfTxs", namespaces=NS)
                  for row in original.iterfind("s:NbOfTxsPerSts", NS)}
    return (original.findtext("s:OrgnlMsgId", namespaces=NS), original.findtext("s:OrgnlMsgNmId", namespaces=NS),
            original.findtext("s:GrpSts", namespaces=NS), per_status)


def import_with_report(capsys, store: str, *paths: Path, report: Path) -> tuple[int, str]:
    code, _, err = run(capsys, "--store", store, "import", *paths, "--report", report, "--report-format", "pain.002")
    return code, err


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def test_the_report_says_what_became_of_each_transaction_and_validates(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers, "MSG-42")
    assert run(capsys, "--store", store, "import", setup)[0] == 0
    report = tmp_path / "answer.xml"
    code, err = import_with_report(capsys, store, xml, report=report)
    assert code == 1, err
    assert validation_errors(report, "pain.002.001.11") == []
    assert group(report) == ("MSG-42", "pain.001.001.10", "PART", {"ACCP": "2", "RJCT": "1"})
    found = statuses(report)
    assert list(found) == ["PAY-1", "PAY-2", "PAY-3"]
    assert found["PAY-1"] == ("ACCP", None, "") and found["PAY-2"] == ("ACCP", None, "")
    status, rule, sentence = found["PAY-3"]
    assert (status, rule) == ("RJCT", "contract_amount_exceeded")
    assert "C-2" in sentence and len(sentence) > 20  # the rule's sentence, as the JSON Lines import prints it
    assert sentence.split()[0] in err

    # the same file again: everything was accepted before (duplicates), the blocked one stays rejected
    again = tmp_path / "again.xml"
    assert import_with_report(capsys, store, xml, report=again)[0] == 1
    assert validation_errors(again, "pain.002.001.11") == []
    found = statuses(again)
    assert found["PAY-1"][:2] == ("ACCP", "duplicate") and found["PAY-3"][:2] == ("RJCT", "contract_amount_exceeded")


def test_all_accepted_is_accp(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    assert run(capsys, "--store", store, "import", setup)[0] == 0
    report = tmp_path / "answer.xml"
    assert import_with_report(capsys, store, write_records(tmp_path / "pay.xml", transfers[:2]), report=report)[0] == 0
    assert validation_errors(report, "pain.002.001.11") == []
    assert group(report)[2:] == ("ACCP", {"ACCP": "2"})


def test_a_malformed_file_is_answered_with_a_rejection_and_nothing_is_written(capsys, tmp_path, store):
    _, transfers, _ = world(tmp_path)
    xml = replace_in(write_records(tmp_path / "pay.xml", transfers, "MSG-CHF"), r'Ccy="KZT">1000\.00<', 'Ccy="CHF">1000.00<')
    report = tmp_path / "answer.xml"
    code, err = import_with_report(capsys, store, xml, report=report)
    assert code == 2 and "nothing was written" in err
    assert not (tmp_path / "ledger.sqlite").exists()
    assert validation_errors(report, "pain.002.001.11") == []
    assert group(report)[2] == "RJCT"
    found = statuses(report)
    assert found["PAY-2"][:2] == ("RJCT", "malformed") and "must be KZT, got CHF" in found["PAY-2"][2]
    assert found["PAY-1"][:2] == ("RJCT", "not_applied") and found["PAY-3"][:2] == ("RJCT", "not_applied")


def test_a_schema_error_rejects_the_group_with_its_reason(capsys, tmp_path, store):
    _, transfers, _ = world(tmp_path)
    xml = replace_in(write_records(tmp_path / "pay.xml", transfers, "MSG-S"), "<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>")
    report = tmp_path / "answer.xml"
    assert import_with_report(capsys, store, xml, report=report)[0] == 2
    assert validation_errors(report, "pain.002.001.11") == []
    tree = etree.parse(str(report))
    assert tree.findtext(".//s:OrgnlGrpInfAndSts/s:GrpSts", namespaces=NS) == "RJCT"
    reasons = tree.xpath("//s:OrgnlGrpInfAndSts/s:StsRsnInf/s:AddtlInf/text()", namespaces=NS)
    assert any("PmtMtd" in reason for reason in reasons), reasons


def test_what_is_not_a_pain001_gets_no_pain002(capsys, tmp_path, store):
    sample = Path(__file__).resolve().parents[1] / "vectors" / "iso20022" / "samples" / "musterfile_pain.001_Nov2020.xml"
    report = tmp_path / "answer.xml"
    code, err = import_with_report(capsys, store, sample, report=report)
    assert code == 2 and "pain.001.001.03.ch.02" in err
    assert not report.exists()


def test_pain002_needs_one_file_and_a_report_path(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers)
    code, err = import_with_report(capsys, store, setup, xml, report=tmp_path / "answer.xml")
    assert code == 2 and "exactly one file" in err
    code, _, err = run(capsys, "--store", store, "import", xml, "--report-format", "pain.002")
    assert code == 2 and "--report PATH" in err
    code, err = import_with_report(capsys, store, setup, report=tmp_path / "answer.xml")
    assert code == 2 and "is JSON Lines" in err
    assert not (tmp_path / "ledger.sqlite").exists()


def test_a_second_validator_agrees(capsys, tmp_path, store):
    """The report also validates with `xmlschema` (another implementation of XML Schema), when installed."""
    xmlschema = pytest.importorskip("xmlschema")
    setup, transfers, _ = world(tmp_path)
    run(capsys, "--store", store, "import", setup)
    report = tmp_path / "answer.xml"
    import_with_report(capsys, store, write_records(tmp_path / "pay.xml", transfers), report=report)
    xmlschema.XMLSchema(str(schema_path("pain.002.001.11"))).validate(str(report))


def test_a_transaction_broken_twice_is_named_once_and_the_counts_add_up(capsys, tmp_path, store):
    """An EndToEndId over 35 characters breaks the interchange id rule and the schema (found later,
    while streaming); a GrpHdr/NbOfTxs that is not a number breaks the schema. The report stays
    valid: each transaction once, identifiers cut to Max35Text, the counts those of its rows."""
    _, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers, "MSG-2X")
    replace_in(xml, "<EndToEndId>PAY-2<", "<EndToEndId>PAY-2-" + "x" * 40 + "<")
    replace_in(xml, "<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>three</NbOfTxs>")
    report = tmp_path / "answer.xml"
    assert import_with_report(capsys, store, xml, report=report)[0] == 2
    assert validation_errors(report, "pain.002.001.11") == []
    tree = etree.parse(str(report))
    ids = tree.xpath("//s:TxInfAndSts/s:OrgnlEndToEndId/text()", namespaces=NS)
    assert ids == ["PAY-1", ("PAY-2-" + "x" * 40)[:35], "PAY-3"]
    assert group(report)[2:] == ("RJCT", {"RJCT": "3"})
    assert statuses(report)[ids[1]][1] == "malformed"
