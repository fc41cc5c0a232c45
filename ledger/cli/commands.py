"""One CLI subcommand per interchange command type, generated from one table (SPEC §5).

Each subcommand turns its flags into the interchange object the importer would read and sends it
through the same validation (`ledger.interchange.parse_record`): there is one validation path.
Flags are named as the fields (`--from`, `--to`, `--amount 1500000.00`); list fields repeat
(`--owner X --owner Y`); nested ones take their parts in order (`--item CODE UNIT QUANTITY PRICE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from domain.commands import CONTRACT_METHODS, PARTY_KINDS, PARTY_STATUSES, SPEND_CATEGORIES, TRANSFER_KINDS


@dataclass(frozen=True)
class Flag:
    """How one interchange field appears on the command line."""

    field: str
    required: bool = False
    choices: tuple[str, ...] = ()
    multiple: bool = False
    parts: tuple[str, ...] = ()  # nested objects: their keys, given in order
    is_flag: bool = False
    help: str = ""

    @property
    def option(self) -> str:
        name = {"owners": "owner", "directors": "director", "officials": "official", "items": "item",
                "assets": "asset", "quantities": "quantity", "sources": "source"}.get(self.field, self.field)
        return "--" + name.replace("_", "-")

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


def _req(field: str, **kw: Any) -> Flag:
    return Flag(field, required=True, **kw)


def _opt(field: str, **kw: Any) -> Flag:
    return Flag(field, **kw)


_ITEM = ("code", "unit", "quantity", "unit_price")
_AMOUNT_HELP = "KZT, e.g. 1500000.00"

COMMAND_FLAGS: dict[str, tuple[str, str, tuple[Flag, ...]]] = {
    # cli name: (interchange type, help, flags)
    "register-party": ("register_party", "Register an organisation (BIN) or a person (IIN).", (
        _req("party", help="BIN or IIN"), _req("name"), _req("kind", choices=PARTY_KINDS),
        _opt("registered_on", help="YYYY-MM-DD"), _opt("address"), _opt("phone"),
        _opt("owners", multiple=True), _opt("directors", multiple=True),
        _opt("officials", multiple=True), _opt("region"),
    )),
    "update-party": ("update_party", "Change a party's details or status.", (
        _req("party"), _opt("name"), _opt("address"), _opt("phone"), _opt("owners", multiple=True),
        _opt("directors", multiple=True), _opt("officials", multiple=True),
        _opt("status", choices=PARTY_STATUSES),
    )),
    "set-reference-price": ("set_reference_price", "Record a reference (catalog) price.", (
        _req("code"), _req("unit"), _req("price", help=_AMOUNT_HELP), _opt("region"), _opt("description"),
    )),
    "allocate": ("allocate", "Allocate budget money under a new color.", (
        _req("color"), _req("program", help="three-digit budget program"), _req("purpose"),
        _req("amount", help=_AMOUNT_HELP), _req("treasury"), _req("administrator"),
        _req("expires_on", help="YYYY-MM-DD"), _opt("region"),
    )),
    "sign-contract": ("sign_contract", "Sign a contract under a color.", (
        _req("contract"), _req("color"), _req("customer"), _req("supplier"), _req("amount", help=_AMOUNT_HELP),
        _req("items", multiple=True, parts=_ITEM), _opt("method", choices=CONTRACT_METHODS),
        _opt("ends_on"), _opt("road", parts=("length_km", "width_m", "asphalt_cm")),
        _opt("assets", multiple=True, help="VIN"), _opt("beneficiary"),
    )),
    "amend-contract": ("amend_contract", "Change a contract's amount.", (
        _req("contract"), _req("amount", help=_AMOUNT_HELP), _opt("items", multiple=True, parts=_ITEM), _opt("reason"),
    )),
    "accept": ("accept", "Accept delivered work or goods under a contract.", (
        _req("contract"), _req("amount", help=_AMOUNT_HELP), _opt("evidence_sha256"),
        _opt("quantities", multiple=True, parts=("code", "quantity")), _opt("final", is_flag=True),
    )),
    "transfer": ("transfer", "Pay colored money to a contract's supplier.", (
        _req("color"), _req("from"), _req("to"), _req("amount", help=_AMOUNT_HELP), _opt("contract"),
        _opt("invoice"), _opt("kind", choices=TRANSFER_KINDS),
        _opt("sources", multiple=True, parts=("lot", "amount")),
    )),
    "reserve": ("reserve", "Reserve a payment until delivery is accepted.", (
        _req("color"), _req("from"), _req("to"), _req("amount", help=_AMOUNT_HELP), _req("contract"),
        _opt("invoice"), _opt("kind", choices=TRANSFER_KINDS),
    )),
    "release": ("release", "Release a reservation to its payee.", (
        _req("reservation"), _opt("evidence_sha256"),
    )),
    "void": ("void", "Void a reservation back to its payer.", (_req("reservation"), _opt("reason"))),
    "spend": ("spend", "Record a final spend of colored money.", (
        _req("color"), _req("from"), _req("amount", help=_AMOUNT_HELP), _req("category", choices=SPEND_CATEGORIES),
        _opt("payee"), _opt("invoice"), _opt("contract"), _opt("assets", multiple=True, help="VIN"),
    )),
    "return": ("return", "Return colored money to the budget.", (
        _req("color"), _req("from"), _req("amount", help=_AMOUNT_HELP), _opt("reason"),
    )),
    "freeze": ("freeze", "Freeze a color, or one holder's share of it.", (_req("color"), _req("reason"), _opt("holder"))),
    "unfreeze": ("unfreeze", "Unfreeze a color, or one holder's share of it.", (_req("color"), _req("reason"), _opt("holder"))),
}


def build_record(command_type: str, flags: tuple[Flag, ...], given: dict[str, Any], command_id: str, at: str) -> dict[str, Any]:
    """The interchange object for a subcommand's parsed flags."""
    record: dict[str, Any] = {"id": command_id, "type": command_type, "at": at}
    for flag in flags:
        value = flag.to_value(given.get(flag.field))
        if value is not None:
            record[flag.field] = value
    return record
