"""`tenge-ledger import FILE.xml` of a pain.001.001.10 (SPEC §3.1): the same import as JSON Lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.iso20022.pain001_files import replace_in, run, world, write_jsonl, write_records
from tests.support import Script

SAMPLES = Path(__file__).resolve().parents[1] / "vectors" / "iso20022" / "samples"
FOUND = {
    "musterfile_pain.001_Nov2020.xml": "pain.001.001.03.ch.02",
    "pain002-epo_p_ch2909000000250094239_1109800799_0_2018032612092784.xml": "pain.002.001.03.ch.02",
    "FI_camt_053_sample.xml": "camt.053.001.02",
    "camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml": "camt.053.001.04",
    "valid_pain_v11.xml": "pain.002.001.11",
    "invalid_pain_v11.xml": "Document element without a namespace",
}


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def balances(capsys: pytest.CaptureFixture[str], store: str) -> dict[tuple[str, str], int]:
    code, out, err = run(capsys, "--store", store, "balance", "--format", "json")
    assert code == 0, err
    return {(row["color"], row["party"]): row["balance_tiyn"] for row in json.loads(out)["balances"]}


def test_a_pain001_imports_like_the_same_transfers_as_json_lines(capsys, tmp_path):
    setup, transfers, names = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers)
    jsonl = write_jsonl(tmp_path / "pay.jsonl", transfers)
    stores = {}
    for name, path in (("xml", xml), ("jsonl", jsonl)):
        store = f"sqlite:///{tmp_path / (name + '.sqlite')}"
        assert run(capsys, "--store", store, "import", setup)[0] == 0
        report = tmp_path / f"{name}.report.jsonl"
        code, _, err = run(capsys, "--store", store, "import", path, "--report", report)
        assert code == 1, err  # PAY-3 is blocked, the rest applied
        rows = [json.loads(line) for line in report.read_text().splitlines()]
        stores[name] = ([(row["id"], row["status"], row["reason"]) for row in rows], balances(capsys, store))
    assert stores["xml"] == stores["jsonl"]
    statuses, held = stores["xml"]
    assert statuses == [("PAY-1", "applied", None), ("PAY-2", "applied", None),
                        ("PAY-3", "blocked", "contract_amount_exceeded")]
    assert held[(names["color"], names["contractor"])] == 40_000_050 - 100_000


def test_report_lines_are_the_lines_of_each_cdttrftxinf(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers)
    lines = xml.read_text().splitlines()
    starts = [number for number, text in enumerate(lines, 1) if text.startswith("<CdtTrfTxInf>")]
    run(capsys, "--store", store, "import", setup)
    report = tmp_path / "report.jsonl"
    run(capsys, "--store", store, "import", xml, "--report", report)
    assert [json.loads(line)["line"] for line in report.read_text().splitlines()] == starts


def test_importing_again_is_idempotent_the_end_to_end_id_is_the_transaction_id(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    run(capsys, "--store", store, "import", setup)
    xml = write_records(tmp_path / "pay.xml", transfers[:2])
    assert run(capsys, "--store", store, "import", xml)[0] == 0
    before = balances(capsys, store)
    code, _, err = run(capsys, "--store", store, "import", xml)
    assert code == 0 and "0 applied, 2 duplicate" in err, err
    assert balances(capsys, store) == before
    # the same EndToEndId with other content is a conflict (exit 1), nothing changes
    changed = replace_in(xml, r">1000\.00<", ">1001.00<", to=tmp_path / "changed.xml")
    code, _, err = run(capsys, "--store", store, "import", changed)
    assert code == 1 and "1 conflict" in err, err
    assert balances(capsys, store) == before


def test_json_lines_and_pain001_files_mix_in_one_import_and_resume(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    first = write_records(tmp_path / "first.xml", transfers[:1], "MSG-A")
    everything = write_records(tmp_path / "all.xml", transfers, "MSG-B")
    assert run(capsys, "--store", store, "import", setup, first)[0] == 0
    code, _, err = run(capsys, "--store", store, "import", setup, everything)  # an interrupted run, done again
    assert code == 1, err
    assert "2 applied" not in err and "1 applied" in err and "blocked" in err


@pytest.mark.parametrize("sample", sorted(FOUND))
def test_each_real_bank_sample_is_refused_with_exit_2_and_one_line(capsys, tmp_path, store, sample):
    code, out, err = run(capsys, "--store", store, "import", SAMPLES / sample)
    assert code == 2
    assert out == ""
    reason, summary = err.strip().splitlines()
    assert reason.startswith(f"{SAMPLES / sample}:")
    assert FOUND[sample] in reason and "pain.001.001.10" in reason
    assert summary == "1 problem(s) in the input; nothing was written"
    assert not (tmp_path / "ledger.sqlite").exists()


def test_one_chf_transaction_among_kzt_ones_writes_nothing(capsys, tmp_path, store):
    setup, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers, "MSG-CHF")
    replace_in(xml, r'Ccy="KZT">1000\.00<', 'Ccy="CHF">1000.00<')
    code, _, err = run(capsys, "--store", store, "import", setup, xml)
    assert code == 2
    line = next(number for number, text in enumerate(xml.read_text().splitlines(), 1) if "PAY-2" in text)
    assert f"{xml}:{line}: MsgId MSG-CHF EndToEndId PAY-2 CdtTrfTxInf/Amt/InstdAmt/@Ccy: must be KZT, got CHF" in err
    assert "nothing was written" in err
    assert not (tmp_path / "ledger.sqlite").exists()  # not even the setup file before it


@pytest.mark.parametrize(("pattern", "replacement", "element", "says"), [
    (r"<Prtry>(ROAD-2025-041-000001-)98</Prtry>", r"<Prtry>\g<1>97</Prtry>", "CdtTrfTxInf/Purp/Prtry", "check digits"),
    (r"<Purp><Prtry>[^<]*</Prtry></Purp>", "", "CdtTrfTxInf/Purp/Prtry", "names its color"),
    (r"(<Cdtr><Id><OrgId><Othr><Id>\d{11})\d", r"\g<1>0", "CdtTrfTxInf/Cdtr/Id", "check digit"),
    (r"<Prtry>BIN</Prtry>", "<Prtry>TAX</Prtry>", "PmtInf/Dbtr/Id", "SchmeNm/Prtry BIN"),
    (r"<Prtry>advance</Prtry>", "<Prtry>bribe</Prtry>", "CdtTrfTxInf/PmtTpInf/CtgyPurp/Prtry", "bribe"),
    (r">400000\.50<", ">400000.505<", "CdtTrfTxInf/Amt/InstdAmt", "400000.505"),
    (r"<EndToEndId>PAY-1<", "<EndToEndId>NOTPROVIDED<", "CdtTrfTxInf/PmtId/EndToEndId", "NOTPROVIDED"),
])
def test_errors_name_the_message_the_transaction_and_the_element(capsys, tmp_path, store, pattern, replacement,
                                                                  element, says):
    _, transfers, _ = world(tmp_path)
    xml = replace_in(write_records(tmp_path / "pay.xml", transfers[:1], "MSG-7"), pattern, replacement)
    code, _, err = run(capsys, "--store", store, "import", xml)
    assert code == 2, err
    first = err.splitlines()[0]
    end_to_end_id = "NOTPROVIDED" if says == "NOTPROVIDED" else "PAY-1"
    assert first.startswith(f"{xml}:5: MsgId MSG-7 EndToEndId {end_to_end_id} {element}: "), first
    assert says in first, first
    assert not (tmp_path / "ledger.sqlite").exists()


def test_a_schema_error_names_its_line_transaction_and_element(capsys, tmp_path, store):
    _, transfers, _ = world(tmp_path)
    xml = write_records(tmp_path / "pay.xml", transfers, "MSG-S")
    replace_in(xml, r"<EndToEndId>PAY-2</EndToEndId>", "<EndToEndId>PAY-2</EndToEndId><Bogus/>")
    code, _, err = run(capsys, "--store", store, "import", xml)
    assert code == 2
    line = next(number for number, text in enumerate(xml.read_text().splitlines(), 1) if "PAY-2" in text)
    assert f"{xml}:{line}: MsgId MSG-S EndToEndId PAY-2 CdtTrfTxInf/PmtId/Bogus: does not match the pain.001.001.10 schema" in err
    assert "Bogus" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.10'><CstmrCdtTrfInitn>",
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.10'>&x;</Document>",
    b"<",
    b"\xef\xbb\xbf  <Document/>",
])
def test_broken_xml_is_one_clear_line_never_a_traceback(capsys, tmp_path, store, content):
    path = tmp_path / "broken.xml"
    path.write_bytes(content)
    code, _, err = run(capsys, "--store", store, "import", path)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 2 and err.startswith(f"{path}:"), err
    assert not (tmp_path / "ledger.sqlite").exists()


def test_a_grpHdr_count_that_disagrees_with_the_file_is_malformed(capsys, tmp_path, store):
    _, transfers, _ = world(tmp_path)
    xml = replace_in(write_records(tmp_path / "pay.xml", transfers, "MSG-N"), r"<NbOfTxs>3</NbOfTxs>", "<NbOfTxs>4</NbOfTxs>")
    code, _, err = run(capsys, "--store", store, "import", xml)
    assert code == 2 and "MsgId MSG-N GrpHdr/NbOfTxs: says 4 transaction(s), the file holds 3" in err, err


def test_a_time_without_offset_is_in_the_ledgers_time_zone(capsys, tmp_path):
    store = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    setup, transfers, names = world(tmp_path)
    assert run(capsys, "--store", store, "--time-zone", "+06:00", "import", setup)[0] == 0
    xml = write_records(tmp_path / "pay.xml", transfers[:1])
    written = transfers[0]["at"]
    assert isinstance(written, str) and written.endswith("+05:00")
    replace_in(xml, re.escape(f"<DtTm>{written}</DtTm>"), "<DtTm>2025-06-01T10:00:00</DtTm>")
    assert run(capsys, "--store", store, "import", xml)[0] == 0
    code, out, err = run(capsys, "--store", store, "history", names["color"], "--format", "json")
    assert code == 0, err
    events = [event for event in json.loads(out)["events"] if "PAY-1" in json.dumps(event)]
    assert len(events) == 1 and events[0]["at"] == "2025-06-01T10:00:00+06:00", events


def test_a_malformed_pain001_on_standard_input_is_refused_too(capsys, tmp_path, store, monkeypatch):
    import io
    import sys
    content = (SAMPLES / "musterfile_pain.001_Nov2020.xml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))
    code, _, err = run(capsys, "--store", store, "import", "-")
    assert code == 2 and err.startswith("<stdin>:2: ") and "pain.001.001.03.ch.02" in err, err


def test_script_support_is_unchanged():
    assert Script  # the records these tests write come from tests.support's builders
