"""One schema per command (SPEC §3): the single declaration of every interchange command's fields.

Each command type has one pydantic model (`parties`, `contracts`, `payments`), built from the value
types of `values`. That declaration drives:
- validation of interchange lines and of CLI input (`records.validate_record`, used by
  `ledger.interchange.parse_record`), with errors in the project's words (`errors`);
- the canonical record and so the content digest (`records.canonical_record`);
- the command-line options (`ledger.cli.commands` reads `command_fields`);
- the documents for other systems: `command_json_schemas()` (a JSON Schema per command) and
  `interchange_markdown()` (the format reference).
"""

from __future__ import annotations

from typing import Any

from ledger.schemas.base import FieldSpec, field_specs
from ledger.schemas.records import COMMAND_MODELS, COMMON_FIELDS, canonical_record, validate_record
from ledger.schemas.values import AMOUNT_PATTERN

__all__ = [
    "COMMAND_MODELS", "FieldSpec", "canonical_record", "command_fields", "command_help", "command_json_schemas",
    "interchange_markdown", "validate_record",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def command_fields(command_type: str) -> tuple[FieldSpec, ...]:
    """The fields of a command type after `id`, `type` and `at`, in declaration order."""
    return field_specs(COMMAND_MODELS[command_type], skip=COMMON_FIELDS)


def command_help(command_type: str) -> str:
    """One sentence saying what a command does (its model's docstring)."""
    doc = COMMAND_MODELS[command_type].__doc__ or ""
    return doc.strip().splitlines()[0]


def command_json_schemas() -> dict[str, dict[str, Any]]:
    """A JSON Schema (draft 2020-12) per command type, for one interchange line of that type.

    Amounts are strings matching SPEC §1's pattern; unknown fields are refused
    (`additionalProperties: false`); optional fields may be `null`. Checks a schema cannot state
    (check digits, sums) are in the descriptions; the ledger applies them on import.
    """
    schemas = {}
    for type_name, model in COMMAND_MODELS.items():
        schema = model.model_json_schema(by_alias=True, mode="validation")
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = f"urn:tenge-ledger:interchange:{type_name}"
        schema["title"] = type_name
        schema["description"] = command_help(type_name)
        schemas[type_name] = schema
    return schemas


def interchange_markdown() -> str:
    """The interchange format reference: a table per command (field, required, type, description)."""
    lines = [
        "# Interchange format (JSON Lines)",
        "",
        "Generated from the command schemas (`ledger/schemas/`); do not edit by hand.",
        "",
        "One JSON object per line, UTF-8; blank lines are ignored. Every object has `id`, `type` and",
        "`at`. Unknown fields, a duplicate key in one object, and control characters in text are",
        "malformed input. Optional fields may be absent or `null`. Amounts are JSON strings of KZT",
        f"matching `{AMOUNT_PATTERN}`, never JSON numbers. A JSON Schema per command is published",
        "alongside this page.",
        "",
    ]
    for type_name, model in COMMAND_MODELS.items():
        lines += [f"## `{type_name}`", "", command_help(type_name), "",
                  "| field | required | type | description |", "|---|---|---|---|"]
        for spec in field_specs(model):
            lines.append(_row(spec))
        for spec in field_specs(model):
            if spec.nested is not None:
                parts = "each entry of" if spec.kind.is_list else "the fields of"
                lines += ["", f"{parts.capitalize()} `{spec.name}`:", "", "| field | required | type | description |",
                          "|---|---|---|---|"]
                lines += [_row(sub, prefix=f"{spec.name}.") for sub in field_specs(spec.nested)]
        lines.append("")
    return "\n".join(lines)


def _row(spec: FieldSpec, prefix: str = "") -> str:
    required = "required" if spec.required else "optional"
    description = spec.description or ("the command type" if spec.name == "type" else "")
    cells = (f"`{prefix}{spec.name}`", required, spec.kind.format, description)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
