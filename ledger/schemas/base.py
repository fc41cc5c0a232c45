"""The base of every command model, list and nested-object types, and the field table.

A command model declares its interchange fields once: the JSON name (the alias, e.g. `from`), the
attribute of the `domain.commands` dataclass it fills (the model attribute, e.g. `payer`), whether
it is required, its value type (`ledger.schemas.values`) and a description. `FieldSpec`s read that
declaration back for the canonical record, the docs and the command line.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails

from domain.commands import Command
from ledger.schemas.values import At, CommandId, Kind, PartyId, Vin, fail

PARTIES_MAX = 100  # owners, directors, officials
ITEMS_MAX = 1000
SOURCES_MAX = 1000
QUANTITIES_MAX = 1000
ASSETS_MAX = 100

# Unknown keys are errors; JSON types are never coerced ("5" is no number, 5 no string); fields
# are read by their interchange names only (`from`, never `payer`).
MODEL_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True, validate_by_alias=True, validate_by_name=False)


class Record(BaseModel):
    """A JSON object of the interchange format: unknown keys refused, JSON types strict."""

    model_config = MODEL_CONFIG


CommandClass = type[Command]  # named here: inside a model, `type` is the field


class CommandModel(Record):
    """Fields every command carries; subclasses add theirs and name their `domain.commands` class."""

    COMMAND: ClassVar[CommandClass]
    CROSS_FIELDS: ClassVar[tuple[str, ...]] = ()  # the attributes `cross_checks` reads

    id: CommandId = Field(description="the command id; for a payment, its transaction id (SPEC §2.3)")
    type: str = Field(description="the command type")
    at: At = Field(description="business time (SPEC §2.5)")

    def cross_checks(self) -> list[tuple[str, str]]:
        """(field, message) for checks across `CROSS_FIELDS` (sums, program vs color); none here.

        Also run when other fields of the line are malformed, on those fields alone (see
        `ledger.schemas.records`), so that every error of a line is reported at once.
        """
        return []


def repeats(items: list[Any], what: str) -> tuple[Any, ...]:
    """The list as a tuple; each entry equal to an earlier one is an error at its own index."""
    first_index: dict[Any, int] = {}
    errors: list[InitErrorDetails] = []
    for index, item in enumerate(items):
        if item in first_index:
            message = f"repeats {what}[{first_index[item]}] ({item})"
            errors.append(InitErrorDetails(type=fail(message), loc=(index,), input=item))
        else:
            first_index[item] = index
    if errors:
        raise ValidationError.from_exception_data("repeats", errors)
    return tuple(items)


def unique_list(item_type: Any, items_max: int, kind: Kind, what: str) -> Any:
    """A JSON array of `item_type` without repeats, at most `items_max`, kept as a tuple."""
    return Annotated[
        list[item_type], Field(max_length=items_max),  # type: ignore[valid-type]
        AfterValidator(lambda items: repeats(items, what)), kind,
    ]


def object_list(model: type[Record], items_max: int, min_items: int, to_domain: Callable[[Any], Any],
                kind: Kind) -> Any:
    """A JSON array of small objects, each checked by `model` and kept as its domain value."""
    return Annotated[
        list[model], Field(min_length=min_items, max_length=items_max),  # type: ignore[valid-type]
        AfterValidator(lambda items: tuple(to_domain(item) for item in items)), kind,
    ]


def parties_list(what: str) -> Any:
    return unique_list(PartyId, PARTIES_MAX, Kind("party ids", "array of BIN/IIN, no repeats", is_list=True,
                                                 emit=list, cli_help="BIN or IIN; repeat the option"), what)


def vins_list(what: str) -> Any:
    return unique_list(Vin, ASSETS_MAX, Kind("VINs", "array of VINs, no repeats", is_list=True, emit=list,
                                            cli_help="VIN; repeat the option"), what)


# --- the field table ----------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    """One declared field, read back from a model."""

    name: str  # the interchange (JSON) name
    attr: str  # the attribute of the model and of the domain dataclass
    required: bool
    kind: Kind
    description: str
    nested: type[Record] | None  # the model of a nested object or of a list's objects


def kind_of(info: FieldInfo) -> Kind:
    """The Kind marker of a field, wherever it sits in the annotation (`X | None` included)."""
    for meta in info.metadata:
        if isinstance(meta, Kind):
            return meta
    if typing.get_origin(info.annotation) is typing.Literal:
        [value] = typing.get_args(info.annotation)
        return Kind("type", f"`{value}`")
    found = _find(info.annotation, lambda meta: isinstance(meta, Kind))
    assert found is not None, f"field without a Kind: {info!r}"
    return found


def nested_model(info: FieldInfo) -> type[Record] | None:
    """The Record subclass a field holds (a nested object or a list of them), if any."""
    def search(annotation: Any) -> type[Record] | None:
        if isinstance(annotation, type) and issubclass(annotation, Record):
            return annotation
        for arg in typing.get_args(annotation):
            found = search(arg)
            if found is not None:
                return found
        return None

    return search(info.annotation)


def _find(annotation: Any, wanted: Callable[[Any], bool]) -> Any:
    for meta in getattr(annotation, "__metadata__", ()):
        if wanted(meta):
            return meta
    for arg in typing.get_args(annotation):
        found = _find(arg, wanted)
        if found is not None:
            return found
    return None


def field_specs(model: type[Record], skip: tuple[str, ...] = ()) -> tuple[FieldSpec, ...]:
    """The model's fields in declaration order, minus `skip`."""
    specs = []
    for attr, info in model.model_fields.items():
        if attr in skip:
            continue
        specs.append(FieldSpec(
            name=info.alias or attr, attr=attr, required=info.is_required(), kind=kind_of(info),
            description=info.description or "", nested=nested_model(info),
        ))
    return tuple(specs)


def domain_defaults(model: type[CommandModel], specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """attr -> default of the domain dataclass for each optional field; checks the two agree."""
    attrs = {f.name: f for f in fields(model.COMMAND)}
    assert {spec.attr for spec in specs} | {"id", "at", "actor"} == set(attrs), model
    defaults = {}
    for spec in specs:
        default = attrs[spec.attr].default
        assert (default is MISSING) == spec.required, (model, spec.name)
        if not spec.required:
            defaults[spec.attr] = default
    return defaults


def object_emitter(model: type[Record]) -> Callable[[Any], dict[str, Any]]:
    """Writes a nested domain value (an item, a lot source, the road) as its canonical object."""
    specs = [(info.alias or attr, attr, kind_of(info).emit) for attr, info in model.model_fields.items()]

    def emit(value: Any) -> dict[str, Any]:
        return {name: emit_value(getattr(value, attr)) for name, attr, emit_value in specs}

    return emit


def objects_emitter(model: type[Record]) -> Callable[[tuple[Any, ...]], list[dict[str, Any]]]:
    """Writes a tuple of nested domain values as a list of canonical objects."""
    emit_one = object_emitter(model)
    return lambda values: [emit_one(value) for value in values]


def kind_at(model: type[Record], loc: tuple[int | str, ...]) -> Kind | None:
    """The Kind of the field an error location names (`('items', 0, 'code')`), if it is one."""
    current: type[Record] | None = model
    kind = None
    for part in loc:
        if isinstance(part, int):
            continue  # an entry of a list: the objects' model is already `current`
        info = _by_name(current).get(part) if current is not None else None
        if info is None:
            return None
        kind, current = kind_of(info), nested_model(info)
    return kind


def _by_name(model: type[Record]) -> dict[str, FieldInfo]:
    return {info.alias or attr: info for attr, info in model.model_fields.items()}
