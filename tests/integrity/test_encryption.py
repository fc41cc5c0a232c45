"""Encryption at rest (SPEC §7): event payloads sealed with AES-GCM under TENGE_LEDGER_KEY.

The Baseline world is imported with a key; then the raw SQLite rows are searched for every party's
name, BIN/IIN, address and phone, and for the IINs of the individuals it names (officials,
directors, a wage payee). Opening the store without the key or with another one must be refused
clearly (exit 2), never decrypt into garbage or write anything.

The read models too (SPEC §7, last bullet): a simulated world is imported into an encrypted and a
plain SQLite store (and PostgreSQL schema), every read command is run on both (catching every
projection up and saving the rules' state), and the raw bytes are searched for every name, BIN,
IIN, address and phone of the world — none in the encrypted store, all in the plain one (the
control) — while every answer stays the same.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any
from uuid import uuid5

import pytest

import ledger.read as read_module
from domain.errors import StoreError
from domain.identifiers import make_party_id
from ledger.app import NAMESPACE, Ledger
from ledger.store.cipher import Encryption, new_key
from ledger.store.sealing import SealBroken
from projections.sealing import PLAIN, sealed_version
from simulations.runs import SimulatedWorld
from simulations.world import SimulationConfig
from tests.support import postgres_schema
from tests.integrity.integrity_support import (
    clean_environment,
    cli,
    copy_store,
    events,
    rows,
    sql,
    verify,
    write_jsonl,
)
from tests.rules.baseline import Baseline


def personal_data(world: Baseline) -> dict[str, set[str]]:
    """Every identifying string of the world's parties, by kind."""
    found: dict[str, set[str]] = {"name": set(), "id": set(), "address": set(), "phone": set(), "individual": set()}
    for record in world.script.records:
        if record["type"] != "register_party":
            continue
        found["name"].add(record["name"])
        found["id"].add(record["party"])
        if record["kind"] == "individual":
            found["individual"].add(record["party"])
        for key in ("address", "phone"):
            if record.get(key):
                found[key].add(record[key])
        for key in ("owners", "directors", "officials"):
            for person in record.get(key) or []:
                found["id"].add(person)
                found["individual"].add(person)
    for key, value in world.n.items():
        if key[0] in "OD" and key[1:].isdigit():
            found["individual"].add(value)
            found["id"].add(value)
    assert len(found["name"]) == 11 and len(found["individual"]) == 9, found
    return found


def needles(world: Baseline) -> set[str]:
    data = personal_data(world)
    return data["name"] | data["id"] | data["address"] | data["phone"]


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Baseline world imported into an encrypted store and into a plain one."""
    directory = tmp_path_factory.mktemp("encrypted")
    world = Baseline()
    source = world.script.write(directory / "world.jsonl")
    key = new_key()
    with clean_environment() as env:
        plain = directory / "plain.sqlite"
        assert cli("--store", plain, "import", source).code == 0
        env.setenv("TENGE_LEDGER_KEY", key)
        store = directory / "sealed.sqlite"
        imported = cli("--store", store, "import", source)
        assert imported.code == 0, imported.err
    return {"store": store, "plain": plain, "key": key, "world": world, "directory": directory}


def _blobs(path: Path) -> list[bytes]:
    return [state for _, _, _, _, state in events(path)]


def test_payloads_hold_no_names_or_ids_when_a_key_is_set(encrypted):
    world, store = encrypted["world"], encrypted["store"]
    blobs = _blobs(store)
    assert len(blobs) == 45
    for needle in sorted(needles(world)):
        raw = needle.encode()
        holders = [i + 1 for i, blob in enumerate(blobs) if raw in blob]
        assert not holders, f"{needle!r} in plaintext in the payload of position(s) {holders}"


def test_the_same_payloads_do_hold_them_without_a_key(encrypted):
    """The search above would find them: in the plain store every name and id is there to see."""
    plain = b"".join(_blobs(encrypted["plain"]))
    for needle in needles(encrypted["world"]):
        assert needle.encode() in plain, needle


def test_keys_table_holds_no_names_or_ids_when_a_key_is_set(encrypted):
    world, store = encrypted["world"], encrypted["store"]
    keys = rows(store, "SELECT key, digest, stream FROM ledger_keys")
    assert len(keys) > 45
    assert {k for k, _, _ in keys if not k.startswith("h:")} == {"meta:cipher", "meta:time_zone"}, "every name stored as a keyed hash"
    dump = "\n".join(f"{k}\t{bytes(d).hex()}\t{s}" for k, d, s in keys).encode()
    dump += b"".join(bytes(d) for _, d, _ in keys)
    for needle in needles(world):
        assert needle.encode() not in dump, needle
    # and the plain store does name them there: party:<BIN/IIN>
    plain_keys = {k for (k,) in rows(encrypted["plain"], "SELECT key FROM ledger_keys")}
    assert {f"party:{p}" for p in personal_data(world)["id"]} & plain_keys


def test_stream_ids_do_not_reveal_the_iins_of_individuals(encrypted):
    """A stream id that is an unkeyed hash of `party:<IIN>` (uuid5 under the ledger's public
    namespace) lets anyone confirm or brute-force an IIN (12 digits, birth date first) against the
    store: hashing the names in `ledger_keys` is then of no help. With a key set, no stored stream id
    may be computable from an IIN without the key."""
    store, world = encrypted["store"], encrypted["world"]
    streams = {oid for _, oid, _, _, _ in events(store)} | {s.replace("-", "") for _, _, s in rows(store, "SELECT key, digest, stream FROM ledger_keys")}
    linkable = sorted(iin for iin in personal_data(world)["individual"] if uuid5(NAMESPACE, "party:" + iin).hex in streams)
    assert not linkable, f"stream ids computable from these IINs without the key: {linkable}"


def test_without_the_key_the_store_is_refused_clearly(encrypted, tmp_path):
    path = copy_store(encrypted["store"], tmp_path / "nokey.sqlite")
    before = path.read_bytes()
    road = encrypted["world"].n["ROAD"]
    for argv in (["balance", "--format", "json"], ["history", road, "--format", "json"],
                 ["trace", road, "--format", "json"], ["flags", "--format", "json"], ["rebuild"],
                 ["import", encrypted["directory"] / "world.jsonl"]):
        run = cli("--store", path, *argv)
        assert run.code == 2, (argv, run.code, run.err[-500:])
        assert "this store is encrypted: set TENGE_LEDGER_KEY" in run.err, (argv, run.err)
        assert "Traceback" not in run.err
    assert path.read_bytes() == before, "nothing was written"


def test_without_the_key_verify_checks_what_needs_no_key(encrypted, tmp_path):
    """An auditor without the key still checks the chain, the tree and the checkpoints."""
    path = copy_store(encrypted["store"], tmp_path / "sealed.sqlite")
    before = path.read_bytes()
    run = cli("--store", path, "verify", "--format", "json")
    assert run.code == 0, run.err[-500:]
    assert run.json()["sealed"] is True and run.json()["findings"] == []
    assert path.read_bytes() == before, "nothing was written"
    state = rows(path, "SELECT state FROM stored_events WHERE rowid = 5")[0][0]
    with sql(path) as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 5", (bytes([state[0] ^ 1]) + bytes(state[1:]),))
    run = cli("--store", path, "verify", "--format", "json")
    assert run.code == 3
    assert run.json()["findings"][0]["position"] == 5


@pytest.mark.parametrize("key, message", [
    (new_key(), "TENGE_LEDGER_KEY is not the key of this store"),
    (base64.b64encode(os.urandom(16)).decode(), "TENGE_LEDGER_KEY is not the key of this store"),
    ("not base64 at all!", "TENGE_LEDGER_KEY must be base64"),
    (base64.b64encode(b"short").decode(), "TENGE_LEDGER_KEY must hold 16, 24 or 32 bytes, not 5"),
])
def test_with_a_wrong_key_the_store_is_refused_clearly(encrypted, tmp_path, monkeypatch, key, message):
    path = copy_store(encrypted["store"], tmp_path / "wrong.sqlite")
    before = rows(path, "SELECT COUNT(*), MAX(rowid) FROM stored_events") + rows(path, "SELECT COUNT(*) FROM ledger_keys")
    monkeypatch.setenv("TENGE_LEDGER_KEY", key)
    extra = Baseline().script
    extra.transfer(encrypted["world"].n["ROAD"], encrypted["world"].n["A1"], encrypted["world"].n["C1"], "1.00", contract="C-ROAD-1")
    for argv in (["balance", "--format", "json"], ["verify"], ["import", extra.write(tmp_path / "more.jsonl")]):
        run = cli("--store", path, *argv)
        assert run.code == 2, (argv, run.code, run.err[-500:])
        assert message in run.err, (argv, run.err)
        assert "Traceback" not in run.err
    after = rows(path, "SELECT COUNT(*), MAX(rowid) FROM stored_events") + rows(path, "SELECT COUNT(*) FROM ledger_keys")
    assert after == before, "nothing was written"


def test_a_key_cannot_be_added_to_a_plain_store(encrypted, tmp_path, monkeypatch):
    path = copy_store(encrypted["plain"], tmp_path / "plain.sqlite")
    monkeypatch.setenv("TENGE_LEDGER_KEY", encrypted["key"])
    run = cli("--store", path, "balance", "--format", "json")
    assert run.code == 2 and "created without encryption" in run.err, run.err


def test_with_the_right_key_everything_reads_as_from_a_plain_store(encrypted, tmp_path, monkeypatch):
    plain = copy_store(encrypted["plain"], tmp_path / "plain.sqlite")
    sealed = copy_store(encrypted["store"], tmp_path / "sealed.sqlite")
    plain_balances = cli("--store", plain, "balance", "--format", "json")
    plain_history = cli("--store", plain, "history", encrypted["world"].n["ROAD"], "--format", "json")
    monkeypatch.setenv("TENGE_LEDGER_KEY", encrypted["key"])
    sealed_balances = cli("--store", sealed, "balance", "--format", "json")
    sealed_history = cli("--store", sealed, "history", encrypted["world"].n["ROAD"], "--format", "json")
    assert plain_balances.code == sealed_balances.code == 0
    assert sealed_balances.json()["balances"] == plain_balances.json()["balances"]
    assert len(sealed_balances.json()["balances"]) >= 5
    assert sealed_history.json() == plain_history.json()
    assert verify(sealed)[:2] == (0, [])


def test_encrypted_store_is_still_tamper_evident_and_provable(encrypted, tmp_path, monkeypatch):
    """The chain covers the payload as stored (sealed): a flipped ciphertext byte is caught at its
    position, and an inclusion proof checks with the public key alone, without the cipher key."""
    monkeypatch.setenv("TENGE_LEDGER_KEY", encrypted["key"])
    good = copy_store(encrypted["store"], tmp_path / "good.sqlite")
    assert cli("keygen", "--out", tmp_path / "ledger.key").code == 0
    assert cli("--store", good, "checkpoint", "--key", tmp_path / "ledger.key").code == 0
    assert cli("--store", good, "proof", "T-ROAD-ADV", "--out", tmp_path / "proof.json").code == 0
    monkeypatch.delenv("TENGE_LEDGER_KEY")
    proof = json.loads((tmp_path / "proof.json").read_text())
    assert "Akmola Roads Department".encode() not in base64.b64decode(proof["leaf_data"])
    assert cli("verify-proof", tmp_path / "proof.json", "--public-key", tmp_path / "ledger.key.pub").code == 0
    monkeypatch.setenv("TENGE_LEDGER_KEY", encrypted["key"])
    position = proof["position"]
    bad = copy_store(good, tmp_path / "bad.sqlite")
    with sql(bad) as conn:
        (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
        changed = bytearray(state)
        changed[len(changed) // 2] ^= 0x40
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(changed), position))
    code, findings, _ = verify(bad)
    assert code == 3 and findings[0]["position"] == position and findings[0]["check"] == "chain", findings[:3]


def test_keygen_cipher_writes_a_private_key_file_and_never_prints_it(tmp_path, monkeypatch):
    path = tmp_path / "cipher.key"
    run = cli("keygen", "--cipher", "--out", path)
    assert run.code == 0, run.err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    assert key not in run.out and key not in run.err
    assert run.out == ""
    again = cli("keygen", "--cipher", "--out", path)
    assert again.code == 2 and "refusing to overwrite" in again.err
    assert path.read_text().strip() == key, "the key was not replaced"
    # and it works as TENGE_LEDGER_KEY
    monkeypatch.setenv("TENGE_LEDGER_KEY", key)
    world = Baseline()
    store = tmp_path / "store.sqlite"
    assert cli("--store", store, "import", world.script.write(tmp_path / "w.jsonl")).code == 0
    assert "Serik Abenov".encode() not in b"".join(_blobs(store))
    monkeypatch.setenv("TENGE_LEDGER_KEY", new_key())
    assert cli("--store", store, "balance").code == 2


def test_keygen_signing_key_file_is_private_and_never_printed(tmp_path):
    path = tmp_path / "signing.key"
    run = cli("keygen", "--out", path)
    assert run.code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in path.read_text()
    body = "".join(path.read_text().splitlines()[1:-1])
    assert body not in run.out + run.err and run.out == ""
    assert Path(f"{path}.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


# --- the read models: a simulated world, sealed (SPEC §7: events, read models, rule state) ------

WORLD = SimulationConfig(pilots=("ROAD", "AGRO", "LOCAL"), seed=5, transactions=300, misuse_rate=Fraction(1, 3))
MIDYEAR = datetime(2025, 7, 1, tzinfo=timezone(timedelta(hours=5)))
READ_MODEL_TABLES = ("ledger_transactions", "ledger_colors", "ledger_parties", "ledger_party_names",
                     "ledger_balance_changes", "ledger_balances", "ledger_flags", "ledger_rule_state")


def new_iins(count: int, first: int = 85_010_130_000) -> list[str]:
    """Valid IINs no simulated world uses (born 1985-01-01, serials from 30000 up)."""
    made = (make_party_id(str(first + n)[:11]) for n in range(0, 10 * count, 10))
    return [iin for iin in made if iin is not None][:count]


def party_updates(world: SimulatedWorld) -> list[dict[str, Any]]:
    """Renames, new addresses, phones and new people for two of the world's companies, after
    everything else (so the index's update path and names as of a position are exercised)."""
    paid = {r["to"] for r in world.records if r["type"] == "transfer"}
    companies = [r for r in world.records if r["type"] == "register_party" and r.get("directors") and r["party"] in paid][:2]
    at = max(datetime.fromisoformat(r["at"]) for r in world.records).isoformat()
    directors = new_iins(3)
    return [
        {"id": "U-1", "type": "update_party", "at": at, "party": companies[0]["party"], "name": "Zhana Kurylys Renamed LLP",
         "address": "Astana, Mangilik El ave. 55, office 12", "phone": "+7 701 555 12 34", "directors": directors[:2]},
        {"id": "U-2", "type": "update_party", "at": at, "party": companies[1]["party"], "owners": directors[2:],
         "name": "Dala Agro Service Renamed LLP"},
    ]


def world_personal_data(records: list[dict[str, Any]]) -> dict[str, str]:
    """Every name, BIN, IIN (of parties, owners, directors, officials), address and phone of the
    world's parties, each with what it is (for the failure message)."""
    found: dict[str, str] = {}
    for record in records:
        if record["type"] not in ("register_party", "update_party"):
            continue
        party = record["party"]
        found[party] = f"BIN/IIN of {record.get('kind', 'party')} {party}"
        for key in ("name", "address", "phone"):
            if record.get(key):
                found[record[key]] = f"{key} of {party}"
        for key in ("owners", "directors", "officials"):
            for person in record.get(key) or []:
                found[person] = f"IIN of one of the {key} of {party}"
    assert len(found) > 500, "a world with many parties, addresses and people"
    return found


def store_bytes(path: Path) -> bytes:
    """The raw bytes of a SQLite store: the file and its write-ahead log and journal, if any."""
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-journal")
                    if Path(f"{path}{suffix}").exists())


def found_in(data: bytes, needles: dict[str, str]) -> list[str]:
    return sorted(f"{needle!r} ({what})" for needle, what in needles.items() if needle.encode() in data)


def cell_bytes(value: Any) -> bytes:
    """A cell as stored: bytes as they are (a blob), anything else as its text."""
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value).encode()


def sqlite_table_bytes(path: Path, table: str) -> bytes:
    return b"\x00".join(cell_bytes(cell) for row in rows(path, f"SELECT * FROM {table}") for cell in row)


def read_everything(store: Path | str, world: SimulatedWorld) -> dict[str, Any]:
    """Every read command's answer (json), keyed by its arguments: catches every projection up,
    saves the rules' state, and is what sealing must not change."""
    allocated = {record["color"]: datetime.fromisoformat(record["at"]) for record in world.records if record["type"] == "allocate"}
    party = next(record["to"] for record in world.records if record["type"] == "transfer")
    commands = [["balance"], ["balance", "--party", party], ["balance", "--as-of", "@300"], ["flags"],
                ["flags", "--as-of", world.truth["evaluate_as_of"]], ["flags", "--as-of", "@400"]]
    for color, at in sorted(allocated.items()):
        commands += [["trace", color], ["history", color]]
        if at < MIDYEAR:
            commands += [["trace", color, "--as-of", MIDYEAR.isoformat()], ["history", color, "--as-of", MIDYEAR.isoformat()]]
    answers = {}
    for argv in commands:
        run = cli("--store", store, *argv, "--format", "json")
        assert run.code == 0, (argv, run.err[-1000:])
        answers[" ".join(argv)] = run.json()
    return answers


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A simulated three-pilot world (with misuse, so flags are raised and stored) imported into a
    plain and into an encrypted SQLite store, and every read command run on both."""
    directory = tmp_path_factory.mktemp("simulated")
    world = SimulatedWorld(WORLD)
    records = world.records + party_updates(world)
    source = write_jsonl(directory / "world.jsonl", records)
    key = new_key()
    found: dict[str, Any] = {"world": world, "key": key, "source": source, "directory": directory,
                             "needles": world_personal_data(records)}
    with clean_environment() as env:
        for name in ("plain", "sealed"):
            if name == "sealed":
                env.setenv("TENGE_LEDGER_KEY", key)
            store = directory / f"{name}.sqlite"
            imported = cli("--store", store, "import", source)
            assert imported.code in (0, 1) and "0 conflict" in imported.err, imported.err[-1000:]
            found[name], found[f"{name}_answers"] = store, read_everything(store, world)
    assert found["plain_answers"]["flags"], "the world raises stored flags (so ledger_flags holds rows)"
    return found


def test_no_personal_data_of_a_simulated_world_is_in_the_encrypted_store_file(simulated):
    """After import and every read command (every projection caught up, rule state saved), the raw
    bytes of the store — events, keys, read models, rule state, and the write-ahead log — name
    nobody."""
    leaked = found_in(store_bytes(simulated["sealed"]), simulated["needles"])
    assert not leaked, f"{len(leaked)} personal value(s) readable in the encrypted store, e.g. {leaked[:10]}"


def test_the_same_world_in_a_plain_store_file_shows_every_value_the_search_looks_for(simulated):
    """The control: the search is able to find them — in the plain store every one is there."""
    missing = set(simulated["needles"]) - {n for n in simulated["needles"] if n.encode() in store_bytes(simulated["plain"])}
    assert not missing, sorted(missing)[:10]


@pytest.mark.parametrize("table", READ_MODEL_TABLES)
def test_every_read_model_table_that_holds_personal_data_in_plain_holds_none_sealed(simulated, table):
    needles = simulated["needles"]
    assert found_in(sqlite_table_bytes(simulated["plain"], table), needles), f"{table} holds personal data when plain"
    leaked = found_in(sqlite_table_bytes(simulated["sealed"], table), needles)
    assert not leaked, f"{table}: {leaked[:10]}"


def test_sealing_changes_no_answer(simulated):
    """balance, trace, history and flags (now, as of a position, as of a business time) answer the
    same on the encrypted store as on the plain one."""
    plain, sealed = simulated["plain_answers"], simulated["sealed_answers"]
    assert sealed.keys() == plain.keys()
    for argv, answer in plain.items():
        assert sealed[argv] == answer, argv
    names_now = json.dumps([answer for argv, answer in plain.items() if argv.startswith("trace") and "--as-of" not in argv])
    names_before = json.dumps([answer for argv, answer in plain.items() if argv.startswith("trace") and "--as-of" in argv])
    assert "Zhana Kurylys Renamed LLP" in names_now and "Zhana Kurylys Renamed LLP" not in names_before, "renames shown as of"


def test_sealed_values_are_opaque_and_unchanged_values_stay_plain(simulated):
    """Holders, party ids and names are sealed; colors, amounts and rule codes stay plain."""
    store = simulated["sealed"]
    colors = {c for (c,) in rows(store, "SELECT color FROM ledger_balances")}
    assert colors == {c for (c,) in rows(simulated["plain"], "SELECT color FROM ledger_balances")}
    assert sorted(rows(store, "SELECT color, balance_tiyn FROM ledger_balances")) != []
    plain_holders = {h for (h,) in rows(simulated["plain"], "SELECT holder FROM ledger_balances")}
    sealed_holders = {h for (h,) in rows(store, "SELECT holder FROM ledger_balances")}
    assert len(sealed_holders) == len(plain_holders) and not sealed_holders & plain_holders
    assert {r for (r,) in rows(store, "SELECT rule FROM ledger_flags")} == {r for (r,) in rows(simulated["plain"], "SELECT rule FROM ledger_flags")}


def test_rebuild_and_verify_pass_on_the_encrypted_store(simulated, tmp_path, monkeypatch):
    store = copy_store(simulated["sealed"], tmp_path / "rebuilt.sqlite")
    monkeypatch.setenv("TENGE_LEDGER_KEY", simulated["key"])
    assert verify(store)[:2] == (0, [])
    rebuilt = cli("--store", store, "rebuild")
    assert rebuilt.code == 0, rebuilt.err[-1000:]
    assert verify(store)[:2] == (0, [])
    assert read_everything(store, simulated["world"]) == simulated["plain_answers"]
    assert not found_in(store_bytes(store), simulated["needles"])


def test_an_altered_sealed_value_is_found_by_verify_and_refused_by_reads(simulated, tmp_path, monkeypatch):
    """Sealed values authenticate: a read model altered in the file is a `verify` finding (the
    rebuild seals identically, so it is compared as stored), and a read that meets it refuses with
    one clear line rather than answering garbage."""
    store = copy_store(simulated["sealed"], tmp_path / "altered.sqlite")
    monkeypatch.setenv("TENGE_LEDGER_KEY", simulated["key"])
    with sql(store) as conn:
        (party, name) = conn.execute("SELECT party, name FROM ledger_party_names ORDER BY position LIMIT 1").fetchone()
        conn.execute("UPDATE ledger_party_names SET name = ? WHERE party = ?", (name[:-2] + ("A" if name[-2] != "A" else "B") + name[-1], party))
    code, findings, _ = verify(store)
    assert code == 3 and findings[0]["check"] == "projection" and "ledger_party_names" in findings[0]["message"], findings
    color = next(argv.split()[1] for argv in simulated["plain_answers"] if argv.startswith("trace"))
    run = cli("--store", store, "trace", color, "--format", "json")
    assert run.code not in (0, 70), run.code  # the store's damage, not a bug (its code: SPEC §5, StoreError)
    assert "does not open with TENGE_LEDGER_KEY" in run.err and "Traceback" not in run.err, run.err[-1000:]


def test_plain_read_models_left_in_an_encrypted_store_are_rebuilt_sealed(simulated, tmp_path, monkeypatch):
    """A version of the ledger that did not seal read models wrote them in plain text beside the
    encrypted events. Opened now with the key, they are rebuilt sealed (their version is marked),
    and the plain rows are gone from the file, not left in its free pages."""
    store = tmp_path / "upgraded.sqlite"
    monkeypatch.setenv("TENGE_LEDGER_KEY", simulated["key"])
    assert cli("--store", store, "import", simulated["source"]).code in (0, 1)
    with monkeypatch.context() as old_version:
        old_version.setattr(read_module, "sealer_of", lambda ledger: PLAIN)
        assert cli("--store", store, "flags", "--format", "json").code == 0
    assert found_in(store_bytes(store), simulated["needles"]), "the older version left plain read models"
    assert read_everything(store, simulated["world"]) == simulated["plain_answers"]
    leaked = found_in(store_bytes(store), simulated["needles"])
    assert not leaked, leaked[:10]


# --- the sealer itself -------------------------------------------------------------------------

def test_the_keyed_sealer_is_deterministic_for_ids_and_text_and_randomized_for_blobs():
    sealer = Encryption(new_key()).sealer()
    assert sealer.keyed and not PLAIN.keyed
    assert sealer.seal_id("020240000004") == sealer.seal_id("020240000004") != "020240000004"
    assert sealer.seal_text("020240000004") != sealer.seal_id("020240000004"), "ids and text seal apart"
    assert sealer.open_id(sealer.seal_id("020240000004")) == "020240000004"
    assert sealer.open_text(sealer.seal_text("Ақмола, Абай д. 1")) == "Ақмола, Абай д. 1"
    assert sealer.seal_id("a").isascii() and "=" not in sealer.seal_id("a")
    blob = b"\x00rule state\xff" * 10
    assert sealer.seal_blob(blob) != sealer.seal_blob(blob)
    assert sealer.open_blob(sealer.seal_blob(blob)) == blob
    assert Encryption(new_key()).sealer().seal_id("x") != sealer.seal_id("x"), "another key seals otherwise"


@pytest.mark.parametrize("kind", ["id", "text", "blob"])
def test_a_value_sealed_under_another_key_or_altered_does_not_open(kind):
    sealer, other = Encryption(new_key()).sealer(), Encryption(new_key()).sealer()
    seal, open_ = getattr(other, f"seal_{kind}"), getattr(sealer, f"open_{kind}")
    value: Any = b"state" if kind == "blob" else "Serik Abenov"
    with pytest.raises(SealBroken, match="does not open with TENGE_LEDGER_KEY"):
        open_(seal(value))
    mine = getattr(sealer, f"seal_{kind}")(value)
    middle = len(mine) // 2
    for altered in ((mine[:middle] + bytes([mine[middle] ^ 1]) + mine[middle + 1:]) if kind == "blob"
                    else mine[:middle] + ("A" if mine[middle] != "A" else "B") + mine[middle + 1:],
                    mine[:-1] if kind == "blob" else mine + "A"):
        with pytest.raises(SealBroken):
            open_(altered)


def test_without_a_key_nothing_is_sealed():
    for kind, value in (("id", "020240000004"), ("text", "Serik Abenov"), ("blob", b"state")):
        assert getattr(PLAIN, f"seal_{kind}")(value) == value == getattr(PLAIN, f"open_{kind}")(value)
    assert sealed_version(3, PLAIN) == 3 and sealed_version(3, Encryption(new_key()).sealer()) == "3+sealed"


# --- PostgreSQL ---------------------------------------------------------------------------------

def postgres_bytes(url: str) -> dict[str, bytes]:
    """Every table of the URL's schema, every cell as stored (bytea raw, the rest as text)."""
    import psycopg

    dsn, _, schema = url.partition("?schema=")
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
        return {table: b"\x00".join(cell_bytes(cell) for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"')
                                    for cell in row) for table in tables}


@pytest.mark.postgres
def test_postgresql_schema_holds_no_personal_data_with_a_key(simulated, postgres_url, monkeypatch):
    """The same world on PostgreSQL: with a key no table of the schema names anybody; the plain
    schema (the control) does, table by table; and the answers equal those of SQLite."""
    world, needles = simulated["world"], simulated["needles"]
    plain_url = postgres_url.replace("?schema=", "?schema=p")
    with postgres_schema(postgres_url, plain_url.partition("?schema=")[2]):
        assert cli("--store", plain_url, "import", simulated["source"]).code in (0, 1)
        assert read_everything(plain_url, world) == simulated["plain_answers"]
        plain = postgres_bytes(plain_url)
    monkeypatch.setenv("TENGE_LEDGER_KEY", simulated["key"])
    assert cli("--store", postgres_url, "import", simulated["source"]).code in (0, 1)
    assert read_everything(postgres_url, world) == simulated["plain_answers"]
    sealed = postgres_bytes(postgres_url)
    assert set(READ_MODEL_TABLES) <= set(sealed) == set(plain)
    assert not set(needles) - {n for n in needles if n.encode() in b"".join(plain.values())}, "the control finds all"
    for table in READ_MODEL_TABLES:
        assert found_in(plain[table], needles), f"{table} holds personal data when plain"
    leaked = {table: found_in(data, needles)[:5] for table, data in sealed.items() if found_in(data, needles)}
    assert not leaked, leaked
    assert cli("--store", postgres_url, "rebuild").code == 0
    assert verify_url(postgres_url) == 0
    monkeypatch.delenv("TENGE_LEDGER_KEY")
    refused = cli("--store", postgres_url, "balance", "--format", "json")
    assert refused.code == 2 and "this store is encrypted: set TENGE_LEDGER_KEY" in refused.err, refused.err[-500:]


def verify_url(url: str) -> int:
    return cli("--store", url, "verify", "--format", "json").code


def test_an_encrypted_store_opened_without_its_key_has_no_read_side(simulated, tmp_path):
    """`verify` opens an encrypted store without its key (to check what needs none); the read
    models of such a ledger cannot be opened, and say why."""
    store = copy_store(simulated["sealed"], tmp_path / "nokey.sqlite")
    ledger = Ledger(f"sqlite:///{store}", sealed_ok=True)
    try:
        assert ledger.sealed
        with pytest.raises(StoreError, match="this store is encrypted: set TENGE_LEDGER_KEY"):
            ledger.read_side()
    finally:
        ledger.close()
