"""A01, A03, L01–L04 (projections/rules/a01_*.py, a03_*.py, l01_*.py … l04_*.py): each positive
case is one change to the clean baseline world, each negative case the same change just across the
threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from projections.rules.config import RulesConfig, load_config
from tests.rules.baseline import Baseline, chunked_flags, day
from tests.support import at, party_id

VIN2 = "JH4KA8260MC000111"


def when(date: str, time: str = "10:00:00") -> str:
    """The business time of a baseline-style record (+05:00)."""
    return at(day(date, time))


def mine(flags: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [flag for flag in flags if flag["rule"] == code]


def config(tmp_path: Path, text: str) -> RulesConfig:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def chunked_run(world: Baseline, tmp_path: Path, cut_before: tuple[str, ...] = (), as_of: str | None = None,
                rules: RulesConfig | None = None) -> list[dict[str, Any]]:
    """The world's flags with chunks cut at the middle and before each record named in `cut_before`."""
    commands = world.commands()
    ids = [command.id for command in commands]
    cuts = sorted({len(commands) // 2, *(ids.index(record) for record in cut_before)})
    return chunked_flags(commands, cuts, f"sqlite:///{tmp_path / 'chunked.sqlite'}", rules=rules, as_of=as_of)


def agro_color_2() -> str:
    from tests.support import color_id

    return color_id("AGRO", 8, program=112)


# --- A01 Same machine subsidised twice --------------------------------------------------------

def second_agro_contract(world: Baseline, vin: str, **fields: Any) -> None:
    n = world.n
    defaults = {"color": n["AGRO"], "customer": n["A2"], "supplier": n["DL1"], "beneficiary": n["F1"]}
    defaults.update(fields)
    world.add("sign_contract", "K-AGRO-2", "2025-05-05", contract="C-AGRO-2", amount="12000000.00", assets=[vin],
              items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": "12000000.00"}], **defaults)


def second_agro_color(world: Baseline) -> str:
    color = agro_color_2()
    world.add("allocate", "A-AGRO-2", "2025-05-02", color=color, program="112", purpose="Tractor subsidies 2",
              amount="20000000.00", treasury=world.n["T"], administrator=world.n["A2"], expires_on="2025-12-31", region="Akmola")
    return color


def test_a01_same_vin_in_a_second_contract_of_the_same_color() -> None:
    world = Baseline()
    second_agro_contract(world, world.n["VIN1"])
    flags = mine(world.flags(), "A01")
    assert world.unexpected == []
    [flag] = flags
    assert flag["severity"] == "high" and flag["color"] == world.n["AGRO"]
    assert flag["contracts"] == ["C-AGRO-1", "C-AGRO-2"]
    assert flag["transactions"] == ["K-AGRO-1", "K-AGRO-2"]
    assert {world.n["A2"], world.n["DL1"], world.n["F1"]} <= set(flag["parties"])
    assert flag["evidence"]["vin"] == world.n["VIN1"]
    assert [u["amount_tiyn"] for u in flag["evidence"]["uses"]] == [3_915_000_000, 1_200_000_000]
    assert "12000000.00 KZT" in flag["explanation"] and "39150000.00 KZT" in flag["explanation"]


def test_a01_a_different_vin_is_silent() -> None:
    world = Baseline()
    second_agro_contract(world, VIN2)
    assert mine(world.flags(), "A01") == [] and world.unexpected == []


def test_a01_same_vin_under_a_second_color() -> None:
    world = Baseline()
    color = second_agro_color(world)
    second_agro_contract(world, world.n["VIN1"], color=color)
    [flag] = mine(world.flags(), "A01")
    assert world.unexpected == []
    assert flag["color"] == color and flag["evidence"]["colors"] == sorted([world.n["AGRO"], color])


def test_a01_spend_without_contract_under_another_color() -> None:
    """A spend without a contract counts under its color only: another color is a second subsidy."""
    world = Baseline()
    color = second_agro_color(world)
    world.add("spend", "S-AGRO-2", "2025-05-06", color=color, from_=world.n["A2"], amount="12000000.00",
              category="equipment", payee=world.n["DL1"], assets=[world.n["VIN1"]])
    [flag] = mine(world.flags(), "A01")
    assert world.unexpected == []
    assert flag["transactions"] == ["K-AGRO-1", "S-AGRO-2"] and flag["contracts"] == ["C-AGRO-1"]
    assert flag["evidence"]["colors"] == sorted([world.n["AGRO"], color])


def test_a01_spend_without_contract_under_the_contract_color_is_silent() -> None:
    """The dealer buying the subsidised machine from the manufacturer names its VIN: not a second subsidy."""
    world = Baseline()
    world.replace("S-AGRO-DL1", assets=[world.n["VIN1"]])
    assert mine(world.flags(), "A01") == [] and world.unexpected == []


def test_a01_spend_naming_the_same_contract_is_silent() -> None:
    world = Baseline()
    world.replace("S-AGRO-DL1", assets=[world.n["VIN1"]], contract="C-AGRO-1")
    assert mine(world.flags(), "A01") == [] and world.unexpected == []


def test_a01_spend_naming_another_contract_of_the_same_color() -> None:
    world = Baseline()
    second_agro_contract(world, VIN2)
    world.add("spend", "S-AGRO-3", "2025-05-07", color=world.n["AGRO"], from_=world.n["DL1"], amount="1000000.00",
              category="equipment", contract="C-AGRO-2", assets=[world.n["VIN1"]])
    [flag] = mine(world.flags(), "A01")
    assert world.unexpected == []
    assert flag["contracts"] == ["C-AGRO-1", "C-AGRO-2"] and flag["transactions"] == ["K-AGRO-1", "S-AGRO-3"]


def test_a01_each_new_funding_flags_once_and_repeats_do_not() -> None:
    world = Baseline()
    second_agro_contract(world, world.n["VIN1"])
    world.add("spend", "S-AGRO-3", "2025-05-07", color=world.n["AGRO"], from_=world.n["DL1"], amount="1000000.00",
              category="equipment", contract="C-AGRO-2", assets=[world.n["VIN1"]])
    flags = mine(world.flags(), "A01")
    assert world.unexpected == []
    assert [flag["id"] for flag in flags] == [f"A01:{world.n['VIN1']}:K-AGRO-2"]


def test_a01_is_agro_only() -> None:
    world = Baseline()
    world.replace("K-LOCAL-1", assets=[VIN2])
    world.add("sign_contract", "K-LOCAL-2", "2025-05-05", contract="C-LOCAL-2", color=world.n["LOCAL"],
              customer=world.n["A3"], supplier=world.n["L1"], amount="1000000.00", assets=[VIN2],
              items=[{"code": "TRACTOR-X", "unit": "pcs", "quantity": "1", "unit_price": "1000000.00"}])
    assert mine(world.flags(), "A01") == [] and world.unexpected == []


def test_a01_incremental_equals_one_run(tmp_path: Path) -> None:
    world = Baseline()
    second_agro_contract(world, world.n["VIN1"])
    expected = world.flags()
    assert mine(expected, "A01")
    assert chunked_run(world, tmp_path, cut_before=("K-AGRO-2",)) == expected


# --- A03 Dealer kickback ----------------------------------------------------------------------

def kickback(world: Baseline, amount: str, payer: str | None = None, payee: str | None = None,
             id: str = "S-KICK", date: str = "2025-05-01") -> None:
    n = world.n
    world.add("spend", id, date, color=n["AGRO"], from_=payer or n["DL1"], amount=amount, category="services",
              payee=payee or n["F1"])


def test_a03_dealer_pays_the_farmer_five_percent() -> None:
    world = Baseline()
    kickback(world, "1957500.00")  # 5 % of 39 150 000.00
    [flag] = mine(world.flags(), "A03")
    assert world.unexpected == []
    n = world.n
    assert flag["severity"] == "high" and flag["color"] == n["AGRO"]
    assert flag["transactions"] == ["S-KICK"] and flag["contracts"] == ["C-AGRO-1"]
    assert flag["parties"] == [n["DL1"], n["F1"]]
    assert flag["evidence"]["paid_tiyn"] == 195_750_000 and flag["evidence"]["price_tiyn"] == 3_915_000_000
    assert flag["evidence"]["share"] == "0.0500" and flag["evidence"]["threshold_share"] == "0.05"
    assert "1957500.00 KZT" in flag["explanation"] and "5 %" in flag["explanation"] and "180 days" in flag["explanation"]


def test_a03_just_below_five_percent_is_silent() -> None:
    world = Baseline()
    kickback(world, "1957499.99")
    assert mine(world.flags(), "A03") == [] and world.unexpected == []


def test_a03_payments_add_up() -> None:
    world = Baseline()
    kickback(world, "1000000.00", id="S-KICK-1")
    kickback(world, "957500.00", id="S-KICK-2", date="2025-06-01")
    [flag] = mine(world.flags(), "A03")
    assert flag["transactions"] == ["S-KICK-1", "S-KICK-2"] and flag["evidence"]["paid_tiyn"] == 195_750_000


def test_a03_party_related_to_the_farmer_receives() -> None:
    world = Baseline()
    cousin = party_id(30)
    world.add("register_party", "P-COUSIN", "2025-04-01", party=cousin, name="Kuat Agro", kind="farmer",
              registered_on="2014-01-01", address="Kokshetau, Abay st. 3", phone="8 (7172) 090-009")  # F1's phone
    kickback(world, "1957500.00", payee=cousin)
    [flag] = mine(world.flags(), "A03")
    assert world.unexpected == []
    assert flag["parties"] == [world.n["DL1"], world.n["F1"], cousin]
    assert flag["evidence"]["payees"] == [cousin]


def test_a03_party_related_to_the_dealer_pays() -> None:
    """A company directed by the dealer's director, paid by the dealer, passes 5 % on to the farmer."""
    world = Baseline()
    n, sister = world.n, party_id(31)
    world.add("register_party", "P-SISTER", "2025-04-01", party=sister, name="Agro Servis", kind="supplier",
              registered_on="2014-01-01", address="Kokshetau, Abay st. 5", phone="+7 7162 555 123", directors=[n["D4"]])
    world.add("sign_contract", "K-AGRO-SVC", "2025-04-26", contract="C-AGRO-SVC", color=n["AGRO"], customer=n["DL1"],
              supplier=sister, amount="2000000.00",
              items=[{"code": "SERVICE", "unit": "lot", "quantity": "1", "unit_price": "2000000.00"}])
    world.add("transfer", "T-AGRO-SVC", "2025-04-27", color=n["AGRO"], from_=n["DL1"], to=sister, amount="2000000.00",
              contract="C-AGRO-SVC")
    kickback(world, "1957500.00", payer=sister)
    [flag] = mine(world.flags(), "A03")
    assert world.unexpected == []
    assert flag["transactions"] == ["S-KICK"] and flag["evidence"]["payers"] == [sister]
    assert flag["parties"] == [n["DL1"], n["F1"], sister]


def test_a03_by_transfer_under_a_contract_with_the_farmer() -> None:
    world = Baseline()
    n = world.n
    world.add("sign_contract", "K-AGRO-BACK", "2025-04-26", contract="C-AGRO-BACK", color=n["AGRO"], customer=n["DL1"],
              supplier=n["F1"], amount="1957500.00",
              items=[{"code": "TRADE-IN", "unit": "pcs", "quantity": "1", "unit_price": "1957500.00"}])
    world.add("transfer", "T-AGRO-BACK", "2025-04-27", color=n["AGRO"], from_=n["DL1"], to=n["F1"], amount="1957500.00",
              contract="C-AGRO-BACK")
    [flag] = mine(world.flags(), "A03")
    assert world.unexpected == []
    assert flag["transactions"] == ["T-AGRO-BACK"] and flag["contracts"] == ["C-AGRO-1"]


def test_a03_window_is_180_days_from_signing_inclusive() -> None:
    world = Baseline()
    kickback(world, "1957500.00", date="2025-08-28")  # signed 2025-03-01 10:00, exactly 180 days later
    [flag] = mine(world.flags(), "A03")
    assert "180 days after signing" in flag["explanation"]  # durations read the same everywhere (wording.py)

    world = Baseline()
    n = world.n
    world.script.add("spend", id="S-KICK", days=day("2025-08-28") + 1 / 1440, color=n["AGRO"], from_=n["DL1"],
                     amount="1957500.00", category="services", payee=n["F1"])
    assert mine(world.flags(), "A03") == [] and world.unexpected == []


def test_a03_is_agro_only() -> None:
    """LOCAL: the contractor pays 4 210 500.00 KZT (6.1 %) to the contract's beneficiary — not A03's business."""
    world = Baseline()
    world.replace("K-LOCAL-1", beneficiary=world.n["W1"])
    assert mine(world.flags(), "A03") == [] and world.unexpected == []


def test_a03_custom_share(tmp_path: Path) -> None:
    world = Baseline()
    kickback(world, "1566000.00")  # 4 %
    assert mine(world.flags(), "A03") == []
    world = Baseline()
    kickback(world, "1566000.00")
    [flag] = mine(world.flags(rules=config(tmp_path, '[A03.AGRO]\nshare = "0.04"\n')), "A03")
    assert flag["evidence"]["threshold_share"] == "0.04" and "threshold 4 %" in flag["explanation"]


def test_a03_incremental_equals_one_run(tmp_path: Path) -> None:
    world = Baseline()
    kickback(world, "1000000.00", id="S-KICK-1")
    kickback(world, "957500.00", id="S-KICK-2", date="2025-06-01")
    expected = world.flags()
    assert mine(expected, "A03")
    assert chunked_run(world, tmp_path, cut_before=("S-KICK-2",)) == expected


# --- L01 Ghost project ------------------------------------------------------------------------

def pay_local_to(world: Baseline, amount: str, date: str = "2025-06-10") -> None:
    n = world.n
    world.add("transfer", "T-LOCAL-2", date, color=n["LOCAL"], from_=n["A3"], to=n["L1"], amount=amount,
              contract="C-LOCAL-1", invoice="KAS-071", kind="progress")


CROSSED_90 = "23984740.00"  # 38 024 000.00 paid + this = 62 008 740.00 = 90 % of 68 898 600.00
DEADLINE = "2025-08-09T10:00:00+05:00"  # 60 days after T-LOCAL-2


def test_l01_ninety_percent_paid_and_no_final_acceptance_within_60_days() -> None:
    world = Baseline()
    pay_local_to(world, CROSSED_90)
    [flag] = mine(world.flags(as_of=DEADLINE), "L01")
    assert world.unexpected == []
    n = world.n
    assert flag["color"] == n["LOCAL"] and flag["pilot"] == "LOCAL" and flag["at"] == DEADLINE
    assert flag["transactions"] == ["T-LOCAL-ADV", "T-LOCAL-1", "T-LOCAL-2"]
    assert flag["contracts"] == ["C-LOCAL-1"] and flag["parties"] == [n["A3"], n["L1"]]
    assert flag["evidence"]["paid_tiyn"] == 6_200_874_000 and flag["evidence"]["amount_tiyn"] == 6_889_860_000
    assert flag["evidence"]["paid_share"] == "0.9000" and flag["evidence"]["crossing_transaction"] == "T-LOCAL-2"
    assert "62008740.00 KZT of 68898600.00 KZT" in flag["explanation"] and "60 days" in flag["explanation"]


def test_l01_window_evaluated_at_as_of() -> None:
    """Without a later event the window is still open; `--as-of T` closes the windows due by T."""
    world = Baseline()
    pay_local_to(world, CROSSED_90)
    assert mine(world.flags(), "L01") == []
    assert mine(world.flags(as_of="2025-08-09T09:59:59+05:00"), "L01") == []
    assert len(mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L01")) == 1


def test_l01_a_later_event_closes_the_window() -> None:
    world = Baseline()
    pay_local_to(world, CROSSED_90)
    world.add("register_party", "P-LATE", "2025-09-01", party=party_id(32), name="Late Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    [flag] = mine(world.flags(), "L01")
    assert flag["at"] == DEADLINE


def test_l01_just_below_ninety_percent_is_silent() -> None:
    world = Baseline()
    pay_local_to(world, "23984739.99")
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == [] and world.unexpected == []


def test_l01_final_acceptance_on_the_60th_day_is_in_time() -> None:
    def world_with_final(time: str) -> Baseline:
        world = Baseline()
        pay_local_to(world, CROSSED_90)
        world.add("accept", "AC-LOCAL-F", "2025-08-09", contract="C-LOCAL-1", amount="33898600.00", final=True)
        world.replace("AC-LOCAL-F", at=when("2025-08-09", time))
        return world

    assert mine(world_with_final("10:00:00").flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == []
    assert len(mine(world_with_final("11:00:00").flags(), "L01")) == 1


def test_l01_final_acceptance_before_the_payment_is_silent() -> None:
    world = Baseline()
    world.add("accept", "AC-LOCAL-F", "2025-06-05", contract="C-LOCAL-1", amount="33898600.00", final=True)
    pay_local_to(world, CROSSED_90)
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == [] and world.unexpected == []


def bitumen_reserve(world: Baseline, release: bool) -> None:
    n = world.n
    world.add("reserve", "R-ROAD-BIT", "2025-07-01", color=n["ROAD"], from_=n["C1"], to=n["M1"], amount="135444460.00",
              contract="C-ROAD-BIT", invoice="BT-0455", kind="progress")  # 168 712 340 + this = 90 % of 337 952 000
    if release:
        world.add("release", "RL-ROAD-BIT", "2025-07-02", reservation="R-ROAD-BIT")


def test_l01_a_release_is_a_payment_in_road() -> None:
    world = Baseline()
    bitumen_reserve(world, release=True)
    [flag] = mine(world.flags(as_of="2025-08-31T10:00:00+05:00"), "L01")
    assert world.unexpected == []
    assert flag["pilot"] == "ROAD" and flag["contracts"] == ["C-ROAD-BIT"]
    assert flag["transactions"] == ["T-ROAD-BIT", "RL-ROAD-BIT"] and flag["evidence"]["paid_share"] == "0.9000"


def test_l01_a_reservation_not_released_is_not_paid() -> None:
    world = Baseline()
    bitumen_reserve(world, release=False)
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == [] and world.unexpected == []


def test_l01_is_silent_in_agro() -> None:
    """AGRO: the whole subsidy transferred to the dealer and no acceptance at all — not L01's business."""
    world = Baseline()
    world.replace("R-AGRO-1", type="transfer")
    world.script.records = [r for r in world.script.records if r["id"] not in ("AC-AGRO-1", "RL-AGRO-1")]
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == [] and world.unexpected == []


def test_l01_custom_paid_share_for_one_pilot(tmp_path: Path) -> None:
    """LOCAL is 55.19 % paid on 2025-05-20 (T-LOCAL-1); ROAD contracts stay below 55 % or are not covered."""
    rules = config(tmp_path, '[L01.LOCAL]\npaid_share = "0.55"\n')
    [flag] = mine(Baseline().flags(as_of="2025-07-19T10:00:00+05:00", rules=rules), "L01")
    assert flag["contracts"] == ["C-LOCAL-1"] and flag["evidence"]["threshold_paid_share"] == "0.55"
    assert mine(Baseline().flags(as_of="2025-07-19T09:59:00+05:00", rules=rules), "L01") == []
    assert mine(Baseline().flags(as_of="2026-02-01T00:00:00+05:00"), "L01") == []


def test_l01_incremental_equals_one_run(tmp_path: Path) -> None:
    world = Baseline()
    pay_local_to(world, CROSSED_90)
    world.add("register_party", "P-LATE", "2025-09-01", party=party_id(32), name="Late Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    expected = world.flags()
    assert mine(expected, "L01")
    assert chunked_run(world, tmp_path, cut_before=("T-LOCAL-2", "P-LATE")) == expected


# --- L02 Implausibly fast works ---------------------------------------------------------------

def fast_final(world: Baseline, date: str, time: str = "10:00:00") -> None:
    """AC-LOCAL-1 becomes the final acceptance, on `date` (C-LOCAL-1 signed 2025-03-12 10:00)."""
    world.replace("AC-LOCAL-1", final=True, at=when(date, time))


def test_l02_final_acceptance_59_days_after_signing() -> None:
    world = Baseline()
    fast_final(world, "2025-05-10")
    [flag] = mine(world.flags(), "L02")
    assert world.unexpected == []
    n = world.n
    assert flag["transactions"] == ["AC-LOCAL-1"] and flag["contracts"] == ["C-LOCAL-1"]
    assert flag["parties"] == [n["A3"], n["L1"]] and flag["pilot"] == "LOCAL"
    assert flag["evidence"]["days"] == "59.0" and flag["evidence"]["amount_tiyn"] == 6_889_860_000
    assert "68898600.00 KZT" in flag["explanation"] and "under 60 days" in flag["explanation"]


def test_l02_exactly_60_days_is_silent() -> None:
    world = Baseline()
    fast_final(world, "2025-05-11")
    assert mine(world.flags(), "L02") == [] and world.unexpected == []


def test_l02_a_fast_acceptance_that_is_not_final_is_silent() -> None:
    world = Baseline()
    world.replace("AC-LOCAL-1", at=when("2025-04-01"))
    assert mine(world.flags(), "L02") == [] and world.unexpected == []


def small_local_contract(world: Baseline, amount: str) -> None:
    n = world.n
    world.add("sign_contract", "K-LOCAL-2", "2025-06-01", contract="C-LOCAL-2", color=n["LOCAL"], customer=n["A3"],
              supplier=n["L1"], amount=amount, items=[{"code": "BENCHES", "unit": "lot", "quantity": "1", "unit_price": amount}])
    world.add("accept", "AC-LOCAL-2", "2025-06-10", contract="C-LOCAL-2", amount=amount, final=True)


def test_l02_contract_of_20_million_or_more_only() -> None:
    world = Baseline()
    small_local_contract(world, "20000000.00")
    [flag] = mine(world.flags(), "L02")
    assert flag["contracts"] == ["C-LOCAL-2"] and flag["evidence"]["amount_min_tiyn"] == 2_000_000_000
    world = Baseline()
    small_local_contract(world, "19999999.99")
    assert mine(world.flags(), "L02") == [] and world.unexpected == []


def test_l02_road_subcontract() -> None:
    world = Baseline()
    world.add("accept", "AC-ROAD-SUB-F", "2025-04-01", contract="C-ROAD-SUB", amount="100000000.00", final=True)
    [flag] = mine(world.flags(), "L02")
    assert flag["pilot"] == "ROAD" and flag["contracts"] == ["C-ROAD-SUB"] and flag["evidence"]["days"] == "22.0"


def test_l02_is_silent_in_agro() -> None:
    """The baseline's AGRO contract (39 150 000.00 KZT) is finally accepted 50 days after signing."""
    world = Baseline()
    assert world.record("AC-AGRO-1")["final"] is True
    assert mine(world.flags(), "L02") == []


def test_l02_custom_amount_and_days(tmp_path: Path) -> None:
    world = Baseline()
    fast_final(world, "2025-05-10")
    assert mine(world.flags(rules=config(tmp_path, '[L02]\namount_min_kzt = "68898600.01"\n')), "L02") == []
    world = Baseline()
    fast_final(world, "2025-05-10")
    assert len(mine(world.flags(rules=config(tmp_path, '[L02.LOCAL]\namount_min_kzt = "68898600.00"\n')), "L02")) == 1
    world = Baseline()
    fast_final(world, "2025-05-15")  # 64 days: silent by default, flagged under 65 days
    assert mine(world.flags(), "L02") == []
    world = Baseline()
    fast_final(world, "2025-05-15")
    assert len(mine(world.flags(rules=config(tmp_path, "[L02]\ndays = 65\n")), "L02")) == 1


def test_l02_incremental_equals_one_run(tmp_path: Path) -> None:
    world = Baseline()
    fast_final(world, "2025-05-10")
    expected = world.flags()
    assert mine(expected, "L02")
    assert chunked_run(world, tmp_path, cut_before=("AC-LOCAL-1",)) == expected


# --- L03 Year-end rush ------------------------------------------------------------------------

# A3 paid 38 024 000.00 KZT before 25 December: mean weekly 38 024 000.00 × 7 / 358; × 4.9 = 3 643 081.5642…
RUSH = "3643081.57"
YEAR_END = "2026-01-01T00:00:00+05:00"


def rush(world: Baseline, amount: str = RUSH, date: str = "2025-12-26", type_: str = "transfer", id: str = "T-LOCAL-YE") -> None:
    n = world.n
    world.add(type_, id, date, color=n["LOCAL"], from_=n["A3"], to=n["L1"], amount=amount, contract="C-LOCAL-1",
              invoice="KAS-099", kind="progress")


def test_l03_last_week_payments_at_4_9_times_the_mean() -> None:
    world = Baseline()
    rush(world)
    [flag] = mine(world.flags(as_of=YEAR_END), "L03")
    assert world.unexpected == []
    n = world.n
    assert flag["at"] == YEAR_END and flag["pilot"] == "LOCAL" and flag["color"] == n["LOCAL"]
    assert flag["transactions"] == ["T-LOCAL-YE"] and flag["parties"] == [n["A3"]]
    ev = flag["evidence"]
    assert (ev["last_tiyn"], ev["rest_tiyn"], ev["rest_days"], ev["last_days"]) == (364_308_157, 3_802_400_000, 358, 7)
    assert ev["mean_weekly_tiyn"] == 74_348_603 and ev["ratio"] == "4.9000" and ev["threshold_ratio"] == "4.9"
    assert "3643081.57 KZT in the last 7 days of 2025" in flag["explanation"]


def test_l03_just_below_is_silent() -> None:
    world = Baseline()
    rush(world, "3643081.56")
    assert mine(world.flags(as_of=YEAR_END), "L03") == [] and world.unexpected == []


def test_l03_evaluated_when_the_year_closes() -> None:
    world = Baseline()
    rush(world)
    assert mine(world.flags(), "L03") == []  # the year has not closed: no later event
    assert mine(world.flags(as_of="2025-12-31T23:59:59+05:00"), "L03") == []
    world.add("register_party", "P-NEWYEAR", "2026-01-05", party=party_id(32), name="New Year Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    [flag] = mine(world.flags(), "L03")
    assert flag["at"] == YEAR_END


def test_l03_last_week_starts_on_25_december() -> None:
    world = Baseline()
    rush(world, "10000000.00", date="2025-12-24")
    assert mine(world.flags(as_of=YEAR_END), "L03") == []
    world = Baseline()
    rush(world, "10000000.00", date="2025-12-25")
    assert len(mine(world.flags(as_of=YEAR_END), "L03")) == 1


def test_l03_reservations_count_and_voids_do_not() -> None:
    world = Baseline()
    rush(world, type_="reserve", id="R-LOCAL-YE")
    [flag] = mine(world.flags(as_of=YEAR_END), "L03")
    assert flag["transactions"] == ["R-LOCAL-YE"]
    world = Baseline()
    rush(world, type_="reserve", id="R-LOCAL-YE")
    world.add("void", "V-LOCAL-YE", "2025-12-27", reservation="R-LOCAL-YE", reason="withdrawn")
    assert mine(world.flags(as_of=YEAR_END), "L03") == [] and world.unexpected == []


def test_l03_administrator_spends_in_agro() -> None:
    """A2 reserved 39 150 000.00 KZT in March: 4.9 × mean weekly = 3 750 963.687…"""
    def world_with(amount: str) -> Baseline:
        world = Baseline()
        world.add("spend", "S-AGRO-YE", "2025-12-29", color=world.n["AGRO"], from_=world.n["A2"], amount=amount,
                  category="services", invoice="ACS-9")
        return world

    flagged = world_with("3750963.69")
    [flag] = mine(flagged.flags(as_of=YEAR_END), "L03")
    assert flagged.unexpected == [] and flag["pilot"] == "AGRO" and flag["transactions"] == ["S-AGRO-YE"]
    assert mine(world_with("3750963.68").flags(as_of=YEAR_END), "L03") == []


def test_l03_nothing_paid_before_the_last_week_counts_as_a_rush() -> None:
    """A mean of zero: any last-week payment is ≥ 4.9 × it (documented interpretation)."""
    from tests.support import color_id

    world = Baseline()
    n, admin, color = world.n, party_id(33), color_id("LOCAL", 32, program=205)
    world.add("register_party", "P-A4", "2025-01-10", party=admin, name="Zhaksy Akimat", kind="administrator",
              registered_on="2001-01-01", address="Zhaksy, Abylai Khan st. 1", phone="+7 71635 2 11 11")
    world.add("allocate", "A-LOCAL-2", "2025-12-20", color=color, program="205", purpose="Zhaksy lights",
              amount="5000000.00", treasury=n["T"], administrator=admin, expires_on="2025-12-31", region="Akmola")
    world.add("sign_contract", "K-LOCAL-Z", "2025-12-22", contract="C-LOCAL-Z", color=color, customer=admin,
              supplier=n["L1"], amount="5000000.00",
              items=[{"code": "LIGHTING", "unit": "pcs", "quantity": "10", "unit_price": "500000.00"}])
    world.add("transfer", "T-LOCAL-Z", "2025-12-26", color=color, from_=admin, to=n["L1"], amount="1000000.00",
              contract="C-LOCAL-Z", kind="advance")
    [flag] = mine(world.flags(as_of=YEAR_END), "L03")
    assert world.unexpected == []
    assert flag["parties"] == [admin] and flag["evidence"]["rest_tiyn"] == 0 and flag["evidence"]["ratio"] is None


def test_l03_payments_by_others_than_the_administrator_do_not_count() -> None:
    world = Baseline()
    world.add("spend", "S-LOCAL-YE", "2025-12-26", color=world.n["LOCAL"], from_=world.n["L1"], amount="10000000.00",
              category="materials", invoice="KAS-M-99")
    assert mine(world.flags(as_of=YEAR_END), "L03") == [] and world.unexpected == []


def test_l03_custom_ratio_and_last_days(tmp_path: Path) -> None:
    world = Baseline()
    rush(world)
    assert mine(world.flags(as_of=YEAR_END, rules=config(tmp_path, '[L03]\nratio = "4.91"\n')), "L03") == []
    world = Baseline()
    rush(world, "5000000.00", date="2025-12-18")  # counted in the rest of the year by default
    assert mine(world.flags(as_of=YEAR_END), "L03") == []
    world = Baseline()
    rush(world, "5000000.00", date="2025-12-18")
    [flag] = mine(world.flags(as_of=YEAR_END, rules=config(tmp_path, "[L03.LOCAL]\nlast_days = 14\n")), "L03")
    assert flag["evidence"]["rest_days"] == 351 and flag["evidence"]["last_days"] == 14


def test_l03_incremental_equals_one_run(tmp_path: Path) -> None:
    world = Baseline()
    rush(world, type_="reserve", id="R-LOCAL-YE")
    rush(world, "1000000.00", id="T-LOCAL-YE", date="2025-12-27")
    world.add("register_party", "P-NEWYEAR", "2026-01-05", party=party_id(32), name="New Year Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    expected = world.flags()
    assert mine(expected, "L03")
    assert chunked_run(world, tmp_path, cut_before=("R-LOCAL-YE", "T-LOCAL-YE", "P-NEWYEAR")) == expected


# --- L04 Idle funds ---------------------------------------------------------------------------

HALF_LEFT = "24665210.00"  # T-LOCAL-1: A3 then paid 35 000 000.00 of 70 000 000.00 and holds the other half
DAY_30 = "2025-12-01T00:00:00+05:00"  # 30 days before expires_on 2025-12-31, start of the day


def test_l04_half_the_allocation_undisbursed_30_days_before_expiry() -> None:
    world = Baseline()
    world.replace("T-LOCAL-1", amount=HALF_LEFT)
    [flag] = mine(world.flags(as_of=DAY_30), "L04")
    assert world.unexpected == []
    n = world.n
    assert flag["at"] == DAY_30 and flag["color"] == n["LOCAL"] and flag["pilot"] == "LOCAL"
    assert flag["transactions"] == ["A-LOCAL"] and flag["parties"] == [n["A3"]]
    ev = flag["evidence"]
    assert ev["undisbursed_tiyn"] == 3_500_000_000 and ev["allocated_tiyn"] == 7_000_000_000
    assert ev["undisbursed_share"] == "0.5000" and ev["threshold_share"] == "0.50" and ev["expires_on"] == "2025-12-31"
    assert "35000000.00 KZT, 50 % of the 70000000.00 KZT allocation" in flag["explanation"]


def test_l04_window_evaluated_at_as_of() -> None:
    world = Baseline()
    world.replace("T-LOCAL-1", amount=HALF_LEFT)
    assert mine(world.flags(), "L04") == []
    assert mine(world.flags(as_of="2025-11-30T23:59:59+05:00"), "L04") == []
    world.add("register_party", "P-DEC", "2025-12-02", party=party_id(32), name="December Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    [flag] = mine(world.flags(), "L04")
    assert flag["at"] == DAY_30


def test_l04_just_below_half_is_silent() -> None:
    world = Baseline()
    world.replace("T-LOCAL-1", amount="24665210.01")
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L04") == [] and world.unexpected == []


def test_l04_reserved_and_returned_money_is_disbursed_voided_is_not() -> None:
    n = Baseline().n

    def world_with(*records: tuple[str, str, str, dict[str, Any]]) -> Baseline:
        world = Baseline()
        world.replace("T-LOCAL-1", amount=HALF_LEFT)
        for type_, id, date, fields in records:
            world.add(type_, id, date, **fields)
        return world

    reserve = ("reserve", "R-LOCAL-2", "2025-11-01",
               dict(color=n["LOCAL"], from_=n["A3"], to=n["L1"], amount="0.01", contract="C-LOCAL-1"))
    void = ("void", "V-LOCAL-2", "2025-11-05", dict(reservation="R-LOCAL-2"))
    ret = ("return", "RT-LOCAL-2", "2025-11-01", dict(color=n["LOCAL"], from_=n["A3"], amount="0.01", reason="savings"))
    for records, flagged in (((reserve,), False), ((reserve, void), True), ((ret,), False)):
        world = world_with(*records)
        assert len(mine(world.flags(as_of=DAY_30), "L04")) == int(flagged), records
        assert world.unexpected == []


def test_l04_every_pilot() -> None:
    """AGRO: A2 reserved 39 150 000.00 KZT of an allocation of 78 300 000.00 KZT."""
    world = Baseline()
    world.replace("A-AGRO", amount="78300000.00")
    [flag] = mine(world.flags(as_of=DAY_30), "L04")
    assert flag["pilot"] == "AGRO" and flag["evidence"]["undisbursed_tiyn"] == 3_915_000_000


def test_l04_an_allocation_made_within_the_last_30_days_is_not_evaluated() -> None:
    world = Baseline()
    world.add("allocate", "A-AGRO-2", "2025-12-10", color=agro_color_2(), program="112", purpose="Late subsidies",
              amount="1000000.00", treasury=world.n["T"], administrator=world.n["A2"], expires_on="2025-12-31")
    assert mine(world.flags(as_of="2026-02-01T00:00:00+05:00"), "L04") == [] and world.unexpected == []


def test_l04_custom_share_and_days(tmp_path: Path) -> None:
    """The baseline LOCAL administrator still holds 45.68 %."""
    rules = config(tmp_path, '[L04.LOCAL]\nundisbursed_share = "0.45"\n')
    [flag] = mine(Baseline().flags(as_of=DAY_30, rules=rules), "L04")
    assert flag["pilot"] == "LOCAL" and flag["evidence"]["threshold_share"] == "0.45"
    world = Baseline()
    world.replace("T-LOCAL-1", amount=HALF_LEFT)
    rules = config(tmp_path, "[L04]\ndays_before_expiry = 60\n")
    [flag] = mine(world.flags(as_of="2025-11-01T00:00:00+05:00", rules=rules), "L04")
    assert flag["evidence"]["days_before_expiry"] == 60
    assert mine(world.flags(as_of="2025-11-01T00:00:00+05:00"), "L04") == []


@pytest.mark.parametrize("as_of", [None, DAY_30])
def test_l04_incremental_equals_one_run(tmp_path: Path, as_of: str | None) -> None:
    world = Baseline()
    world.replace("T-LOCAL-1", amount=HALF_LEFT)
    world.add("register_party", "P-DEC", "2025-12-02", party=party_id(32), name="December Co", kind="contractor",
              registered_on="2010-01-01", address="Astana, Kenesary st. 40", phone="+7 7172 777 888")
    expected = world.flags(as_of=as_of)
    assert mine(expected, "L04")
    assert chunked_run(world, tmp_path, cut_before=("T-LOCAL-1", "P-DEC"), as_of=as_of) == expected
