"""One contract suite for every store (SPEC §2.3, §4, §5): memory://, SQLite and PostgreSQL.

What every store must do the same way: a small world gives the same balances and history; events
survive reopening; re-running is idempotent across reopen; a reused id with other content is a
conflict; a batch is all or nothing and a re-run completes it; the log is in command order; the
keys hold every command id. With two writers on one store (`shared_store_url`): no double spend,
no double apply of one command id, and no payment to a party another writer has debarred.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import events as e
from domain.commands import Command
from ledger import app as ledger_app
from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, Ledger, Outcome, color_stream
from ledger.interchange import command_digest, parse_record
from simulations.strategies import (
    DAY0,
    RecordBuilder,
    color_for,
    command_lists,
    kzt,
    ledger_state,
    party_id,
    sha256_of,
    to_commands,
)
from tests.support import outcomes_again, postgres_schema

TREASURY, ADMIN, AGRO_ADMIN = party_id(1), party_id(11), party_id(12)
CONTRACTOR, SUB, DEALER = party_id(101), party_id(102), party_id(103)
ROAD, AGRO = color_for("ROAD"), color_for("AGRO")
EXPIRES_ON = DAY0 + timedelta(days=300)


def small_world() -> tuple[list[dict[str, Any]], list[str]]:
    """Two colors, a contract chain, every kind of movement; the records and their statuses."""
    b = RecordBuilder("S")
    statuses: list[str] = []

    def expect(status: str, record: dict[str, Any]) -> dict[str, Any]:
        statuses.append(status)
        return record

    for party, kind in ((TREASURY, "treasury"), (ADMIN, "administrator"), (AGRO_ADMIN, "administrator"),
                        (CONTRACTOR, "contractor"), (SUB, "contractor"), (DEALER, "dealer")):
        expect(APPLIED, b.register_party(party, kind))
    expect(APPLIED, b.allocate(ROAD, TREASURY, ADMIN, 1_000_000_00, EXPIRES_ON))
    expect(APPLIED, b.sign_contract("C-1", ROAD, ADMIN, CONTRACTOR, 600_000_00))
    expect(APPLIED, b.sign_contract("C-2", ROAD, CONTRACTOR, SUB, 300_000_00))
    first = expect(APPLIED, b.transfer(ROAD, ADMIN, CONTRACTOR, 250_000_00, kind="advance"))
    second = expect(APPLIED, b.transfer(ROAD, ADMIN, CONTRACTOR, 150_000_00, contract="C-1"))
    expect(APPLIED, b.transfer(ROAD, CONTRACTOR, SUB, 120_000_00, contract="C-2",
                               sources=[(second["id"], 100_000_00), (first["id"], 20_000_00)]))
    expect(APPLIED, b.spend(ROAD, SUB, 70_000_00, "materials"))
    expect(BLOCKED, b.spend(ROAD, CONTRACTOR, 1_000_00, "cash_withdrawal"))
    expect(BLOCKED, b.transfer(ROAD, CONTRACTOR, SUB, 999_999_00, contract="C-2"))  # more than held
    expect(APPLIED, b.freeze(ROAD, CONTRACTOR))
    expect(BLOCKED, b.spend(ROAD, CONTRACTOR, 1_00, "fuel"))  # frozen holder
    expect(APPLIED, b.unfreeze(ROAD, CONTRACTOR))
    expect(APPLIED, b.return_(ROAD, ADMIN, 100_000_00, reason="savings"))
    expect(APPLIED, b.allocate(AGRO, TREASURY, AGRO_ADMIN, 50_000_000_00, EXPIRES_ON))
    expect(APPLIED, b.sign_contract("A-1", AGRO, AGRO_ADMIN, DEALER, 30_000_000_00))
    reservation = expect(APPLIED, b.reserve(AGRO, AGRO_ADMIN, DEALER, 30_000_000_00, "A-1"))
    expect(BLOCKED, b.release(reservation["id"]))  # nothing accepted yet
    expect(APPLIED, b.accept("A-1", 30_000_000_00))
    expect(BLOCKED, b.release(reservation["id"]))  # AGRO: no final acceptance with evidence yet
    expect(BLOCKED, b.accept("A-1", 1_00, final=True, evidence_sha256=sha256_of(1)))  # above the contract
    expect(APPLIED, b.amend_contract("A-1", 30_000_000_01))
    expect(APPLIED, b.accept("A-1", 1, final=True, evidence_sha256=sha256_of(1)))
    expect(APPLIED, b.release(reservation["id"], sha256_of(1)))
    expect(APPLIED, b.spend(AGRO, DEALER, 5_000_000_00, "equipment"))
    expect(BLOCKED, b.spend(AGRO, DEALER, 1_00, "fuel"))  # not an AGRO category
    expect(BLOCKED, b.spend(color_for("LOCAL"), DEALER, 1_00, "fuel"))  # never allocated
    b.advance(400)
    expect(BLOCKED, b.transfer(ROAD, ADMIN, CONTRACTOR, 1_00, contract="C-1"))  # expired
    expect(APPLIED, b.return_(ROAD, ADMIN, 500_000_00, reason="expired"))  # returns still move
    return b.records, statuses


EXPECTED_BALANCES = {
    ROAD: {CONTRACTOR: 280_000_00, SUB: 50_000_00},
    AGRO: {AGRO_ADMIN: 20_000_000_00, DEALER: 25_000_000_00},
}
EXPECTED_TOTALS = {  # (reserved, spent, returned)
    ROAD: (0, 70_000_00, 600_000_00),
    AGRO: (0, 5_000_000_00, 0),
}


@pytest.fixture
def open_ledgers() -> Iterator[Callable[..., Ledger]]:
    """Opens Ledgers for a test and closes them all afterwards."""
    opened: list[Ledger] = []

    def open_ledger(url: str, **kwargs: Any) -> Ledger:
        ledger = Ledger(url, **kwargs)
        opened.append(ledger)
        return ledger

    yield open_ledger
    for ledger in opened:
        ledger.close()


def balances(ledger: Ledger, color: str) -> dict[str, int]:
    allocation = ledger.allocation(color)
    assert allocation is not None, color
    return {holder: tiyn for holder, tiyn in allocation.balances.items() if tiyn}


def assert_world_as_expected(ledger: Ledger) -> None:
    assert sorted(ledger.colors()) == sorted([ROAD, AGRO])
    for color, expected in EXPECTED_BALANCES.items():
        allocation = ledger.allocation(color)
        assert allocation is not None
        allocation.check()
        assert balances(ledger, color) == expected
        assert (allocation.reserved_tiyn, allocation.spent_tiyn, allocation.returned_tiyn) == EXPECTED_TOTALS[color]
        assert (sum(allocation.balances.values()) + allocation.reserved_tiyn + allocation.spent_tiyn
                + allocation.returned_tiyn) == allocation.allocated_tiyn


def lookup_keys(ledger: Ledger, names: Sequence[str]) -> dict[str, tuple[bytes, str]]:
    """`ledger.recorder.lookup_keys` by plain key names (stored hashed when the store is encrypted)."""
    stored_key = getattr(ledger, "stored_key", lambda name: name)
    stored = {stored_key(name): name for name in names}
    return {stored[key]: value for key, value in ledger.recorder.lookup_keys(list(stored)).items()}


def assert_verified(ledger: Ledger) -> None:
    """`tenge-ledger verify` finds nothing: hash chain, Merkle log, domain replay, projections (SPEC §7)."""
    from ledger.integrity.verify import Verifier

    findings = Verifier(ledger).run()
    assert findings == [], [str(finding) for finding in findings]


def applied_or_blocked(commands: Sequence[Command], outcomes: Sequence[Outcome]) -> list[str]:
    return [c.id for c, o in zip(commands, outcomes, strict=True) if o.status in (APPLIED, BLOCKED)]


# --- one store at a time --------------------------------------------------------------------------

def test_a_small_world_gives_the_same_balances_and_history_on_every_store(store_url, open_ledgers) -> None:
    records, statuses = small_world()
    commands = to_commands(records)
    ledger = open_ledgers(store_url, batch_size=4)
    outcomes = ledger.execute(commands)
    assert [o.status for o in outcomes] == statuses, [(o.command_id, o.status, o.reason) for o in outcomes]
    assert_world_as_expected(ledger)
    reference = open_ledgers("memory://")
    reference.execute(commands)
    assert ledger_state(ledger) == ledger_state(reference)
    assert ledger.position() == len(commands)
    for color in (ROAD, AGRO):
        assert ledger.history(color) == reference.history(color)


def test_events_survive_reopening_the_store(store_url, open_ledgers) -> None:
    if store_url == "memory://":
        pytest.skip("memory:// lives as long as its Ledger: nothing to reopen")
    commands = to_commands(small_world()[0])
    writer = open_ledgers(store_url, batch_size=7)
    writer.execute(commands)
    before = ledger_state(writer)
    writer.close()
    reopened = open_ledgers(store_url)
    assert ledger_state(reopened) == before
    assert_world_as_expected(reopened)


def test_re_executing_after_reopening_is_all_duplicate_and_changes_nothing(store_url, open_ledgers) -> None:
    commands = to_commands(small_world()[0])
    writer = open_ledgers(store_url, batch_size=5)
    first = writer.execute(commands)
    assert any(o.status == BLOCKED for o in first), "the world has blocked commands to report again"
    before = ledger_state(writer)
    again = writer if store_url == "memory://" else open_ledgers(store_url, batch_size=3)
    assert again.execute(commands) == outcomes_again(first)
    assert again.position() == before["position"]
    assert ledger_state(again) == before


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(store_url, open_ledgers) -> None:
    records, _ = small_world()
    ledger = open_ledgers(store_url)
    ledger.execute(to_commands(records))
    before = ledger_state(ledger)
    transfer = next(r for r in records if r["type"] == "transfer")
    blocked_spend = next(r for r in records if r["type"] == "spend" and r["category"] == "cash_withdrawal")
    changed = [
        {**transfer, "amount": kzt(1_00)},  # applied before: another amount
        {**blocked_spend, "category": "materials"},  # blocked before: now it would pass
        {"id": transfer["id"], "type": "freeze", "at": transfer["at"], "color": ROAD, "reason": "x"},  # other type
    ]
    outcomes = ledger.execute(to_commands(changed))
    assert [o.status for o in outcomes] == [CONFLICT] * 3
    assert {o.reason for o in outcomes} == {"id_reused_with_different_content"}
    assert ledger_state(ledger) == before
    same_instant_other_offset = {**transfer, "at": parse_record(transfer).at.astimezone(timezone.utc).isoformat()}
    assert same_instant_other_offset["at"] != transfer["at"]
    assert ledger.execute([parse_record(same_instant_other_offset)])[0].status == DUPLICATE


class _Crash(RuntimeError):
    """Stands for a crash in the middle of a batch."""


def test_a_batch_that_fails_while_deciding_stores_nothing_and_a_rerun_completes_it(
        store_url, open_ledgers, monkeypatch) -> None:
    commands = to_commands(small_world()[0])
    reference = open_ledgers("memory://")
    reference_outcomes = reference.execute(commands)
    ledger = open_ledgers(store_url, batch_size=5)
    real_apply, calls = ledger_app._BatchRun._apply, []

    def apply_then_crash_on_the_eighth(run: Any, command: Command) -> Outcome:
        calls.append(command.id)
        if len(calls) == 8:  # the third command of the second batch
            raise _Crash(command.id)
        return real_apply(run, command)

    monkeypatch.setattr(ledger_app._BatchRun, "_apply", apply_then_crash_on_the_eighth)
    with pytest.raises(_Crash):
        ledger.execute(commands)
    monkeypatch.undo()
    first_batch, failed_batch = commands[:5], commands[5:10]
    assert ledger.position() == len(first_batch), "only the first batch is stored"
    keys = lookup_keys(ledger, ["command:" + c.id for c in commands])
    assert sorted(keys) == sorted("command:" + c.id for c in first_batch)
    assert not any(ev.command_id in {c.id for c in failed_batch} for ev in ledger.history(ROAD))
    resumed = ledger.execute(commands)
    assert resumed[:5] == outcomes_again(reference_outcomes[:5])
    assert resumed[5:] == reference_outcomes[5:]
    assert ledger_state(ledger) == ledger_state(reference)
    assert_verified(ledger)


def test_a_batch_that_fails_inside_the_store_transaction_leaves_nothing(store_url, open_ledgers, monkeypatch) -> None:
    if store_url == "memory://":
        pytest.skip("memory:// has no transaction to interrupt")
    commands = to_commands(small_world()[0])
    reference = open_ledgers("memory://")
    reference_outcomes = reference.execute(commands)
    ledger = open_ledgers(store_url, batch_size=5)
    recorder = ledger.recorder
    real_insert, calls = recorder._insert_events, []

    def insert_then_crash_in_the_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        result = real_insert(*args, **kwargs)  # keys (and, on SQLite, events) are written ...
        if len(calls) == 2:
            raise _Crash("after writing rows, before commit")  # ... and must be rolled back
        return result

    monkeypatch.setattr(recorder, "_insert_events", insert_then_crash_in_the_second_batch)
    with pytest.raises(_Crash):
        ledger.execute(commands)
    monkeypatch.undo()
    assert ledger.position() == 5
    assert sorted(lookup_keys(ledger, ["command:" + c.id for c in commands])) == sorted(
        "command:" + c.id for c in commands[:5])
    other = open_ledgers(store_url)  # another connection sees the same: nothing half-written
    assert other.position() == 5
    resumed = ledger.execute(commands)
    assert resumed[5:] == reference_outcomes[5:]
    assert ledger_state(ledger) == ledger_state(reference)
    assert_verified(ledger)


def test_the_log_is_in_command_order(store_url, open_ledgers) -> None:
    commands = to_commands(small_world()[0])
    ledger = open_ledgers(store_url, batch_size=3)
    outcomes = ledger.execute(commands)
    recorded = ledger_state(ledger)["events"]
    assert [ev.command_id for ev in recorded] == applied_or_blocked(commands, outcomes)
    keys = lookup_keys(ledger, ["command:" + c.id for c in commands])
    for color in (ROAD, AGRO):
        stream = str(color_stream(color))
        on_color = [c.id for c in commands if keys["command:" + c.id][1] == stream]
        assert [ev.command_id for ev in ledger.history(color)] == on_color
        versions = [ev.originator_version for ev in ledger.history(color)]
        assert versions == list(range(1, len(versions) + 1))


def test_the_keys_hold_every_command_id_with_its_digest(store_url, open_ledgers) -> None:
    records, statuses = small_world()
    commands = to_commands(records)
    ledger = open_ledgers(store_url, batch_size=6)
    ledger.execute(commands)
    names = ["command:" + c.id for c in commands]
    keys = lookup_keys(ledger, names)
    assert sorted(keys) == sorted(names)
    assert all(keys["command:" + c.id][0] == command_digest(c) for c in commands)
    claimed = lookup_keys(ledger, 
        ["contract:C-1", "contract:C-2", "contract:A-1", "color:" + ROAD, "color:" + AGRO, "party:" + DEALER])
    assert len(claimed) == 6
    assert claimed["contract:A-1"][1] == claimed["color:" + AGRO][1] == str(color_stream(AGRO))


@contextmanager
def fresh_store(store_url: str, tmp_path: Path, n: int) -> Iterator[str]:
    """Another empty store of the same kind as `store_url` (a new file, or a new schema)."""
    if store_url.startswith("sqlite:///"):
        yield f"sqlite:///{tmp_path / f'random-{n}.sqlite'}"
        return
    with postgres_schema(store_url, f"{store_url.partition('?schema=')[2]}_{n}") as url:
        yield url


def test_random_command_lists_give_the_same_state_on_every_store(store_url, tmp_path) -> None:
    """Random worlds and operations (`simulations.strategies`) against this store and memory://."""
    if store_url == "memory://":
        pytest.skip("memory:// is the reference")
    numbers = itertools.count()

    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(records=command_lists(operations_max=40), batch_size=st.integers(1, 30))
    def same_as_memory(records: list[dict[str, Any]], batch_size: int) -> None:
        commands = to_commands(records)
        reference = Ledger("memory://")
        expected = reference.execute(commands)
        with fresh_store(store_url, tmp_path, next(numbers)) as url:
            ledger = Ledger(url, batch_size=batch_size)
            try:
                assert ledger.execute(commands) == expected
                assert ledger_state(ledger) == ledger_state(reference)
                assert ledger.execute(commands) == outcomes_again(expected)
            finally:
                ledger.close()

    same_as_memory()


# --- two writers on one store ---------------------------------------------------------------------

def funded_contractor(url: str, open_ledgers: Callable[..., Ledger], amount_tiyn: int) -> tuple[Ledger, RecordBuilder]:
    """Writer A builds a road world in which the contractor holds `amount_tiyn` of ROAD."""
    b = RecordBuilder("R")
    for party, kind in ((TREASURY, "treasury"), (ADMIN, "administrator"), (CONTRACTOR, "contractor"),
                        (SUB, "contractor")):
        b.register_party(party, kind)
    b.allocate(ROAD, TREASURY, ADMIN, 1_000_000_00, EXPIRES_ON)
    b.sign_contract("C-1", ROAD, ADMIN, CONTRACTOR, 1_000_000_00)
    b.sign_contract("C-2", ROAD, CONTRACTOR, SUB, 1_000_000_00)
    b.transfer(ROAD, ADMIN, CONTRACTOR, amount_tiyn)
    writer = open_ledgers(url)
    assert {o.status for o in writer.execute(to_commands(b.records))} == {APPLIED}
    return writer, b


def one(b: RecordBuilder, record: dict[str, Any]) -> list[Command]:
    return [parse_record(record)]


def while_saving(first: Ledger, monkeypatch, other_writer: Callable[[], Any]) -> dict[str, Any]:
    """Make `first` run `other_writer` after it decided its batch and before it saves it."""
    real_save, seen = first.save, {"saves": 0}

    def save_after_the_other_writer(*args: Any, **kwargs: Any) -> Any:
        seen["saves"] += 1
        if "other" not in seen:
            seen["other"] = other_writer()
        return real_save(*args, **kwargs)

    monkeypatch.setattr(first, "save", save_after_the_other_writer)
    return seen


def assert_conserved(ledger: Ledger, color: str) -> None:
    allocation = ledger.allocation(color)
    assert allocation is not None
    allocation.check()
    assert (sum(allocation.balances.values()) + allocation.reserved_tiyn + allocation.spent_tiyn
            + allocation.returned_tiyn) == allocation.allocated_tiyn


def test_a_writer_with_a_stale_cache_cannot_double_spend(shared_store_url, open_ledgers, monkeypatch) -> None:
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    warm = writer_b.execute_batch(one(b, b.accept("C-1", 1_00)))  # B now caches ROAD
    assert warm[0].status == APPLIED
    spend_a = writer_a.execute(one(b, b.spend(ROAD, CONTRACTOR, 400_000_00, "materials")))
    monkeypatch.setattr(writer_b, "_forget_stale", lambda streams: None)  # B keeps its stale cache
    saves_b = while_saving(writer_b, monkeypatch, lambda: None)
    spend_b = writer_b.execute_batch(one(b, b.spend(ROAD, CONTRACTOR, 400_000_00, "fuel")))  # decided on stale state
    assert saves_b["saves"] == 2, "B's first save (applied, from its stale cache) is refused; the retry blocks it"
    assert spend_a[0].status == APPLIED
    assert (spend_b[0].status, spend_b[0].reason) == (BLOCKED, "balance_would_go_negative")
    for ledger in (writer_a, writer_b, open_ledgers(shared_store_url)):
        assert_conserved(ledger, ROAD)
        allocation = ledger.allocation(ROAD)
        assert allocation.spent_tiyn == 400_000_00
        assert allocation.balances[CONTRACTOR] == 0
    spent = [ev for ev in writer_a.history(ROAD) if isinstance(ev, e.FundsSpent)]
    assert len(spent) == 1
    assert_verified(writer_a)


def test_a_writer_drops_what_another_moved_from_its_cache_and_decides_once(shared_store_url, open_ledgers,
                                                                          monkeypatch) -> None:
    """Before deciding, with the streams locked, a writer drops the cached aggregates another writer
    moved since (one query of their versions), so it does not waste an attempt on a refused save."""
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    assert writer_b.execute_batch(one(b, b.accept("C-1", 1_00)))[0].status == APPLIED  # B caches ROAD
    assert writer_a.execute(one(b, b.spend(ROAD, CONTRACTOR, 400_000_00, "materials")))[0].status == APPLIED
    saves_b = while_saving(writer_b, monkeypatch, lambda: None)
    spend_b = writer_b.execute_batch(one(b, b.spend(ROAD, CONTRACTOR, 400_000_00, "fuel")))
    assert saves_b["saves"] == 1 and (spend_b[0].status, spend_b[0].reason) == (BLOCKED, "balance_would_go_negative")


def test_two_writers_deciding_on_the_same_state_cannot_double_spend(shared_store_url, open_ledgers,
                                                                    monkeypatch) -> None:
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    # B's spend is dated first (B saves first; an earlier-dated A would be out of order, SPEC §2.5)
    spend_b, spend_a = one(b, b.spend(ROAD, CONTRACTOR, 300_000_00, "fuel")), one(
        b, b.spend(ROAD, CONTRACTOR, 300_000_00, "materials"))
    seen = while_saving(writer_a, monkeypatch, lambda: writer_b.execute_batch(spend_b))
    outcome_a = writer_a.execute_batch(spend_a)
    assert seen["other"][0].status == APPLIED  # B saved first
    assert seen["saves"] == 2  # A's first save is refused, its retry decides again
    assert (outcome_a[0].status, outcome_a[0].reason) == (BLOCKED, "balance_would_go_negative")
    assert_conserved(writer_a, ROAD)
    assert writer_a.allocation(ROAD).spent_tiyn == 300_000_00
    assert_verified(writer_a)  # a refused write may leave a gap in positions, never a broken chain


def test_two_writers_racing_one_command_id_apply_it_once(shared_store_url, open_ledgers, monkeypatch) -> None:
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    transfer = one(b, b.transfer(ROAD, CONTRACTOR, SUB, 100_000_00, contract="C-2"))
    before = writer_a.position()
    seen = while_saving(writer_a, monkeypatch, lambda: writer_b.execute_batch(transfer))
    outcome_a = writer_a.execute_batch(transfer)
    assert seen["other"] == [Outcome(transfer[0].id, APPLIED)]
    assert outcome_a == [Outcome(transfer[0].id, DUPLICATE)]
    assert seen["saves"] == 1  # refused once; the retry finds the id and has nothing to save
    assert writer_a.position() == before + 1
    assert balances(writer_a, ROAD) == {ADMIN: 600_000_00, CONTRACTOR: 300_000_00, SUB: 100_000_00}
    assert writer_b.execute(transfer) == [Outcome(transfer[0].id, DUPLICATE)]
    assert_verified(writer_b)


def test_two_writers_racing_one_blocked_command_id_record_it_once(shared_store_url, open_ledgers,
                                                                  monkeypatch) -> None:
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    unknown_color = one(b, b.spend(color_for("LOCAL"), CONTRACTOR, 1_00, "fuel"))  # its own attempt stream
    before = writer_a.position()
    seen = while_saving(writer_a, monkeypatch, lambda: writer_b.execute_batch(unknown_color))
    outcome_a = writer_a.execute_batch(unknown_color)
    assert seen["other"][0].status == BLOCKED
    assert outcome_a == seen["other"]  # the same attempt: blocked for the same rule, recorded once
    assert writer_a.position() == before + 1


def test_two_writers_signing_one_contract_id_under_two_colors_sign_it_once(shared_store_url, open_ledgers,
                                                                           monkeypatch) -> None:
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    setup = [b.register_party(AGRO_ADMIN, "administrator"), b.register_party(DEALER, "dealer"),
             b.allocate(AGRO, TREASURY, AGRO_ADMIN, 1_000_00, EXPIRES_ON)]
    assert {o.status for o in writer_a.execute(to_commands(setup))} == {APPLIED}
    on_road = one(b, b.sign_contract("K-SAME", ROAD, ADMIN, SUB, 1_00))
    on_agro = one(b, b.sign_contract("K-SAME", AGRO, AGRO_ADMIN, DEALER, 1_00))
    seen = while_saving(writer_a, monkeypatch, lambda: writer_b.execute_batch(on_agro))
    outcome_a = writer_a.execute_batch(on_road)
    assert seen["other"][0].status == APPLIED
    assert (outcome_a[0].status, outcome_a[0].reason) == (BLOCKED, "contract_already_exists")
    assert "K-SAME" not in writer_a.allocation(ROAD).contracts
    assert "K-SAME" in writer_a.allocation(AGRO).contracts


def test_a_writer_with_a_stale_cache_does_not_pay_a_party_another_writer_debarred(shared_store_url,
                                                                                   open_ledgers) -> None:
    """SPEC §4 rule 3: the recipient must be registered and active when the transfer is applied."""
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    warm = writer_b.execute_batch(one(b, b.transfer(ROAD, CONTRACTOR, SUB, 1_00, contract="C-2")))
    assert warm[0].status == APPLIED  # B now caches ROAD and the party SUB (active)
    debar = writer_a.execute(one(b, b.update_party(SUB, status="debarred")))
    assert debar[0].status == APPLIED
    pay = writer_b.execute_batch(one(b, b.transfer(ROAD, CONTRACTOR, SUB, 50_000_00, contract="C-2")))
    assert (pay[0].status, pay[0].reason) == (BLOCKED, "party_is_not_active"), (
        f"{pay[0]}: paid a party debarred at an earlier position by another writer"
    )


def test_two_writers_cannot_pay_a_party_debarred_between_decision_and_save(shared_store_url, open_ledgers,
                                                                           monkeypatch) -> None:
    """The same rule with fresh caches: B decides the payment, A debars the payee, B saves."""
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    debar = one(b, b.update_party(CONTRACTOR, status="debarred"))
    pay = one(b, b.transfer(ROAD, ADMIN, CONTRACTOR, 100_000_00, contract="C-1"))
    seen = while_saving(writer_b, monkeypatch, lambda: writer_a.execute(debar))
    outcome = writer_b.execute(pay)
    assert seen["other"][0].status == APPLIED
    positions = [ev.command_id for ev in ledger_state(writer_a)["events"]]
    assert positions.index(debar[0].id) < positions.index(pay[0].id)  # the debarment comes first in the log
    assert (outcome[0].status, outcome[0].reason) == (BLOCKED, "party_is_not_active"), (
        f"{outcome[0]}: paid a party debarred at an earlier position by another writer"
    )


def _phantom_case(case: str, b: RecordBuilder) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str, str]:
    """(setup, what the other writer commits, the command that refers to it, its event when applied)."""
    if case == "contract":
        return [], [b.sign_contract("K-NEW", ROAD, ADMIN, SUB, 10_000_00)], "accept", "DeliveryAccepted"
    if case == "color":
        setup = [b.register_party(AGRO_ADMIN, "administrator")]
        return setup, [b.allocate(AGRO, TREASURY, AGRO_ADMIN, 1_000_00, EXPIRES_ON)], "freeze", "ColorFrozen"
    return [], [b.reserve(ROAD, CONTRACTOR, SUB, 1_00, "C-2")], "void", "ReservationVoided"


@pytest.mark.parametrize("case", ["contract", "color", "reservation"])
def test_a_reference_another_writer_created_before_the_save_is_not_reported_unknown(
        shared_store_url, open_ledgers, monkeypatch, case) -> None:
    """SPEC §3: references are resolved when the command is applied. Writer A decides a command
    while the contract / color / reservation it names does not exist yet; writer B creates it and
    commits; then A saves. The log now holds B's creation *before* A's command, so A's command must
    not be recorded as blocked for an unknown reference (the party case is already re-checked at
    save; these three are not)."""
    writer_a, b = funded_contractor(shared_store_url, open_ledgers, 400_000_00)
    writer_b = open_ledgers(shared_store_url)
    setup, created, command_type, applied_event = _phantom_case(case, b)
    if setup:
        assert {o.status for o in writer_a.execute(to_commands(setup))} == {APPLIED}
    refer = {
        "accept": lambda: b.accept("K-NEW", 1_00),
        "freeze": lambda: b.freeze(AGRO),
        "void": lambda: b.void(created[0]["id"]),
    }[command_type]()
    seen = while_saving(writer_a, monkeypatch, lambda: writer_b.execute(to_commands(created)))
    outcome = writer_a.execute_batch(to_commands([refer]))[0]
    assert seen["other"][0].status == APPLIED
    log = ledger_state(writer_a)["events"]
    ids = [ev.command_id for ev in log]
    assert ids.index(created[0]["id"]) < ids.index(refer["id"]), "B's creation is first in the log"
    recorded = log[ids.index(refer["id"])]
    assert outcome.status == APPLIED, (
        f"{refer['id']} ({command_type}) recorded as {type(recorded).__name__} "
        f"{getattr(recorded, 'reason', '')} at a later position than {created[0]['id']}, which created the reference"
    )
    assert type(recorded).__name__ == applied_event
