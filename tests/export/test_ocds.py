"""`export ocds`: one compiled OCDS 1.1 release per contract, valid against the 1.1.5 release
schema (vendored; its $refs are local, so validation is offline), payments as
`implementation.transactions`, parties by `KZ-BIN`/`KZ-IIN` (SPEC §3.2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry

from tests.export.readers import VECTORS, tiyn

SCHEMA_PATH = VECTORS / "ocds" / "release-schema-1.1.5.json"


def releases(path: Path) -> list[dict]:
    package = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert package["version"] == "1.1"
    return package["releases"]


def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    def no_network(uri: str) -> None:
        raise AssertionError(f"the schema must resolve offline, it asked for {uri}")

    return jsonschema.Draft4Validator(schema, registry=Registry(retrieve=no_network),
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_every_release_validates_against_the_ocds_1_1_5_release_schema(world) -> None:
    found = releases(world.export("ocds", name="all.ocds.json"))
    check = validator()
    problems = [f"{release['ocid']}: {error.message}" for release in found for error in check.iter_errors(release)]
    assert problems == []
    assert len(found) > 30 and all(release["tag"] == ["compiled"] for release in found)
    assert len({release["ocid"] for release in found}) == len(found), "one release per contract"


def test_a_broken_release_fails_the_schema(world) -> None:
    release = releases(world.export("ocds", "--color", world.color, name="broken.ocds.json"))[0]
    release["contracts"][0]["value"]["currency"] = "KZ"
    assert list(validator().iter_errors(release))


def test_a_contract_release_carries_buyer_supplier_amendments_and_payments(world) -> None:
    found = {r["ocid"]: r for r in releases(world.export("ocds", "--color", world.color, "--ocid-prefix", "ocds-abc123",
                                                         name="color.ocds.json"))}
    assert sorted(found) == ["ocds-abc123-X-C1", "ocds-abc123-X-C2", "ocds-abc123-X-C3"]
    c1 = found["ocds-abc123-X-C1"]
    assert c1["buyer"]["id"] == f"KZ-BIN-{world.admin}"
    contract = c1["contracts"][0]
    assert tiyn(str(contract["value"]["amount"])) == 650_000_00 and contract["value"]["currency"] == "KZT"
    assert tiyn(str(c1["awards"][0]["value"]["amount"])) == 600_000_00
    assert [a["rationale"] for a in contract["amendments"]] == ["more asphalt"]
    payments = contract["implementation"]["transactions"]
    assert [(p["payee"]["id"], tiyn(str(p["value"]["amount"]))) for p in payments] == [
        (f"KZ-BIN-{world.contractor}", 250_000_00), (f"KZ-BIN-{world.contractor}", 100_000_00)]
    assert "X-RES-2" not in {p["id"] for p in payments}, "a voided reservation paid nothing"
    c3 = found["ocds-abc123-X-C3"]
    person = next(p for p in c3["parties"] if "supplier" in p["roles"])
    assert person["identifier"] == {"scheme": "KZ-IIN", "id": world.person, "legalName": person["name"]}
    c2 = found["ocds-abc123-X-C2"]
    assert c2["buyer"]["id"] == f"KZ-BIN-{world.admin}", "the buyer is the administrator, also of a subcontract"
    assert {p["id"]: p["roles"] for p in c2["parties"]}[f"KZ-BIN-{world.contractor}"] == ["payer"]


def test_as_of_and_party_filters(world) -> None:
    mid = releases(world.export("ocds", "--color", world.color, "--as-of", world.mid_time, name="mid.ocds.json"))
    c1 = next(r for r in mid if r["ocid"].endswith("-X-C1"))
    assert len(c1["contracts"][0]["implementation"]["transactions"]) == 2
    early = releases(world.export("ocds", "--as-of", world.before_late, name="early.ocds.json"))
    assert not any(r["ocid"].endswith("-X-L1") for r in early)
    mine = releases(world.export("ocds", "--party", world.person, name="person.ocds.json"))
    assert [r["ocid"] for r in mine] == ["ocds-tenge0-X-C3"]


@pytest.mark.skipif(shutil.which("ocdskit", path=str(Path(sys.executable).parent)) is None, reason="ocdskit not installed")
def test_ocdskit_compiles_the_export_into_records(world) -> None:
    """OCDS's own tool reads the package and merges it (offline, with the vendored schema)."""
    path = world.export("ocds", "--color", world.color, name="kit.ocds.json")
    tool = str(Path(sys.executable).parent / "ocdskit")
    detected = subprocess.run([tool, "detect-format", str(path)], capture_output=True, text=True, check=True, timeout=120)
    assert "release package" in detected.stdout
    compiled = subprocess.run([tool, "compile", "--schema", str(SCHEMA_PATH), "--package"], input=path.read_bytes(),
                              capture_output=True, check=True, timeout=120)
    records = json.loads(compiled.stdout)["records"]
    assert sorted(r["ocid"] for r in records) == ["ocds-tenge0-X-C1", "ocds-tenge0-X-C2", "ocds-tenge0-X-C3"]
