"""Tamper matrix (SPEC §7, issue "integrity"): `verify` exits 3 and names the first bad position.

One SQLite store is built through the CLI from generated files — the three-pilot Baseline world
(checkpoint #1), a workload file (checkpoint #2) and an unsigned tail of further transactions — with
its projections caught up. Each test copies the file and changes it with `sqlite3` directly, as
someone with write access to the file (but not to the ledger's code) would.

What `verify` can and cannot know, and what these tests claim:
- altered, removed, reordered or inserted event rows break the hash chain: caught, at their position,
  anywhere in the log (signed or not);
- an attacker who also recomputes the chain is caught by the stored Merkle nodes; one who recomputes
  those too is caught only by the signed checkpoints — and only for events a checkpoint covers;
- an event appended after the last one with a correctly computed chain row, or a rewrite of the
  unsigned tail with the chain recomputed, is indistinguishable from the ledger's own writes: no
  check can catch it (tests named `test_limit_*` pin these honest limits);
- a rewrite re-signed under a key the attacker controls passes `verify` (which trusts the public key
  stored in the same file) but not an auditor holding the ledger's public key or an earlier checkpoint;
- the keys table is rebuilt from the events: a deleted, added or altered key and a transaction id that
  occurs twice are caught; so is a rewrite or truncation that leaves the keys as they were (the
  `test_limit_*` attackers therefore fix the keys too);
- the matrix at the end runs every change of issue 10 point 4 three ways — plain `verify`, with the
  auditor's public key, and with the checkpoint files the auditor kept (`checkpoint --out`) — on
  SQLite and PostgreSQL, and prints the table with `pytest -s -k tamper_matrix`.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import serialization
from eventsourcing.persistence import Mapper, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.integrity.keys import ExpectedKeys, digests_of
from ledger.integrity.checkpoints import b64, key_id, load_private_key, sign_checkpoint, write_key_pair
from ledger.store.chain import chain_rows
from ledger.integrity.merkle import MemoryLevels, root
from ledger.store.transcoder import MsgpackTranscoder
from bench.workload import records as workload_records
from tests.integrity.integrity_support import (
    AuditedStore,
    build_audited_store,
    clean_environment,
    cli,
    copy_store,
    events,
    position_of,
    rows,
    sql,
    verify,
    write_jsonl,
)

TRANSCODER = MsgpackTranscoder()
MAPPER = Mapper(TRANSCODER)
PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditedStore:
    with clean_environment():
        store = build_audited_store(tmp_path_factory.mktemp("audited"))
    assert [c["tree_size"] for c in store.checkpoints] == [45, 112]
    assert store.last_position == 142
    return store


@pytest.fixture
def copy(audited: AuditedStore, tmp_path: Path) -> Callable[[str], Path]:
    def make(name: str) -> Path:
        return copy_store(audited.path, tmp_path / f"{name}.sqlite")
    return make


# --- tampering, as raw SQL ------------------------------------------------------------------


def _state(conn: Any, position: int) -> bytes:
    return bytes(conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()[0])


def flip_payload_byte(conn: Any, position: int, offset: int | None = None, mask: int = 0x01) -> None:
    state = bytearray(_state(conn, position))
    index = len(state) // 2 if offset is None else offset
    state[index] ^= mask
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state), position))


def change_amount(conn: Any, position: int, delta_tiyn: int = 100) -> None:
    """Decode the msgpack payload with the project's transcoder, change `amount_tiyn`, re-encode."""
    payload = dict(TRANSCODER.decode(_state(conn, position)))
    payload["amount_tiyn"] += delta_tiyn
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (TRANSCODER.encode(payload), position))


def delete_event(conn: Any, position: int) -> None:
    conn.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))


def swap_events(conn: Any, first: int, second: int) -> None:
    """Exchange two rows' contents (stream, version, topic, payload); positions stay."""
    select = "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?"
    a, b = conn.execute(select, (first,)).fetchone(), conn.execute(select, (second,)).fetchone()
    conn.execute("DELETE FROM stored_events WHERE rowid IN (?, ?)", (first, second))
    insert = "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)"
    conn.execute(insert, (first, *b))
    conn.execute(insert, (second, *a))


def copy_event_to_new_row(conn: Any, position: int) -> int:
    """A copy of an event as the next version of its stream, at a new position (no chain row)."""
    oid, _, topic, state = conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
    version = conn.execute("SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?", (oid,)).fetchone()[0]
    new = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] + 1
    conn.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                 (new, oid, version + 1, topic, state))
    return int(new)


def forged_transfer(conn: Any, model_position: int, command_id: str, amount_tiyn: int) -> StoredEvent:
    """A well-formed FundsTransferred for the model's stream and payer: domain replay accepts it."""
    oid, _, topic, state = conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?", (model_position,)).fetchone()
    version = conn.execute("SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?", (oid,)).fetchone()[0]
    payload = dict(TRANSCODER.decode(bytes(state)))
    assert topic == "tenge:FundsTransferred" and len(payload["consumed"]) == 1, payload
    lot = payload["consumed"][0][0]
    payload.update(command_id=command_id, amount_tiyn=amount_tiyn, consumed=((lot, amount_tiyn),), invoice=None)
    return StoredEvent(UUID(oid), int(version) + 1, topic, TRANSCODER.encode(payload))


def append_with_forged_chain_row(conn: Any, event: StoredEvent) -> int:
    """Insert the event after the last one and a chain row recomputed with `ledger.integrity.chain_rows`."""
    position = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] + 1
    conn.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                 (position, event.originator_id.hex, event.originator_version, event.topic, event.state))
    last = conn.execute("SELECT leaf_index, chain_hash FROM ledger_chain ORDER BY position DESC LIMIT 1").fetchone()
    conn.executemany("INSERT INTO ledger_chain VALUES (?, ?, ?, ?)", chain_rows((last[0], bytes(last[1])), [position], [event]))
    return int(position)


def spend_less(conn: Any, position: int, delta_tiyn: int) -> None:
    """Rewrite a FundsSpent to a smaller amount, consistently (its lots too): replay still passes."""
    payload = dict(TRANSCODER.decode(_state(conn, position)))
    *rest, (lot, taken) = payload["consumed"]
    assert taken > delta_tiyn
    payload.update(amount_tiyn=payload["amount_tiyn"] - delta_tiyn, consumed=(*rest, (lot, taken - delta_tiyn)))
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (TRANSCODER.encode(payload), position))


def _event_at(conn: Any, position: int) -> Any:
    """The domain event stored at `position`, decoded as the ledger would."""
    oid, version, topic, state = conn.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
    return MAPPER.to_domain_event(StoredEvent(UUID(oid), int(version), topic, bytes(state)))


def recompute_key_digest(conn: Any, position: int) -> None:
    """Give the event's `command:` key the digest of the command the (rewritten) event now records."""
    event = _event_at(conn, position)
    [digest] = digests_of(event)
    assert conn.execute("UPDATE ledger_keys SET digest = ? WHERE key = ?", (digest, "command:" + event.command_id)).rowcount == 1


def insert_command_key(conn: Any, position: int) -> None:
    """The `command:` key a forged event would have had, had the ledger written it."""
    event = _event_at(conn, position)
    digest = sorted(digests_of(event) or {bytes(32)})[0]  # a transfer's digest cannot be recomputed: any passes
    conn.execute("INSERT INTO ledger_keys VALUES (?, ?, ?)", ("command:" + event.command_id, digest, str(event.originator_id)))


def delete_keys_from(conn: Any, position: int) -> None:
    """Delete the `command:` keys of the events from `position` on (before the events themselves go)."""
    for (number,) in conn.execute("SELECT rowid FROM stored_events WHERE rowid >= ?", (position,)).fetchall():
        conn.execute("DELETE FROM ledger_keys WHERE key = ?", ("command:" + _event_at(conn, number).command_id,))


def recompute_chain(conn: Any) -> None:
    """Throw the chain away and compute it again over the rows as they now are."""
    stored = [(int(r[0]), StoredEvent(UUID(r[1]), int(r[2]), r[3], bytes(r[4]))) for r in conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid")]
    conn.execute("DELETE FROM ledger_chain")
    conn.executemany("INSERT INTO ledger_chain VALUES (?, ?, ?, ?)",
                     chain_rows(None, [p for p, _ in stored], [event for _, event in stored]))


def recompute_merkle_nodes(conn: Any) -> None:
    """Replace the stored perfect-subtree hashes by those of the (rewritten) chain's leaves."""
    size = conn.execute("SELECT COUNT(*) FROM ledger_merkle_nodes WHERE level = 0").fetchone()[0]
    leaves = [bytes(r[0]) for r in conn.execute("SELECT leaf_hash FROM ledger_chain ORDER BY position LIMIT ?", (size,))]
    tree = MemoryLevels(leaves)
    conn.execute("DELETE FROM ledger_merkle_nodes")
    conn.executemany("INSERT INTO ledger_merkle_nodes VALUES (?, ?, ?)",
                     [(level, index, value) for level, hashes in enumerate(tree.levels) for index, value in enumerate(hashes)])


def resign_checkpoints(conn: Any, key_path: Path) -> None:
    """Sign every stored checkpoint again over the rewritten log with the key at `key_path`."""
    key = load_private_key(key_path)
    leaves = [bytes(r[0]) for r in conn.execute("SELECT leaf_hash FROM ledger_chain ORDER BY position")]
    tree = MemoryLevels(leaves)
    old = conn.execute("SELECT number, tree_size FROM ledger_checkpoints ORDER BY number").fetchall()
    conn.execute("DELETE FROM ledger_checkpoints")
    conn.execute("DELETE FROM ledger_signing_keys")
    for number, size in old:
        signed = sign_checkpoint(key, int(number), int(size), root(tree.perfect, int(size)), datetime.now(timezone.utc).replace(microsecond=0))
        conn.execute("INSERT INTO ledger_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)", (
            signed.number, signed.origin, signed.tree_size, signed.root_hash, signed.time, signed.key_id, signed.signature))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    conn.execute("INSERT INTO ledger_signing_keys VALUES (?, ?)", (key_id(key.public_key()), b64(raw)))


# --- assertions -----------------------------------------------------------------------------


def assert_caught_at(path: Path, position: int, check: str = "chain", *, message: str = "") -> list[dict[str, Any]]:
    code, findings, run = verify(path)
    assert code == 3, f"verify missed a tamper at position {position}: {run.out}"
    assert findings, run.out
    assert [f["position"] for f in findings] == sorted(f["position"] for f in findings), "findings are sorted by position"
    first = findings[0]
    assert first["position"] == position, f"first finding names position {first['position']}, not {position}: {findings[:4]}"
    assert any(f["position"] == position and f["check"] == check and message in f["message"] for f in findings), findings[:6]
    return findings


def checkpoint_findings(findings: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(f["position"], f["message"]) for f in findings if f["check"] == "checkpoint"]


def event_position(audited: AuditedStore, region: str, topic: str) -> int:
    """A position of an event of this topic in the region: signed by #1, by #2 only, or unsigned."""
    low, high = {"signed": (1, 45), "signed-later": (46, 112), "unsigned": (113, 142)}[region]
    candidates = [p for p, _, _, t, _ in events(audited.path) if low <= p <= high and t == f"tenge:{topic}"]
    assert candidates, (region, topic)
    return candidates[len(candidates) // 2]


def expected_checkpoints(audited: AuditedStore, first_bad: int) -> list[int]:
    """The last positions of the checkpoints a change at `first_bad` falsifies (position = leaf + 1 here)."""
    return [c["tree_size"] for c in audited.checkpoints if c["tree_size"] >= first_bad]


def failed_checkpoints(findings: list[dict[str, Any]]) -> list[int]:
    """The numbers of the checkpoints the findings say no longer hold."""
    return [int(re.search(r"checkpoint #(\d+)", f["message"]).group(1)) for f in findings if f["check"] == "checkpoint"]


def falsified(audited: AuditedStore, first_bad: int) -> list[int]:
    """The numbers of the checkpoints covering `first_bad`."""
    return [c["number"] for c in audited.checkpoints if c["tree_size"] >= first_bad]


# --- the untouched store ----------------------------------------------------------------------


def test_untouched_store_verifies(audited, copy):
    path = copy("untouched")
    code, findings, _ = verify(path)
    assert (code, findings) == (0, [])
    table = cli("--store", path, "verify", "--format", "table")
    assert table.code == 0 and table.out.startswith("ok: 142 events"), (table.out, table.err)


def test_verify_writes_nothing(audited, copy):
    path = copy("read-only")
    before = path.read_bytes()
    assert verify(path)[0] == 0
    assert verify(path)[0] == 0
    tables = [r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    original = {t: rows(audited.path, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    assert {t: rows(path, f"SELECT * FROM {t} ORDER BY 1") for t in tables} == original
    assert len(path.read_bytes()) == len(before)


# --- the matrix -------------------------------------------------------------------------------


REGIONS = ["signed", "signed-later", "unsigned"]


@pytest.mark.parametrize("region", REGIONS)
def test_changed_payload_byte_is_caught_at_its_position(audited, copy, region):
    position = event_position(audited, region, "FundsTransferred")
    path = copy("byte")
    with sql(path) as conn:
        flip_payload_byte(conn, position)
    findings = assert_caught_at(path, position, message="altered")
    assert failed_checkpoints(findings) == falsified(audited, position)


@pytest.mark.parametrize("region", REGIONS)
def test_changed_amount_is_caught_at_its_position(audited, copy, region):
    position = event_position(audited, region, "FundsTransferred")
    path = copy("amount")
    with sql(path) as conn:
        change_amount(conn, position, +100)
    assert dict(TRANSCODER.decode(events(path)[position - 1][4]))["amount_tiyn"] == \
        dict(TRANSCODER.decode(events(audited.path)[position - 1][4]))["amount_tiyn"] + 100
    findings = assert_caught_at(path, position, message="altered")
    assert failed_checkpoints(findings) == falsified(audited, position)


def test_changed_amount_of_a_named_transaction(audited, copy):
    """The Baseline road advance, 295 760 261.33 KZT, made 1 tiyn smaller."""
    position = position_of(audited.path, "T-ROAD-ADV")
    path = copy("named-amount")
    with sql(path) as conn:
        change_amount(conn, position, -1)
    assert_caught_at(path, position, message="altered")
    stderr = cli("--store", path, "verify", "--format", "table")
    assert stderr.code == 3
    match = re.search(r"verify FAILED: position (\d+) \(transaction T-ROAD-ADV, color ROAD-[0-9-]+\): chain:", stderr.err)
    assert match and int(match.group(1)) == position, stderr.err


@pytest.mark.parametrize("region", REGIONS)
def test_deleted_event_is_caught_at_its_position(audited, copy, region):
    position = event_position(audited, region, "FundsSpent")
    path = copy("delete")
    with sql(path) as conn:
        delete_event(conn, position)
    findings = assert_caught_at(path, position, message="missing")
    assert failed_checkpoints(findings) == falsified(audited, position)


def test_deleted_last_event_is_caught(audited, copy):
    path = copy("delete-last")
    with sql(path) as conn:
        delete_event(conn, audited.last_position)
    assert_caught_at(path, audited.last_position, message="missing")


@pytest.mark.parametrize("first_region, second_region", [("signed", "signed-later"), ("signed-later", "unsigned"), ("unsigned", "unsigned")])
def test_swapped_events_are_caught_at_the_earlier_position(audited, copy, first_region, second_region):
    first, second = sorted((event_position(audited, first_region, "FundsTransferred"),
                            event_position(audited, second_region, "FundsSpent")))
    path = copy("swap")
    with sql(path) as conn:
        swap_events(conn, first, second)
    findings = assert_caught_at(path, first, message="altered")
    assert any(f["position"] == second and f["check"] == "chain" for f in findings), findings
    assert failed_checkpoints(findings) == falsified(audited, first)


def test_copied_event_at_a_new_position_is_caught(audited, copy):
    """A replayed copy of a transfer (next version of its stream), inserted behind the ledger's back."""
    path = copy("copy")
    with sql(path) as conn:
        new = copy_event_to_new_row(conn, event_position(audited, "signed", "FundsTransferred"))
    assert new == audited.last_position + 1
    assert_caught_at(path, new, message="no chain entry")


def test_forged_event_without_chain_row_is_caught_even_when_replay_accepts_it(audited, copy):
    path = copy("forged")
    with sql(path) as conn:
        event = forged_transfer(conn, event_position(audited, "unsigned", "FundsTransferred"), "FORGED-1", 12_345)
        position = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0] + 1
        conn.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                     (position, event.originator_id.hex, event.originator_version, event.topic, event.state))
    findings = assert_caught_at(path, position, message="no chain entry")
    assert not [f for f in findings if f["check"] == "domain"], "the forgery itself is well-formed"


def test_limit_forged_event_appended_with_its_chain_row_is_indistinguishable_from_a_write(audited, copy):
    """LIMIT: an event appended after the last one, with a chain row recomputed by
    `ledger.integrity.chain_rows`, is exactly what the ledger itself would have written. No stored
    row contradicts it and no checkpoint covers it yet, so `verify` passes; the next checkpoint will
    sign it. (Only keeping writers off the file, or an independent copy of the chain head, helps.)"""
    path = copy("forged-chained")
    with sql(path) as conn:
        event = forged_transfer(conn, event_position(audited, "unsigned", "FundsTransferred"), "FORGED-2", 12_345)
        position = append_with_forged_chain_row(conn, event)
        insert_command_key(conn, position)
    assert verify(path)[:2] == (0, [])
    # It is provably *not* covered by any existing checkpoint:
    assert cli("--store", path, "proof", "FORGED-2").code == 2


def test_forged_event_in_place_of_a_signed_one_with_recomputed_chain_is_caught_by_the_merkle_log(audited, copy):
    """A signed event rewritten and the whole chain recomputed: the stored Merkle nodes disagree first."""
    position = position_of(audited.path, "S-ROAD-M1")
    path = copy("rewrite-chain")
    with sql(path) as conn:
        spend_less(conn, position, 10_000_000_00)
        recompute_chain(conn)
    code, findings, _ = verify(path)
    assert code == 3
    assert not [f for f in findings if f["check"] == "chain"], "the chain was recomputed: it agrees"
    assert findings[0]["position"] == position and findings[0]["check"] == "merkle", findings
    assert failed_checkpoints(findings) == falsified(audited, position)


@pytest.mark.parametrize("transaction", ["S-ROAD-M1", "S-AGRO-DL1", "s-47"])
def test_rewritten_history_with_chain_and_merkle_recomputed_is_caught_only_by_the_signed_checkpoint(audited, copy, transaction):
    """Past event rewritten (a spend made smaller, consistently), chain and Merkle nodes recomputed,
    projections rebuilt: every derived check agrees, and only the signatures tell. The finding names
    the end of the first checkpoint whose signed root no longer matches — the tightest bound the
    signatures give on where the rewrite is."""
    position = position_of(audited.path, transaction)
    assert position <= 112
    path = copy("rewrite-all")
    with sql(path) as conn:
        spend_less(conn, position, 100)
        recompute_key_digest(conn, position)
        recompute_chain(conn)
        recompute_merkle_nodes(conn)
    assert cli("--store", path, "rebuild").code == 0
    code, findings, run = verify(path)
    assert code == 3, run.out
    assert {f["check"] for f in findings} == {"checkpoint"}, findings
    bounds = expected_checkpoints(audited, position)
    assert [p for p, _ in checkpoint_findings(findings)] == bounds
    assert findings[0]["position"] == bounds[0] >= position
    assert "was rewritten" in findings[0]["message"]


def test_limit_rewrite_of_the_unsigned_tail_with_recomputed_chain_is_not_detectable(audited, copy):
    """LIMIT: after the last checkpoint the chain is the only protection, and it is keyless: whoever
    can write the file can recompute it (and the key's digest). Checkpoint often (or publish the chain head)."""
    position = position_of(audited.path, "s-75")
    assert position > 112
    path = copy("rewrite-tail")
    with sql(path) as conn:
        spend_less(conn, position, 100)
        recompute_key_digest(conn, position)
        recompute_chain(conn)
    assert cli("--store", path, "rebuild").code == 0
    assert verify(path)[:2] == (0, [])


def test_rewrite_resigned_with_another_key_is_caught_by_an_auditor_with_the_ledger_public_key(audited, copy, tmp_path):
    """Rewrite + chain + Merkle + projections + checkpoints re-signed with the attacker's own key
    (and that key's public half put in `ledger_signing_keys`). `verify` reads the public key from the
    same file, so it cannot tell (LIMIT, see report); an auditor verifying a proof from the store with
    the ledger's published public key can."""
    position = position_of(audited.path, "S-ROAD-M1")
    path = copy("rewrite-resigned")
    attacker, _ = write_key_pair(tmp_path / "attacker.key")
    with sql(path) as conn:
        spend_less(conn, position, 100)
        recompute_key_digest(conn, position)
        recompute_chain(conn)
        recompute_merkle_nodes(conn)
        resign_checkpoints(conn, attacker)
    assert cli("--store", path, "rebuild").code == 0
    assert verify(path)[:2] == (0, []), "LIMIT: verify trusts the public key stored in the file"
    proof = cli("--store", path, "proof", "S-ROAD-M1", "--out", tmp_path / "proof.json")
    assert proof.code == 0, proof.err
    checked = cli("verify-proof", tmp_path / "proof.json", "--public-key", audited.public_key)
    assert checked.code == 3 and "signed by key" in checked.err, (checked.out, checked.err)


def test_rewrite_resigned_with_the_ledger_key_is_caught_by_a_published_checkpoint(audited, copy, tmp_path):
    """Even an insider holding the ledger's private key cannot make a rewritten log consistent with a
    checkpoint published before the rewrite: the store's own consistency proof, checked against the
    auditor's copy of checkpoint #1, fails."""
    published = audited.checkpoints[0]
    position = position_of(audited.path, "S-ROAD-M1")
    path = copy("rewrite-insider")
    with sql(path) as conn:
        spend_less(conn, position, 100)
        recompute_key_digest(conn, position)
        recompute_chain(conn)
        recompute_merkle_nodes(conn)
        resign_checkpoints(conn, audited.key)
    assert cli("--store", path, "rebuild").code == 0
    assert verify(path)[:2] == (0, []), "LIMIT: with the real key, the stored rows are self-consistent"
    made = cli("--store", path, "consistency", "1", "2", "--out", tmp_path / "c.json")
    assert made.code == 0, made.err
    own = cli("verify-proof", tmp_path / "c.json", "--public-key", audited.public_key)
    assert own.code == 0, "the rewritten log is consistent with itself"
    document = json.loads((tmp_path / "c.json").read_text())
    assert document["old"]["root_hash"] != published["root_hash"]
    document["old"] = published
    (tmp_path / "against-published.json").write_text(json.dumps(document))
    checked = cli("verify-proof", tmp_path / "against-published.json", "--public-key", audited.public_key)
    assert checked.code == 3 and "old root" in checked.err, (checked.out, checked.err)


def test_truncated_signed_log_is_caught_by_the_checkpoint(audited, copy):
    """Events and their chain rows removed from position 100 on: the chain alone cannot know, the
    checkpoint that signed 112 events can."""
    path = copy("truncate")
    with sql(path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid >= 100")
        conn.execute("DELETE FROM ledger_chain WHERE position >= 100")
    code, findings, _ = verify(path)
    assert code == 3
    [(position, message)] = checkpoint_findings(findings)
    assert "checkpoint #2 signs 112 events but only 99 remain" in message
    assert position in (99, 100), "names the end of what remains (or the first missing position)"


def test_limit_truncated_unsigned_tail_is_not_detectable(audited, copy):
    """LIMIT: dropping the newest, not yet checkpointed events together with their chain rows leaves a
    shorter, self-consistent log (projections rebuilt)."""
    path = copy("truncate-tail")
    with sql(path) as conn:
        delete_keys_from(conn, 131)
        conn.execute("DELETE FROM stored_events WHERE rowid > 130")
        conn.execute("DELETE FROM ledger_chain WHERE position > 130")
    assert cli("--store", path, "rebuild").code == 0
    assert verify(path)[:2] == (0, [])


def test_changed_merkle_node_is_caught(audited, copy):
    path = copy("merkle-node")
    with sql(path) as conn:
        conn.execute("UPDATE ledger_merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 3")
    code, findings, _ = verify(path)
    assert code == 3
    assert (findings[0]["position"], findings[0]["check"]) == (13, "merkle")
    assert findings[0]["message"].startswith("stored Merkle node (level 2, index 3) disagrees with the events")


@pytest.mark.parametrize("edit, expected", [
    ("UPDATE ledger_checkpoints SET origin = 'another.example/log' WHERE number = 1", (45, "#1: the signature does not verify")),
    ("UPDATE ledger_checkpoints SET root_hash = (SELECT root_hash FROM ledger_checkpoints WHERE number = 2) WHERE number = 1",
     (45, "#1: the signature does not verify")),
    ("UPDATE ledger_checkpoints SET tree_size = 100 WHERE number = 2", (100, "#2: the signature does not verify")),
    ("DELETE FROM ledger_signing_keys", (45, "#1: the signature does not verify")),
])
def test_changed_checkpoint_is_caught(audited, copy, edit, expected):
    path = copy("checkpoint")
    with sql(path) as conn:
        conn.execute(edit)
    code, findings, _ = verify(path)
    assert code == 3
    assert (findings[0]["position"], findings[0]["check"]) == (expected[0], "checkpoint")
    assert expected[1] in findings[0]["message"]


# --- projections ------------------------------------------------------------------------------


def _first_row(table: str) -> str:
    return f"(SELECT MIN(rowid) FROM {table} WHERE position = ?)"


# name: (SQL changing one row; ? is the position the edit aims at, how to find that position)
PROJECTION_EDITS: dict[str, tuple[str, str]] = {
    "ledger_balance_changes": (f"UPDATE ledger_balance_changes SET delta_tiyn = delta_tiyn + 1 WHERE rowid = {_first_row('ledger_balance_changes')}", "T-ROAD-BIT"),
    "ledger_balance_changes, row deleted": (f"DELETE FROM ledger_balance_changes WHERE rowid = {_first_row('ledger_balance_changes')}", "t-41"),
    "ledger_transactions": ("UPDATE ledger_transactions SET transaction_id = 'FORGED' WHERE position = ?", "T-ROAD-BIT"),
    "ledger_transactions, row deleted": ("DELETE FROM ledger_transactions WHERE position = ?", "s-75"),
    "ledger_parties": ("UPDATE ledger_parties SET name = 'Someone Else' WHERE position = ?", "P-C1"),
    "ledger_colors": ("UPDATE ledger_colors SET allocated_tiyn = allocated_tiyn + 1 WHERE position = ?", "A-AGRO"),
    # ledger_balances has no position column: the finding names the end the projections reached
    "ledger_balances": ("UPDATE ledger_balances SET balance_tiyn = balance_tiyn + 100 WHERE rowid = "
                        "(SELECT MIN(b.rowid) FROM ledger_balances b JOIN ledger_balance_changes c "
                        "ON b.color = c.color AND b.holder = c.holder WHERE c.position = ?)", "T-ROAD-BIT"),
}


@pytest.mark.parametrize("name", list(PROJECTION_EDITS))
def test_edited_projection_row_is_caught(audited, copy, name):
    edit, transaction = PROJECTION_EDITS[name]
    table = name.split(",")[0]
    target = position_of(audited.path, transaction)
    path = copy("projection")
    with sql(path) as conn:
        conn.execute(edit, (target,))
        assert conn.total_changes == 1, "the edit touched one row"
    expected = audited.last_position if table == "ledger_balances" else target
    findings = assert_caught_at(path, expected, check="projection", message=f"table {table},")
    assert len(findings) == 1, findings


# --- random single-byte changes ---------------------------------------------------------------


def _verify_random_change(audited: AuditedStore, change: Callable[[Any, int], None], row: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = copy_store(audited.path, Path(directory) / "random.sqlite")
        with sql(path) as conn:
            change(conn, row)
        run = cli("--store", path, "verify", "--format", "json")
        assert run.code == 3, f"a single-byte change at position {row} was not detected (exit {run.code}): {run.out}{run.err[-1500:]}"
        first = run.json()["findings"][0]
        assert first["position"] == row, f"the first finding names {first}, not position {row}"


def random_settings(examples: int) -> settings:
    """Modest, deterministic-enough runs; no example database written into the repository."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@random_settings(100)
@given(data=st.data())
def test_every_random_single_byte_change_of_a_payload_is_detected(audited, data):
    row = data.draw(st.integers(1, audited.last_position), label="position")
    state = events(audited.path)[row - 1][4]
    offset = data.draw(st.integers(0, len(state) - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    _verify_random_change(audited, lambda conn, position: flip_payload_byte(conn, position, offset, mask), row)


def _replace_character(column: str, index: int, character: str) -> Callable[[Any, int], None]:
    def change(conn: Any, position: int) -> None:
        (text,) = conn.execute(f"SELECT {column} FROM stored_events WHERE rowid = ?", (position,)).fetchone()
        assert text[index] != character
        conn.execute(f"UPDATE stored_events SET {column} = ? WHERE rowid = ?", (text[:index] + character + text[index + 1:], position))
    return change


@random_settings(40)
@given(data=st.data())
def test_every_random_single_byte_change_of_a_stream_id_is_detected(audited, data):
    row = data.draw(st.integers(1, audited.last_position), label="position")
    text = events(audited.path)[row - 1][1]
    index = data.draw(st.integers(0, len(text) - 1), label="index")
    character = data.draw(st.sampled_from([c for c in PRINTABLE if c != text[index]]), label="character")
    _verify_random_change(audited, _replace_character("originator_id", index, character), row)


@random_settings(40)
@given(data=st.data())
def test_every_random_single_byte_change_of_a_topic_is_detected(audited, data):
    row = data.draw(st.integers(1, audited.last_position), label="position")
    text = events(audited.path)[row - 1][3]
    index = data.draw(st.integers(0, len(text) - 1), label="index")
    character = data.draw(st.sampled_from([c for c in PRINTABLE if c != text[index]]), label="character")
    _verify_random_change(audited, _replace_character("topic", index, character), row)


# --- the stream id cases the random test can hit, one by one ----------------------------------


@pytest.mark.parametrize("change", ["another hex digit", "not a hex digit", "upper case"])
def test_changed_stream_id_is_caught_at_its_position(audited, copy, change):
    """`stored_events.originator_id` is text (32 hex digits). Whatever a byte becomes, verify must
    exit 3 naming the row — not crash (exit 70), and not accept a different spelling of the same UUID,
    which the ledger's own per-stream reads (`WHERE originator_id = ?`) no longer find."""
    position = position_of(audited.path, "T-ROAD-ADV")
    text = events(audited.path)[position - 1][1]
    index = next(i for i, c in enumerate(text) if c in "abcdef")
    replacement = {"another hex digit": "0" if text[index] != "0" else "1", "not a hex digit": "z",
                   "upper case": text[index].upper()}[change]
    path = copy("stream-id")
    with sql(path) as conn:
        _replace_character("originator_id", index, replacement)(conn, position)
    run = cli("--store", path, "verify", "--format", "json")
    assert run.code == 3, f"exit {run.code}: {run.out}{run.err[-1200:]}"
    assert run.json()["findings"][0]["position"] == position, run.out


# --- the same checks on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
def test_tampered_postgres_store_is_caught_at_its_position(postgres_url, tmp_path):
    """The chain is written in the same transaction on PostgreSQL too; verify reads it the same way."""
    import psycopg

    world_file = build_world_file(tmp_path)
    assert cli("--store", postgres_url, "import", world_file).code == 0
    assert cli("keygen", "--out", tmp_path / "ledger.key").code == 0
    assert cli("--store", postgres_url, "balance", "--format", "json").code == 0
    assert cli("--store", postgres_url, "checkpoint", "--key", tmp_path / "ledger.key").code == 0
    assert verify_url(postgres_url) == (0, [])
    dsn, schema = postgres_url.split("?schema=")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        [(position,)] = conn.execute("SELECT position FROM ledger_transactions WHERE transaction_id = 'T-ROAD-ADV'").fetchall()
        [(state,)] = conn.execute("SELECT state FROM ledger_events WHERE notification_id = %s", (position,)).fetchall()
        changed = bytearray(state)
        changed[len(changed) // 2] ^= 0x01
        conn.execute("UPDATE ledger_events SET state = %s WHERE notification_id = %s", (bytes(changed), position))
    code, findings = verify_url(postgres_url)
    assert code == 3 and findings[0]["position"] == position and findings[0]["check"] == "chain", findings[:3]
    assert failed_checkpoints(findings) == [1]


def build_world_file(directory: Path) -> Path:
    from tests.rules.baseline import Baseline

    return Baseline().script.write(directory / "world.jsonl")


def verify_url(url: str) -> tuple[int, list[dict[str, Any]]]:
    run = cli("--store", url, "verify", "--format", "json")
    assert run.code in (0, 3), run.err[-1500:]
    return run.code, run.json()["findings"]


# --- the matrix of issue 10 point 4: every tampering × with and without outside checkpoints ----------
#
# One store per row, built through the CLI on SQLite and on PostgreSQL: the Baseline world, then
# checkpoint #1 written out (`checkpoint --out`), a workload file, checkpoint #2 written out, an
# unsigned tail. Each row changes the store as an attacker with write access to the database would,
# then `verify` runs three ways: alone (trusting the keys stored in the store), with the auditor's
# public key, and with the public key and the two checkpoint files the auditor kept. The expected
# exit codes are the table in the module's report (printed with `pytest -s`).

PLAIN, WITH_KEY, WITH_HELD = "verify", "verify --public-key", "verify --public-key --checkpoint (held)"


class RawStore:
    """Direct SQL on a store's tables, the same operations on SQLite and PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql://")
        self.events_table = "ledger_events" if self.postgres else "stored_events"
        self.position = "notification_id" if self.postgres else "rowid"

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        statement = statement.replace("{events}", self.events_table).replace("{position}", self.position)
        if self.postgres:
            import psycopg

            dsn, schema = self.url.split("?schema=")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'SET search_path TO "{schema}"')
                cursor = conn.execute(statement.replace("?", "%s") if params else statement, params or None)
                return cursor.fetchall() if cursor.description else []
        path = self.url.removeprefix("sqlite:///")
        with sql(Path(path)) as conn:
            return conn.execute(statement, params).fetchall()

    def stream(self, stream: UUID) -> Any:
        return stream if self.postgres else stream.hex

    def events(self) -> list[tuple[int, StoredEvent]]:
        return [(int(r[0]), StoredEvent(UUID(str(r[1])), int(r[2]), r[3], bytes(r[4]))) for r in self.run(
            "SELECT {position}, originator_id, originator_version, topic, state FROM {events} ORDER BY {position}")]

    def event(self, position: int) -> StoredEvent:
        return dict(self.events())[position]

    def set_event(self, position: int, event: StoredEvent) -> None:
        self.run("UPDATE {events} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {position} = ?",
                 (self.stream(event.originator_id), event.originator_version, event.topic, event.state, position))

    def flip_byte(self, position: int) -> None:
        event = self.event(position)
        state = bytearray(event.state)
        state[len(state) // 2] ^= 0x01
        self.set_event(position, StoredEvent(event.originator_id, event.originator_version, event.topic, bytes(state)))

    def swap(self, first: int, second: int) -> None:
        a, b = self.event(first), self.event(second)
        parked = StoredEvent(b.originator_id, b.originator_version + 1_000_000, b.topic, b.state)
        self.set_event(first, parked)  # (stream, version) stays unique at every step
        self.set_event(second, a)
        self.set_event(first, b)

    def insert_copy(self, position: int) -> None:
        """A copy of an event as the next version of its stream, at a new position, with no chain row."""
        event = self.event(position)
        version = max(e.originator_version for _, e in self.events() if e.originator_id == event.originator_id)
        self.run("INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                 (self.stream(event.originator_id), version + 1, event.topic, event.state))

    def spend_less(self, position: int, delta_tiyn: int = 100) -> None:
        event = self.event(position)
        payload = dict(TRANSCODER.decode(event.state))
        *rest, (lot, taken) = payload["consumed"]
        payload.update(amount_tiyn=payload["amount_tiyn"] - delta_tiyn, consumed=(*rest, (lot, taken - delta_tiyn)))
        self.set_event(position, StoredEvent(event.originator_id, event.originator_version, event.topic, TRANSCODER.encode(payload)))
        changed = MAPPER.to_domain_event(self.event(position))
        self.run("UPDATE ledger_keys SET digest = ? WHERE key = ?", (sorted(digests_of(changed))[0], "command:" + changed.command_id))

    def recompute_chain(self) -> None:
        stored = self.events()
        self.run("DELETE FROM ledger_chain")
        for row in chain_rows(None, [p for p, _ in stored], [event for _, event in stored]):
            self.run("INSERT INTO ledger_chain VALUES (?, ?, ?, ?)", row)

    def recompute_merkle(self, size: int | None = None) -> None:
        size = self.run("SELECT COUNT(*) FROM ledger_merkle_nodes WHERE level = 0")[0][0] if size is None else size
        leaves = [bytes(r[0]) for r in self.run("SELECT leaf_hash FROM ledger_chain ORDER BY position")][:size]
        tree = MemoryLevels(leaves)
        self.run("DELETE FROM ledger_merkle_nodes")
        for level, hashes in enumerate(tree.levels):
            for index, value in enumerate(hashes):
                self.run("INSERT INTO ledger_merkle_nodes VALUES (?, ?, ?)", (level, index, value))

    def resign(self, key_path: Path) -> None:
        key = load_private_key(key_path)
        tree = MemoryLevels([bytes(r[0]) for r in self.run("SELECT leaf_hash FROM ledger_chain ORDER BY position")])
        old = self.run("SELECT number, tree_size, time FROM ledger_checkpoints ORDER BY number")
        self.run("DELETE FROM ledger_checkpoints")
        self.run("DELETE FROM ledger_signing_keys")
        for number, size, time in old:
            signed = sign_checkpoint(key, int(number), int(size), root(tree.perfect, int(size)), datetime.fromisoformat(time))
            self.run("INSERT INTO ledger_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)", (
                signed.number, signed.origin, signed.tree_size, signed.root_hash, signed.time, signed.key_id, signed.signature))
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.run("INSERT INTO ledger_signing_keys VALUES (?, ?)", (key_id(key.public_key()), b64(raw)))

    def truncate_from(self, position: int) -> None:
        """Events from `position` on go, with their chain rows, every key they implied and the Merkle nodes."""
        implied = ExpectedKeys()
        for number, event in self.events():
            if number >= position:
                implied.observe(number, event.originator_id, MAPPER.to_domain_event(event))
        for name in implied.keys:
            self.run("DELETE FROM ledger_keys WHERE key = ?", (name,))
        self.run("DELETE FROM {events} WHERE {position} >= ?", (position,))
        self.run("DELETE FROM ledger_chain WHERE position >= ?", (position,))
        self.run("DELETE FROM ledger_merkle_nodes")
        self.recompute_merkle(size=10**9)

    def append_forged(self, model: int, command_id: str) -> None:
        """A well-formed transfer appended after the last event, with the chain row and key the ledger would write."""
        event = self.event(model)
        payload = dict(TRANSCODER.decode(event.state))
        lot = payload["consumed"][0][0]
        payload.update(command_id=command_id, amount_tiyn=1_00, consumed=((lot, 1_00),), invoice=None)
        version = max(e.originator_version for _, e in self.events() if e.originator_id == event.originator_id)
        forged = StoredEvent(event.originator_id, version + 1, event.topic, TRANSCODER.encode(payload))
        self.run("INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                 (self.stream(forged.originator_id), forged.originator_version, forged.topic, forged.state))
        position = max(p for p, _ in self.events())
        last = self.run("SELECT leaf_index, chain_hash FROM ledger_chain ORDER BY position DESC LIMIT 1")[0]
        for row in chain_rows((int(last[0]), bytes(last[1])), [position], [forged]):
            self.run("INSERT INTO ledger_chain VALUES (?, ?, ?, ?)", row)
        digest = sorted(digests_of(MAPPER.to_domain_event(forged)) or {bytes(32)})[0]
        self.run("INSERT INTO ledger_keys VALUES (?, ?, ?)", ("command:" + command_id, digest, str(forged.originator_id)))


@dataclass
class MatrixStore:
    url: str
    key: Path
    public_key: Path
    held: list[Path]
    files: list[Path]
    sizes: list[int]  # tree sizes of checkpoints #1 and #2

    def region(self, topic: str, signed_by_first: bool = True) -> list[int]:
        """Positions of events of this topic signed by checkpoint #1 (or only in the unsigned tail)."""
        low, high = (1, self.sizes[0]) if signed_by_first else (self.sizes[1] + 1, 10**9)
        return [p for p, event in RawStore(self.url).events() if low <= p <= high and event.topic == f"tenge:{topic}"]


def build_matrix_store(url: str, directory: Path, key: Path) -> MatrixStore:
    directory.mkdir(parents=True, exist_ok=True)
    world = build_world_file(directory)
    workload = list(workload_records(40, colors=2, contractors_per_color=3, seed=13))
    files = [world, write_jsonl(directory / "workload.jsonl", workload[:-8]), write_jsonl(directory / "tail.jsonl", workload[-8:])]
    built = MatrixStore(url, key, Path(f"{key}.pub"), [], files, [])
    for number, path in enumerate(files):
        imported = cli("--store", url, "import", path)
        assert imported.code == 0, imported.err
        if number < 2:
            held = directory / f"checkpoint-{number + 1}.note"
            signed = cli("--store", url, "checkpoint", "--key", key, "--out", held, "--format", "json")
            assert signed.code == 0, signed.err
            built.held.append(held)
            built.sizes.append(signed.json()["tree_size"])
    assert cli("--store", url, "balance", "--format", "json").code == 0  # the projections reach the end
    return built


def _spend_to_rewrite(store: MatrixStore) -> int:
    raw = RawStore(store.url)
    return next(p for p in store.region("FundsSpent") if dict(TRANSCODER.decode(raw.event(p).state))["consumed"][-1][1] > 100)


def _rewrite(store: MatrixStore) -> RawStore:
    raw = RawStore(store.url)
    raw.spend_less(_spend_to_rewrite(store))
    raw.recompute_chain()
    raw.recompute_merkle()
    assert cli("--store", store.url, "rebuild").code == 0
    return raw


def _duplicate_transaction(store: MatrixStore) -> None:
    RawStore(store.url).run("DELETE FROM ledger_keys WHERE key = 'command:s-3'")
    # decided again: blocked out_of_order_time (SPEC §2.5), recorded under the same transaction id
    assert cli("--store", store.url, "import", store.files[1]).code == 1
    assert cli("--store", store.url, "balance", "--format", "json").code == 0


def _truncate(store: MatrixStore) -> None:
    raw = RawStore(store.url)
    raw.truncate_from(store.sizes[0] - 3)
    raw.run("DELETE FROM ledger_checkpoints")
    assert cli("--store", store.url, "rebuild").code == 0


def _rewrite_chain_only(store: MatrixStore) -> None:
    raw = RawStore(store.url)
    raw.spend_less(_spend_to_rewrite(store))
    raw.recompute_chain()


# row: (what the attacker does, expected exit codes: plain verify, with the public key, with the key and the held checkpoints)
MATRIX: dict[str, tuple[Callable[[MatrixStore], Any], tuple[int, int, int]]] = {
    "untouched": (lambda s: None, (0, 0, 0)),
    "altered event (one payload byte)": (lambda s: RawStore(s.url).flip_byte(s.region("FundsTransferred")[0]), (3, 3, 3)),
    "removed event": (lambda s: RawStore(s.url).run("DELETE FROM {events} WHERE {position} = ?", (s.region("FundsSpent")[0],)), (3, 3, 3)),
    "reordered events (two rows swapped)": (lambda s: RawStore(s.url).swap(s.region("FundsTransferred")[0], s.region("FundsSpent")[-1]), (3, 3, 3)),
    "inserted event (no chain row)": (lambda s: RawStore(s.url).insert_copy(s.region("FundsTransferred")[0]), (3, 3, 3)),
    "deleted checkpoint rows": (lambda s: RawStore(s.url).run("DELETE FROM ledger_checkpoints"), (0, 3, 3)),
    "rewritten history, chain recomputed": (_rewrite_chain_only, (3, 3, 3)),
    "rewritten history, chain + Merkle + key digest recomputed, projections rebuilt": (_rewrite, (3, 3, 3)),
    "… and the checkpoint rows deleted": (lambda s: _rewrite(s).run("DELETE FROM ledger_checkpoints"), (0, 3, 3)),
    "… and the checkpoints re-signed with another key": (lambda s: _rewrite(s).resign(s.key.with_name("attacker.key")), (0, 3, 3)),
    "… and the checkpoints re-signed with the ledger key (insider)": (lambda s: _rewrite(s).resign(s.key), (0, 0, 3)),
    "signed log truncated (events, chain rows, keys, Merkle nodes), checkpoint rows deleted, projections rebuilt": (
        _truncate, (0, 3, 3)),
    "deleted key (command:s-3)": (lambda s: RawStore(s.url).run("DELETE FROM ledger_keys WHERE key = 'command:s-3'"), (3, 3, 3)),
    "duplicate transaction id (key deleted, file re-imported)": (_duplicate_transaction, (3, 3, 3)),
    "LIMIT: forged event appended after the last checkpoint with its chain row and key": (
        lambda s: RawStore(s.url).append_forged(s.region("FundsTransferred", signed_by_first=False)[0], "FORGED-9"), (0, 0, 0)),
}


Cell = tuple[int, str]  # verify's exit code, and its findings in short: "check@position" of each kind, first first


def findings_in_short(findings: list[dict[str, Any]]) -> str:
    """One "check@position" per kind of finding (the first of each), in the order verify reports them."""
    first: dict[str, Any] = {}
    for finding in findings:
        first.setdefault(finding.get("check") or "store", finding.get("position"))
    return ", ".join(check if position is None else f"{check}@{position}" for check, position in first.items())


def run_matrix(make_store: Callable[[str], MatrixStore]) -> dict[str, tuple[Cell, Cell, Cell]]:
    results: dict[str, tuple[Cell, Cell, Cell]] = {}
    for row, (attack, _) in MATRIX.items():
        store = make_store(row)
        attack(store)
        held = [arg for path in store.held for arg in ("--checkpoint", path)]
        cells = []
        for options in ([], ["--public-key", store.public_key], ["--public-key", store.public_key, *held]):
            code, findings, _ = verify(store.url, options=options)
            cells.append((code, findings_in_short(findings)))
        results[row] = tuple(cells)  # type: ignore[assignment]
    return results


def codes_of(results: dict[str, tuple[Cell, Cell, Cell]]) -> dict[str, tuple[int, int, int]]:
    return {row: tuple(code for code, _ in cells) for row, cells in results.items()}  # type: ignore[misc]


def print_matrix(kind: str, results: dict[str, tuple[Cell, Cell, Cell]]) -> None:
    def cell(code: int, findings: str) -> str:
        return f"detected (exit 3: {findings})" if code == 3 else f"not detected (exit {code})"

    print(f"\n\nTamper matrix on {kind}: exit code of verify after each change, and its findings"
          " (check@position, the first of each kind)\n")
    print(f"| change | {PLAIN} (no outside checkpoint) | {WITH_KEY} (no outside checkpoint) | {WITH_HELD} |")
    print("|---|---|---|---|")
    for row, cells in results.items():
        print(f"| {row} | {' | '.join(cell(*c) for c in cells)} |")


def test_tamper_matrix_sqlite(tmp_path_factory):
    directory = tmp_path_factory.mktemp("matrix")
    with clean_environment():
        assert cli("keygen", "--out", directory / "ledger.key").code == 0
        assert cli("keygen", "--out", directory / "attacker.key").code == 0
        template = build_matrix_store(f"sqlite:///{directory / 'template.sqlite'}", directory, directory / "ledger.key")

        def make(row: str) -> MatrixStore:
            copy = directory / f"row-{list(MATRIX).index(row)}.sqlite"
            copy_store(Path(template.url.removeprefix("sqlite:///")), copy)
            return MatrixStore(f"sqlite:///{copy}", template.key, template.public_key, template.held, template.files, template.sizes)

        results = run_matrix(make)
    print_matrix("SQLite", results)
    assert codes_of(results) == {row: expected for row, (_, expected) in MATRIX.items()}


@pytest.mark.postgres
def test_tamper_matrix_postgres(tmp_path_factory):
    import psycopg

    from tests.conftest import POSTGRES_URL

    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES=postgresql://user@host:port/db")
    directory = tmp_path_factory.mktemp("matrix-pg")
    dsn = POSTGRES_URL.split("?")[0]
    schemas: list[str] = []
    with clean_environment():
        assert cli("keygen", "--out", directory / "ledger.key").code == 0
        assert cli("keygen", "--out", directory / "attacker.key").code == 0

        def make(row: str) -> MatrixStore:
            schema = "t_" + secrets.token_hex(6)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            return build_matrix_store(f"{dsn}?schema={schema}", directory / schema, directory / "ledger.key")

        try:
            results = run_matrix(make)
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print_matrix("PostgreSQL", results)
    assert codes_of(results) == {row: expected for row, (_, expected) in MATRIX.items()}


# --- findings a person can act on (issue 10 item 12) -------------------------------------------------


def test_a_replay_failure_names_position_transaction_color_and_what_is_wrong(audited, copy):
    """Deleting a color's event makes the next event of that color skip a version: the finding says so in
    words (not "replaying this event fails: (4, 2)") and names the event's transaction and color."""
    all_events = events(audited.path)
    position, following = next((p, q) for p, oid, _, topic, _ in all_events if topic == "tenge:FundsSpent"
                               for q, other, *_ in all_events if q > p and other == oid)
    stream = all_events[position - 1][1]
    path = copy("replay")
    with sql(path) as conn:
        delete_event(conn, position)
    code, findings, _ = verify(path)
    assert code == 3
    [domain] = [f for f in findings if f["check"] == "domain"]
    follower = MAPPER.to_domain_event(StoredEvent(UUID(stream), all_events[following - 1][2], all_events[following - 1][3],
                                                  all_events[following - 1][4]))
    assert (domain["position"], domain["transaction"], domain["color"]) == (following, follower.command_id, follower.color)
    assert "of its stream, but the stream is at version" in domain["message"]
    assert "missing, repeated or out of order" in domain["message"]
    for finding in findings:
        assert not re.search(r"\(\d+, \d+\)", finding["message"]), finding
        assert finding["message"][0].islower() or finding["message"][0].isupper()
        assert len(finding["message"].split()) >= 8, f"not a sentence: {finding}"
    table = cli("--store", path, "verify", "--format", "table")
    assert f"position {following} (transaction {follower.command_id}, color {follower.color}): domain:" in table.err, table.err


def test_findings_name_the_transaction_and_color_of_the_event_where_it_can_be_read(audited, copy):
    position = position_of(audited.path, "S-ROAD-M1")
    path = copy("named")
    with sql(path) as conn:
        change_amount(conn, position, +1)
    _, findings, _ = verify(path)
    at_position = [f for f in findings if f["position"] == position]
    assert {f["check"] for f in at_position} >= {"chain", "merkle", "keys"}, at_position
    assert all(f["transaction"] == "S-ROAD-M1" and f["color"].startswith("ROAD-") for f in at_position), at_position
    missing = copy("missing")
    with sql(missing) as conn:
        delete_event(conn, position)
    _, findings, _ = verify(missing)
    [gone] = [f for f in findings if f["position"] == position and f["check"] == "chain"]
    assert gone["transaction"] is None and "its row was deleted" in gone["message"]
    assert any(f["check"] == "keys" and "command:S-ROAD-M1" in f["message"] for f in findings), \
        "the deleted event's transaction is still named, by the key no event implies any more"
