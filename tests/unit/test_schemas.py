"""One schema per command (issue 9 item 4): the models drive validation, digests, CLI options, docs."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click
import jsonschema
import orjson
import pytest
from hypothesis import given, settings

from domain import events as e
from domain.commands import COMMAND_TYPES, RegisterParty, Transfer, shared_fields
from ledger.cli.commands import COMMAND_FLAGS, option_name
from ledger.interchange import command_digest, command_to_record, parse_record
from ledger.schemas import COMMAND_MODELS, command_fields, command_json_schemas, interchange_markdown
from tests.unit.test_interchange import VALID, commands

PINNED = Path(__file__).parent / "data" / "pinned_digests.jsonl"


def _pinned() -> list[dict]:
    return [orjson.loads(line) for line in PINNED.read_bytes().splitlines() if line.strip()]


# --- digests never change: existing stores hold them --------------------------------------------

def test_pinned_digests_cover_every_command_type() -> None:
    assert {row["input"]["type"] for row in _pinned()} == set(COMMAND_TYPES)


@pytest.mark.parametrize("row", _pinned(), ids=lambda row: row["input"]["id"])
def test_the_digest_of_a_command_is_the_one_the_old_parser_gave(row: dict) -> None:
    """Digests computed before the schema library existed (tests/unit/data/pinned_digests.jsonl)."""
    command = parse_record(row["input"])
    assert command_digest(command).hex() == row["digest"]
    assert command_digest(parse_record(command_to_record(command))).hex() == row["digest"]


# --- JSON Schema per command ---------------------------------------------------------------------

SCHEMAS = command_json_schemas()


def test_there_is_a_json_schema_for_every_command_type_and_each_is_valid_json_schema() -> None:
    assert list(SCHEMAS) == list(COMMAND_TYPES)
    for type_name, schema in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["type"]["const"] == type_name
        assert schema["additionalProperties"] is False
        assert {"id", "type", "at"} <= set(schema["required"])
        orjson.dumps(schema)  # plain JSON, publishable as is


@pytest.mark.parametrize(("record", "command"), VALID, ids=[r["id"] for r, _ in VALID])
def test_a_valid_record_and_its_canonical_form_validate_against_the_schema(record: dict, command: object) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS[record["type"]])
    assert list(validator.iter_errors(record)) == []
    assert list(validator.iter_errors(command_to_record(command))) == []


@settings(max_examples=100, deadline=None)
@given(commands)
def test_every_canonical_record_validates_against_its_schema(command: object) -> None:
    record = orjson.loads(orjson.dumps(command_to_record(command)))
    jsonschema.validate(record, SCHEMAS[record["type"]], cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"amount": 300000}, "amount"),  # a JSON number is never an amount
        ({"amount": "1.005"}, "amount"),
        ({"memo": "x"}, None),  # unknown field
        ({"from": "12345"}, "from"),
        ({"kind": "bonus"}, "kind"),
        ({"invoice": "INV\u202e17"}, "invoice"),  # a bidi control in text
        ({"at": "2025-03-01T10:00:00"}, "at"),  # no offset
    ],
)
def test_the_schema_refuses_what_the_ledger_refuses(changes: dict, path: str | None) -> None:
    record = dict(VALID[8][0], **changes)
    errors = list(jsonschema.Draft202012Validator(SCHEMAS["transfer"]).iter_errors(record))
    assert errors, record
    if path is not None:
        assert any(list(error.absolute_path)[:1] == [path] for error in errors), errors


def test_amounts_are_strings_in_every_schema() -> None:
    for schema in SCHEMAS.values():
        for name, prop in schema["properties"].items():
            if name in ("amount", "price"):
                assert prop["type"] == "string" and prop["pattern"] == r"^[0-9]{1,15}(\.[0-9]{1,2})?$"


# --- the interchange reference -------------------------------------------------------------------

def test_the_markdown_reference_has_a_table_per_command_with_every_field() -> None:
    text = interchange_markdown()
    sections = text.split("\n## ")[1:]
    assert [section.split("`")[1] for section in sections] == list(COMMAND_TYPES)
    for section, (type_name, model) in zip(sections, COMMAND_MODELS.items(), strict=True):
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        named = {row.split("`")[1] for row in rows}
        for spec in command_fields(type_name):
            assert spec.name in named, (type_name, spec.name)
            assert any(row.startswith(f"| `{spec.name}` | {'required' if spec.required else 'optional'} |")
                       for row in rows)
        assert {"id", "type", "at"} <= named
    assert "| `items.unit_price` | required |" in text
    assert "| `road.asphalt_cm` | required |" in text
    assert "| `from` | required |" in text and "`payer`" not in text


# --- CLI options come from the models ------------------------------------------------------------

def _options(cli_name: str) -> dict[str, click.Option]:
    _, _, flags = COMMAND_FLAGS[cli_name]
    return {flag.option: flag.to_click() for flag in flags}


def test_every_command_has_a_subcommand_with_one_option_per_field() -> None:
    assert [type_name for type_name, _, _ in COMMAND_FLAGS.values()] == list(COMMAND_TYPES)
    for cli_name, (type_name, help_text, flags) in COMMAND_FLAGS.items():
        assert cli_name == type_name.replace("_", "-") and help_text
        specs = command_fields(type_name)
        assert [flag.field for flag in flags] == [spec.name for spec in specs]
        for flag, spec in zip(flags, specs, strict=True):
            option = flag.to_click()
            assert option.required == (spec.required and not spec.kind.is_flag)
            assert option.multiple == spec.kind.is_list
            expected = option_name(spec.name) if spec.kind.is_list else "--" + spec.name.replace("_", "-")
            assert option.opts == [expected]


def test_the_familiar_flags_are_there() -> None:
    transfer = _options("transfer")
    assert {"--color", "--from", "--to", "--amount", "--contract", "--invoice", "--kind", "--source"} == set(transfer)
    assert transfer["--from"].required and not transfer["--contract"].required
    assert transfer["--amount"].help == "KZT, e.g. 1500000.00"
    assert transfer["--source"].nargs == 2 and transfer["--source"].metavar == "LOT AMOUNT"
    item = _options("sign-contract")["--item"]
    assert item.nargs == 4 and item.metavar == "CODE UNIT QUANTITY UNIT_PRICE" and item.multiple
    assert _options("sign-contract")["--road"].metavar == "LENGTH_KM WIDTH_M ASPHALT_CM"
    assert _options("accept")["--final"].is_flag
    assert list(_options("spend")["--category"].type.choices) == [
        "materials", "fuel", "machinery_rental", "equipment", "wages", "taxes", "services", "utilities",
        "livestock", "cash_withdrawal", "other",
    ]
    assert set(_options("register-party")) >= {"--owner", "--director", "--official", "--registered-on"}
    assert _options("allocate")["--expires-on"].help == "YYYY-MM-DD"


# --- events take the command's fields of the same name -------------------------------------------

def test_shared_fields_copies_exactly_the_names_both_have() -> None:
    transfer = VALID[8][1]
    assert isinstance(transfer, Transfer)
    shared = shared_fields(transfer, e.FundsTransferred)
    event_names = {f.name for f in fields(e.FundsTransferred)}
    command_names = {f.name for f in fields(Transfer)}
    assert set(shared) == event_names & command_names
    assert "sources" not in shared and "consumed" not in shared and "command_id" not in shared
    assert shared["payer"] == transfer.payer and shared["amount_tiyn"] == transfer.amount_tiyn


def test_a_party_registration_event_repeats_every_field_of_its_command() -> None:
    from uuid import uuid4

    from domain.party import Party

    command = VALID[0][1]
    assert isinstance(command, RegisterParty)
    event = Party(uuid4()).decide(command)
    assert isinstance(event, e.PartyRegistered)
    for f in fields(RegisterParty):
        if f.name != "id":
            assert getattr(event, f.name) == getattr(command, f.name), f.name
    assert event.command_id == command.id


def test_fields_are_read_by_their_interchange_names_only() -> None:
    """`payer` is the dataclass attribute behind `from`; in a file it is an unknown field."""
    record = dict(VALID[8][0], payer=VALID[8][0]["from"])
    del record["from"]
    with pytest.raises(Exception) as caught:
        parse_record(record)
    assert [(error.field, error.message) for error in caught.value.errors] == [
        ("payer", "unknown field"), ("from", "required field is missing")]
