"""Allocations and contracts: `allocate`, `sign_contract`, `amend_contract`, `accept`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from domain import commands as c
from domain.money import format_kzt, line_total_tiyn
from ledger.schemas.base import (
    ITEMS_MAX, QUANTITIES_MAX, CommandModel, Record, object_emitter, object_list, objects_emitter, vins_list,
)
from ledger.schemas.values import (
    Amount, Color, CommandId, Date, Flag, Kind, PartyId, PositiveAmount, Program, Quantity, Sha256, Text,
    color_program, enum_of,
)

ContractMethod = enum_of(c.CONTRACT_METHODS)


class ContractItemModel(Record):
    """One line of a contract: `quantity` × `unit_price` (rounded half-up to the tiyn)."""

    code: Text = Field(description="item code (joins `set_reference_price`)")
    unit: Text = Field(description="unit of measure")
    quantity: Quantity = Field(description="quantity")
    unit_price_tiyn: Amount = Field(alias="unit_price", description="price per unit, KZT")


class AcceptedQuantityModel(Record):
    """A quantity accepted of one item code."""

    code: Text = Field(description="item code")
    quantity: Quantity = Field(description="quantity accepted")


class RoadGeometryModel(Record):
    """The road a contract builds."""

    length_km: Quantity = Field(description="length, km")
    width_m: Quantity = Field(description="width, m")
    asphalt_cm: Quantity = Field(description="asphalt thickness, cm")


def _item(model: ContractItemModel) -> c.ContractItem:
    return c.ContractItem(model.code, model.unit, model.quantity, model.unit_price_tiyn)  # type: ignore[arg-type]


def _accepted(model: AcceptedQuantityModel) -> c.AcceptedQuantity:
    return c.AcceptedQuantity(model.code, model.quantity)  # type: ignore[arg-type]


Items = object_list(ContractItemModel, ITEMS_MAX, 1, _item, Kind(
    "items", "array of {`code`, `unit`, `quantity`, `unit_price`}, at least one", is_list=True,
    emit=objects_emitter(ContractItemModel), cli_help="one contract line; repeat the option"))
Quantities = object_list(AcceptedQuantityModel, QUANTITIES_MAX, 0, _accepted, Kind(
    "quantities", "array of {`code`, `quantity`}", is_list=True, emit=objects_emitter(AcceptedQuantityModel),
    cli_help="a quantity accepted; repeat the option"))
Road = Annotated[
    RoadGeometryModel,
    AfterValidator(lambda road: c.RoadGeometry(road.length_km, road.width_m, road.asphalt_cm)),
    Kind("road", "object {`length_km`, `width_m`, `asphalt_cm`}, decimal strings",
         emit=object_emitter(RoadGeometryModel)),
]


def items_sum_error(items: tuple[c.ContractItem, ...] | None, amount_tiyn: int) -> list[tuple[str, str]]:
    """The contract's line totals must sum to its amount to the tiyn (SPEC §3)."""
    if items is None:
        return []
    total_tiyn = sum(line_total_tiyn(item.quantity, item.unit_price_tiyn) for item in items)
    if total_tiyn == amount_tiyn:
        return []
    return [("items", f"line totals (quantity × unit_price, rounded half-up per line) sum to "
                      f"{format_kzt(total_tiyn)} KZT, but amount is {format_kzt(amount_tiyn)} KZT")]


class AllocateModel(CommandModel):
    """Allocate budget money under a new color."""

    COMMAND = c.Allocate
    CROSS_FIELDS = ("color", "program")
    type: Literal["allocate"]
    color: Color = Field(description="the new color; its PROGRAM must equal `program`")
    program: Program = Field(description="three-digit budget program")
    purpose: Text = Field(description="what the money is for")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount allocated, KZT")
    treasury: PartyId = Field(description="the treasury (BIN) paying out")
    administrator: PartyId = Field(description="the budget program administrator (BIN) receiving the color")
    expires_on: Date = Field(description="last day the money may move (in the ledger's time zone)")
    region: Text | None = Field(None, description="region")

    def cross_checks(self) -> list[tuple[str, str]]:
        color_program_code = color_program(self.color)
        if color_program_code == self.program:
            return []
        return [("program", f"is {self.program} but the color {self.color} is of program {color_program_code}")]


class SignContractModel(CommandModel):
    """Sign a contract under a color."""

    COMMAND = c.SignContract
    CROSS_FIELDS = ("amount_tiyn", "items")
    type: Literal["sign_contract"]
    contract: CommandId = Field(description="the contract id")
    color: Color = Field(description="the color paying for it")
    customer: PartyId = Field(description="who pays (the administrator, or a supplier under the color)")
    supplier: PartyId = Field(description="who delivers and is paid")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="contract amount, KZT")
    items: Items = Field(description="contract lines; line totals must sum to `amount`")
    method: ContractMethod | None = Field(None, description="procurement method")
    ends_on: Date | None = Field(None, description="end of the contract")
    road: Road | None = Field(None, description="road geometry (ROAD pilot)")
    assets: vins_list("assets") | None = Field(None, description="VINs of machines bought (AGRO pilot)")
    beneficiary: PartyId | None = Field(None, description="the farmer a subsidised machine is for")

    def cross_checks(self) -> list[tuple[str, str]]:
        return items_sum_error(self.items, self.amount_tiyn)  # type: ignore[arg-type]


class AmendContractModel(CommandModel):
    """Change a contract's amount."""

    COMMAND = c.AmendContract
    CROSS_FIELDS = ("amount_tiyn", "items")
    type: Literal["amend_contract"]
    contract: CommandId = Field(description="the contract to change")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="the new contract amount, KZT")
    items: Items | None = Field(None, description="the new contract lines; must sum to `amount`")
    reason: Text | None = Field(None, description="why")

    def cross_checks(self) -> list[tuple[str, str]]:
        return items_sum_error(self.items, self.amount_tiyn)  # type: ignore[arg-type]


class AcceptModel(CommandModel):
    """Accept delivered work or goods under a contract."""

    COMMAND = c.Accept
    type: Literal["accept"]
    contract: CommandId = Field(description="the contract delivered under")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="value accepted, KZT")
    evidence_sha256: Sha256 | None = Field(None, description="SHA-256 of the evidence (e.g. a registration record)")
    quantities: Quantities | None = Field(None, description="quantities accepted per item code")
    final: Flag | None = Field(None, description="the final acceptance of the contract")

