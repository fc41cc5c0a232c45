"""From interchange objects to commands and back, driven by the command models.

`validate_record(obj)` checks one decoded JSON object with its command's model and returns the
`domain.commands` dataclass, or every field error found. `canonical_record(command)` is the inverse
and writes the canonical object (amounts with two decimals, `at` in UTC, defaults omitted) whose
digest is the command's content identity (SPEC §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from domain.commands import COMMAND_TYPES, Command
from domain.errors import MalformedInput
from ledger.schemas.base import CommandModel, FieldSpec, domain_defaults, field_specs
from ledger.schemas.contracts import AcceptModel, AllocateModel, AmendContractModel, SignContractModel
from ledger.schemas.errors import translate
from ledger.schemas.parties import RegisterPartyModel, SetReferencePriceModel, UpdatePartyModel
from ledger.schemas.payments import (
    FreezeModel, ReleaseModel, ReserveModel, ReturnModel, SpendModel, TransferModel, UnfreezeModel, VoidModel,
)
from ledger.schemas.values import emit_at, json_kind

LINE_FIELD = "line"  # Pseudo-field named by errors about the whole line / object.
COMMON_FIELDS = ("id", "type", "at")

COMMAND_MODELS: dict[str, type[CommandModel]] = {
    model.COMMAND.TYPE: model
    for model in (
        RegisterPartyModel, UpdatePartyModel, SetReferencePriceModel, AllocateModel, SignContractModel,
        AmendContractModel, AcceptModel, TransferModel, ReserveModel, ReleaseModel, VoidModel, SpendModel,
        ReturnModel, FreezeModel, UnfreezeModel,
    )
}
assert list(COMMAND_MODELS) == list(COMMAND_TYPES), "one model per command type, in SPEC order"


@dataclass(frozen=True)
class _Shape:
    """What parsing and writing a command type need, computed once from its model."""

    model: type[CommandModel]
    specs: tuple[FieldSpec, ...]  # after id, type, at
    defaults: dict[str, Any]  # attr -> default of the domain dataclass, for the optional fields
    cross_checked: bool  # the model checks across fields
    not_none_defaults: tuple[str, ...]  # optional attrs whose dataclass default is not None
    cross_model: type[BaseModel] | None  # the fields the cross checks read, alone


def _shape(model: type[CommandModel]) -> _Shape:
    type_field = model.model_fields["type"]
    assert type_field.annotation is not None and model.COMMAND.TYPE in str(type_field.annotation), model
    specs = field_specs(model, skip=COMMON_FIELDS)
    cross_checked = model.cross_checks is not CommandModel.cross_checks
    defaults = domain_defaults(model, specs)
    not_none = tuple(attr for attr, default in defaults.items() if default is not None)
    assert all(model.model_fields[attr].default is None for attr in defaults), model  # absent is None
    return _Shape(model, specs, defaults, cross_checked, not_none, _cross_model(model) if cross_checked else None)


def _cross_model(model: type[CommandModel]) -> type[BaseModel]:
    """A model of only the fields `model.cross_checks` reads, declared exactly as in `model`.

    When other fields of a line are malformed, these are validated alone so the cross checks
    (sums, program vs color) still report, as every error of a line must be (SPEC §5).
    """
    assert model.CROSS_FIELDS, f"{model.__name__} checks across fields but names none"
    fields: dict[str, Any] = {attr: (model.model_fields[attr].annotation, model.model_fields[attr])
                              for attr in model.CROSS_FIELDS}
    config = ConfigDict(extra="ignore", strict=True, validate_by_alias=True, validate_by_name=False)
    return create_model(f"{model.__name__}CrossFields", __config__=config, **fields)


_SHAPES = {type_name: _shape(model) for type_name, model in COMMAND_MODELS.items()}
_TYPES_LISTED = ", ".join(COMMAND_TYPES)


def validate_record(obj: dict[str, Any]) -> Command | list[MalformedInput]:
    """The command of one interchange object, or every error in it (see `ledger.interchange`)."""
    type_name = obj.get("type")
    shape = _SHAPES.get(type_name) if type(type_name) is str else None
    if shape is None:
        return _unknown_type_errors(obj, type_name)
    try:
        model = shape.model.model_validate(obj)
    except ValidationError as error:
        return translate(error, obj, shape.model) + _cross_errors_alone(shape, obj)
    if shape.cross_checked:
        crossed = model.cross_checks()
        if crossed:
            return [MalformedInput(field, message) for field, message in crossed]
    # Model attributes are the dataclass's. A null (absent) optional field takes the dataclass's
    # default: the same None for most, `()` or False for the few listed in `not_none_defaults`.
    kw = model.__dict__.copy()
    del kw["type"]
    for attr in shape.not_none_defaults:
        if kw[attr] is None:
            del kw[attr]
    return shape.model.COMMAND(**kw)


def _cross_errors_alone(shape: _Shape, obj: dict[str, Any]) -> list[MalformedInput]:
    """The cross checks of a line whose other fields are malformed, if the fields they read are
    valid (and present) on their own."""
    if shape.cross_model is None:
        return []
    try:
        values = shape.cross_model.model_validate(obj)
    except ValidationError:
        return []  # reported already, field by field
    if any(getattr(values, attr) is None for attr in shape.model.CROSS_FIELDS):
        return []
    crossed = shape.model.cross_checks(values)  # type: ignore[arg-type]
    return [MalformedInput(field, message) for field, message in crossed]


def _unknown_type_errors(obj: dict[str, Any], type_name: object) -> list[MalformedInput]:
    """Errors of `id`, `type` and `at` when the type is missing or unknown (the rest is moot)."""
    probe = {"type": "freeze", **{key: obj[key] for key in ("id", "at") if key in obj}}
    by_field: dict[str, MalformedInput] = {}
    try:
        FreezeModel.model_validate(probe)
    except ValidationError as error:
        by_field = {e.field: e for e in translate(error, probe, FreezeModel) if e.field in ("id", "at")}
    if "type" not in obj:
        message = "required field is missing"
    elif type_name is None:
        message = "required field must not be null"
    elif type(type_name) is not str:
        message = f"must be a string, got {json_kind(type_name)}"
    else:
        message = f"must be one of {_TYPES_LISTED}, got {type_name[:40]!r}"
    by_field["type"] = MalformedInput("type", message)
    return [by_field[field] for field in COMMON_FIELDS if field in by_field]


def canonical_record(cmd: Command) -> dict[str, Any]:
    """The canonical interchange object of a command: `validate_record(canonical_record(c)) == c`.

    Key order is `id`, `type`, `at`, then the model's (SPEC) order. Optional fields equal to their
    default (None, empty tuple, `final` False) are omitted; for `update_party` an empty tuple is not
    the default (None is) and is written as `[]` ("clear the list").
    """
    shape = _SHAPES[cmd.TYPE]
    assert type(cmd) is shape.model.COMMAND, f"not a command: {cmd!r}"
    record: dict[str, Any] = {"id": cmd.id, "type": cmd.TYPE, "at": emit_at(cmd.at)}
    defaults = shape.defaults
    for spec in shape.specs:
        value = getattr(cmd, spec.attr)
        if not spec.required and value == defaults[spec.attr]:
            continue
        record[spec.name] = spec.kind.emit(value)
    return record
