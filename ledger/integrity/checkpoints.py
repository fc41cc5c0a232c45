"""Signed checkpoints and the proofs auditors check against them (SPEC §7).

A checkpoint is a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): a C2SP signed note
(https://c2sp.org/signed-note) whose text is exactly three lines — the origin, the tree size in
decimal, the base64 RFC 9162 root hash — signed with the ledger key (Ed25519, signature type 0x01).
The signature line is `— <key name> base64(key ID || signature)`, the key name is the origin and the
key ID is SHA-256(key name || 0x0A || 0x01 || public key)[:4], so standard transparency-log tooling
(golang.org/x/mod/sumdb/note, transparency-dev/formats) reads the file `checkpoint --out` writes.
The ledger also keeps, beside each checkpoint, its number and when it was signed (neither is signed:
extension lines are not recommended by the spec).

Whoever holds a checkpoint and the public key can check, without the store:
- an inclusion proof: this transaction's event is leaf i of the tree the checkpoint signs;
- a consistency proof: the tree of a later checkpoint extends the earlier one (append-only).

Keys: `keygen` writes the private key as PKCS#8 PEM with file mode 0600 (never printed) and the
public key beside it (`.pub`). Proof documents are JSON with base64 hashes, RFC 9162 proof shapes;
the checkpoint inside carries its signed note too.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import LedgerError
from ledger.integrity import merkle

ORIGIN = "tenge-ledger"  # the log's origin line and the key name of its signature line
ED25519_TYPE = b"\x01"  # C2SP signed-note signature type of Ed25519
EM_DASH = "\u2014"
CHECKPOINTS_TABLE = "ledger_checkpoints"
DEFAULT_KEY_PATH = "tenge-ledger.key"


class KeyFileError(LedgerError):
    """A key file is missing, unreadable or of the wrong kind."""


class ProofFailed(LedgerError):
    """A checkpoint, an inclusion proof or a consistency proof does not verify."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (ValueError, TypeError) as error:
        raise ProofFailed(f"{what} is not base64") from error


# --- keys -----------------------------------------------------------------------------------

def write_key_pair(path: Path) -> tuple[Path, Path]:
    """A new Ed25519 key pair: private key at `path` (mode 0600), public at `path`.pub."""
    public_path = path.with_name(path.name + ".pub")
    if path.exists():
        raise KeyFileError(f"{path} exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise KeyFileError(f"cannot read the signing key {path}: {error.strerror or error} (create one with `tenge-ledger keygen`)") from error
    except ValueError as error:
        raise KeyFileError(f"{path} is not a PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise KeyFileError(f"cannot read the public key {path}: {error.strerror or error}") from error
    except ValueError as error:
        raise KeyFileError(f"{path} is not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return key


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(public: Ed25519PublicKey, name: str = ORIGIN) -> bytes:
    """The C2SP signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + raw_public(public)).digest()[:4]


def key_id(public: Ed25519PublicKey, name: str = ORIGIN) -> str:
    """The key ID as 8 hex digits (as in a note verifier key `name+c74f20a3+...`)."""
    return key_hash(public, name).hex()


def verifier_key(public: Ed25519PublicKey, name: str = ORIGIN) -> str:
    """The note verifier key string `name+hash+base64(0x01 || key)` (golang.org/x/mod/sumdb/note)."""
    return f"{name}+{key_id(public, name)}+{b64(ED25519_TYPE + raw_public(public))}"


# --- checkpoints ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """One signed checkpoint: the C2SP note fields, plus the ledger's number and signing time."""

    number: int
    origin: str
    tree_size: int
    root_hash: str  # base64
    time: str  # RFC 3339 UTC, when it was signed (not signed itself)
    key_id: str  # the note key ID, 8 hex digits
    signature: str  # base64 of the 64-byte Ed25519 signature over `message()`

    def message(self) -> bytes:
        """The signed note text: origin, tree size, root hash, each line ending in a newline."""
        return note_text(self.origin, self.tree_size, self.root_hash).encode()

    def note(self) -> str:
        """The whole signed note (tlog-checkpoint), as `checkpoint --out` writes it."""
        signature = b64(bytes.fromhex(self.key_id) + base64.b64decode(self.signature))
        return f"{self.message().decode()}\n{EM_DASH} {self.origin} {signature}\n"

    def document(self) -> dict[str, Any]:
        try:
            note = self.note()
        except ValueError:  # a stored row garbled behind the ledger's back: list it, `verify` says what is wrong
            note = None
        return {**asdict(self), "note": note}


def note_text(origin: str, tree_size: int, root_hash: str) -> str:
    assert origin and not any(ch.isspace() or ch == "+" for ch in origin), origin
    assert tree_size >= 0
    return f"{origin}\n{tree_size}\n{root_hash}\n"


def sign_checkpoint(key: Ed25519PrivateKey, number: int, tree_size: int, root_hash: bytes, time: datetime) -> Checkpoint:
    assert tree_size >= 0 and len(root_hash) == merkle.HASH_BYTES
    unsigned = Checkpoint(number, ORIGIN, tree_size, b64(root_hash), time.isoformat(), key_id(key.public_key()), "")
    return Checkpoint(**{**asdict(unsigned), "signature": b64(key.sign(unsigned.message()))})


def checkpoint_from(document: Any) -> Checkpoint:
    if not isinstance(document, dict):
        raise ProofFailed("the checkpoint is not a JSON object")
    try:
        checkpoint = Checkpoint(
            number=int(document["number"]), origin=str(document["origin"]), tree_size=int(document["tree_size"]),
            root_hash=str(document["root_hash"]), time=str(document["time"]), key_id=str(document["key_id"]),
            signature=str(document["signature"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProofFailed(f"the checkpoint lacks or garbles a field: {error}") from error
    return checkpoint


# --- the signed note text form (C2SP signed-note, tlog-checkpoint) ---------------------------

@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes  # 4 bytes
    signature: bytes


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """(note text, signature lines) of a signed note; ProofFailed if it is not one (C2SP signed-note)."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise ProofFailed("a signed note must not contain control characters other than newline")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise ProofFailed("not a signed note: no blank line before the signatures, or no final newline")
    body, lines = text[:split + 1], text[split + 2:].splitlines()
    if not lines:
        raise ProofFailed("the signed note has no signature line")
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH or not parts[1] or "+" in parts[1]:
            raise ProofFailed(f"not a note signature line: {line[:80]!r}")
        blob = unb64(parts[2], "a note signature")
        if len(blob) < 5:
            raise ProofFailed("a note signature is too short")
        signatures.append(NoteSignature(parts[1], blob[:4], blob[4:]))
    return body, signatures


def checkpoint_from_note(text: str, number: int = 0, time: str = "") -> tuple[Checkpoint, list[NoteSignature]]:
    """The checkpoint a tlog-checkpoint note states, signed by its first Ed25519 signature whose
    key name is the origin, and all its signature lines (to look for a trusted key among them)."""
    body, signatures = parse_note(text)
    lines = body.split("\n")[:-1]
    if len(lines) < 3 or not all(lines[:3]):
        raise ProofFailed("a checkpoint note has an origin, a tree size and a root hash line")
    origin, size, root_hash = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ProofFailed(f"the tree size line is not a decimal number: {size[:40]!r}")
    if len(unb64(root_hash, "the root hash")) != merkle.HASH_BYTES:
        raise ProofFailed("the root hash is not 32 bytes")
    if len(lines) > 3:
        raise ProofFailed("this ledger writes no checkpoint extension lines; the note has some")
    own = [s for s in signatures if s.name == origin and len(s.signature) == 64]
    if not own:
        raise ProofFailed(f"the checkpoint note has no Ed25519 signature by its origin {origin}")
    checkpoint = Checkpoint(number, origin, int(size), root_hash, time, own[0].key_hash.hex(), b64(own[0].signature))
    return checkpoint, signatures


def verify_checkpoint(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bytes:
    """The checkpoint's root hash if its signature is the public key's; else ProofFailed."""
    if checkpoint.key_id != key_id(public, checkpoint.origin):
        raise ProofFailed(f"checkpoint #{checkpoint.number} was signed by key {checkpoint.key_id}, not by {key_id(public, checkpoint.origin)}")
    try:
        public.verify(unb64(checkpoint.signature, "the signature"), checkpoint.message())
    except (InvalidSignature, AssertionError) as error:
        raise ProofFailed(f"checkpoint #{checkpoint.number}: the signature does not verify") from error
    root = unb64(checkpoint.root_hash, "the root hash")
    if len(root) != merkle.HASH_BYTES:
        raise ProofFailed("the root hash is not 32 bytes")
    return root


# --- proofs ---------------------------------------------------------------------------------

def verify_inclusion_document(document: dict[str, Any], public: Ed25519PublicKey) -> dict[str, Any]:
    """Check an inclusion proof document; returns what it proves, or raises ProofFailed."""
    from ledger.store.chain import decode_leaf

    checkpoint = checkpoint_from(document.get("checkpoint"))
    root = verify_checkpoint(checkpoint, public)
    leaf_data = unb64(document.get("leaf_data"), "leaf_data")
    leaf = merkle.leaf_hash(leaf_data)
    if document.get("leaf_hash") is not None and unb64(document["leaf_hash"], "leaf_hash") != leaf:
        raise ProofFailed("leaf_hash is not the hash of leaf_data")
    try:
        position, stream, version, topic, state = decode_leaf(leaf_data)
    except ValueError as error:
        raise ProofFailed(f"leaf_data is not an event: {error}") from error
    if position != document.get("position"):
        raise ProofFailed(f"leaf_data is the event at position {position}, not {document.get('position')}")
    payload_checked = _check_payload(document, stream, version, topic, state)
    proof = [unb64(node, "a proof node") for node in document.get("inclusion_proof") or []]
    try:
        merkle.verify_inclusion(leaf, int(document.get("leaf_index", -1)), checkpoint.tree_size, proof, root)
    except merkle.ProofError as error:
        raise ProofFailed(f"inclusion proof: {error}") from error
    return {"transaction": document.get("transaction"), "position": position, "leaf_index": document["leaf_index"],
            "checkpoint": checkpoint.number, "tree_size": checkpoint.tree_size, "payload_checked": payload_checked}


def _check_payload(document: dict[str, Any], stream: Any, version: int, topic: str, state: bytes) -> bool:
    """The proof's readable claims (`transaction`, `event`) against the proven leaf's payload.

    True when they were checked; False when the payload is encrypted (only its bytes are proven).
    """
    import orjson
    from eventsourcing.persistence import Mapper, StoredEvent

    from ledger.integrity.document import event_document, plain
    from ledger.store.transcoder import MsgpackTranscoder

    try:
        event = Mapper(MsgpackTranscoder()).to_domain_event(StoredEvent(stream, version, topic, state))
        claimed = event_document(event)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - an encrypted (or foreign) payload cannot be read here
        return False
    if event.command_id != document.get("transaction"):  # type: ignore[attr-defined]
        raise ProofFailed(f"the proven event is transaction {event.command_id}, not {document.get('transaction')}")  # type: ignore[attr-defined]
    if "event" in document:
        normalise = lambda value: orjson.loads(orjson.dumps(value, default=plain))  # noqa: E731
        if normalise(document["event"]) != normalise(claimed):
            raise ProofFailed("the event document in the proof is not what the proven leaf records")
    return True


def verify_consistency_document(document: dict[str, Any], public: Ed25519PublicKey) -> dict[str, Any]:
    old, new = checkpoint_from(document.get("old")), checkpoint_from(document.get("new"))
    old_root, new_root = verify_checkpoint(old, public), verify_checkpoint(new, public)
    proof = [unb64(node, "a proof node") for node in document.get("consistency_proof") or []]
    try:
        merkle.verify_consistency(old.tree_size, new.tree_size, old_root, new_root, proof)
    except merkle.ProofError as error:
        raise ProofFailed(f"consistency proof #{old.number} → #{new.number}: {error}") from error
    return {"old": old.number, "new": new.number, "old_size": old.tree_size, "new_size": new.tree_size}
