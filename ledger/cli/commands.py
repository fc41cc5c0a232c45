"""One CLI subcommand per interchange command type, its options generated from the command's schema.

Each subcommand turns its flags into the interchange object the importer would read and sends it
through the same validation (`ledger.interchange.parse_record`): there is one validation path.
The flags come from the command models (`ledger.schemas`), so they are named as the fields
(`--from`, `--to`, `--amount 1500000.00`); list fields repeat under their singular name
(`--owner X --owner Y`); nested objects take their parts in order (`--item CODE UNIT QUANTITY
UNIT_PRICE`); booleans are flags (`--final`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from domain.commands import COMMAND_TYPES
from ledger.app import WAIT_SECONDS_DEFAULT
from ledger.schemas import FieldSpec, command_fields, command_help
from ledger.schemas.base import field_specs


def wait_option() -> click.Option:
    """`--wait SECONDS` of every writing command (SPEC §5): how long to wait for what other writers
    hold (a color, the store's write lock) before giving up with exit 75."""
    return click.Option(["--wait", "wait_seconds"], type=click.IntRange(1, 86_400), default=WAIT_SECONDS_DEFAULT,
                        show_default=True, metavar="SECONDS",
                        help="wait up to SECONDS for what other writers hold, then exit 75 (busy)")


def option_name(field: str) -> str:
    """The option of a field: `--expires-on`; a list field's singular (`owners` → `--owner`)."""
    return "--" + singular(field).replace("_", "-")


def singular(field: str) -> str:
    """`owners` → `owner`, `quantities` → `quantity`; other names unchanged."""
    if field.endswith("ies"):
        return field[:-3] + "y"
    return field[:-1] if field.endswith("s") else field


@dataclass(frozen=True)
class Flag:
    """How one interchange field appears on the command line (derived from its FieldSpec)."""

    field: str
    required: bool = False
    choices: tuple[str, ...] = ()
    multiple: bool = False
    parts: tuple[str, ...] = ()  # nested objects: their keys, given in order
    is_flag: bool = False
    help: str = ""

    @classmethod
    def of(cls, spec: FieldSpec) -> Flag:
        parts = tuple(sub.name for sub in field_specs(spec.nested)) if spec.nested is not None else ()
        return cls(
            field=spec.name, required=spec.required, choices=spec.kind.choices, multiple=spec.kind.is_list,
            parts=parts, is_flag=spec.kind.is_flag, help=spec.kind.cli_help,
        )

    @property
    def option(self) -> str:
        return option_name(self.field) if self.multiple else "--" + self.field.replace("_", "-")

    def to_click(self) -> click.Option:
        kwargs: dict[str, Any] = {"help": self.help or None, "required": self.required}
        if self.parts:
            kwargs.update(nargs=len(self.parts), metavar=" ".join(p.upper() for p in self.parts))
        if self.choices:
            kwargs["type"] = click.Choice(self.choices)
        if self.multiple:
            kwargs["multiple"] = True
        if self.is_flag:
            kwargs.update(is_flag=True, default=False)
            kwargs.pop("required")
        return click.Option([self.option, self.field], **kwargs)

    def to_value(self, given: Any) -> Any:
        """The interchange value for what click parsed, or None when not given."""
        if self.is_flag:
            return True if given else None
        if self.multiple:
            if not given:
                return None
            return [dict(zip(self.parts, value)) for value in given] if self.parts else list(given)
        if self.parts and given is not None:
            return dict(zip(self.parts, given))
        return given


def _command_flags() -> dict[str, tuple[str, str, tuple[Flag, ...]]]:
    """cli name -> (interchange type, help, flags), for every command type in SPEC order."""
    table = {}
    for command_type in COMMAND_TYPES:
        flags = tuple(Flag.of(spec) for spec in command_fields(command_type))
        table[command_type.replace("_", "-")] = (command_type, command_help(command_type), flags)
    return table


COMMAND_FLAGS: dict[str, tuple[str, str, tuple[Flag, ...]]] = _command_flags()


def build_record(command_type: str, flags: tuple[Flag, ...], given: dict[str, Any], command_id: str, at: str) -> dict[str, Any]:
    """The interchange object for a subcommand's parsed flags."""
    record: dict[str, Any] = {"id": command_id, "type": command_type, "at": at}
    for flag in flags:
        value = flag.to_value(given.get(flag.field))
        if value is not None:
            record[flag.field] = value
    return record
