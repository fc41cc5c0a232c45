"""F10 advance without delivery, F11 paid ahead of acceptance, F12 round amounts (RULES.md).

Every case is one minimal change to the clean baseline world (tests.rules.baseline), paired with
the same change just across the threshold. Only this family's flags are looked at: other families
have their own tests.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from projections.rules.config import load_config
from projections.rules.f12_round_amounts import BENFORD_EXPECTED, benford_mad, first_digit
from tests.rules.baseline import Baseline, chunked_flags, day
from tests.support import at

FAMILY = ("F10", "F11", "F12")


def flags_of(world: Baseline, code: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [flag for flag in world.flags(**kwargs) if flag["rule"] == code]


def only(world: Baseline, code: str, **kwargs: Any) -> dict[str, Any]:
    found = flags_of(world, code, **kwargs)
    assert len(found) == 1, found
    assert world.unexpected == []
    return found[0]


def silent(world: Baseline, code: str, **kwargs: Any) -> bool:
    found = flags_of(world, code, **kwargs)
    assert world.unexpected == []
    return found == []


def config(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def assert_incremental_equals_one_run(world: Baseline, tmp_path: Path, code: str) -> None:
    one_run = world.flags()
    assert [f for f in one_run if f["rule"] == code], f"the world must raise {code}"
    total = len(world.commands())
    for splits in ([total // 2], [total // 3, 2 * total // 3], [1, total - 1]):
        tmp = tmp_path / "-".join(map(str, splits))
        tmp.mkdir()
        assert chunked_flags(world.commands(), splits, f"sqlite:///{tmp / 'chunked.sqlite'}") == one_run


def at_time(date_text: str, time: str) -> str:
    return at(day(date_text, time))


def later(days: int) -> str:
    return (date(2025, 7, 1) + timedelta(days=days)).isoformat()


# --- F10 advance without delivery -----------------------------------------------------------

# C-ROAD-1 is 1 478 801 306.65 KZT: 30 % of it is 443 640 391.995 KZT; the baseline advance is 20 %.

def test_f10_advance_above_30_percent_of_the_contract_is_flagged() -> None:
    world = Baseline()
    world.replace("T-ROAD-ADV", amount="443640392.00")
    flag = only(world, "F10")
    n = world.n
    assert flag["id"] == "F10:C-ROAD-1:share"
    assert flag["transactions"] == ["T-ROAD-ADV"]
    assert flag["parties"] == [n["A1"], n["C1"]]
    assert flag["contracts"] == ["C-ROAD-1"]
    assert flag["color"] == n["ROAD"] and flag["pilot"] == "ROAD"
    assert flag["evidence"]["advanced_tiyn"] == 44364039200
    assert flag["evidence"]["contract_amount_tiyn"] == 147880130665
    assert flag["evidence"]["advance_share"] == "0.30"
    assert "443640392.00 KZT" in flag["explanation"] and "1478801306.65 KZT" in flag["explanation"]
    assert "30 %" in flag["explanation"]


def test_f10_advance_just_below_30_percent_is_silent() -> None:
    world = Baseline()
    world.replace("T-ROAD-ADV", amount="443640391.99")
    assert silent(world, "F10")


def test_f10_exactly_30_percent_does_not_exceed() -> None:
    world = Baseline()
    n = world.n
    world.add("sign_contract", "K-LOCAL-2", "2025-07-01", contract="C-LOCAL-2", color=n["LOCAL"], customer=n["A3"],
              supplier=n["L1"], amount="1000000.00",
              items=[{"code": "LIGHTING", "unit": "pcs", "quantity": "2", "unit_price": "500000.00"}])
    world.add("accept", "AC-LOCAL-2", "2025-07-01", contract="C-LOCAL-2", amount="100.00")
    world.add("transfer", "T-LOCAL-2-ADV", "2025-07-02", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
              amount="300000.00", contract="C-LOCAL-2", kind="advance")
    assert silent(world, "F10")
    world.replace("T-LOCAL-2-ADV", amount="300000.01")
    assert only(world, "F10")["id"] == "F10:C-LOCAL-2:share"


def test_f10_an_amendment_cutting_the_contract_below_its_advances_is_flagged() -> None:
    # 295 760 261.33 KZT advanced is 30 % of 985 867 537.77 KZT (rounded); 963 044 102.78 KZT is paid.
    world = Baseline()
    world.add("amend_contract", "AM-ROAD-1", "2025-07-01", contract="C-ROAD-1", amount="985867537.76")
    flag = only(world, "F10")
    assert flag["id"] == "F10:C-ROAD-1:share"
    assert flag["at"] == at_time("2025-07-01", "10:00:00")
    assert flag["transactions"] == ["T-ROAD-ADV"] and flag["contracts"] == ["C-ROAD-1"]
    assert flag["evidence"]["contract_amount_tiyn"] == 98586753776
    assert flag["evidence"]["advanced_tiyn"] == 29576026133

    world = Baseline()
    world.add("amend_contract", "AM-ROAD-1", "2025-07-01", contract="C-ROAD-1", amount="985867537.77")
    assert silent(world, "F10")


def test_f10_no_acceptance_within_90_days_of_the_first_advance_is_flagged() -> None:
    # T-ROAD-ADV on 2025-03-03 10:00+05:00: the window closes on 2025-06-01 10:00+05:00.
    world = Baseline()
    world.replace("AC-ROAD-1", at=at_time("2025-06-01", "11:00:00"))
    flag = only(world, "F10")
    n = world.n
    assert flag["id"] == "F10:C-ROAD-1:no-acceptance"
    assert flag["at"] == at_time("2025-06-01", "10:00:00")
    assert flag["transactions"] == ["T-ROAD-ADV"]
    assert flag["parties"] == [n["A1"], n["C1"]] and flag["contracts"] == ["C-ROAD-1"]
    assert flag["color"] == n["ROAD"] and flag["pilot"] == "ROAD"
    assert flag["evidence"]["first_advance"] == "T-ROAD-ADV"
    assert flag["evidence"]["window_days"] == 90
    assert flag["evidence"]["advanced_tiyn"] == 29576026133
    assert "90 days" in flag["explanation"] and "295760261.33 KZT" in flag["explanation"]


def test_f10_acceptance_exactly_90_days_after_the_first_advance_is_in_time() -> None:
    world = Baseline()
    world.replace("AC-ROAD-1", at=at_time("2025-06-01", "10:00:00"))
    assert silent(world, "F10")


def _local_contract_with_advance(world: Baseline, advance: str = "200000.00") -> None:
    n = world.n
    world.add("sign_contract", "K-LOCAL-2", "2025-07-01", contract="C-LOCAL-2", color=n["LOCAL"], customer=n["A3"],
              supplier=n["L1"], amount="1000000.00",
              items=[{"code": "LIGHTING", "unit": "pcs", "quantity": "2", "unit_price": "500000.00"}])
    world.add("transfer", "T-LOCAL-2-ADV", "2025-07-02", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
              amount=advance, contract="C-LOCAL-2", kind="advance")


def test_f10_an_open_window_closes_when_flags_are_asked_as_of_a_later_time() -> None:
    # Advance on 2025-07-02 10:00+05:00, nothing after it: the window closes 2025-09-30 10:00+05:00.
    world = Baseline()
    _local_contract_with_advance(world)
    assert silent(world, "F10")  # no later event has passed the deadline yet
    assert silent(world, "F10", as_of="2025-09-30T09:59:59+05:00")
    flag = only(world, "F10", as_of="2025-09-30T10:00:00+05:00")
    assert flag["id"] == "F10:C-LOCAL-2:no-acceptance" and flag["pilot"] == "LOCAL"
    assert flag["transactions"] == ["T-LOCAL-2-ADV"] and flag["contracts"] == ["C-LOCAL-2"]
    assert flag["parties"] == [world.n["A3"], world.n["L1"]]


def test_f10_acceptance_on_the_deadline_keeps_the_window_silent_as_of_later() -> None:
    world = Baseline()
    _local_contract_with_advance(world)
    world.add("accept", "AC-LOCAL-2", "2025-09-30", contract="C-LOCAL-2", amount="200000.00")
    assert silent(world, "F10", as_of="2025-12-01T00:00:00+05:00")


def test_f10_a_voided_advance_reservation_no_longer_counts() -> None:
    n = Baseline().n

    def world_with(void: bool) -> Baseline:
        world = Baseline()
        _local_contract_with_advance(world, advance="100000.00")
        world.add("reserve", "R-LOCAL-2-ADV", "2025-07-03", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
                  amount="200000.00", contract="C-LOCAL-2", kind="advance")  # 30 % in all: not above
        if void:
            world.add("void", "V-LOCAL-2-ADV", "2025-07-04", reservation="R-LOCAL-2-ADV")
        world.add("transfer", "T-LOCAL-2-ADV2", "2025-07-05", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
                  amount="150000.00", contract="C-LOCAL-2", kind="advance")
        return world

    flag = only(world_with(void=False), "F10")  # 45 %
    assert flag["transactions"] == ["T-LOCAL-2-ADV", "R-LOCAL-2-ADV", "T-LOCAL-2-ADV2"]
    assert flag["evidence"]["advanced_tiyn"] == 45000000
    assert silent(world_with(void=True), "F10")  # 25 %


def test_f10_a_window_whose_advances_were_all_voided_lapses_and_the_next_advance_opens_one() -> None:
    world = Baseline()
    n = world.n
    world.add("sign_contract", "K-LOCAL-2", "2025-07-01", contract="C-LOCAL-2", color=n["LOCAL"], customer=n["A3"],
              supplier=n["L1"], amount="1000000.00",
              items=[{"code": "LIGHTING", "unit": "pcs", "quantity": "2", "unit_price": "500000.00"}])
    world.add("reserve", "R-LOCAL-2-ADV", "2025-07-02", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
              amount="100000.00", contract="C-LOCAL-2", kind="advance")
    world.add("void", "V-LOCAL-2-ADV", "2025-07-03", reservation="R-LOCAL-2-ADV")
    world.add("transfer", "T-LOCAL-2-ADV", "2025-10-15", color=n["LOCAL"], from_=n["A3"], to=n["L1"],
              amount="100000.00", contract="C-LOCAL-2", kind="advance")  # after the first window closed
    assert silent(world, "F10", as_of="2026-01-13T09:59:59+05:00")
    flag = only(world, "F10", as_of="2026-01-13T10:00:00+05:00")  # 2025-10-15 + 90 days
    assert flag["evidence"]["first_advance"] == "T-LOCAL-2-ADV" and flag["transactions"] == ["T-LOCAL-2-ADV"]


def test_f10_custom_thresholds_move_the_boundaries(tmp_path: Path) -> None:
    # The baseline advance is exactly 20.00 % of C-ROAD-1: not above 0.20, above 0.1999.
    assert silent(Baseline(), "F10", rules=config(tmp_path, '[F10.ROAD]\nadvance_share = "0.20"\n'))
    flag = only(Baseline(), "F10", rules=config(tmp_path, '[F10.ROAD]\nadvance_share = "0.1999"\n'))
    assert flag["id"] == "F10:C-ROAD-1:share" and flag["evidence"]["advance_share"] == "0.1999"
    # AGRO's thresholds do not reach ROAD's contracts.
    assert silent(Baseline(), "F10", rules=config(tmp_path, '[F10.AGRO]\nadvance_share = "0.10"\n'))

    # C-ROAD-1 was accepted 88 days after its advance, C-ROAD-SUB 80 days, C-LOCAL-1 56 days.
    flag = only(Baseline(), "F10", rules=config(tmp_path, "[F10.ROAD]\nwindow_days = 80\n"))
    assert flag["id"] == "F10:C-ROAD-1:no-acceptance" and flag["evidence"]["window_days"] == 80
    ids = {f["id"] for f in flags_of(Baseline(), "F10", rules=config(tmp_path, "[F10]\nwindow_days = 79\n"))}
    assert ids == {"F10:C-ROAD-1:no-acceptance", "F10:C-ROAD-SUB:no-acceptance"}


def test_f10_incremental_flags_equal_one_run(tmp_path: Path) -> None:
    world = Baseline()
    world.replace("T-ROAD-ADV", amount="443640392.00")
    world.replace("AC-ROAD-1", at=at_time("2025-06-01", "11:00:00"))
    _local_contract_with_advance(world)
    world.add("spend", "S-LOCAL-LATE", "2025-10-15", color=world.n["LOCAL"], from_=world.n["L1"],
              amount="10000.00", category="materials")  # passes the C-LOCAL-2 deadline
    assert {f["id"] for f in flags_of(world, "F10")} == {
        "F10:C-ROAD-1:share", "F10:C-ROAD-1:no-acceptance", "F10:C-LOCAL-2:no-acceptance"}
    assert_incremental_equals_one_run(world, tmp_path, "F10")


# --- F11 paid ahead of acceptance ----------------------------------------------------------

def test_f11_baseline_pays_exactly_what_was_accepted() -> None:
    """AC-ROAD-BIT accepts 168 712 340.00 KZT and T-ROAD-BIT pays exactly that: not ahead."""
    world = Baseline()
    assert world.record("AC-ROAD-BIT")["amount"] == world.record("T-ROAD-BIT")["amount"] == "168712340.00"
    assert silent(world, "F11")


def test_f11_payment_one_tiyn_above_the_accepted_value_is_flagged() -> None:
    world = Baseline()
    world.replace("T-ROAD-BIT", amount="168712340.01")
    flag = only(world, "F11")
    n = world.n
    assert flag["id"] == "F11:C-ROAD-BIT" and flag["severity"] == "high"
    assert flag["transactions"] == ["T-ROAD-BIT"]
    assert flag["parties"] == [n["C1"], n["M1"]] and flag["contracts"] == ["C-ROAD-BIT"]
    assert flag["color"] == n["ROAD"] and flag["pilot"] == "ROAD"
    assert flag["evidence"]["paid_tiyn"] == 16871234001
    assert flag["evidence"]["accepted_tiyn"] == 16871234000
    assert flag["evidence"]["ahead_tiyn"] == 1
    assert "168712340.01 KZT" in flag["explanation"] and "168712340.00 KZT" in flag["explanation"]


def test_f11_reservations_count_and_advances_do_not() -> None:
    # C-ROAD-1: 812 406 250.00 KZT accepted, 667 283 841.45 KZT reserved as progress (R-ROAD-1);
    # the 295 760 261.33 KZT advance does not count.
    world = Baseline()
    n = world.n
    world.add("reserve", "R-ROAD-2", "2025-07-01", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="145122408.56",
              contract="C-ROAD-1", kind="progress")
    flag = only(world, "F11")
    assert flag["id"] == "F11:C-ROAD-1"
    assert flag["transactions"] == ["R-ROAD-1", "R-ROAD-2"]
    assert flag["evidence"]["paid_tiyn"] == 81240625001 and flag["evidence"]["accepted_tiyn"] == 81240625000

    world.replace("R-ROAD-2", amount="145122408.55")
    assert silent(world, "F11")


def test_f11_advances_are_not_payments_ahead_but_unkinded_transfers_are() -> None:
    world = Baseline()
    n = world.n
    world.add("transfer", "T-ROAD-BIT-2", "2025-07-01", color=n["ROAD"], from_=n["C1"], to=n["M1"],
              amount="1000.00", contract="C-ROAD-BIT", kind="advance")
    assert silent(world, "F11")
    world.replace("T-ROAD-BIT-2", kind=None)
    assert only(world, "F11")["transactions"] == ["T-ROAD-BIT", "T-ROAD-BIT-2"]
    world.replace("T-ROAD-BIT-2", kind="final")
    assert only(world, "F11")["evidence"]["ahead_tiyn"] == 100000


def test_f11_a_voided_reservation_no_longer_counts() -> None:
    world = Baseline()
    n = world.n
    world.add("reserve", "R-ROAD-2", "2025-07-01", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="145122408.55",
              contract="C-ROAD-1", kind="progress")
    world.add("transfer", "T-ROAD-3", "2025-07-03", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="0.01",
              contract="C-ROAD-1", kind="progress")
    assert only(world, "F11")["transactions"] == ["R-ROAD-1", "R-ROAD-2", "T-ROAD-3"]

    world = Baseline()
    world.add("reserve", "R-ROAD-2", "2025-07-01", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="145122408.55",
              contract="C-ROAD-1", kind="progress")
    world.add("void", "V-ROAD-2", "2025-07-02", reservation="R-ROAD-2")
    world.add("transfer", "T-ROAD-3", "2025-07-03", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="0.01",
              contract="C-ROAD-1", kind="progress")
    assert silent(world, "F11")


def test_f11_local_payment_above_acceptance_is_flagged() -> None:
    world = Baseline()
    world.replace("AC-LOCAL-1", amount="27689209.99")
    flag = only(world, "F11")
    assert flag["id"] == "F11:C-LOCAL-1" and flag["pilot"] == "LOCAL"
    assert flag["transactions"] == ["T-LOCAL-1"] and flag["contracts"] == ["C-LOCAL-1"]
    assert flag["parties"] == [world.n["A3"], world.n["L1"]]
    assert flag["evidence"]["ahead_tiyn"] == 1

    world = Baseline()
    world.replace("AC-LOCAL-1", amount="27689210.00")
    assert silent(world, "F11")


def _pay_before_acceptance(world: Baseline, pilot: str, customer: str, supplier: str) -> None:
    n = world.n
    world.add("sign_contract", f"K-{pilot}-2", "2025-07-01", contract=f"C-{pilot}-2", color=n[pilot],
              customer=n[customer], supplier=n[supplier], amount="1000000.00",
              items=[{"code": "SERVICE", "unit": "lot", "quantity": "1", "unit_price": "1000000.00"}])
    world.add("transfer", f"T-{pilot}-2", "2025-07-02", color=n[pilot], from_=n[customer], to=n[supplier],
              amount="500000.00", contract=f"C-{pilot}-2", kind="progress")


def test_f11_covers_road_and_local_only() -> None:
    world = Baseline()
    _pay_before_acceptance(world, "LOCAL", "A3", "L1")
    assert only(world, "F11")["id"] == "F11:C-LOCAL-2"

    world = Baseline()
    _pay_before_acceptance(world, "AGRO", "A2", "DL1")
    assert silent(world, "F11")
    # The baseline's own AGRO subsidy is reserved (R-AGRO-1, 2025-03-05) before its acceptance
    # (AC-AGRO-1, 2025-04-20): the same pattern, silent in AGRO too.
    assert silent(Baseline(), "F11")


def test_f11_incremental_flags_equal_one_run(tmp_path: Path) -> None:
    world = Baseline()
    n = world.n
    world.replace("T-ROAD-BIT", amount="168712340.01")
    world.replace("AC-LOCAL-1", amount="27689209.99")
    world.add("reserve", "R-ROAD-2", "2025-07-01", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="145122408.55",
              contract="C-ROAD-1", kind="progress")
    world.add("void", "V-ROAD-2", "2025-07-02", reservation="R-ROAD-2")
    world.add("transfer", "T-ROAD-3", "2025-07-03", color=n["ROAD"], from_=n["A1"], to=n["C1"], amount="0.02",
              contract="C-ROAD-1", kind="progress")
    assert {f["id"] for f in flags_of(world, "F11")} == {"F11:C-ROAD-BIT", "F11:C-LOCAL-1"}
    assert_incremental_equals_one_run(world, tmp_path, "F11")


# --- F12 round amounts ---------------------------------------------------------------------

# C1 (KazDorStroy) pays four times in the baseline, all ≥ 1 000 000 KZT and none round:
# T-ROAD-SUB-ADV, T-ROAD-BIT, S-ROAD-C1, T-ROAD-SUB-1.

def _c1_spends(world: Baseline, round_count: int, other_count: int, prefix: str = "S-C1") -> list[str]:
    """C1 spends `round_count` multiples of 100 000 KZT (≥ 1 000 000) then `other_count` others."""
    n, ids = world.n, []
    amounts = [f"{1100000 + 100000 * i}.00" for i in range(round_count)]
    amounts += [f"{1234567 + 1111 * i}.89" for i in range(other_count)]
    for i, amount in enumerate(amounts):
        record = world.add("spend", f"{prefix}-{i:03d}", later(i), color=n["ROAD"], from_=n["C1"],
                           amount=amount, category="materials")
        ids.append(record["id"])
    return ids


def test_f12_half_of_twenty_large_payments_round_is_flagged() -> None:
    world = Baseline()
    ids = _c1_spends(world, round_count=10, other_count=6)
    flag = only(world, "F12")
    assert flag["id"] == f"F12:{world.n['C1']}:round"
    assert flag["transactions"] == ids[:10]
    assert flag["parties"] == [world.n["C1"]] and flag["contracts"] == []
    assert flag["at"] == world.record(ids[-1])["at"]  # the 20th large payment
    assert flag["evidence"]["large_payments_count"] == 20 and flag["evidence"]["round_payments_count"] == 10
    assert flag["evidence"]["share"] == "0.500000" and flag["evidence"]["round_share"] == "0.50"
    assert "10 of its 20 payments" in flag["explanation"] and "100000.00 KZT" in flag["explanation"]


def test_f12_raises_once_per_payer() -> None:
    world = Baseline()
    _c1_spends(world, round_count=10, other_count=6)
    _c1_spends(world, round_count=10, other_count=0, prefix="S-C1-MORE")
    assert only(world, "F12")["evidence"]["large_payments_count"] == 20


def test_f12_under_half_round_is_silent() -> None:
    world = Baseline()
    _c1_spends(world, round_count=9, other_count=7)
    assert silent(world, "F12")


def test_f12_nineteen_large_payments_are_too_few() -> None:
    world = Baseline()
    ids = _c1_spends(world, round_count=10, other_count=5)
    world.add("spend", "S-C1-SMALL", later(len(ids)), color=world.n["ROAD"], from_=world.n["C1"],
              amount="999999.99", category="materials")  # below 1 000 000 KZT: not counted
    assert silent(world, "F12")
    world.replace("S-C1-SMALL", amount="1000000.00")  # exactly 1 000 000 KZT: large and round
    assert only(world, "F12")["evidence"]["round_payments_count"] == 11


def test_f12_transfers_and_reservations_are_payments_too() -> None:
    # C1 → S1 under C-ROAD-SUB (483 290 000.00 KZT, 262 972 650.00 KZT paid so far) and C1 → M1 under C-ROAD-BIT.
    world = Baseline()
    n = world.n
    _c1_spends(world, round_count=9, other_count=5)  # with the baseline's four: 9 of 18
    world.add("transfer", "T-C1-ROUND", later(20), color=n["ROAD"], from_=n["C1"], to=n["S1"],
              amount="2000000.00", contract="C-ROAD-SUB", kind="advance")
    assert silent(world, "F12")  # 10 of 19
    world.add("reserve", "R-C1-OTHER", later(21), color=n["ROAD"], from_=n["C1"], to=n["M1"],
              amount="1500000.01", contract="C-ROAD-BIT", kind="progress")
    flag = only(world, "F12")  # 10 of 20
    assert flag["transactions"][-1] == "T-C1-ROUND" and flag["contracts"] == ["C-ROAD-SUB"]


def _c1_spends_by_first_digit(world: Baseline, counts: list[int]) -> None:
    """C1 spends sum(counts) amounts under 1 000 000 KZT, counts[d-1] of them starting with digit d."""
    n, k = world.n, 0
    world.script.day = day(later(0))  # after the baseline: a color's business time never goes back
    for digit, count in enumerate(counts, start=1):
        for i in range(count):
            world.script.spend(n["ROAD"], n["C1"], f"{digit}{i:05d}.37", id=f"S-C1-B{k:03d}")
            k += 1


def test_f12_benford_deviation_above_0_015_over_101_payments_is_flagged() -> None:
    world = Baseline()
    _c1_spends_by_first_digit(world, [0, 0, 0, 0, 97, 0, 0, 0, 0])  # + 4 baseline payments = 101
    flag = only(world, "F12")
    assert flag["id"] == f"F12:{world.n['C1']}:benford"
    assert flag["evidence"]["payments_count"] == 101
    assert flag["evidence"]["first_digit_counts"] == [2, 1, 0, 0, 97, 0, 0, 1, 0]
    assert flag["evidence"]["mad"] == "0.195826" and flag["evidence"]["benford_mad"] == "0.015"
    assert flag["transactions"][-1] == "S-C1-B096" and len(flag["transactions"]) == 50
    assert flag["parties"] == [world.n["C1"]]
    assert "0.1958" in flag["explanation"] and "0.015" in flag["explanation"]


def test_f12_benford_needs_more_than_100_payments() -> None:
    world = Baseline()
    _c1_spends_by_first_digit(world, [0, 0, 0, 0, 96, 0, 0, 0, 0])  # 100 payments
    assert silent(world, "F12")


def test_f12_benford_conforming_payments_are_silent() -> None:
    # With the baseline's four (first digits 8, 1, 2, 1): 30, 18, 13, 10, 8, 7, 6, 5, 4 of 101.
    world = Baseline()
    _c1_spends_by_first_digit(world, [28, 17, 13, 10, 8, 7, 6, 4, 4])
    assert silent(world, "F12")


def test_benford_mad_is_the_mean_absolute_deviation_over_nine_digits() -> None:
    assert [first_digit(t) for t in (1, 99, 100, 4_000_000_00, 9_876_54)] == [1, 9, 1, 4, 9]
    assert sum(BENFORD_EXPECTED) == pytest.approx(1, abs=1e-30)
    assert float(benford_mad([1, 0, 0, 0, 0, 0, 0, 0, 0])) == pytest.approx(2 * (1 - 0.30103) / 9, abs=1e-6)
    expected = sum(abs(c / 101 - p) for c, p in zip([30, 18, 13, 10, 8, 7, 6, 5, 4], map(float, BENFORD_EXPECTED))) / 9
    assert float(benford_mad([30, 18, 13, 10, 8, 7, 6, 5, 4])) == pytest.approx(expected, rel=1e-12)
    assert isinstance(benford_mad([3, 1, 1, 1, 1, 1, 1, 1, 1]), Fraction)


def test_f12_custom_thresholds_move_the_boundaries(tmp_path: Path) -> None:
    world = Baseline()
    _c1_spends(world, round_count=9, other_count=7)  # 9 of 20 = 45 %
    assert only(world, "F12", rules=config(tmp_path, '[F12.ROAD]\nround_share = "0.45"\n'))["evidence"]["round_share"] == "0.45"
    assert silent(world, "F12", rules=config(tmp_path, '[F12.ROAD]\nround_share = "0.46"\n'))

    world = Baseline()
    _c1_spends(world, round_count=10, other_count=5)  # 10 of 19
    assert only(world, "F12", rules=config(tmp_path, "[F12]\npayments_min_count = 19\n"))

    # The conforming 101 payments have MAD 0.0026225…: above 0.002622, not above 0.002623.
    world = Baseline()
    _c1_spends_by_first_digit(world, [28, 17, 13, 10, 8, 7, 6, 4, 4])
    flag = only(world, "F12", rules=config(tmp_path, '[F12]\nbenford_mad = "0.002622"\n'))
    assert flag["evidence"]["mad"] == "0.002623" and flag["evidence"]["benford_mad"] == "0.002622"
    assert silent(world, "F12", rules=config(tmp_path, '[F12]\nbenford_mad = "0.002623"\n'))


def test_f12_incremental_flags_equal_one_run(tmp_path: Path) -> None:
    world = Baseline()
    _c1_spends(world, round_count=10, other_count=6)
    _c1_spends_by_first_digit(world, [0, 0, 0, 0, 81, 0, 0, 0, 0])  # 4 + 16 + 81 = 101 payments
    assert {f["id"].rsplit(":", 1)[1] for f in flags_of(world, "F12")} == {"round", "benford"}
    assert_incremental_equals_one_run(world, tmp_path, "F12")


def test_the_baseline_is_silent_for_this_family() -> None:
    world = Baseline()
    assert [f for f in world.flags(as_of="2026-02-01T00:00:00+05:00") if f["rule"] in FAMILY] == []
    assert world.unexpected == []
