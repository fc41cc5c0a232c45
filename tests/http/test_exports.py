"""`GET /v1/exports/{format}`: the CLI's exports over HTTP (SPEC §3.2), for every role that reads
(auditors), streamed; the same bytes' meaning as `tenge-ledger export`."""

from __future__ import annotations

import io
import zipfile

import duckdb
import pytest
from beancount import loader
from lxml import etree

from tests.export.readers import camt_schema
from tests.http.support import World


def test_an_auditor_gets_a_valid_camt_053_statement_document(client, world: World) -> None:
    answer = client.get("/v1/exports/camt.053", headers=world.auth("auditor"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert "attachment" in answer.headers["content-disposition"]
    document = etree.fromstring(answer.content).getroottree()
    assert camt_schema().validate(document), camt_schema().error_log


def test_filters_and_as_of_as_the_cli_takes_them(client, world: World) -> None:
    color, admin = world.names["color"], world.names["admin"]
    early = client.get("/v1/exports/camt.053", headers=world.auth("auditor"), params={"color": color, "as_of": "@1"})
    assert early.status_code == 404 and "nothing to export" in early.json()["detail"]
    answer = client.get("/v1/exports/ocds", headers=world.auth("auditor"),
                        params={"color": color, "party": admin, "ocid_prefix": "ocds-abc123"})
    assert answer.status_code == 200
    assert sorted(r["ocid"] for r in answer.json()["releases"]) == ["ocds-abc123-C-1"]


def test_parquet_comes_as_a_zip_of_the_tables(client, world: World, tmp_path) -> None:
    answer = client.get("/v1/exports/parquet", headers=world.auth("auditor"), params={"color": world.names["color"]})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path)
    rows = duckdb.sql(f"SELECT holder, SUM(amount_tiyn) FROM '{tmp_path}/movements.parquet' GROUP BY holder").fetchall()
    balances = client.get("/v1/balances", headers=world.auth("auditor"), params={"color": world.names["color"]})
    assert balances.status_code == 200
    assert {holder: int(total) for holder, total in rows} == {
        row["party"]: row["balance_tiyn"] for row in balances.json()["balances"]}


def test_beancount_over_http_passes_bean_check(client, world: World, tmp_path) -> None:
    answer = client.get("/v1/exports/beancount", headers=world.auth("auditor"), params={"party": world.names["admin"]})
    assert answer.status_code == 200
    path = tmp_path / "x.beancount"
    path.write_bytes(answer.content)
    _, errors, _ = loader.load_file(str(path))
    assert errors == []


@pytest.mark.parametrize("query, status", [({"color": "ROAD-2025-041-000001-00"}, 400), ({"as_of": "@x"}, 400),
                                           ({"party": "040612345678"}, 400)])
def test_malformed_parameters_are_400(client, world: World, query: dict, status: int) -> None:
    assert client.get("/v1/exports/ocds", headers=world.auth("auditor"), params=query).status_code == status


def test_an_unknown_format_is_400_and_no_token_is_401(client, world: World) -> None:
    assert client.get("/v1/exports/xlsx", headers=world.auth("auditor")).status_code == 400
    assert client.get("/v1/exports/ocds").status_code == 401
