"""Movements of colored money: `transfer`, `reserve`, `release`, `void`, `spend`, `return`,
`freeze`, `unfreeze`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain import commands as c
from domain.money import format_kzt
from ledger.schemas.base import SOURCES_MAX, CommandModel, Record, object_list, objects_emitter, vins_list
from ledger.schemas.values import Color, CommandId, Kind, PartyId, PositiveAmount, Sha256, Text, enum_of

TransferKind = enum_of(c.TRANSFER_KINDS)
SpendCategory = enum_of(c.SPEND_CATEGORIES)


class LotSourceModel(Record):
    """A lot a payment takes money from."""

    lot: CommandId = Field(description="the id of the allocation, or of an incoming transfer/release to the payer")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount taken from the lot, KZT")


Sources = object_list(
    LotSourceModel, SOURCES_MAX, 0, lambda model: c.LotSource(model.lot, model.amount_tiyn),
    Kind("sources", "array of {`lot`, `amount`}; must sum to `amount`", is_list=True, emit=objects_emitter(LotSourceModel),
         cli_help="a lot to pay from and how much; repeat the option"),
)


class TransferModel(CommandModel):
    """Pay colored money to a contract's supplier."""

    COMMAND = c.Transfer
    CROSS_FIELDS = ("amount_tiyn", "sources")
    type: Literal["transfer"]
    color: Color = Field(description="the color paid")
    payer: PartyId = Field(alias="from", description="who pays (holds the color)")
    payee: PartyId = Field(alias="to", description="who is paid: the supplier of a contract whose customer is `from`")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount, KZT")
    contract: CommandId | None = Field(
        None, description="the contract paid under; may be left out only when exactly one contract fits")
    invoice: Text | None = Field(None, description="invoice reference")
    kind: TransferKind | None = Field(None, description="what the payment is")
    sources: Sources | None = Field(None, description="lots paid from; absent means first-in first-out")

    def cross_checks(self) -> list[tuple[str, str]]:
        if self.sources is None:
            return []
        total_tiyn = sum(source.amount_tiyn for source in self.sources)  # type: ignore[attr-defined]
        if total_tiyn == self.amount_tiyn:
            return []
        return [("sources", f"source amounts sum to {format_kzt(total_tiyn)} KZT, "
                            f"but amount is {format_kzt(self.amount_tiyn)} KZT")]  # type: ignore[arg-type]


class ReserveModel(CommandModel):
    """Reserve a payment until delivery is accepted."""

    COMMAND = c.Reserve
    type: Literal["reserve"]
    color: Color = Field(description="the color reserved")
    payer: PartyId = Field(alias="from", description="who pays")
    payee: PartyId = Field(alias="to", description="who will be paid on release: the contract's supplier")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount, KZT")
    contract: CommandId = Field(description="the contract the reservation is under")
    invoice: Text | None = Field(None, description="invoice reference")
    kind: TransferKind | None = Field(None, description="what the payment is")


class ReleaseModel(CommandModel):
    """Release a reservation to its payee."""

    COMMAND = c.Release
    type: Literal["release"]
    reservation: CommandId = Field(description="the id of the `reserve` command")
    evidence_sha256: Sha256 | None = Field(None, description="SHA-256 of the delivery evidence")


class VoidModel(CommandModel):
    """Void a reservation back to its payer."""

    COMMAND = c.Void
    type: Literal["void"]
    reservation: CommandId = Field(description="the id of the `reserve` command")
    reason: Text | None = Field(None, description="why")


class SpendModel(CommandModel):
    """Record a final spend of colored money."""

    COMMAND = c.Spend
    type: Literal["spend"]
    color: Color = Field(description="the color spent")
    holder: PartyId = Field(alias="from", description="who spends (holds the color)")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount, KZT")
    category: SpendCategory = Field(description="what the money was spent on (each pilot allows some)")
    payee: PartyId | None = Field(None, description="who was paid, when registered")
    invoice: Text | None = Field(None, description="invoice reference")
    contract: CommandId | None = Field(None, description="the contract spent under")
    assets: vins_list("assets") | None = Field(None, description="VINs of machines bought")


class ReturnModel(CommandModel):
    """Return colored money to the budget."""

    COMMAND = c.Return
    type: Literal["return"]
    color: Color = Field(description="the color returned")
    holder: PartyId = Field(alias="from", description="who returns (holds the color)")
    amount_tiyn: PositiveAmount = Field(alias="amount", description="amount, KZT")
    reason: Text | None = Field(None, description="why")


class FreezeModel(CommandModel):
    """Freeze a color, or one holder's share of it."""

    COMMAND = c.Freeze
    type: Literal["freeze"]
    color: Color = Field(description="the color to freeze")
    reason: Text = Field(description="why")
    holder: PartyId | None = Field(None, description="freeze only this holder's share")


class UnfreezeModel(CommandModel):
    """Unfreeze a color, or one holder's share of it."""

    COMMAND = c.Unfreeze
    type: Literal["unfreeze"]
    color: Color = Field(description="the color to unfreeze")
    reason: Text = Field(description="why")
    holder: PartyId | None = Field(None, description="unfreeze only this holder's share")
