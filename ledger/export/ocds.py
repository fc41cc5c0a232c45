"""`export ocds`: one compiled OCDS 1.1 release per contract, in a release package (SPEC §3.2).

A contract is a contracting process: `ocid` is `{prefix}-{contract}` (the prefix is configurable,
`--ocid-prefix`; publishers register theirs with the Open Contracting Partnership). Its compiled
release (`tag` `compiled`) names:
- `buyer`: the color's administrator (whose budget pays); `planning.budget`: the color (id,
  purpose, allocated amount);
- `parties`: buyer, the contract's customer (`payer`), supplier (`supplier`, `payee`), identified by
  `identifier.scheme` `KZ-BIN` or `KZ-IIN` (org-id.guide's list for Kazakhstan) and party id
  `KZ-BIN-<id>`;
- `tender.procurementMethod` from the contract's `method` (`quotation` is `limited`);
- one `award` (the supplier, the signed value) and one `contract` (value after amendments, items,
  `dateSigned`, `period.endDate`, `amendments`), whose `implementation.transactions` are the
  payments under it (transfers, and reservations released to the supplier).

Amounts are JSON numbers in KZT written exactly from integer tiyn (a `Decimal` of tiyn scaled by
10^-2, serialised by simplejson), never through a float.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from decimal import Decimal
from typing import IO, Any

import simplejson

from ledger.export.source import Contract, ExportSource, OnColor

DEFAULT_OCID_PREFIX = "ocds-tenge0"
PUBLISHER = "tenge-ledger"
METHODS = {"open": "open", "direct": "direct", "quotation": "limited"}


def kzt(amount_tiyn: int) -> dict[str, Any]:
    """An OCDS Value: the amount as an exact decimal number of tenge."""
    assert isinstance(amount_tiyn, int)
    return {"amount": Decimal(amount_tiyn).scaleb(-2), "currency": "KZT"}


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class ReleaseBuilder:
    def __init__(self, source: ExportSource, ocid_prefix: str) -> None:
        self.source = source
        self.ocid_prefix = ocid_prefix

    def party_id(self, party: str) -> str:
        return f"KZ-{self.source.scheme(party)}-{party}"

    def reference(self, party: str) -> dict[str, str]:
        return {"id": self.party_id(party), "name": self.source.name(party)}

    def organization(self, party: str, roles: list[str]) -> dict[str, Any]:
        name = self.source.name(party)
        return {"id": self.party_id(party), "name": name,
                "identifier": {"scheme": f"KZ-{self.source.scheme(party)}", "id": party, "legalName": name},
                "roles": roles}

    def parties(self, contract: Contract) -> list[dict[str, Any]]:
        roles: dict[str, list[str]] = {}
        signed = contract.signed
        for party, role in ((contract.administrator, "buyer"), (signed.customer, "payer"),
                            (signed.supplier, "supplier"), (signed.supplier, "payee")):
            if role not in roles.setdefault(party, []):
                roles[party].append(role)
        return [self.organization(party, party_roles) for party, party_roles in roles.items()]

    def release(self, color: str, purpose: str, allocated_tiyn: int, contract: Contract) -> dict[str, Any]:
        signed = contract.signed
        ocid = f"{self.ocid_prefix}-{signed.contract}"
        award_id = f"{signed.contract}-award"
        last_at = contract.last_at or signed.at
        release: dict[str, Any] = {
            "ocid": ocid, "id": f"{ocid}-{_time(last_at)}", "date": _time(last_at), "tag": ["compiled"],
            "initiationType": "tender",
            "parties": self.parties(contract),
            "buyer": self.reference(contract.administrator),
            "planning": {"budget": {"id": color, "description": purpose, "amount": kzt(allocated_tiyn)}},
            "tender": {"id": f"{signed.contract}-tender"},
            "awards": [{"id": award_id, "status": "active", "date": _time(signed.at),
                        "value": kzt(signed.amount_tiyn), "suppliers": [self.reference(signed.supplier)]}],
            "contracts": [self.contract(contract, award_id)],
        }
        if signed.method:
            release["tender"]["procurementMethod"] = METHODS.get(signed.method)
            release["tender"]["procurementMethodDetails"] = signed.method
        return release

    def contract(self, contract: Contract, award_id: str) -> dict[str, Any]:
        signed = contract.signed
        document: dict[str, Any] = {
            "id": signed.contract, "awardID": award_id, "status": "active", "dateSigned": _time(signed.at),
            "value": kzt(contract.amount_tiyn),
            "items": [{"id": str(n), "description": item.code, "classification": {"scheme": "x_tenge", "id": item.code},
                       "quantity": item.quantity,
                       "unit": {"name": item.unit, "value": kzt(item.unit_price_tiyn)}}
                      for n, item in enumerate(signed.items, start=1)],
            "implementation": {"transactions": [
                {"id": payment.transaction, "date": _time(payment.at), "value": kzt(payment.amount_tiyn),
                 "payer": self.reference(payment.payer), "payee": self.reference(payment.payee)}
                for payment in contract.payments]},
        }
        if signed.ends_on is not None:
            end = datetime.combine(signed.ends_on, time(23, 59, 59), tzinfo=self.source.time_zone)
            document["period"] = {"endDate": _time(end)}
        if contract.amendments:
            document["amendments"] = [
                {"id": amendment.transaction, "date": _time(amendment.at), "rationale": amendment.reason or "",
                 "description": f"value {Decimal(amendment.previous_amount_tiyn).scaleb(-2)} KZT -> "
                                f"{Decimal(amendment.amount_tiyn).scaleb(-2)} KZT"}
                for amendment in contract.amendments]
        return document


def write_ocds(source: ExportSource, out: IO[str], ocid_prefix: str = DEFAULT_OCID_PREFIX,
               published: datetime | None = None, on_color: OnColor | None = None) -> int:
    """Write a release package of compiled releases to `out` (text), streaming; returns how many."""
    published = published or datetime.now(timezone.utc).replace(microsecond=0)
    builder = ReleaseBuilder(source, ocid_prefix)
    out.write('{"uri": "urn:tenge-ledger:export:ocds", "version": "1.1", ')
    out.write(f'"publishedDate": "{_time(published)}", "publisher": {{"name": "{PUBLISHER}"}}, "releases": [\n')
    count = 0
    for piece in source.slices(on_color):
        allocation = piece.allocation
        for contract in piece.contracts:
            release = builder.release(piece.color, allocation.purpose, allocation.amount_tiyn, contract)
            out.write((",\n" if count else "") + simplejson.dumps(release, ensure_ascii=False, use_decimal=True))
            count += 1
    out.write("\n]}\n")
    return count
