"""Case work on flags (issue 12): an auditor's disposition of a flag is an event with its actor,
checked against the roles policy; the flags read model shows each flag's status (open, or the
latest disposition), `flags --status` filters by it, and per-rule precision on real dispositions
is confirmed / (confirmed + false_positive). Dispositions survive a rebuild and follow `--as-of`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain import events as e
from domain.errors import InvalidValue
from ledger.app import APPLIED, CONFLICT, DUPLICATE, Ledger, UnknownFlag
from ledger.integrity.verify import Verifier
from ledger.read import precision_by_rule, status_matches
from ledger.roles import NotAllowed
from tests.integrity.integrity_support import cli, clean_environment
from tests.support import Script, road_world

ROLES = {"daniyar": "auditor", "aigerim": "operator", "root": "admin"}


def cash_world() -> tuple[Script, dict[str, str]]:
    """A road color whose contractor tries twice to withdraw cash: two F07 flags (blocked attempts)."""
    s, names = road_world()
    s.transfer(names["color"], names["admin"], names["contractor"], "5000.00", contract="C-1", kind="advance")
    s.spend(names["color"], names["contractor"], "100.00", category="cash_withdrawal", id="CASH-1")
    s.spend(names["color"], names["contractor"], "200.00", category="cash_withdrawal", id="CASH-2")
    return s, names


def after_world(days: float) -> datetime:
    from tests.support import T0
    return T0 + timedelta(days=days)


@pytest.fixture
def ledger(shared_store_url: str):
    s, _ = cash_world()
    ledger = Ledger(shared_store_url, actor="root")
    outcomes = ledger.execute(s.commands())
    assert [o.status for o in outcomes].count("blocked") == 2
    ledger.set_roles(ROLES, "roles-1", after_world(1))
    ledger.close()
    auditor = Ledger(shared_store_url, actor="daniyar")
    yield auditor
    auditor.close()


def statuses(ledger: Ledger, as_of: str | None = None) -> dict[str, str]:
    read = ledger.read_side()
    now = read.catch_up()
    position = read.resolve_as_of(as_of, now)
    return {f["id"]: f["status"] for f in read.with_status(read.flags(position, now, as_of), position, now, as_of)}


def test_a_disposition_is_an_event_with_its_actor_and_the_flag_shows_it(ledger: Ledger):
    assert statuses(ledger) == {"F07:CASH-1": "open", "F07:CASH-2": "open"}
    outcome = ledger.dispose_flag("F07:CASH-1", "confirmed", "cash withdrawal, reported", "D-1", after_world(2))
    assert outcome.status == APPLIED
    [event] = [ev for ev in ledger.events.get(ledger.flag_stream("F07:CASH-1"))]
    assert isinstance(event, e.FlagDisposed) and event.actor == "daniyar" and event.rule == "F07"
    assert (event.flag, event.disposition, event.comment) == ("F07:CASH-1", "confirmed", "cash withdrawal, reported")
    assert statuses(ledger) == {"F07:CASH-1": "confirmed", "F07:CASH-2": "open"}
    read = ledger.read_side()
    now = read.catch_up()
    [first] = [f for f in read.with_status(read.flags(now, now, None), now, now, None) if f["id"] == "F07:CASH-1"]
    assert first["disposition"]["actor"] == "daniyar" and first["disposition"]["comment"] == "cash withdrawal, reported"
    assert first["disposition"]["transaction"] == "D-1"
    assert Verifier(ledger).run() == []  # the keys table, replay of the case stream and the projections agree


def test_the_latest_disposition_is_the_status_and_as_of_shows_the_earlier_one(ledger: Ledger):
    before = ledger.position()
    ledger.dispose_flag("F07:CASH-1", "explained", "a test of the cash rule", "D-1", after_world(2))
    middle = ledger.position()
    ledger.dispose_flag("F07:CASH-1", "false_positive", "the rule misread the category", "D-2", after_world(3))
    assert statuses(ledger)["F07:CASH-1"] == "false_positive"
    assert statuses(ledger, f"@{middle}")["F07:CASH-1"] == "explained"
    assert statuses(ledger, f"@{before}")["F07:CASH-1"] == "open"
    assert statuses(ledger, after_world(2.5).isoformat())["F07:CASH-1"] == "explained"
    assert statuses(ledger, after_world(1.5).isoformat())["F07:CASH-1"] == "open"
    assert ledger.flag_case("F07:CASH-1").status == "false_positive"
    assert [d.disposition for d in ledger.flag_case("F07:CASH-1").history] == ["explained", "false_positive"]


def test_dispositions_survive_a_rebuild(shared_store_url: str, ledger: Ledger):
    ledger.dispose_flag("F07:CASH-2", "confirmed", "second attempt", "D-1", after_world(2))
    expected = statuses(ledger)
    ledger.close()
    admin = Ledger(shared_store_url, actor="root")
    try:
        admin.read_side().rebuild()
        assert statuses(admin) == expected == {"F07:CASH-1": "open", "F07:CASH-2": "confirmed"}
    finally:
        admin.close()


def test_only_an_auditor_may_dispose_and_nothing_is_written_otherwise(shared_store_url: str, ledger: Ledger):
    position = ledger.position()
    for actor in ("aigerim", "root", "stranger"):
        other = Ledger(shared_store_url, actor=actor)
        try:
            with pytest.raises(NotAllowed):
                other.dispose_flag("F07:CASH-1", "confirmed", "not mine to say", "D-9", after_world(2))
            assert other.position() == position
        finally:
            other.close()


def test_ids_are_idempotency_keys_and_bad_input_writes_nothing(ledger: Ledger):
    moment = after_world(2)
    assert ledger.dispose_flag("F07:CASH-1", "confirmed", "seen", "D-1", moment).status == APPLIED
    position = ledger.position()
    assert ledger.dispose_flag("F07:CASH-1", "confirmed", "seen", "D-1", moment).status == DUPLICATE
    assert ledger.dispose_flag("F07:CASH-1", "explained", "other", "D-1", moment).status == CONFLICT
    with pytest.raises(UnknownFlag):
        ledger.dispose_flag("F07:NO-SUCH", "confirmed", "seen", "D-2", moment)
    for flag, disposition, comment in [("F07:CASH-1", "maybe", "x"), ("F07:CASH-1", "confirmed", "  "),
                                       ("F07:CASH-1", "confirmed", "bidi \u202e"), ("not a flag", "confirmed", "x")]:
        with pytest.raises(InvalidValue):
            ledger.dispose_flag(flag, disposition, comment, "D-3", moment)
    assert ledger.position() == position


def test_precision_on_real_dispositions():
    flags = [{"rule": "F07", "status": s} for s in ("confirmed", "confirmed", "false_positive", "explained", "open")]
    flags.append({"rule": "F09", "status": "explained"})
    rules = precision_by_rule(flags)
    assert rules["F07"] == {"rule": "F07", "raised": 5, "open": 1, "confirmed": 2, "explained": 1,
                            "false_positive": 1, "precision": "0.6667"}
    assert rules["F09"]["precision"] is None  # explained only: neither right nor wrong
    assert status_matches({"status": "explained"}, "closed") and not status_matches({"status": "open"}, "closed")
    assert status_matches({"status": "open"}, None) and status_matches({"status": "open"}, "open")


# --- the command line -----------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path):
    s, _ = cash_world()
    path = tmp_path / "cases.sqlite"
    with clean_environment():
        assert cli("--store", path, "--actor", "root", "import", s.write(tmp_path / "w.jsonl")).code == 1  # blocked cash
        roles = tmp_path / "roles.toml"
        roles.write_text("[actors]\n" + "".join(f'{a} = "{r}"\n' for a, r in ROLES.items()), encoding="utf-8")
        assert cli("--store", path, "--actor", "root", "roles", "set", roles).code == 0
        yield path


def test_cli_dispose_and_flags_status(store: Path):
    base = ("--store", store, "--actor", "daniyar")
    at = after_world(2).isoformat()
    run = cli(*base, "dispose", "F07:CASH-1", "--disposition", "confirmed", "--comment", "reported", "--id", "D-1",
              "--at", at, "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["status"] == "applied"
    again = cli(*base, "dispose", "F07:CASH-1", "--disposition", "confirmed", "--comment", "reported", "--id", "D-1",
                "--at", at, "--format", "json")
    assert again.code == 0 and again.json()["status"] == "duplicate"
    for status, expected in [("open", ["F07:CASH-2"]), ("confirmed", ["F07:CASH-1"]), ("closed", ["F07:CASH-1"]),
                             ("explained", [])]:
        run = cli(*base, "flags", "--status", status, "--as-of", "2025-03-10", "--format", "json")
        assert run.code == 0, run.err
        assert [f["id"] for f in run.json()] == expected, status
    precision = cli(*base, "precision", "--format", "json").json()
    [f07] = [r for r in precision["rules"] if r["rule"] == "F07"]
    assert (f07["raised"], f07["open"], f07["confirmed"], f07["precision"]) == (2, 1, 1, "1.0000")
    assert all(r["precision"] is None for r in precision["rules"] if r["rule"] != "F07")


def test_cli_dispose_refusals(store: Path, tmp_path: Path):
    at = after_world(2).isoformat()
    args = ("dispose", "F07:CASH-1", "--disposition", "confirmed", "--comment", "x", "--at", at)
    assert cli("--store", store, "--actor", "aigerim", *args).code == 77
    unknown = cli("--store", store, "--actor", "daniyar", "dispose", "F07:NOPE", "--disposition", "confirmed",
                  "--comment", "x")
    assert unknown.code == 2 and "no flag F07:NOPE" in unknown.err
    assert cli("--store", store, "--actor", "daniyar", "dispose", "F07:CASH-1", "--disposition", "maybe",
               "--comment", "x").code == 2
    assert cli("--store", store, "--actor", "daniyar", "flags", "--status", "done").code == 2
    assert cli("--store", tmp_path / "missing.sqlite", "precision").code == 69


def test_cli_precision_beside_simulated_figures(store: Path, tmp_path: Path):
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text('{"rules": [{"rule": "F07", "precision": "0.5000"}, {"rule": "F09", "precision": "1.0000"}]}')
    run = cli("--store", store, "--actor", "daniyar", "precision", "--evaluation", evaluation, "--format", "json")
    assert run.code == 0, run.err
    found = {r["rule"]: (r["raised"], r["precision"], r["simulated_precision"]) for r in run.json()["rules"]}
    assert found["F07"] == (2, None, "0.5000") and found["F09"] == (0, None, "1.0000")
    assert cli("--store", store, "precision", "--evaluation", tmp_path / "nope.json").code == 2


def test_dispositions_are_sealed_at_rest_and_verify_holds(tmp_path: Path):
    """With TENGE_LEDGER_KEY, a comment and the flag id are readable nowhere in the store's file."""
    from ledger.store.cipher import new_key

    key = new_key()
    path = tmp_path / "sealed.sqlite"
    s, _ = cash_world()
    ledger = Ledger(f"sqlite:///{path}", cipher_key=key, actor="root")
    try:
        ledger.execute(s.commands())
        comment = "Zhanat-Kassymova-took-the-cash"
        assert ledger.dispose_flag("F07:CASH-1", "confirmed", comment, "D-1", after_world(2)).status == APPLIED
        assert statuses(ledger)["F07:CASH-1"] == "confirmed"
        assert Verifier(ledger).run() == []
    finally:
        ledger.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("sealed.sqlite"))
    assert comment.encode() not in stored and b"CASH-1" not in stored


def test_verify_records_its_outcome(store: Path):
    from ledger.integrity.verify_runs import last_verify_run

    def last() -> dict | None:
        ledger = Ledger(f"sqlite:///{store}", actor="daniyar")
        try:
            return last_verify_run(ledger.read_side().db)
        finally:
            ledger.close()

    assert cli("--store", store, "--actor", "daniyar", "verify").code == 0
    assert last() is None  # verify alone writes nothing
    assert cli("--store", store, "--actor", "daniyar", "verify", "--record").code == 0
    run = last()
    assert run is not None and run["ok"] and run["actor"] == "daniyar" and run["position"] > 0
    assert cli("--store", store.with_name("nothing.sqlite"), "dispose", "F07:CASH-1", "--disposition", "confirmed",
               "--comment", "x").code == 69  # never creates a store
    assert not store.with_name("nothing.sqlite").exists()
