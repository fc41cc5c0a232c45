"""Checkpoints an auditor holds outside the store (SPEC §7, issue 10 item 4).

`checkpoint --out FILE` writes the signed checkpoint as a C2SP signed note in the tlog-checkpoint
form; `verify --checkpoint FILE…` checks the store against such files; with `--public-key`, a store
with events and no checkpoint signed by that key fails. The note format is pinned to the public
golang.org/x/mod/sumdb/note test vector (Ed25519 is deterministic, so signing the vector's text with
the vector's key must give the published signature line byte for byte) and to the C2SP spec text.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.app import Ledger
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.checkpoints import (
    EM_DASH,
    ProofFailed,
    checkpoint_from_note,
    key_hash,
    key_id,
    load_public_key,
    parse_note,
    verifier_key,
)
from tests.integrity.integrity_support import AuditedStore, build_audited_store, clean_environment, cli, copy_store, sql, verify

# golang.org/x/mod/sumdb/note, note_test.go / the package documentation's example
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="


def go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert seed[0] == 0x01 and len(seed) == 33, "type byte 0x01 (Ed25519), then the 32-byte seed"
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_key_id_and_verifier_key_are_those_of_the_go_vector():
    public = go_key().public_key()
    assert key_id(public, "PeterNeumann") == "c74f20a3"
    assert verifier_key(public, "PeterNeumann") == GO_VERIFIER_KEY
    name, raw = b"PeterNeumann", base64.b64decode(GO_VERIFIER_KEY.split("+")[2])[1:]
    assert key_hash(public, "PeterNeumann") == hashlib.sha256(name + b"\n" + b"\x01" + raw).digest()[:4]


def test_signing_the_go_vector_gives_its_published_signature_line():
    key = go_key()
    blob = base64.b64encode(key_hash(key.public_key(), "PeterNeumann") + key.sign(GO_TEXT.encode())).decode()
    assert blob == GO_SIGNATURE
    body, [signature] = parse_note(f"{GO_TEXT}\n{EM_DASH} PeterNeumann {GO_SIGNATURE}\n")
    assert body == GO_TEXT and signature.name == "PeterNeumann" and signature.key_hash.hex() == "c74f20a3"
    key.public_key().verify(signature.signature, body.encode())


@pytest.mark.parametrize("note, problem", [
    ("tenge-ledger\n3\nAAAA\n", "no blank line"),
    (f"tenge-ledger\n3\n{'A' * 43}=\n\n- tenge-ledger {'A' * 92}\n", "not a note signature line"),
    (f"tenge-ledger\n03\n{'A' * 43}=\n\n{EM_DASH} tenge-ledger {'A' * 92}\n", "not a decimal number"),
    (f"tenge-ledger\n3\nAAAA\n\n{EM_DASH} tenge-ledger {'A' * 92}\n", "not 32 bytes"),
    (f"tenge-ledger\n3\n{'A' * 43}=\n\n{EM_DASH} someone-else {'A' * 92}\n", "no Ed25519 signature by its origin"),
    (f"tenge-ledger\n3\x00\n{'A' * 43}=\n\n{EM_DASH} tenge-ledger {'A' * 92}\n", "control characters"),
])
def test_malformed_checkpoint_notes_are_refused(note, problem):
    with pytest.raises(ProofFailed, match=problem):
        checkpoint_from_note(note)


# --- through the CLI ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditedStore:
    with clean_environment():
        return build_audited_store(tmp_path_factory.mktemp("outside"), tail=20, transactions=50)


def test_checkpoint_out_writes_the_tlog_checkpoint_note_it_stores(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    out = tmp_path / "held.note"
    made = cli("--store", path, "checkpoint", "--key", audited.key, "--out", out, "--format", "json")
    assert made.code == 0, made.err
    stored = made.json()
    text = out.read_text(encoding="utf-8")
    assert text == stored["note"]
    origin, size, root, blank, signature_line, end = text.split("\n")
    assert (origin, int(size), root, blank, end) == ("tenge-ledger", stored["tree_size"], stored["root_hash"], "", "")
    dash, name, blob = signature_line.split(" ")
    assert (dash, name) == (EM_DASH, "tenge-ledger")
    raw = base64.b64decode(blob)
    public = load_public_key(audited.public_key)
    assert raw[:4] == key_hash(public, "tenge-ledger") and len(raw) == 68
    public.verify(raw[4:], f"{origin}\n{size}\n{root}\n".encode())  # what any note verifier checks
    listed = cli("--store", path, "checkpoint", "--list", "--out", tmp_path / "latest.note", "--format", "json")
    assert listed.code == 0 and (tmp_path / "latest.note").read_text() == text, listed.err


def test_verify_against_held_checkpoints_passes_on_an_intact_store(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    held = [tmp_path / "1.note", tmp_path / "2.note"]
    for note, checkpoint in zip(held, audited.checkpoints):
        note.write_text(checkpoint["note"], encoding="utf-8")
    code, findings, run = verify(path, options=[arg for note in held for arg in ("--checkpoint", note)])
    assert (code, findings) == (0, []), run.out
    both = cli("--store", path, "verify", "--public-key", audited.public_key, "--checkpoint", held[0], "--checkpoint", held[1], "--format", "table")
    assert both.code == 0 and "(and 2 held outside the store)" in both.out, (both.out, both.err)


def test_a_log_shorter_than_a_held_checkpoint_is_a_finding(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    held = tmp_path / "2.note"
    held.write_text(audited.checkpoints[1]["note"], encoding="utf-8")
    size = audited.checkpoints[1]["tree_size"]
    with sql(path) as conn:  # truncate the signed log, and remove every trace of it in the store
        conn.execute("DELETE FROM stored_events WHERE rowid > ?", (size - 5,))
        conn.execute("DELETE FROM ledger_chain WHERE position > ?", (size - 5,))
        conn.execute("DELETE FROM ledger_checkpoints WHERE number = 2")
        conn.execute("DELETE FROM ledger_keys WHERE key LIKE 'command:%'")  # keys findings aside
    code, findings, _ = verify(path, options=["--checkpoint", held])
    assert code == 3
    assert any(f["check"] == "checkpoint" and f"the checkpoint held in {held} signs {size} events but only {size - 5} remain"
               in f["message"] for f in findings), findings


def test_a_held_checkpoint_whose_rows_were_deleted_is_a_finding(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    held = tmp_path / "1.note"
    held.write_text(audited.checkpoints[0]["note"], encoding="utf-8")
    with sql(path) as conn:
        conn.execute("DELETE FROM ledger_checkpoints")
    assert verify(path)[:2] == (0, []), "LIMIT: without anything held outside, deleted checkpoint rows leave no trace"
    code, findings, _ = verify(path, options=["--checkpoint", held])
    assert code == 3 and "is no longer among the store's checkpoints" in findings[0]["message"], findings


def test_public_key_without_any_checkpoint_signed_by_it_is_a_finding(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    with sql(path) as conn:
        conn.execute("DELETE FROM ledger_checkpoints")
    code, findings, _ = verify(path, options=["--public-key", audited.public_key])
    assert code == 3
    [finding] = findings
    assert finding["check"] == "checkpoint" and "no checkpoint signed by the given public key" in finding["message"]
    held = tmp_path / "1.note"
    held.write_text(audited.checkpoints[0]["note"], encoding="utf-8")
    code, findings, _ = verify(path, options=["--public-key", audited.public_key, "--checkpoint", held])
    assert code == 3 and [f["message"] for f in findings if "no checkpoint signed" in f["message"]] == [], \
        "a held checkpoint signed by the key counts; only the deleted rows remain a finding"


def test_an_empty_store_with_a_public_key_passes(tmp_path):
    with clean_environment():
        assert cli("keygen", "--out", tmp_path / "k").code == 0
        empty = tmp_path / "empty.sqlite"
        assert cli("--store", empty, "verify", "--public-key", tmp_path / "k.pub").code == 69  # never creates one
        Ledger(f"sqlite:///{empty}").close()  # a store with no events yet
        run = cli("--store", empty, "verify", "--public-key", tmp_path / "k.pub")
    assert run.code == 0, run.err


def test_a_held_checkpoint_signed_by_another_key_is_a_finding(audited, tmp_path):
    path = copy_store(audited.path, tmp_path / "store.sqlite")
    other = tmp_path / "other.key"
    assert cli("keygen", "--out", other).code == 0
    made = cli("--store", path, "checkpoint", "--key", other, "--out", tmp_path / "other.note")
    assert made.code == 0, made.err
    code, findings, _ = verify(path, options=["--public-key", audited.public_key, "--checkpoint", tmp_path / "other.note"])
    assert code == 3
    assert any("is not signed by the given public key" in f["message"] for f in findings), findings


def test_a_file_that_is_not_a_checkpoint_note_is_a_usage_error(audited, tmp_path):
    bad = tmp_path / "bad.note"
    bad.write_text("hello\n", encoding="utf-8")
    run = cli("--store", audited.path, "verify", "--checkpoint", bad)
    assert run.code == 2 and str(bad) in run.err and "not a checkpoint note" in run.err, run.err
    missing = cli("--store", audited.path, "verify", "--checkpoint", tmp_path / "missing.note")
    assert missing.code == 2 and "missing.note" in missing.err, missing.err


def test_proof_documents_embed_the_checkpoint_note(audited, tmp_path):
    made = cli("--store", audited.path, "proof", "S-ROAD-M1", "--out", tmp_path / "p.json")
    assert made.code == 0, made.err
    import json

    document = json.loads((tmp_path / "p.json").read_text())
    assert document["checkpoint"]["note"].startswith(f"tenge-ledger\n{document['checkpoint']['tree_size']}\n")
    assert cli("verify-proof", tmp_path / "p.json", "--public-key", audited.public_key).code == 0
