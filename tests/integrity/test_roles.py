"""Roles (issue "roles"): operators move money, auditors freeze and checkpoint, admins keep the
registers and keys; everyone may read. A command outside the actor's role is refused with exit 2
and nothing is written. Without a roles file the local user may do everything. Every event records
its actor.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest

from ledger.roles import ROLE_ACTIONS
from ledger.store.transcoder import MsgpackTranscoder
from tests.integrity.integrity_support import clean_environment, cli, copy_store, events, rows, write_jsonl
from tests.support import Script, color_id, party_id

TRANSCODER = MsgpackTranscoder()
AT = "2025-03-05T10:00:00+05:00"
ACTORS = {"operator": "aigerim", "auditor": "daniyar", "admin": "root-admin"}
ROLES_TOML = "[actors]\n" + "".join(f'{actor} = "{role}"\n' for role, actor in ACTORS.items())


class World:
    """Two road colors (one frozen), a contract with an acceptance, an advance and two reservations."""

    def __init__(self) -> None:
        s = self.script = Script()
        self.treasury, self.admin = s.party("treasury"), s.party("administrator")
        self.contractor, self.sub = s.party("contractor"), s.party("contractor")
        self.color, self.frozen = color_id("ROAD", 1), color_id("ROAD", 2)
        s.allocate(self.color, self.treasury, self.admin, "1000000.00")
        s.allocate(self.frozen, self.treasury, self.admin, "50000.00")
        s.contract("C-1", self.color, self.admin, self.contractor, "600000.00")
        s.add("accept", contract="C-1", amount="20000.00")
        s.transfer(self.color, self.admin, self.contractor, "5000.00", contract="C-1", kind="advance")
        s.reserve(self.color, self.admin, self.contractor, "1000.00", "C-1", id="R-1")
        s.reserve(self.color, self.admin, self.contractor, "1000.00", "C-1", id="R-2")
        s.add("freeze", color=self.frozen, reason="audit")

    def commands(self) -> dict[str, list[str]]:
        """One valid invocation of every one-command subcommand (each applies on the base store)."""
        c, f = self.color, self.frozen
        return {
            "register-party": ["--party", party_id(77), "--name", "New Org", "--kind", "contractor"],
            "update-party": ["--party", self.sub, "--address", "Astana, New st. 1"],
            "set-reference-price": ["--code", "SAND", "--unit", "t", "--price", "1500.00"],
            "allocate": ["--color", color_id("ROAD", 3), "--program", "041", "--purpose", "more", "--amount", "1000.00",
                         "--treasury", self.treasury, "--administrator", self.admin, "--expires-on", "2025-12-31"],
            "sign-contract": ["--contract", "C-9", "--color", c, "--customer", self.contractor, "--supplier", self.sub,
                              "--amount", "2000.00", "--item", "WORKS", "lot", "1", "2000.00"],
            "amend-contract": ["--contract", "C-1", "--amount", "650000.00"],
            "accept": ["--contract", "C-1", "--amount", "1000.00"],
            "transfer": ["--color", c, "--from", self.admin, "--to", self.contractor, "--amount", "10.00", "--contract", "C-1", "--kind", "advance"],
            "reserve": ["--color", c, "--from", self.admin, "--to", self.contractor, "--amount", "10.00", "--contract", "C-1"],
            "release": ["--reservation", "R-1"],
            "void": ["--reservation", "R-2"],
            "spend": ["--color", c, "--from", self.contractor, "--amount", "10.00", "--category", "materials"],
            "return": ["--color", c, "--from", self.admin, "--amount", "10.00"],
            "freeze": ["--color", c, "--reason", "check"],
            "unfreeze": ["--color", f, "--reason", "done"],
        }


WORLD = World()
ACTION_OF = {name: name.replace("-", "_") for name in WORLD.commands()}


def allowed_roles(action: str) -> set[str]:
    return {role for role, actions in ROLE_ACTIONS.items() if action in actions}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The world imported with no roles file (the local user), a signing key, one checkpoint, caught up."""
    directory = tmp_path_factory.mktemp("roles")
    with clean_environment():
        store = directory / "base.sqlite"
        imported = cli("--store", store, "import", WORLD.script.write(directory / "world.jsonl"))
        assert imported.code == 0, imported.err
        assert cli("keygen", "--out", directory / "ledger.key").code == 0
        assert cli("--store", store, "checkpoint", "--key", directory / "ledger.key").code == 0
        assert cli("--store", store, "balance").code == 0
    roles = directory / "roles.toml"
    roles.write_text(ROLES_TOML)
    return {"store": store, "key": directory / "ledger.key", "roles": roles, "directory": directory}


def snapshot(store: Path) -> Any:
    """What a refused command must leave as it was: events, keys, chain, checkpoints, balances."""
    balance = cli("--store", store, "balance", "--format", "json")
    assert balance.code == 0, balance.err
    raw = {table: rows(store, f"SELECT * FROM {table} ORDER BY 1") for table in
           ("stored_events", "ledger_keys", "ledger_chain", "ledger_checkpoints", "projection_positions")}
    return balance.json()["balances"], raw


def refused(run: Any, actor: str) -> None:
    assert run.code == 2, (run.code, run.out, run.err)
    assert f"actor {actor!r}" in run.err and "nothing was written" in run.err, run.err
    assert run.out == ""


# --- every one-command subcommand, every role --------------------------------------------------


@pytest.mark.parametrize("command", list(WORLD.commands()))
def test_each_command_is_allowed_to_its_role_only(base, tmp_path, command):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    argv = WORLD.commands()[command]
    allowed = allowed_roles(ACTION_OF[command])
    assert len(allowed) == 1, (command, allowed)
    before = snapshot(store)
    for role, actor in ACTORS.items():
        if role in allowed:
            continue
        run = cli("--store", store, "--roles", base["roles"], "--actor", actor, command, *argv, "--at", AT, "--format", "json")
        refused(run, actor)
        assert f"needs the {next(iter(allowed))} role" in run.err, run.err
        assert snapshot(store) == before, f"{command} refused for {role} but the store changed"
    [role] = allowed
    position = before[1]["stored_events"].__len__()
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS[role], command, *argv, "--id", f"X-{command}",
              "--at", AT, "--format", "json")
    assert run.code == 0, (command, run.out, run.err)
    assert run.json()["status"] == "applied", run.out
    new = events(store)[position:]
    assert len(new) == 1
    assert TRANSCODER.decode(new[0][4])["actor"] == ACTORS[role], "the event records who acted"


@pytest.mark.parametrize("command", list(WORLD.commands()))
def test_without_a_roles_file_anyone_may_do_everything(base, tmp_path, command):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    run = cli("--store", store, "--actor", "just-someone", command, *WORLD.commands()[command], "--at", AT, "--format", "json")
    assert run.code == 0, (run.out, run.err)
    assert TRANSCODER.decode(events(store)[-1][4])["actor"] == "just-someone"


def test_without_a_roles_file_or_actor_the_login_name_acts(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    assert cli("--store", store, "transfer", *WORLD.commands()["transfer"], "--at", AT).code == 0
    assert TRANSCODER.decode(events(store)[-1][4])["actor"] == getpass.getuser()


@pytest.mark.parametrize("command", list(WORLD.commands()))
def test_unknown_actor_is_refused(base, tmp_path, command):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    before = snapshot(store)
    run = cli("--store", store, "--roles", base["roles"], "--actor", "mallory", command, *WORLD.commands()[command], "--at", AT)
    refused(run, "mallory")
    assert "has no role" in run.err and str(base["roles"]) in run.err, run.err
    assert snapshot(store) == before


def test_refused_command_does_not_even_create_a_store(base, tmp_path):
    store = tmp_path / "never.sqlite"
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["auditor"], "register-party",
              *WORLD.commands()["register-party"])
    refused(run, ACTORS["auditor"])
    assert not store.exists()
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["operator"], "import",
              WORLD.script.write(tmp_path / "w.jsonl"))
    assert run.code == 2 and not store.exists(), run.err


# --- the audit and key commands -----------------------------------------------------------------


def test_checkpoint_is_for_auditors(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    before = snapshot(store)
    for role in ("operator", "admin"):
        run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS[role], "checkpoint", "--key", base["key"])
        refused(run, ACTORS[role])
        assert snapshot(store) == before
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["auditor"], "checkpoint", "--key", base["key"], "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["number"] == 2


@pytest.mark.parametrize("cipher", [False, True])
def test_keygen_is_for_admins(base, tmp_path, cipher):
    flags = ["--cipher"] if cipher else []
    for role in ("operator", "auditor"):
        out = tmp_path / f"{role}.key"
        run = cli("--roles", base["roles"], "--actor", ACTORS[role], "keygen", *flags, "--out", out)
        refused(run, ACTORS[role])
        assert not out.exists() and not Path(f"{out}.pub").exists()
    out = tmp_path / "admin.key"
    assert cli("--roles", base["roles"], "--actor", ACTORS["admin"], "keygen", *flags, "--out", out).code == 0
    assert out.exists()


def test_rebuild_is_for_admins(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    before = snapshot(store)
    for role in ("operator", "auditor"):
        refused(cli("--store", store, "--roles", base["roles"], "--actor", ACTORS[role], "rebuild"), ACTORS[role])
        assert snapshot(store) == before
    assert cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["admin"], "rebuild").code == 0
    assert snapshot(store) == before


@pytest.mark.parametrize("actor", [*ACTORS.values(), "mallory"])
def test_everyone_may_read_and_audit(base, tmp_path, actor):
    """Reading, verifying and proving need no role (roles.py: "Everyone may read"); an actor the
    roles file does not know may read too."""
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    common = ["--store", store, "--roles", base["roles"], "--actor", actor]
    for argv in (["balance", "--format", "json"], ["history", WORLD.color, "--format", "json"],
                 ["trace", WORLD.color, "--format", "json"], ["flags", "--format", "json"],
                 ["checkpoint", "--list", "--format", "json"], ["verify", "--format", "json"],
                 ["proof", WORLD.script.records[-2]["id"], "--out", tmp_path / "p.json"]):
        run = cli(*common, *argv)
        assert run.code == 0, (argv, run.out, run.err)
    run = cli("--roles", base["roles"], "--actor", actor, "verify-proof", tmp_path / "p.json", "--public-key", f"{base['key']}.pub")
    assert run.code == 0, run.err


# --- import ---------------------------------------------------------------------------------------


def _file(tmp_path: Path, name: str, kinds: list[str]) -> Path:
    """An import file of fresh commands of these kinds (valid on the base store)."""
    s = Script()
    s.records = []
    s.day = 1.0  # after everything in the base store: business time never goes back (SPEC §2.5)
    w = WORLD
    for n, kind in enumerate(kinds):
        if kind == "register_party":
            s.add("register_party", id=f"{name}-{n}", party=party_id(600 + n), name=f"Imported {n}", kind="supplier")
        elif kind == "transfer":
            s.transfer(w.color, w.admin, w.contractor, "3.00", id=f"{name}-{n}", contract="C-1", kind="advance")
        elif kind == "spend":
            s.spend(w.color, w.contractor, "1.00", id=f"{name}-{n}")
        elif kind == "freeze":
            s.add("freeze", id=f"{name}-{n}", color=w.color, reason="look")
        else:
            raise AssertionError(kind)
    return s.write(tmp_path / f"{name}.jsonl")


@pytest.mark.parametrize("kinds, role", [
    (["transfer", "spend", "transfer"], "operator"),
    (["register_party", "register_party"], "admin"),
    (["freeze"], "auditor"),
])
def test_import_is_allowed_to_the_role_of_every_line(base, tmp_path, kinds, role):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    path = _file(tmp_path, f"imp-{role}", kinds)
    before = snapshot(store)
    for other, actor in ACTORS.items():
        if other == role:
            continue
        run = cli("--store", store, "--roles", base["roles"], "--actor", actor, "import", path)
        refused(run, actor)
        assert snapshot(store) == before
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS[role], "import", path)
    assert run.code == 0, run.err
    new = events(store)[len(before[1]["stored_events"]):]
    assert len(new) == len(kinds)
    assert {TRANSCODER.decode(state)["actor"] for *_, state in new} == {ACTORS[role]}


def test_import_needing_two_roles_is_refused_to_each_and_writes_nothing(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    path = _file(tmp_path, "mixed", ["register_party", "transfer"])
    before = snapshot(store)
    for actor in ACTORS.values():
        refused(cli("--store", store, "--roles", base["roles"], "--actor", actor, "import", path), actor)
        assert snapshot(store) == before


def test_roles_and_actor_from_the_environment(base, tmp_path, monkeypatch):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    monkeypatch.setenv("TENGE_LEDGER_ROLES", str(base["roles"]))
    monkeypatch.setenv("TENGE_LEDGER_ACTOR", ACTORS["auditor"])
    before = snapshot(store)
    refused(cli("--store", store, "transfer", *WORLD.commands()["transfer"]), ACTORS["auditor"])
    assert snapshot(store) == before
    monkeypatch.setenv("TENGE_LEDGER_ACTOR", ACTORS["operator"])
    assert cli("--store", store, "transfer", *WORLD.commands()["transfer"], "--at", AT).code == 0
    assert TRANSCODER.decode(events(store)[-1][4])["actor"] == ACTORS["operator"]


# --- malformed roles files ------------------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    ("[actors\naigerim = ", "not valid TOML"),
    ('[actors]\naigerim = "boss"\n', "role must be one of operator, auditor, admin"),
    ('[actors]\naigerim = 5\n', "role must be one of"),
    ('actors = "aigerim"\n', "expected one table [actors]"),
    ('[people]\naigerim = "operator"\n', "expected one table [actors]"),
    ('[actors]\naigerim = "operator"\n[extra]\nx = 1\n', "unknown: ['extra']"),
    (None, "cannot read the roles file"),
])
def test_malformed_roles_file_is_refused_naming_the_file(base, tmp_path, content, message):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    roles = tmp_path / "broken-roles.toml"
    if content is not None:
        roles.write_text(content)
    before = snapshot(store)
    for argv in (["transfer", *WORLD.commands()["transfer"]], ["import", _file(tmp_path, "t", ["transfer"])],
                 ["checkpoint", "--key", base["key"]], ["rebuild"]):
        run = cli("--store", store, "--roles", roles, "--actor", ACTORS["operator"], *argv)
        assert run.code == 2, (argv, run.out, run.err)
        assert str(roles) in run.err and message in run.err, (argv, run.err)
        assert snapshot(store) == before
    run = cli("--roles", roles, "--actor", ACTORS["admin"], "keygen", "--out", tmp_path / "k.key")
    assert run.code == 2 and str(roles) in run.err and not (tmp_path / "k.key").exists()


# --- every event records its actor ------------------------------------------------------------------


def test_every_event_records_its_actor_across_import_and_commands(tmp_path):
    store = tmp_path / "actors.sqlite"
    imported = cli("--store", store, "--actor", "alice", "import", WORLD.script.write(tmp_path / "w.jsonl"))
    assert imported.code == 0, imported.err
    assert cli("--store", store, "--actor", "bob", "transfer", *WORLD.commands()["transfer"], "--id", "BOB-1", "--at", AT).code == 0
    # a blocked attempt is recorded too, with its actor
    blocked = cli("--store", store, "--actor", "carol", "transfer", "--color", WORLD.color, "--from", WORLD.sub,
                  "--to", WORLD.contractor, "--amount", "999999999.00", "--id", "CAROL-1", "--at", AT)
    assert blocked.code == 1, blocked.err
    stored = events(store)
    actors = [TRANSCODER.decode(state)["actor"] for *_, state in stored]
    assert actors == ["alice"] * len(WORLD.script.records) + ["bob", "carol"], actors

    history = cli("--store", store, "history", WORLD.color, "--format", "json")
    assert history.code == 0, history.err
    documents = history.json()["events"]
    assert documents and all("actor" in d for d in documents), documents[0]
    by_transaction = {d["transaction"]: d["actor"] for d in documents}
    assert by_transaction["BOB-1"] == "bob"
    assert {actor for tx, actor in by_transaction.items() if tx not in ("BOB-1", "CAROL-1")} == {"alice"}
    assert by_transaction["CAROL-1"] == "carol"
    assert documents[-1]["event"] == "CommandBlocked"


def test_an_import_file_cannot_name_its_own_actor(tmp_path):
    store = tmp_path / "spoof.sqlite"
    records = [dict(r) for r in WORLD.script.records]
    records[0]["actor"] = "mallory"
    run = cli("--store", store, "--actor", "alice", "import", write_jsonl(tmp_path / "spoof.jsonl", records))
    assert run.code == 2 and "spoof.jsonl:1: actor: unknown field" in run.err, run.err
    assert "nothing was written" in run.err
    assert not store.exists() or not rows(store, "SELECT COUNT(*) FROM stored_events")[0][0]
