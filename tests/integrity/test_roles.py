"""Roles (issue 9 item 3, issue 10 item 6): operators move money, auditors freeze and checkpoint,
admins keep the registers, keys and the roles policy; every role may read, an actor the policy does
not name may do nothing. A command outside the actor's role is refused with exit 77 (SPEC §5) and
nothing is written. The policy is recorded in the ledger (`roles set`) and enforced from then on
whatever flags are given; before one is recorded, a `--roles` file is enforced, and without either
the local user may do everything. Every event records its actor. The checks live in the
application, so calling `Ledger` directly is refused the same way.
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
    assert run.code == 77, (run.code, run.out, run.err)
    assert len(run.err.strip().splitlines()) == 1, run.err
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


def test_refused_command_on_a_new_store_records_nothing(base, tmp_path):
    """The application decides (it opens the store to read its policy), so a refused command may
    leave an empty new store behind, but never an event."""
    store = tmp_path / "never.sqlite"
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["auditor"], "register-party",
              *WORLD.commands()["register-party"])
    refused(run, ACTORS["auditor"])
    assert not store.exists() or not events(store)
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["operator"], "import",
              WORLD.script.write(tmp_path / "w.jsonl"))
    refused(run, ACTORS["operator"])
    assert not store.exists() or not events(store)


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


def read_commands(tmp_path: Path) -> list[list[Any]]:
    """Every command that only reads the store."""
    return [["balance", "--format", "json"], ["history", WORLD.color, "--format", "json"],
            ["trace", WORLD.color, "--format", "json"], ["flags", "--format", "json"],
            ["checkpoint", "--list", "--format", "json"], ["verify", "--format", "json"],
            ["proof", WORLD.script.records[-2]["id"], "--out", tmp_path / "p.json"],
            ["consistency", "1", "1", "--out", tmp_path / "c.json"], ["roles", "show", "--format", "json"]]


@pytest.mark.parametrize("actor", ACTORS.values())
def test_every_role_may_read_and_audit(base, tmp_path, actor):
    """Reading, verifying and proving are allowed to every role."""
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    common = ["--store", store, "--roles", base["roles"], "--actor", actor]
    for argv in read_commands(tmp_path):
        run = cli(*common, *argv)
        assert run.code == 0, (argv, run.out, run.err)
    run = cli("--roles", base["roles"], "--actor", actor, "verify-proof", tmp_path / "p.json", "--public-key", f"{base['key']}.pub")
    assert run.code == 0, run.err


def test_an_actor_without_a_role_may_not_even_read(base, tmp_path):
    """Under a policy, an actor it does not name may do nothing; a proof file needs no store, so
    checking one is anybody's business."""
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    assert cli("--store", store, "proof", WORLD.script.records[-2]["id"], "--out", tmp_path / "p.json").code == 0
    for argv in read_commands(tmp_path):
        run = cli("--store", store, "--roles", base["roles"], "--actor", "mallory", *argv)
        refused(run, "mallory")
        assert "reading refused" in run.err, run.err
    run = cli("--roles", base["roles"], "--actor", "mallory", "verify-proof", tmp_path / "p.json", "--public-key", f"{base['key']}.pub")
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


# --- the roles policy recorded in the ledger (issue 10 item 6) ------------------------------------

OTHER_TOML = '[actors]\nroot-admin = "admin"\naigerim = "auditor"\n'
NO_ADMIN_TOML = '[actors]\naigerim = "operator"\ndaniyar = "auditor"\n'


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store (SQLite, or PostgreSQL when TENGE_LEDGER_TEST_POSTGRES is set) holding the world,
    imported with no policy in force."""
    url = f"sqlite:///{tmp_path / 'world.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    imported = cli("--store", url, "--actor", "loader", "import", WORLD.script.write(tmp_path / "world.jsonl"))
    assert imported.code == 0, imported.err
    return url


def stored(url: str) -> tuple[int, list[Any]]:
    """The store's position and its roles-policy events, read through the application as nobody."""
    from domain.roles import ROLES_STREAM
    from ledger.app import Ledger

    ledger = Ledger(url)
    try:
        return ledger.position(), list(ledger.events.get(ROLES_STREAM))
    finally:
        ledger.close()


def test_the_stored_policy_governs_without_roles_flag(world_store, tmp_path):
    url = world_store
    policy = tmp_path / "roles.toml"
    policy.write_text(ROLES_TOML)
    recorded = cli("--store", url, "--actor", ACTORS["admin"], "roles", "set", policy)
    assert recorded.code == 0, recorded.err
    position, [event] = stored(url)
    assert type(event).__name__ == "RolesPolicySet" and event.TOPIC == "tenge:RolesPolicySet"
    assert event.actor == ACTORS["admin"] and event.actors == {a: r for r, a in ACTORS.items()}

    generous = tmp_path / "generous.toml"
    generous.write_text('[actors]\nmallory = "admin"\naigerim = "admin"\n')
    refusals = [
        (ACTORS["operator"], ["freeze", *WORLD.commands()["freeze"]]),
        (ACTORS["auditor"], ["transfer", *WORLD.commands()["transfer"]]),
        (ACTORS["auditor"], ["import", _file(tmp_path, "imp", ["transfer"])]),
        ("mallory", ["balance", "--format", "json"]),
        ("mallory", ["verify"]),
        (ACTORS["operator"], ["rebuild"]),
        (getpass.getuser(), ["register-party", *WORLD.commands()["register-party"]]),
    ]
    for actor, argv in refusals:
        for roles_flag in ([], ["--roles", generous]):  # a --roles file cannot loosen a recorded policy
            run = cli("--store", url, *roles_flag, "--actor", actor, *argv, *(["--at", AT] if argv[0] in WORLD.commands() else []))
            refused(run, actor)
            assert "the ledger's roles policy" in run.err or "needs the" in run.err, run.err
            assert stored(url)[0] == position, (actor, argv)
    without_actor = cli("--store", url, "register-party", *WORLD.commands()["register-party"])
    if getpass.getuser() not in ACTORS.values():
        refused(without_actor, getpass.getuser())
    allowed = cli("--store", url, "--actor", ACTORS["operator"], "transfer", *WORLD.commands()["transfer"], "--at", AT)
    assert allowed.code == 0, allowed.err
    assert stored(url)[0] == position + 1
    checked = cli("--store", url, "--actor", ACTORS["auditor"], "verify", "--format", "json")
    assert checked.code == 0 and checked.json()["ok"], checked.out


def test_changing_the_policy_is_an_event_with_its_actor_and_only_admins_may(world_store, tmp_path):
    url = world_store
    first, other, locked = tmp_path / "roles.toml", tmp_path / "other.toml", tmp_path / "no-admin.toml"
    first.write_text(ROLES_TOML)
    other.write_text(OTHER_TOML)
    locked.write_text(NO_ADMIN_TOML)
    assert cli("--store", url, "--actor", "first-user", "roles", "set", first).code == 0
    position, _ = stored(url)
    for actor in (ACTORS["operator"], ACTORS["auditor"], "mallory"):
        run = cli("--store", url, "--actor", actor, "roles", "set", other)
        refused(run, actor)
        assert ("changing the roles policy needs the admin role" if actor != "mallory" else "has no role") in run.err, run.err
        assert stored(url)[0] == position
    lockout = cli("--store", url, "--actor", ACTORS["admin"], "roles", "set", locked)
    assert lockout.code == 2 and "lock every admin out" in lockout.err and "nothing was written" in lockout.err, lockout.err
    assert stored(url)[0] == position
    again = cli("--store", url, "--actor", ACTORS["admin"], "roles", "set", first)
    assert again.code == 0 and "already" in again.err and stored(url)[0] == position, again.err

    changed = cli("--store", url, "--actor", ACTORS["admin"], "roles", "set", other)
    assert changed.code == 0, changed.err
    position_after, events_ = stored(url)
    assert position_after == position + 1
    assert [(ev.originator_version, ev.actor) for ev in events_] == [(1, "first-user"), (2, ACTORS["admin"])]
    assert events_[-1].actors == {"root-admin": "admin", "aigerim": "auditor"}
    shown = cli("--store", url, "--actor", "aigerim", "roles", "show", "--format", "json")
    assert shown.code == 0, shown.err
    assert shown.json() | {"set_at": None} == {"recorded": True, "actors": {"aigerim": "auditor", "root-admin": "admin"},
                                               "set_by": ACTORS["admin"], "set_at": None, "version": 2}
    # the new policy governs at once: aigerim is an auditor now, daniyar nobody
    refused(cli("--store", url, "--actor", "aigerim", "transfer", *WORLD.commands()["transfer"], "--at", AT), "aigerim")
    refused(cli("--store", url, "--actor", ACTORS["auditor"], "balance"), ACTORS["auditor"])
    assert cli("--store", url, "--actor", "aigerim", "freeze", *WORLD.commands()["freeze"], "--at", AT).code == 0


def test_bootstrap_roles_file_is_the_policy_to_record(base, tmp_path):
    """Before a policy is recorded, --roles is enforced (recording needs its admin) and is what
    `roles set` records when no FILE is given; a store with neither lets anyone record one."""
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    shown = cli("--store", store, "roles", "show", "--format", "json")
    assert shown.code == 0 and shown.json()["recorded"] is False, shown.out
    before = snapshot(store)
    refused(cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["operator"], "roles", "set"), ACTORS["operator"])
    assert snapshot(store) == before
    missing = cli("--store", store, "--actor", ACTORS["admin"], "roles", "set")
    assert missing.code == 2 and "give the roles file" in missing.err, missing.err
    run = cli("--store", store, "--roles", base["roles"], "--actor", ACTORS["admin"], "roles", "set")
    assert run.code == 0, run.err
    assert stored(f"sqlite:///{store}")[1][0].actors == {a: r for r, a in ACTORS.items()}
    table = cli("--store", store, "--actor", ACTORS["auditor"], "roles", "show", "--format", "table")
    assert table.code == 0 and ACTORS["operator"] in table.out and "operator" in table.out, table.out


def test_a_first_policy_without_an_admin_is_refused(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    locked = tmp_path / "no-admin.toml"
    locked.write_text(NO_ADMIN_TOML)
    before = snapshot(store)
    run = cli("--store", store, "--actor", "anyone", "roles", "set", locked)
    assert run.code == 2 and "names no admin" in run.err, run.err
    assert snapshot(store) == before


# --- actor names --------------------------------------------------------------------------------

BAD_ACTORS = ["", "a\x00b", "evil\u202eadmin", "tab\there", "two words", "x" * 65, "quote'd", "new\nline", "zw\u200bsp"]


@pytest.mark.parametrize("actor", BAD_ACTORS)
def test_malformed_actor_names_are_refused(base, tmp_path, actor):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    before = snapshot(store)
    for argv in (["transfer", *WORLD.commands()["transfer"], "--at", AT], ["balance"], ["import", _file(tmp_path, "a", ["transfer"])]):
        run = cli("--store", store, "--actor", actor, *argv)
        assert run.code == 2, (argv, run.code, run.err)
        assert run.err.startswith("error: actor: ") and len(run.err.strip().splitlines()) == 1, run.err
        assert snapshot(store) == before
    fresh = tmp_path / "fresh.sqlite"
    assert cli("--store", fresh, "--actor", actor, "transfer", *WORLD.commands()["transfer"]).code == 2
    assert not fresh.exists()


@pytest.mark.parametrize(("actor", "described"), [
    ("a\x01b", "with a control character (U+0001)"),
    ("a\x85b", "with a control character (U+0085)"),
    ("evil\u202eadmin", "with RIGHT-TO-LEFT OVERRIDE (U+202E)"),
    ("zw\u200bsp", "with ZERO WIDTH SPACE (U+200B)"),
])
def test_a_malformed_actor_name_says_which_character_in_words(actor, described):
    from domain.errors import InvalidValue
    from domain.roles import parse_actor

    with pytest.raises(InvalidValue) as refused:
        parse_actor(actor)
    assert str(refused.value).endswith(f"got {actor!r} {described}"), str(refused.value)


@pytest.mark.parametrize("actor", ["Айгерім", "a.b-c_d+e@treasury.kz", "x" * 64, "007"])
def test_well_formed_actor_names_act(base, tmp_path, actor):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    assert cli("--store", store, "--actor", actor, "transfer", *WORLD.commands()["transfer"], "--at", AT).code == 0
    assert TRANSCODER.decode(events(store)[-1][4])["actor"] == actor


def test_a_roles_file_naming_a_malformed_actor_is_refused(base, tmp_path):
    store = copy_store(base["store"], tmp_path / "store.sqlite")
    bad = tmp_path / "bad.toml"
    bad.write_text('[actors]\n"root\\u202eadmin" = "admin"\nroot = "admin"\n')
    before = snapshot(store)
    run = cli("--store", store, "--actor", "root", "roles", "set", bad)
    assert run.code == 2 and str(bad) in run.err and "RIGHT-TO-LEFT OVERRIDE" in run.err, run.err
    assert snapshot(store) == before


# --- the application refuses, whatever the face ------------------------------------------------


def _ledger(store: Path, actor: str = "") -> Any:
    from ledger.app import Ledger

    return Ledger(f"sqlite:///{store}", actor=actor)


def test_the_application_refuses_when_called_directly(base, tmp_path):
    from datetime import datetime, timezone

    from domain.errors import InvalidValue
    from ledger.roles import InvalidRoles, NotAllowed

    store = copy_store(base["store"], tmp_path / "store.sqlite")
    s = Script()
    s.records = []
    s.day = 1.0  # after everything in the base store: business time never goes back (SPEC §2.5)
    s.add("freeze", id="DIRECT-1", color=WORLD.color, reason="look")
    s.transfer(WORLD.color, WORLD.admin, WORLD.contractor, "3.00", id="DIRECT-2", contract="C-1", kind="advance")
    freeze, transfer = s.commands()
    now = datetime(2025, 3, 5, 10, tzinfo=timezone.utc)

    admin = _ledger(store, ACTORS["admin"])
    try:
        with pytest.raises(InvalidRoles, match="lock every admin out"):
            admin.set_roles({"aigerim": "operator"}, "ROLES-0", now)
        assert admin.set_roles({a: r for r, a in ACTORS.items()}, "ROLES-1", now) is True
        assert admin.set_roles({a: r for r, a in ACTORS.items()}, "ROLES-2", now) is False
        position = admin.position()
    finally:
        admin.close()
    for actor, commands in ((ACTORS["operator"], [transfer, freeze]), (ACTORS["auditor"], [transfer]), ("", [freeze])):
        ledger = _ledger(store, actor)
        try:
            with pytest.raises(NotAllowed, match="nothing was written"):
                ledger.execute(commands)
            with pytest.raises(NotAllowed):
                ledger.execute_batch(commands)
            with pytest.raises(NotAllowed):
                ledger.set_roles({"x": "admin"}, "ROLES-3", now)
            assert ledger.position() == position
        finally:
            ledger.close()
    nobody = _ledger(store, "mallory")
    try:
        read = nobody.read_side()
        for question in (lambda: read.balances(None), lambda: read.catch_up(), lambda: read.trace(WORLD.color, position, None),
                         lambda: read.flags(position, position, None), lambda: read.party_names(), lambda: nobody.colors(),
                         lambda: read.rebuild()):
            with pytest.raises(NotAllowed, match="'mallory' has no role"):
                question()
    finally:
        nobody.close()
    operator = _ledger(store, ACTORS["operator"])
    try:
        assert [(o.status, o.reason) for o in operator.execute([transfer])] == [("applied", None)]
        assert WORLD.color in operator.colors()
    finally:
        operator.close()
    with pytest.raises(InvalidValue, match="actor"):
        _ledger(store, "bad\x00name")


def test_a_batch_authorized_under_an_older_policy_is_not_saved(base, tmp_path):
    """The policy version a batch was checked at is part of what its save relies on: a policy
    recorded in between makes the save fail, so the batch is checked again."""
    from datetime import datetime, timezone

    from eventsourcing.persistence import IntegrityError

    from ledger.app import _BatchRun

    store = copy_store(base["store"], tmp_path / "store.sqlite")
    s = Script()
    s.records = []
    s.day = 1.0
    s.transfer(WORLD.color, WORLD.admin, WORLD.contractor, "3.00", id="RACE-1", contract="C-1", kind="advance")
    ledger = _ledger(store, ACTORS["admin"])
    try:
        ledger.set_roles({a: r for r, a in ACTORS.items()}, "ROLES-1", datetime(2025, 3, 5, tzinfo=timezone.utc))
        position = ledger.position()
        with pytest.raises(IntegrityError):
            _BatchRun(ledger, s.commands(), 0).run()
        assert ledger.position() == position
    finally:
        ledger.close()


def test_an_encrypted_store_keeps_and_enforces_its_policy(tmp_path, monkeypatch):
    from ledger.store.cipher import new_key

    monkeypatch.setenv("TENGE_LEDGER_KEY", new_key())
    store = tmp_path / "sealed.sqlite"
    assert cli("--store", store, "import", WORLD.script.write(tmp_path / "w.jsonl")).code == 0
    policy = tmp_path / "roles.toml"
    policy.write_text(ROLES_TOML)
    assert cli("--store", store, "--actor", ACTORS["admin"], "roles", "set", policy).code == 0
    assert b"aigerim" not in store.read_bytes(), "the policy is encrypted like every event"
    refused(cli("--store", store, "--actor", ACTORS["operator"], "freeze", *WORLD.commands()["freeze"]), ACTORS["operator"])
    refused(cli("--store", store, "--actor", "mallory", "balance"), "mallory")
    assert cli("--store", store, "--actor", ACTORS["auditor"], "freeze", *WORLD.commands()["freeze"], "--at", AT).code == 0
