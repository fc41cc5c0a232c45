"""A clean three-pilot world on which every anomaly rule stays silent (RULES.md "How to test a rule").

Each rule's positive case is one minimal change to this world (a record replaced, or a few records
appended after it), and its negative case the same change just across the threshold. Read it top to
bottom: it is one fiscal year (2025) of a road reconstruction, a tractor subsidy and a local paving
project, with ordinary, non-round amounts, acceptances before payments, and nothing shared between
parties that could look like a relation.

    world = Baseline()                       # records built, nothing run yet
    world.replace("K-ROAD-1", amount=...)    # change one record
    world.script.transfer(...)               # or append more
    flags = world.flags()                    # run everything through a fresh ledger
"""

from __future__ import annotations

from typing import Any

from domain.commands import Command
from domain.policy import time_zone_text
from ledger.app import Ledger
from tests.support import Script, color_id, party_id

DAY0 = "2025-01-01"


def day(date: str, time: str = "10:00:00") -> float:
    """Days after 2025-03-01 10:00+05:00 (tests.support.T0) for an ISO date in 2025."""
    from datetime import date as date_type

    return (date_type.fromisoformat(date) - date_type(2025, 3, 1)).days + (int(time[:2]) - 10) / 24


class Baseline:
    def __init__(self) -> None:
        self.script = Script()
        self.n: dict[str, str] = {}
        self._parties()
        self._prices()
        self._road()
        self._agro()
        self._local()

    # --- building blocks ---------------------------------------------------------------------

    def add(self, type_: str, id: str, date: str, **fields: Any) -> dict[str, Any]:
        return self.script.add(type_, id=id, days=day(date), **fields)

    def party(self, key: str, number: int, kind: str, name: str, **fields: Any) -> None:
        person = kind == "individual"
        self.n[key] = party_id(number, person=person)
        defaults = {} if person else {"registered_on": "2016-04-12", "address": f"Astana, {name} st. {number}",
                                      "phone": f"+7 7172 {number:02d}0 {number:03d}"}
        defaults.update(fields)
        self.add("register_party", f"P-{key}", "2025-01-10", party=self.n[key], name=name, kind=kind, **defaults)

    def _parties(self) -> None:
        for key, number, person in (("O1", 901, True), ("O2", 902, True), ("O3", 903, True), ("D1", 911, True),
                                    ("D2", 912, True), ("D3", 913, True), ("D4", 914, True), ("D5", 915, True)):
            self.n[key] = party_id(number, person=person)
        self.party("T", 1, "treasury", "Treasury Committee")
        self.party("A1", 2, "administrator", "Akmola Roads Department", officials=[self.n["O1"]])
        self.party("A2", 3, "administrator", "Agrarian Credit Subsidy Operator", officials=[self.n["O2"]])
        self.party("A3", 4, "administrator", "Kosshy Akimat", officials=[self.n["O3"]])
        self.party("C1", 5, "contractor", "KazDorStroy", registered_on="2015-07-20", directors=[self.n["D1"]])
        self.party("S1", 6, "contractor", "Asphalt Beton Kokshetau", registered_on="2018-09-03", directors=[self.n["D2"]])
        self.party("M1", 7, "supplier", "Bitum Trade", registered_on="2019-11-14", directors=[self.n["D3"]])
        self.party("DL1", 8, "dealer", "Agro Technika Dealer", registered_on="2016-02-01", directors=[self.n["D4"]])
        self.party("F1", 9, "farmer", "Zhana Kuat Farm", registered_on="2012-05-05")
        self.party("L1", 10, "contractor", "Kosshy Abat Stroy", registered_on="2017-03-30", directors=[self.n["D5"]])
        self.party("W1", 921, "individual", "Serik Abenov")

    def _prices(self) -> None:
        self.add("set_reference_price", "RP-ASPHALT", "2025-01-15", code="ASPHALT", unit="t", price="41500.00", region="Akmola")
        self.add("set_reference_price", "RP-ROAD-KM", "2025-01-15", code="ROAD-KM", unit="km", price="240000000.00")
        self.add("set_reference_price", "RP-TRACTOR", "2025-01-15", code="TRACTOR-X", unit="pcs", price="38400000.00")
        self.add("set_reference_price", "RP-PAVING", "2025-01-15", code="PAVING", unit="m2", price="12100.00")

    # --- ROAD: a 12.5 km reconstruction, a subcontractor and a bitumen supplier ----------------

    def _road(self) -> None:
        n = self.n
        n["ROAD"] = color_id("ROAD", 123)
        self.add("allocate", "A-ROAD", "2025-02-03", color=n["ROAD"], program="041", purpose="Road km 12-24.5",
                 amount="1500000000.00", treasury=n["T"], administrator=n["A1"], expires_on="2025-12-31", region="Akmola")
        self.add("sign_contract", "K-ROAD-1", "2025-02-20", contract="C-ROAD-1", color=n["ROAD"], customer=n["A1"],
                 supplier=n["C1"], amount="1478801306.65", method="open", ends_on="2025-11-30",
                 road={"length_km": "12.5", "width_m": "7.5", "asphalt_cm": "9"},
                 items=[{"code": "ASPHALT", "unit": "t", "quantity": "19900", "unit_price": "41230.00"},
                        {"code": "EARTHWORKS", "unit": "m3", "quantity": "61250", "unit_price": "9870.40"},
                        {"code": "ROAD-SIGNS", "unit": "pcs", "quantity": "148", "unit_price": "186350.00"},
                        {"code": "DRAINAGE", "unit": "m", "quantity": "2731", "unit_price": "9587.15"}])
        self.add("transfer", "T-ROAD-ADV", "2025-03-03", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="295760261.33",
                 contract="C-ROAD-1", invoice="KDS-2025/017", kind="advance")
        self.add("sign_contract", "K-ROAD-SUB", "2025-03-10", contract="C-ROAD-SUB", color=n["ROAD"], customer=n["C1"],
                 supplier=n["S1"], amount="483290000.00", method="direct",
                 items=[{"code": "ASPHALT-LAYING", "unit": "t", "quantity": "12400", "unit_price": "38975.00"}])
        self.add("sign_contract", "K-ROAD-BIT", "2025-03-11", contract="C-ROAD-BIT", color=n["ROAD"], customer=n["C1"],
                 supplier=n["M1"], amount="337952000.00", method="quotation",
                 items=[{"code": "BITUMEN", "unit": "t", "quantity": "1180", "unit_price": "286400.00"}])
        self.add("accept", "AC-ROAD-BIT", "2025-03-16", contract="C-ROAD-BIT", amount="168712340.00")
        self.add("transfer", "T-ROAD-SUB-ADV", "2025-03-17", color=n["ROAD"], from_=n["C1"], to=n["S1"], amount="88412340.00",
                 contract="C-ROAD-SUB", invoice="ABK-101", kind="advance")
        self.add("transfer", "T-ROAD-BIT", "2025-03-18", color=n["ROAD"], from_=n["C1"], to=n["M1"], amount="168712340.00",
                 contract="C-ROAD-BIT", invoice="BT-0391", kind="progress")
        self.add("spend", "S-ROAD-M1", "2025-03-24", color=n["ROAD"], from_=n["M1"], amount="151226905.35", category="materials", invoice="BT-M-77")
        self.add("spend", "S-ROAD-S1", "2025-03-27", color=n["ROAD"], from_=n["S1"], amount="61440275.50", category="machinery_rental", invoice="ABK-R-06")
        self.add("spend", "S-ROAD-C1", "2025-04-02", color=n["ROAD"], from_=n["C1"], amount="22910455.10", category="fuel", invoice="GSM-0402")
        self.add("accept", "AC-ROAD-1", "2025-05-30", contract="C-ROAD-1", amount="812406250.00",
                 evidence_sha256="5f4dcc3b5aa765d61d8327deb882cf99e4c1b7ad0e4b8a0f2d0b8c9e7a1f3c2d",
                 quantities=[{"code": "ASPHALT", "quantity": "7200"}])
        self.add("reserve", "R-ROAD-1", "2025-06-02", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="667283841.45",
                 contract="C-ROAD-1", invoice="KDS-2025/044", kind="progress")
        self.add("release", "RL-ROAD-1", "2025-06-04", reservation="R-ROAD-1")
        self.add("accept", "AC-ROAD-SUB", "2025-06-05", contract="C-ROAD-SUB", amount="190000000.00")
        self.add("transfer", "T-ROAD-SUB-1", "2025-06-09", color=n["ROAD"], from_=n["C1"], to=n["S1"], amount="174560310.00",
                 contract="C-ROAD-SUB", invoice="ABK-112", kind="progress")
        self.add("spend", "S-ROAD-S1-2", "2025-06-20", color=n["ROAD"], from_=n["S1"], amount="118230640.25", category="materials", invoice="ABK-MAT-0620")

    # --- AGRO: one subsidised tractor for one farmer ------------------------------------------

    def _agro(self) -> None:
        n = self.n
        n["AGRO"] = color_id("AGRO", 7, program=112)
        n["VIN1"] = "1HGCM82633A004352"
        self.add("allocate", "A-AGRO", "2025-02-03", color=n["AGRO"], program="112", purpose="Tractor subsidies",
                 amount="60000000.00", treasury=n["T"], administrator=n["A2"], expires_on="2025-12-31", region="Akmola")
        self.add("sign_contract", "K-AGRO-1", "2025-03-01", contract="C-AGRO-1", color=n["AGRO"], customer=n["A2"],
                 supplier=n["DL1"], amount="39150000.00", assets=[n["VIN1"]], beneficiary=n["F1"],
                 items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": "39150000.00"}])
        self.add("reserve", "R-AGRO-1", "2025-03-05", color=n["AGRO"], from_=n["A2"], to=n["DL1"], amount="39150000.00",
                 contract="C-AGRO-1", invoice="ATD-5521", kind="subsidy")
        self.add("accept", "AC-AGRO-1", "2025-04-20", contract="C-AGRO-1", amount="39150000.00", final=True,
                 evidence_sha256="9e107d9d372bb6826bd81d3542a419d6e4c1b7ad0e4b8a0f2d0b8c9e7a1f3c2d")
        self.add("release", "RL-AGRO-1", "2025-04-22", reservation="R-AGRO-1",
                 evidence_sha256="9e107d9d372bb6826bd81d3542a419d6e4c1b7ad0e4b8a0f2d0b8c9e7a1f3c2d")
        self.add("spend", "S-AGRO-DL1", "2025-04-25", color=n["AGRO"], from_=n["DL1"], amount="36120455.00",
                 category="equipment", invoice="MFR-88123")

    # --- LOCAL: paving and street lights in a small town ------------------------------------

    def _local(self) -> None:
        n = self.n
        n["LOCAL"] = color_id("LOCAL", 31, program=205)
        self.add("allocate", "A-LOCAL", "2025-02-03", color=n["LOCAL"], program="205", purpose="Kosshy streets",
                 amount="70000000.00", treasury=n["T"], administrator=n["A3"], expires_on="2025-12-31", region="Akmola")
        self.add("sign_contract", "K-LOCAL-1", "2025-03-12", contract="C-LOCAL-1", color=n["LOCAL"], customer=n["A3"],
                 supplier=n["L1"], amount="68898600.00",
                 items=[{"code": "PAVING", "unit": "m2", "quantity": "4200", "unit_price": "12870.00"},
                        {"code": "LIGHTING", "unit": "pcs", "quantity": "36", "unit_price": "412350.00"}])
        self.add("transfer", "T-LOCAL-ADV", "2025-03-20", color=n["LOCAL"], from_=n["A3"], to=n["L1"], amount="10334790.00",
                 contract="C-LOCAL-1", invoice="KAS-031", kind="advance")
        self.add("accept", "AC-LOCAL-1", "2025-05-15", contract="C-LOCAL-1", amount="35000000.00")
        self.add("transfer", "T-LOCAL-1", "2025-05-20", color=n["LOCAL"], from_=n["A3"], to=n["L1"], amount="27689210.00",
                 contract="C-LOCAL-1", invoice="KAS-058", kind="progress")
        self.add("spend", "S-LOCAL-L1", "2025-05-25", color=n["LOCAL"], from_=n["L1"], amount="12480330.15", category="materials", invoice="KAS-M-12")
        self.add("spend", "S-LOCAL-W1", "2025-05-31", color=n["LOCAL"], from_=n["L1"], amount="4210500.00", category="wages", payee=n["W1"])

    # --- changing and running -----------------------------------------------------------------

    def record(self, record_id: str) -> dict[str, Any]:
        [record] = [r for r in self.script.records if r["id"] == record_id]
        return record

    def replace(self, record_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of one baseline record (`from_` for `from`; None removes a field)."""
        record = self.record(record_id)
        for name, value in fields.items():
            key = name.rstrip("_")
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        return record

    def commands(self) -> list[Command]:
        """The records in business-time order (stable): a test appends changes after the baseline,
        and within a color business time never goes back (SPEC §2.5)."""
        return sorted(self.script.commands(), key=lambda command: command.at)

    def run(self, store: str = "memory://", time_zone: str | None = None) -> Ledger:
        ledger = Ledger(store, time_zone=time_zone)
        outcomes = ledger.execute(self.commands())
        unexpected = [o for o in outcomes if o.status != "applied"]
        self.outcomes = outcomes
        self.unexpected = unexpected
        return ledger

    def flags(self, as_of: str | None = None, rules: Any = None) -> list[dict[str, Any]]:
        """Every flag of the world (as of a business time or @position, else now), in a ledger whose
        time zone is the rules config's (the read side judges dates in the store's own zone)."""
        ledger = self.run(time_zone=time_zone_text(rules.time_zone) if rules is not None else None)
        read = ledger.read_side(rules)
        now = read.catch_up()
        position = read.resolve_as_of(as_of, now)
        return read.flags(position, now, as_of)


def codes(flags: list[dict[str, Any]]) -> list[str]:
    return sorted({flag["rule"] for flag in flags})


def chunked_flags(commands: list[Command], splits: list[int], store: str, *, rules: Any = None,
                  as_of: str | None = None) -> list[dict[str, Any]]:
    """The flags of `commands` applied in chunks cut at `splits`, each chunk by a fresh `Ledger` on
    the same `store` (as separate processes would: the rule engine's state is saved after each
    chunk's catch-up and restored before the next). Every command must apply."""
    bounds = [0, *sorted(splits), len(commands)]
    for start, end in zip(bounds, bounds[1:]):
        ledger = Ledger(store)
        try:
            outcomes = ledger.execute(commands[start:end])
            assert all(o.status == "applied" for o in outcomes), [o for o in outcomes if o.status != "applied"]
            ledger.read_side(rules).catch_up()
        finally:
            ledger.close()
    ledger = Ledger(store)
    try:
        read = ledger.read_side(rules)
        now = read.catch_up()
        return read.flags(read.resolve_as_of(as_of, now), now, as_of)
    finally:
        ledger.close()
