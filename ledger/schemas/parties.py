"""Commands about parties and reference prices: `register_party`, `update_party`, `set_reference_price`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain import commands as c
from ledger.schemas.base import CommandModel, parties_list
from ledger.schemas.values import Date, PartyId, PositiveAmount, Text, enum_of

PartyKind = enum_of(c.PARTY_KINDS)
PartyStatus = enum_of(c.PARTY_STATUSES)


class RegisterPartyModel(CommandModel):
    """Register an organisation (BIN) or a person (IIN)."""

    COMMAND = c.RegisterParty
    type: Literal["register_party"]
    party: PartyId = Field(description="the party's BIN (an organisation) or IIN (a person)")
    name: Text = Field(description="registered name")
    kind: PartyKind = Field(description="an `individual` is identified by an IIN, the others by a BIN")
    registered_on: Date | None = Field(None, description="date of registration")
    address: Text | None = Field(None, description="postal address")
    phone: Text | None = Field(None, description="phone number")
    owners: parties_list("owners") | None = Field(None, description="party ids of the owners")
    directors: parties_list("directors") | None = Field(None, description="IINs of the directors")
    officials: parties_list("officials") | None = Field(
        None, description="IINs of the people who approve an administrator's payments")
    region: Text | None = Field(None, description="region")


class UpdatePartyModel(CommandModel):
    """Change a party's details or status."""

    COMMAND = c.UpdateParty
    type: Literal["update_party"]
    party: PartyId = Field(description="the party to change")
    name: Text | None = Field(None, description="new name")
    address: Text | None = Field(None, description="new address")
    phone: Text | None = Field(None, description="new phone number")
    owners: parties_list("owners") | None = Field(None, description="new owners; `[]` clears the list")
    directors: parties_list("directors") | None = Field(None, description="new directors; `[]` clears")
    officials: parties_list("officials") | None = Field(None, description="new officials; `[]` clears")
    status: PartyStatus | None = Field(None, description="new status")


class SetReferencePriceModel(CommandModel):
    """Record a reference (catalog) price."""

    COMMAND = c.SetReferencePrice
    type: Literal["set_reference_price"]
    code: Text = Field(description="item code, joined with contract items' `code`")
    unit: Text = Field(description="unit of measure")
    price_tiyn: PositiveAmount = Field(alias="price", description="reference price per unit, KZT")
    region: Text | None = Field(None, description="region the price applies to")
    description: Text | None = Field(None, description="what the item is")
