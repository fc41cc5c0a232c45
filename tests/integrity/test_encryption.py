"""Encryption at rest (SPEC §7): event payloads sealed with AES-GCM under TENGE_LEDGER_KEY.

The Baseline world is imported with a key; then the raw SQLite rows are searched for every party's
name, BIN/IIN, address and phone, and for the IINs of the individuals it names (officials,
directors, a wage payee). Opening the store without the key or with another one must be refused
clearly (exit 2), never decrypt into garbage or write anything.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any
from uuid import uuid5

import pytest

from ledger.app import NAMESPACE
from ledger.store.cipher import new_key
from tests.integrity.integrity_support import clean_environment, cli, copy_store, events, position_of, rows, sql, verify
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


def test_limit_projection_tables_keep_names_and_ids_in_plain_text(encrypted, tmp_path, monkeypatch):
    """LIMIT (reported): the read side lives in the same SQLite file and is not encrypted. Once any
    read command has caught the projections up, `ledger_parties` holds every party's name, address,
    phone and the IINs of owners/directors/officials, and `ledger_balances`, `ledger_balance_changes`,
    `ledger_colors` and `ledger_flags` hold BINs/IINs of holders — so the file as a whole is not free
    of personal data even with a key set."""
    path = copy_store(encrypted["store"], tmp_path / "read.sqlite")
    monkeypatch.setenv("TENGE_LEDGER_KEY", encrypted["key"])
    assert cli("--store", path, "balance", "--format", "json").code == 0
    world = encrypted["world"]
    parties = rows(path, "SELECT party, name, address, phone, owners, directors, officials FROM ledger_parties")
    text = json.dumps(parties)
    data = personal_data(world)
    assert all(name in text for name in data["name"])
    assert all(iin in text for iin in data["individual"])
    holders = {h for (h,) in rows(path, "SELECT holder FROM ledger_balances")}
    assert world.n["C1"] in holders


def test_without_the_key_the_store_is_refused_clearly(encrypted, tmp_path):
    path = copy_store(encrypted["store"], tmp_path / "nokey.sqlite")
    before = path.read_bytes()
    for argv in (["balance", "--format", "json"], ["history", encrypted["world"].n["ROAD"], "--format", "json"],
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
    position = position_of(good, "T-ROAD-ADV")
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
