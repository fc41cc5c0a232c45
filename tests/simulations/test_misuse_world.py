"""Worlds with every scheme on: at a high misuse rate each rule catches every instance expecting it
(recall 1) and raises little else; the files stay valid and deterministic; and rules whose windows
close after the year's last record are judged at the truth's `evaluate_as_of`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from fractions import Fraction

import pytest

from ledger.interchange import parse_record
from projections.rules.registry import CATALOG_ORDER
from projections.rules.world import normalize_address
from simulations.generator import Generator
from simulations.runs import SimulatedWorld, project_for_scheme
from simulations.schemes import SCHEMES
from simulations.world import SimulationConfig

ALL_PILOTS = ("ROAD", "AGRO", "LOCAL")
# Seed 3 at 5 000 transactions and rate 1 puts an instance of every rule into 55 projects: 33 of the 33 scheme kinds.
EVERY_RULE = SimulationConfig(pilots=ALL_PILOTS, seed=3, transactions=5_000, misuse_rate=Fraction(1))
PRECISION_MIN = Fraction(9, 10)


@pytest.fixture(scope="module")
def every_rule() -> SimulatedWorld:
    return SimulatedWorld(EVERY_RULE)


def test_every_rule_is_expected_and_catches_every_instance(every_rule: SimulatedWorld) -> None:
    result = every_rule.evaluate()
    scores = {score.rule: score for score in result.rules}
    assert [rule for rule in CATALOG_ORDER if not scores[rule].expected] == []
    assert result.missed == []
    assert all(score.recall == 1 for score in scores.values()), [(s.rule, s.recall) for s in scores.values()]
    assert [(s.rule, s.precision) for s in scores.values() if s.precision < PRECISION_MIN] == []


def test_every_scheme_kind_is_in_it(every_rule: SimulatedWorld) -> None:
    assert {i["scheme"] for i in every_rule.truth["instances"]} == {s.name for s in SCHEMES}


@pytest.mark.parametrize("seed, transactions, rate", [(1, 6_000, "1/2"), (8, 4_000, "1")])
def test_other_worlds_at_high_rates_have_recall_one(seed: int, transactions: int, rate: str) -> None:
    world = SimulatedWorld(SimulationConfig(pilots=ALL_PILOTS, seed=seed, transactions=transactions,
                                            misuse_rate=Fraction(rate)))
    result = world.evaluate()
    assert result.missed == []
    assert [(s.rule, s.precision) for s in result.rules if s.raised and s.precision < PRECISION_MIN] == []


def test_the_misuse_world_is_valid_interchange(every_rule: SimulatedWorld) -> None:
    records = every_rule.records
    commands = [parse_record(record) for record in records]
    assert len(commands) == len(records)
    assert max(Counter(record["id"] for record in records).values()) == 1
    moments = [datetime.fromisoformat(record["at"]) for record in records]
    assert moments == sorted(moments) and {m.year for m in moments} == {2025}
    registered: set[str] = set()
    for record in records:
        if record["type"] == "register_party":
            assert record["party"] not in registered, "scheme parties never reuse a pool party's id"
            registered.add(record["party"])
        for field in ("treasury", "administrator", "customer", "supplier", "from", "to", "payee", "beneficiary"):
            if field in record:
                assert record[field] in registered, (record["id"], field)
    blocked = [o for o in every_rule.outcomes if o.status == "blocked"]
    assert len(blocked) == every_rule.truth["expected_blocked"]
    assert all(o.status in ("applied", "blocked") for o in every_rule.outcomes)


def test_scheme_parties_are_registered_during_the_year_with_their_own_identifiers(every_rule: SimulatedWorld) -> None:
    january = {r["party"] for r in every_rule.records if r["type"] == "register_party" and r["at"] < "2025-02"}
    scheme = [r for r in every_rule.records if r["type"] == "register_party" and r["party"] not in january]
    assert scheme, "schemes register shells, affiliates, officials' companies, fresh administrators"
    assert all(r["id"].split("-")[2][0] == "N" for r in scheme)
    assert all(r["party"][:2] in ("22", "23", "24", "25") for r in scheme)  # BIN years no pool company has
    pool_addresses = {normalize_address(r["address"]) for r in every_rule.records
                      if r["type"] == "register_party" and r["party"] in january and "address" in r}
    sharing = {p for i in every_rule.truth["instances"] if i["scheme"] == "P02-shared-identifiers" for p in i["parties"]}
    assert [r["party"] for r in scheme if normalize_address(r["address"]) in pool_addresses] == \
        [r["party"] for r in scheme if r["party"] in sharing and normalize_address(r["address"]) in pool_addresses]


def test_all_schemes_write_the_same_bytes_twice() -> None:
    config = SimulationConfig(pilots=ALL_PILOTS, seed=5, transactions=2_500, misuse_rate=Fraction(1))
    first, second = Generator(config), Generator(config)
    assert list(first.lines()) == list(second.lines())
    assert first.truth_document() == second.truth_document()


# --- windows that close after the last record -----------------------------------------------------

LATE = [  # (scheme, pilot): the rule's window closes after the year's last record
    ("L03-year-end-rush", "LOCAL"),  # judged at the start of 1 January
    ("S01-pass-through-subcontracting", "LOCAL"),  # the share is judged once the color has expired
    ("F03-pass-through-shell", "ROAD"),  # S01 again, beside F03
]


@pytest.mark.parametrize("scheme, pilot", LATE)
def test_late_windows_are_judged_at_evaluate_as_of(scheme: str, pilot: str) -> None:
    """Decision: `--evaluate` (and `SimulatedWorld.flags`) read the flags as of the truth's
    `evaluate_as_of`, the end of the following year, when every window of the fiscal year has
    closed; the file itself ends in December. Without that moment the flag is not there yet."""
    index = project_for_scheme(pilot, scheme, seed=11, transactions=400)
    world = SimulatedWorld(SimulationConfig(pilots=(pilot,), seed=11, transactions=400, forced=((pilot, index, scheme),)))
    late_rule = "L03" if scheme.startswith("L03") else "S01"
    last = max(datetime.fromisoformat(r["at"]) for r in world.records)
    assert datetime.fromisoformat(world.truth["evaluate_as_of"]) > last.replace(year=last.year + 1)
    assert late_rule in {f["rule"] for f in world.flags()}
    read = world.ledger.read_side()
    now = read.catch_up()
    assert late_rule not in {f["rule"] for f in read.flags(now, now, None)}, "not judged before its window closes"
    assert world.evaluate().missed == []
