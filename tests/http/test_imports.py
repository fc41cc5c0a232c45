"""`POST /v1/imports`: a pain.001.001.10 in, its pain.002.001.11 out (SPEC §3.1), as the token's actor."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from ledger.interchange import parse_record
from ledger.iso20022.pain001 import write_pain001
from ledger.iso20022.xsd import validation_errors

NS = {"s": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"}
SAMPLES = Path(__file__).resolve().parents[1] / "vectors" / "iso20022" / "samples"
XML = {"Content-Type": "application/xml"}


def pain001(world, *payments: tuple[str, str, str, str], msg_id: str = "MSG-H") -> bytes:
    """(id, from, to, amount) transfers of the world's color, as one pain.001."""
    commands = [parse_record({"id": ident, "type": "transfer", "at": "2025-04-01T10:00:00+05:00", "color": world.names["color"],
                              "from": world.names[payer], "to": world.names[payee], "amount": amount})
                for ident, payer, payee, amount in payments]
    out = io.BytesIO()
    write_pain001(out, commands, msg_id, datetime(2025, 4, 1, tzinfo=timezone.utc))
    return out.getvalue()


def statuses(document: bytes) -> tuple[str, dict[str, tuple[str, str | None]]]:
    tree = etree.fromstring(document)
    found = {tx.findtext("s:OrgnlEndToEndId", namespaces=NS): (tx.findtext("s:TxSts", namespaces=NS),
                                                               tx.findtext("s:StsRsnInf/s:Rsn/s:Prtry", namespaces=NS))
             for tx in tree.iterfind(".//s:TxInfAndSts", NS)}
    return tree.findtext(".//s:GrpSts", namespaces=NS), found


def balance_of(client, world, party: str) -> int:
    answer = client.get("/v1/balances", params={"party": world.names[party]}, headers=world.auth("auditor"))
    assert answer.status_code == 200, answer.text
    return sum(row["balance_tiyn"] for row in answer.json()["balances"])


def test_a_treasury_operator_sends_a_pain001_and_gets_the_pain002(client, world):
    body = pain001(world, ("H-1", "admin", "contractor", "1000"), ("H-2", "admin", "sub", "5"))
    answer = client.post("/v1/imports", content=body, headers={**world.auth("operator"), **XML})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert validation_errors(answer.content, "pain.002.001.11") == []
    group, found = statuses(answer.content)
    assert group == "PART"
    assert found["H-1"] == ("ACCP", None) and found["H-2"][0] == "RJCT" and found["H-2"][1]
    assert balance_of(client, world, "contractor") == 100_000

    again = client.post("/v1/imports", content=body, headers={**world.auth("operator"), **XML})
    assert again.status_code == 200
    assert statuses(again.content)[1]["H-1"] == ("ACCP", "duplicate")
    assert balance_of(client, world, "contractor") == 100_000


def test_a_malformed_pain001_is_rejected_whole_and_nothing_is_written(client, world):
    body = pain001(world, ("H-1", "admin", "contractor", "1000"), ("H-2", "admin", "contractor", "7"))
    body = body.replace(b'Ccy="KZT">7.00<', b'Ccy="CHF">7.00<')
    answer = client.post("/v1/imports", content=body, headers={**world.auth("operator"), **XML})
    assert answer.status_code == 400
    assert validation_errors(answer.content, "pain.002.001.11") == []
    group, found = statuses(answer.content)
    assert group == "RJCT" and found["H-2"] == ("RJCT", "malformed") and found["H-1"] == ("RJCT", "not_applied")
    assert balance_of(client, world, "contractor") == 0


def test_what_is_not_a_pain001_is_a_one_line_400(client, world):
    body = (SAMPLES / "musterfile_pain.001_Nov2020.xml").read_bytes()
    answer = client.post("/v1/imports", content=body, headers={**world.auth("operator"), **XML})
    assert answer.status_code == 400
    assert "pain.001.001.03.ch.02" in answer.json()["detail"]


def test_only_a_role_that_may_transfer_imports(client, world):
    body = pain001(world, ("H-1", "admin", "contractor", "1000"))
    assert client.post("/v1/imports", content=body, headers=XML).status_code == 401
    refused = client.post("/v1/imports", content=body, headers={**world.auth("auditor"), **XML})
    assert refused.status_code == 403
    assert balance_of(client, world, "contractor") == 0
