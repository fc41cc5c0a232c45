"""H01, H03, S01, R01–R04: contract changes, subcontracting, prices and quantities (RULES.md).

Every case is one minimal change to the baseline world, paired with the same change just across
the threshold.

S01's pass-through share is judged once the color has expired (mid-year, an advance passed down to
subcontractors looks like pass-through even in an honest chain: KazDorStroy passes 86.94 % of its
advance on within two weeks, but 44.8 % of everything over the year). Most tests here run on
`world()`, the baseline with the ROAD advance raised to 330 000 000.00 KZT, which the numbers
below were computed for; the S01 share tests use the baseline itself.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from projections.rules.config import load_config
from tests.rules.baseline import Baseline, chunked_flags, day

MINE = ("H01", "H03", "S01", "R01", "R02", "R03", "R04")
CLEAN_ADVANCE = "330000000.00"


# --- helpers --------------------------------------------------------------------------------


def world() -> Baseline:
    """The baseline, with the ROAD advance raised so that it is clean for S01 (module docstring)."""
    w = Baseline()
    w.replace("T-ROAD-ADV", amount=CLEAN_ADVANCE)
    return w


def run(w: Baseline, code: str, rules: Any = None, as_of: str | None = None) -> list[dict[str, Any]]:
    """`code`'s flags of the world; every command must apply."""
    flags = w.flags(as_of=as_of, rules=rules)
    assert w.unexpected == [], [(o.status, getattr(o, "detail", None)) for o in w.unexpected]
    return [flag for flag in flags if flag["rule"] == code]


def insert_after(w: Baseline, after: str, type_: str, id: str, date: str, time: str = "10:00:00", **fields: Any) -> None:
    """A record placed right after record `after`, so business time stays in order."""
    record = w.script.add(type_, id=id, days=day(date, time), **fields)
    w.script.records.pop()
    w.script.records.insert(w.script.records.index(w.record(after)) + 1, record)


def kzt(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def line(quantity: str, unit_price: str) -> Decimal:
    return (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def road_items(asphalt_quantity: str = "19900", asphalt_price: str = "41230.00") -> tuple[list[dict[str, str]], str]:
    """C-ROAD-1's items with the asphalt line changed, and the amount they add up to."""
    items = [{"code": "ASPHALT", "unit": "t", "quantity": asphalt_quantity, "unit_price": asphalt_price},
             {"code": "EARTHWORKS", "unit": "m3", "quantity": "61250", "unit_price": "9870.40"},
             {"code": "ROAD-SIGNS", "unit": "pcs", "quantity": "148", "unit_price": "186350.00"},
             {"code": "DRAINAGE", "unit": "m", "quantity": "2731", "unit_price": "9587.15"}]
    return items, kzt(sum((line(i["quantity"], i["unit_price"]) for i in items), Decimal(0)))


def local_items(paving_price: str, paving_quantity: str = "3000") -> tuple[list[dict[str, str]], str]:
    items = [{"code": "PAVING", "unit": "m2", "quantity": paving_quantity, "unit_price": paving_price},
             {"code": "LIGHTING", "unit": "pcs", "quantity": "36", "unit_price": "412350.00"}]
    return items, kzt(sum((line(i["quantity"], i["unit_price"]) for i in items), Decimal(0)))


def amend(w: Baseline, id: str, date: str, contract: str, amount: str, **fields: Any) -> None:
    w.add("amend_contract", id, date, contract=contract, amount=amount, **fields)


def config(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


# --- the local baseline ----------------------------------------------------------------------


def test_the_local_baseline_is_clean_for_these_rules() -> None:
    w = world()
    flags = w.flags(as_of="2026-02-01T00:00:00+05:00")
    assert w.unexpected == []
    assert [f for f in flags if f["rule"] in MINE] == []


def test_s01_the_baseline_contractor_passes_on_less_than_80_percent_over_the_year() -> None:
    """431 684 990.00 of 963 044 102.78 KZT (44.8 %): silent, also once the color has expired."""
    assert run(Baseline(), "S01", as_of=AFTER_EXPIRY) == []


# --- H01 price-raising amendments ------------------------------------------------------------


@pytest.mark.parametrize("amount, flagged", [("1700621502.65", True), ("1700621502.64", False)])
def test_h01_works_raised_15_percent_over_signed(amount: str, flagged: bool) -> None:
    """1.15 × 1 478 801 306.65 = 1 700 621 502.6475: the first whole tiyn at or above it flags."""
    w = world()
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", amount)
    flags = run(w, "H01")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["contracts"] == ["C-ROAD-1"] and flag["transactions"] == ["K-ROAD-1", "AM-1"]
        assert flag["parties"] == [w.n["A1"], w.n["C1"]] and flag["pilot"] == "ROAD" and flag["color"] == w.n["ROAD"]
        assert flag["evidence"]["signed_amount_tiyn"] == 147880130665 and flag["evidence"]["amount_tiyn"] == 170062150265
        assert flag["evidence"]["raise_ratio"] == "0.150000000002" and flag["evidence"]["raise_ratio_threshold"] == "0.15"
        assert "15.0000000002 % over the signed 1478801306.65 KZT (threshold 15 % over)" in flag["explanation"]


def test_h01_cumulative_raises_flag_once_per_contract() -> None:
    w = world()
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", "1600000000.00")  # +8.2 %
    amend(w, "AM-2", "2025-07-05", "C-ROAD-1", "1700621502.65")  # +15 % in all
    amend(w, "AM-3", "2025-07-09", "C-ROAD-1", "1800000000.00")  # more, same contract
    [flag] = run(w, "H01")
    assert flag["transactions"] == ["K-ROAD-1", "AM-1", "AM-2"] and flag["evidence"]["amendments_count"] == 2


@pytest.mark.parametrize("pilot, contract, amount, flagged", [
    ("AGRO", "C-AGRO-1", "43065000.00", True),     # goods: +10 % of 39 150 000.00
    ("AGRO", "C-AGRO-1", "43064999.99", False),
    ("LOCAL", "C-LOCAL-1", "75788460.00", False),  # works: +10 % of 68 898 600.00 is not enough
    ("LOCAL", "C-LOCAL-1", "79233390.00", True),   # works: +15 %
])
def test_h01_goods_and_works_thresholds_per_pilot(pilot: str, contract: str, amount: str, flagged: bool) -> None:
    w = world()
    amend(w, "AM-1", "2025-07-01", contract, amount)
    flags = run(w, "H01")
    assert [(f["pilot"], f["contracts"]) for f in flags] == ([(pilot, [contract])] if flagged else [])


@pytest.mark.parametrize("amount, flagged", [("67500000.01", True), ("67500000.00", False)])
def test_h01_single_amendment_over_half(amount: str, flagged: bool) -> None:
    """Lowered to 45 000 000.00 then raised by more than 50 %: still below the signed amount."""
    w = world()
    amend(w, "AM-1", "2025-07-01", "C-LOCAL-1", "45000000.00")
    amend(w, "AM-2", "2025-07-02", "C-LOCAL-1", amount)
    flags = run(w, "H01")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["transactions"] == ["K-LOCAL-1", "AM-1", "AM-2"] and flag["parties"] == [w.n["A3"], w.n["L1"]]
        assert flag["evidence"]["previous_amount_tiyn"] == 4500000000 and flag["evidence"]["single_raise_ratio"] == "0.5000000002"
        assert "a raise of 50.00000002 % in this one amendment (threshold above 50 %)" in flag["explanation"]


# --- H03 amendment velocity ------------------------------------------------------------------


@pytest.mark.parametrize("time, flagged", [("09:00:00", True), ("10:00:00", False)])
def test_h03_first_amendment_within_30_days(time: str, flagged: bool) -> None:
    """C-ROAD-1 was signed 2025-02-20 10:00; 30 days later is 2025-03-22 10:00 (not under 30 days)."""
    w = world()
    insert_after(w, "T-ROAD-BIT", "amend_contract", "AM-1", "2025-03-22", time, contract="C-ROAD-1", amount="1480000000.00")
    flags = run(w, "H03")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["transactions"] == ["K-ROAD-1", "AM-1"] and flag["contracts"] == ["C-ROAD-1"]
        assert flag["parties"] == [w.n["A1"], w.n["C1"]]
        assert flag["evidence"]["days_after_signing"] == "29.958333" and flag["evidence"]["first_amendment_days"] == 30
        assert "29.96 days after signing" in flag["explanation"] and "(threshold under 30 days)" in flag["explanation"]


def test_h03_only_the_first_amendment_counts_for_speed() -> None:
    w = world()
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", "1480000000.00")
    amend(w, "AM-2", "2025-07-02", "C-ROAD-1", "1481000000.00")
    assert run(w, "H03") == []


@pytest.mark.parametrize("contract, amounts, flagged", [
    ("C-ROAD-1", ["1480000000.00", "1481000000.00", "1482000000.00"], True),
    ("C-ROAD-1", ["1480000000.00", "1479000000.00", "1482000000.00"], False),  # a decrease is not a raise
    ("C-AGRO-1", ["39150000.01", "39150000.02", "39150000.03"], True),        # every pilot
])
def test_h03_three_raises(contract: str, amounts: list[str], flagged: bool) -> None:
    w = world()
    for n, amount in enumerate(amounts, 1):
        amend(w, f"AM-{n}", f"2025-07-0{n}", contract, amount)
    flags = run(w, "H03")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        signing = "K-ROAD-1" if contract == "C-ROAD-1" else "K-AGRO-1"
        assert flag["transactions"] == [signing, "AM-1", "AM-2", "AM-3"] and flag["contracts"] == [contract]
        assert flag["evidence"]["raises_count"] == 3 and flag["evidence"]["raises_min_count"] == 3


# --- S01 pass-through subcontracting ---------------------------------------------------------


AFTER_EXPIRY = "2026-01-01T00:00:00+05:00"  # the ROAD color expires on 2025-12-31


def pass_through(w: Baseline, last_amount: str, release: bool = False) -> None:
    """KazDorStroy pays on 200 000 000.00 + `last_amount` more to its subcontractors in July.

    Over the year it received 963 044 102.78 KZT and had paid on 431 684 990.00 KZT; 80 % of what it
    received is 770 435 282.224 KZT, reached with a last payment of 138 750 292.23 KZT.
    """
    w.add("transfer", "T-S01-A", "2025-07-01", color=w.n["ROAD"], from_=w.n["C1"], to=w.n["S1"],
          amount="200000000.00", contract="C-ROAD-SUB", invoice="ABK-201", kind="progress")
    if release:
        w.add("reserve", "T-S01-B", "2025-07-02", color=w.n["ROAD"], from_=w.n["C1"], to=w.n["M1"],
              amount=last_amount, contract="C-ROAD-BIT", invoice="BT-0450", kind="progress")
        w.add("accept", "AC-S01-B", "2025-07-03", contract="C-ROAD-BIT", amount="169239660.00")
        w.add("release", "RL-S01-B", "2025-07-04", reservation="T-S01-B")
    else:
        w.add("transfer", "T-S01-B", "2025-07-02", color=w.n["ROAD"], from_=w.n["C1"], to=w.n["M1"],
              amount=last_amount, contract="C-ROAD-BIT", invoice="BT-0450", kind="progress")


@pytest.mark.parametrize("last_amount, flagged", [("138750292.23", True), ("138750292.22", False)])
def test_s01_contractor_pays_on_80_percent_of_what_it_received(last_amount: str, flagged: bool) -> None:
    w = Baseline()
    pass_through(w, last_amount)
    assert run(w, "S01") == [], "judged only once the color has expired"
    flags = run(w, "S01", as_of=AFTER_EXPIRY)
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["transactions"] == ["T-ROAD-ADV", "RL-ROAD-1", "T-ROAD-SUB-ADV", "T-ROAD-BIT", "T-ROAD-SUB-1",
                                        "T-S01-A", "T-S01-B"]
        assert flag["parties"] == [w.n["C1"], w.n["A1"], w.n["S1"], w.n["M1"]]
        assert flag["contracts"] == ["C-ROAD-1", "C-ROAD-SUB", "C-ROAD-BIT"]
        assert flag["evidence"]["received_tiyn"] == 96304410278 and flag["evidence"]["paid_on_tiyn"] == 77043528223
        assert flag["evidence"]["share_threshold"] == "0.8"
        assert "paid on 80" in flag["explanation"] and flag["at"] == AFTER_EXPIRY


def test_s01_a_later_event_past_the_expiry_closes_the_window() -> None:
    w = Baseline()
    pass_through(w, "138750292.23")
    w.add("set_reference_price", "RP-2026", "2026-01-15", code="ASPHALT", unit="t", price="43000.00", region="Akmola")
    [flag] = run(w, "S01")
    assert flag["at"] == AFTER_EXPIRY and flag["position"] == len(w.script.records)


def test_s01_released_reservations_count_as_paid_on() -> None:
    """The pass-through made by reserve + release instead of a transfer."""
    w = Baseline()
    pass_through(w, "138750292.23", release=True)
    [flag] = run(w, "S01", as_of=AFTER_EXPIRY)
    assert flag["transactions"][-1] == "RL-S01-B"


def _s01_share_67(w: Baseline) -> None:
    """Paying on 673 000 071.00 of 997 283 841.45 KZT (67.5 %, `world()`'s raised advance), judged
    after the color expired (a 2026 event closes the window): silent at 80 %, flagged at 60 %."""
    pass_through(w, "41315081.00")
    w.add("set_reference_price", "RP-2026", "2026-01-15", code="ASPHALT", unit="t", price="43000.00", region="Akmola")


def _sign(w: Baseline, id: str, contract: str, color: str, customer: str, supplier: str, amount: str = "1000000.00") -> None:
    w.add("sign_contract", id, "2025-07-01", contract=contract, color=w.n[color], customer=w.n[customer],
          supplier=w.n[supplier], amount=amount, items=[{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": amount}])


@pytest.mark.parametrize("customer, supplier, flagged", [("S1", "M1", True), ("C1", "W1", False)])
def test_s01_chain_three_deep(customer: str, supplier: str, flagged: bool) -> None:
    """A1 → C1 → S1 → M1 is three contracts deep; another C1 contract is two."""
    w = world()
    _sign(w, "K-DEEP", "C-DEEP", "ROAD", customer, supplier)
    flags = run(w, "S01")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["contracts"] == ["C-ROAD-1", "C-ROAD-SUB", "C-DEEP"]
        assert flag["transactions"] == ["K-ROAD-1", "K-ROAD-SUB", "K-DEEP"]
        assert flag["parties"] == [w.n["A1"], w.n["C1"], w.n["S1"], w.n["M1"]]
        assert flag["evidence"]["depth"] == 3 and flag["evidence"]["depth_min"] == 3
        assert "3 contracts below administrator" in flag["explanation"]


@pytest.mark.parametrize("pilot, flagged", [("LOCAL", True), ("AGRO", False)])
def test_s01_chain_depth_is_for_works_pilots_only(pilot: str, flagged: bool) -> None:
    w = world()
    top = {"LOCAL": "L1", "AGRO": "DL1"}[pilot]
    _sign(w, "K-D2", "C-D2", pilot, top, "M1")
    _sign(w, "K-D3", "C-D3", pilot, "M1", "S1")
    assert len(run(w, "S01")) == flagged


def test_s01_pass_through_is_silent_in_agro() -> None:
    """The dealer pays on exactly 80 % of the 39 150 000.00 KZT it received: not S01's pilot."""
    w = world()
    w.replace("S-AGRO-DL1", amount="7830000.00")
    _sign(w, "K-AGRO-SUB", "C-AGRO-SUB", "AGRO", "DL1", "M1", "31320000.00")
    w.add("transfer", "T-AGRO-SUB", "2025-07-02", color=w.n["AGRO"], from_=w.n["DL1"], to=w.n["M1"],
          amount="31320000.00", contract="C-AGRO-SUB", invoice="BT-9001", kind="progress")
    assert run(w, "S01") == []


# --- R01 unit price above reference ----------------------------------------------------------


@pytest.mark.parametrize("price, severity", [
    ("15730.00", "medium"),  # 1.30 × PAVING 12 100.00
    ("15729.99", None),
    ("18149.99", "medium"),
    ("18150.00", "high"),    # 1.50 ×
])
def test_r01_unit_price_at_130_and_150_percent(price: str, severity: str | None) -> None:
    w = world()
    items, amount = local_items(price)
    w.replace("K-LOCAL-1", items=items, amount=amount)
    flags = run(w, "R01")
    assert [f["severity"] for f in flags] == ([severity] if severity else [])
    if severity:
        [flag] = flags
        assert flag["contracts"] == ["C-LOCAL-1"] and flag["transactions"] == ["K-LOCAL-1"]
        assert flag["parties"] == [w.n["A3"], w.n["L1"]] and flag["pilot"] == "LOCAL"
        assert flag["evidence"]["unit_price_tiyn"] == int(Decimal(price) * 100)
        assert flag["evidence"]["reference_price_tiyn"] == 1210000 and flag["evidence"]["code"] == "PAVING"
        assert f"priced {price} KZT per m2" in flag["explanation"] and "(threshold 1.3×, high from 1.5×)" in flag["explanation"]


def test_r01_reads_amended_items_and_flags_each_item_once() -> None:
    w = world()
    items, amount = local_items("15730.00")
    amend(w, "AM-1", "2025-07-01", "C-LOCAL-1", amount, items=items)
    higher, higher_amount = local_items("16000.00")
    amend(w, "AM-2", "2025-07-02", "C-LOCAL-1", higher_amount, items=higher)
    [flag] = run(w, "R01")
    assert flag["transactions"] == ["K-LOCAL-1", "AM-1"] and flag["evidence"]["ratio"] == "1.3"


@pytest.mark.parametrize("region, national, flagged", [
    ("Akmola", "30000.00", False),  # the regional 41 500.00 wins over the national price
    ("Almaty", "30000.00", True),   # no Almaty price: the national one (41 230.00 is 1.37×)
    ("Almaty", None, False),        # no reference at all: silent
])
def test_r01_prefers_the_price_of_the_colors_region(region: str, national: str | None, flagged: bool) -> None:
    w = world()
    w.replace("A-ROAD", region=region)
    if national:
        insert_after(w, "RP-PAVING", "set_reference_price", "RP-ASPHALT-KZ", "2025-01-15", code="ASPHALT", unit="t", price=national)
    flags = run(w, "R01")
    assert [(f["contracts"], f["evidence"]["reference_price_tiyn"]) for f in flags] == ([(["C-ROAD-1"], 3000000)] if flagged else [])


def test_r01_covers_every_pilot() -> None:
    w = world()
    w.replace("K-AGRO-1", amount="49920000.00",
              items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": "49920000.00"}])
    [flag] = run(w, "R01")
    assert flag["pilot"] == "AGRO" and flag["contracts"] == ["C-AGRO-1"]


# --- R02 road cost per km --------------------------------------------------------------------


@pytest.mark.parametrize("reference, flagged", [("78869403.02", True), ("78869403.03", False)])
def test_r02_cost_per_km_150_percent_of_reference(reference: str, flagged: bool) -> None:
    """1 478 801 306.65 / 12.5 km = 118 304 104.532 per km; / 1.5 = 78 869 403.0213."""
    w = world()
    w.replace("RP-ROAD-KM", price=reference)
    flags = run(w, "R02")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["contracts"] == ["C-ROAD-1"] and flag["transactions"] == ["K-ROAD-1"]
        assert flag["parties"] == [w.n["A1"], w.n["C1"]]
        assert flag["evidence"]["cost_per_km_tiyn"] == 11830410453 and flag["evidence"]["length_km"] == "12.5"
        assert flag["evidence"]["ratio"] == "1.50000000003" and flag["evidence"]["ratio_threshold"] == "1.5"
        assert "118304104.53 KZT per km" in flag["explanation"]


@pytest.mark.parametrize("amount, flagged", [("1875000000.00", True), ("1874999999.99", False)])
def test_r02_amendment_raises_the_cost_per_km(amount: str, flagged: bool) -> None:
    w = world()
    w.replace("RP-ROAD-KM", price="100000000.00")
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", amount)
    flags = run(w, "R02")
    assert [f["transactions"] for f in flags] == ([["K-ROAD-1", "AM-1"]] if flagged else [])


def test_r02_is_silent_without_reference_or_outside_road() -> None:
    w = world()
    w.replace("RP-ROAD-KM", price="1000.00", region="Almaty")  # no Akmola or national ROAD-KM price
    assert run(w, "R02") == []
    w = world()
    w.replace("K-LOCAL-1", road={"length_km": "0.1", "width_m": "6", "asphalt_cm": "5"})  # 689 M KZT per km
    assert run(w, "R02") == []


# --- R03 asphalt quantity --------------------------------------------------------------------


@pytest.mark.parametrize("quantity, flagged", [("21810.9376", True), ("21810.9375", False)])
def test_r03_over_billing(quantity: str, flagged: bool) -> None:
    """Expected 12 500 m × 7.5 m × 0.09 m × 2.35 t/m³ = 19 828.125 t; × 1.10 = 21 810.9375 t (not over)."""
    w = world()
    items, amount = road_items(quantity)
    w.replace("K-ROAD-1", items=items, amount=amount)
    flags = run(w, "R03")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["contracts"] == ["C-ROAD-1"] and flag["transactions"] == ["K-ROAD-1"]
        assert flag["parties"] == [w.n["A1"], w.n["C1"]] and flag["at"].startswith("2025-02-20")
        assert flag["evidence"]["billed_t"] == "21810.9376" and flag["evidence"]["expected_t"] == "19828.125"
        assert flag["evidence"]["ratio"] == "1.10000001" and flag["evidence"]["ratio_threshold"] == "1.1"
        assert "1.10000001× (over-billing; threshold above 1.1×)" in flag["explanation"]


def test_r03_over_billing_by_amendment() -> None:
    w = world()
    items, amount = road_items("21810.9376")
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", amount, items=items)
    [flag] = run(w, "R03")
    assert flag["transactions"] == ["K-ROAD-1", "AM-1"]


def _under(quantity: str, paid_delta: str = "0.00") -> tuple[Baseline, str]:
    """C-ROAD-1 billing `quantity` t of asphalt, then paid up to 90 % (+ `paid_delta`) on 2025-07-01."""
    w = world()
    items, amount = road_items(quantity)
    w.replace("K-ROAD-1", items=items, amount=amount)
    paid = Decimal(CLEAN_ADVANCE) + Decimal("667283841.45")
    top_up = kzt(Decimal(amount) * Decimal("0.9") - paid + Decimal(paid_delta))
    w.add("accept", "AC-ROAD-2", "2025-06-30", contract="C-ROAD-1", amount="400000000.00")
    w.add("transfer", "T-ROAD-2", "2025-07-01", color=w.n["ROAD"], from_=w.n["A1"], to=w.n["C1"], amount=top_up,
          contract="C-ROAD-1", invoice="KDS-2025/071", kind="progress")
    return w, top_up


@pytest.mark.parametrize("quantity, paid_delta, flagged", [
    ("17845.3124", "0.00", True),    # under 0.90 × 19 828.125 = 17 845.3125 t, 90 % paid
    ("17845.3125", "0.00", False),   # exactly 0.90 is not under
    ("17845.3124", "-0.01", False),  # one tiyn short of 90 % paid
])
def test_r03_under_laying_once_90_percent_paid(quantity: str, paid_delta: str, flagged: bool) -> None:
    w, _ = _under(quantity, paid_delta)
    flags = run(w, "R03")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["transactions"] == ["K-ROAD-1", "T-ROAD-ADV", "RL-ROAD-1", "T-ROAD-2"]
        assert flag["at"].startswith("2025-07-01") and flag["evidence"]["ratio"] == "0.89999999"
        assert flag["evidence"]["paid_tiyn"] * 10 == flag["evidence"]["amount_tiyn"] * 9
        assert "0.89999999× (under-laying; threshold under 0.9× once 90 % is paid; 90 % paid)" in flag["explanation"]


def test_r03_is_for_road_only() -> None:
    """LOCAL street with road geometry billing 100 t against 70.5 t expected (1.42×): silent."""
    w = world()
    items = [{"code": "PAVING", "unit": "m2", "quantity": "4200", "unit_price": "12870.00"},
             {"code": "LIGHTING", "unit": "pcs", "quantity": "26", "unit_price": "412350.00"},
             {"code": "ASPHALT", "unit": "t", "quantity": "100", "unit_price": "41230.00"}]
    w.replace("K-LOCAL-1", items=items, amount="68898100.00", road={"length_km": "0.1", "width_m": "6", "asphalt_cm": "5"})
    assert run(w, "R03") == []


# --- R04 machine above catalog ---------------------------------------------------------------


@pytest.mark.parametrize("price, flagged", [("42240000.00", True), ("42239999.99", False)])
def test_r04_machine_110_percent_of_catalog(price: str, flagged: bool) -> None:
    w = world()
    w.replace("K-AGRO-1", amount=price, items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": price}])
    flags = run(w, "R04")
    assert len(flags) == flagged
    if flagged:
        [flag] = flags
        assert flag["contracts"] == ["C-AGRO-1"] and flag["transactions"] == ["K-AGRO-1"]
        assert flag["parties"] == [w.n["A2"], w.n["DL1"]] and flag["pilot"] == "AGRO"
        assert flag["evidence"]["unit_price_tiyn"] == 4224000000 and flag["evidence"]["reference_price_tiyn"] == 3840000000
        assert flag["explanation"].startswith("Machine TRACTOR-X in contract C-AGRO-1 is priced 42240000.00 KZT per pcs, 1.1×")
    assert run(w, "R01") == []


def test_r04_is_for_agro_only() -> None:
    """ASPHALT at 1.10 × its reference in ROAD: not R04's pilot (and under R01's 1.30)."""
    w = world()
    items, amount = road_items(asphalt_price="45650.00")
    w.replace("K-ROAD-1", items=items, amount=amount)
    assert run(w, "R04") == []


# --- custom thresholds -----------------------------------------------------------------------


def _agro_raise_10(w: Baseline) -> None:
    amend(w, "AM-1", "2025-07-01", "C-AGRO-1", "43065000.00")


def _raise_twice(w: Baseline) -> None:
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", "1480000000.00")
    amend(w, "AM-2", "2025-07-02", "C-ROAD-1", "1481000000.00")


def _tractor_110(w: Baseline) -> None:
    w.replace("K-AGRO-1", amount="42240000.00", items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": "42240000.00"}])


def _paving_120(w: Baseline) -> None:
    items, amount = local_items("14520.00")
    w.replace("K-LOCAL-1", items=items, amount=amount)


def _nothing(w: Baseline) -> None:
    pass


@pytest.mark.parametrize("code, toml, change, default_count, custom_count", [
    ("H01", '[H01.AGRO]\nraise_ratio = "0.11"\n', _agro_raise_10, 1, 0),
    ("H03", "[H03]\nraises_min_count = 2\n", _raise_twice, 0, 1),
    ("S01", "[S01]\ndepth_min = 2\n", _nothing, 0, 2),           # C-ROAD-SUB and C-ROAD-BIT
    ("S01", '[S01.ROAD]\nshare = "0.60"\n', _s01_share_67, 0, 1),  # 67.5 % paid on, judged after expiry
    ("R01", '[R01]\nratio = "1.20"\n', _paving_120, 0, 1),
    ("R02", '[R02]\nratio = "0.40"\n', _nothing, 0, 1),             # 118.3 M per km is 0.49 × 240 M
    ("R03", '[R03]\nover_ratio = "1.00"\n', _nothing, 0, 1),        # 19 900 / 19 828.125 t = 1.0036
    ("R03", '[R03]\ndensity_t_per_m3 = "2.10"\n', _nothing, 0, 1),  # expected 17 718.75 t: 1.12×
    ("R04", '[R04.AGRO]\nratio = "1.11"\n', _tractor_110, 1, 0),
])
def test_custom_thresholds_move_the_boundary(tmp_path: Path, code: str, toml: str, change: Callable[[Baseline], None],
                                             default_count: int, custom_count: int) -> None:
    w = world()
    change(w)
    assert len(run(w, code)) == default_count
    assert len(run(w, code, rules=config(tmp_path, toml))) == custom_count


# --- incremental equals one run --------------------------------------------------------------


def _h01(w: Baseline) -> None:
    amend(w, "AM-1", "2025-07-01", "C-LOCAL-1", "45000000.00")
    amend(w, "AM-2", "2025-07-02", "C-LOCAL-1", "67500000.01")
    amend(w, "AM-3", "2025-07-03", "C-ROAD-1", "1700621502.65")


def _h03(w: Baseline) -> None:
    insert_after(w, "T-ROAD-BIT", "amend_contract", "AM-0", "2025-03-22", "09:00:00", contract="C-ROAD-1", amount="1480000000.00")
    for n in (1, 2, 3):
        amend(w, f"AM-{n}", f"2025-07-0{n}", "C-AGRO-1", f"3915000{n}.00")


def _s01(w: Baseline) -> None:
    w.replace("T-ROAD-ADV", amount="321405850.00")
    _sign(w, "K-DEEP", "C-DEEP", "ROAD", "S1", "M1")
    pass_through(w, "169000000.00")  # 800 684 990.00 of 988 689 691.45 KZT paid on (81 %)
    w.add("set_reference_price", "RP-2026", "2026-01-15", code="ASPHALT", unit="t", price="43000.00", region="Akmola")


def _r01(w: Baseline) -> None:
    items, amount = local_items("18150.00")
    w.replace("K-LOCAL-1", items=items, amount=amount)
    items, amount = road_items(asphalt_price="55000.00")
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", amount, items=items)


def _r02(w: Baseline) -> None:
    w.replace("RP-ROAD-KM", price="100000000.00")
    amend(w, "AM-1", "2025-07-01", "C-ROAD-1", "1875000000.00")


def _r03(w: Baseline) -> None:
    under, _ = _under("17845.3124")
    w.script.records[:] = under.script.records


@pytest.mark.parametrize("code, change", [
    ("H01", _h01), ("H03", _h03), ("S01", _s01), ("R01", _r01), ("R02", _r02), ("R03", _r03), ("R04", _tractor_110),
])
def test_incremental_flags_equal_one_run(tmp_path: Path, code: str, change: Callable[[Baseline], None]) -> None:
    w = world()
    change(w)
    whole = w.flags()
    assert w.unexpected == []
    assert any(f["rule"] == code for f in whole)
    commands = w.commands()
    n = len(commands)
    for i, splits in enumerate(([n // 2], [n // 3, 2 * n // 3], list(range(1, n)))):
        chunked = chunked_flags(commands, splits, f"sqlite:///{tmp_path}/ledger-{i}.db")
        assert [f for f in chunked if f["rule"] in MINE] == [f for f in whole if f["rule"] in MINE]
