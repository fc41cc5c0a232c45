"""Integrity commands (SPEC §7): keygen, checkpoint, proof, consistency, verify-proof, verify."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from ledger.render import text as render
from ledger.integrity.audit import Audit, NotProvable
from ledger.integrity.checkpoints import (
    DEFAULT_KEY_PATH,
    KeyFileError,
    ProofFailed,
    checkpoint_from_note,
    load_private_key,
    load_public_key,
    verify_consistency_document,
    verify_inclusion_document,
    write_key_pair,
)
from ledger.store.cipher import new_key
from ledger.cli.base import EXIT_OK, EXIT_TAMPERED, Context, UsageProblem, format_choice
from ledger.integrity.verify_runs import record_verify_run
from ledger.integrity.verify import HeldCheckpoint, Verifier
from ledger.render.progress import progress_bars

VERIFY_BAR_MIN_EVENTS = 20_000  # below, verify takes about a second: no bar

KEY_OPTION_HELP = "the Ed25519 signing key (env TENGE_LEDGER_SIGNING_KEY)"


def _emit(document: Any, out: str | None) -> None:
    data = orjson.dumps(document, default=render.plain, option=orjson.OPT_INDENT_2) + b"\n"
    if out:
        Path(out).write_bytes(data)
        click.echo(f"wrote {out}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@click.command()
@click.option("--out", "out_path", default=DEFAULT_KEY_PATH, show_default=True, type=click.Path(dir_okay=False),
              help="private key file (mode 0600); the public key goes to PATH.pub")
@click.option("--cipher", "cipher", is_flag=True, help="write an AES key for TENGE_LEDGER_KEY to PATH instead")
@click.pass_obj
def keygen(obj: Context, out_path: str, cipher: bool) -> int:
    """Write a new Ed25519 key pair for signing checkpoints (the private key is never printed)."""
    obj.authorize_without_ledger("keygen")
    if cipher:
        return _write_cipher_key(Path(out_path))
    try:
        private, public = write_key_pair(Path(out_path))
    except KeyFileError as problem:
        raise UsageProblem(str(problem)) from problem
    click.echo(f"wrote {private} (private, mode 0600) and {public} (public: give it to auditors)", err=True)
    return EXIT_OK


def _write_cipher_key(path: Path) -> int:
    if path.exists():
        raise UsageProblem(f"{path} exists; refusing to overwrite a key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(new_key() + "\n")
    click.echo(f"wrote {path} (mode 0600); use it with: export TENGE_LEDGER_KEY=$(cat {path})", err=True)
    return EXIT_OK


@click.command()
@click.option("--key", "key_path", envvar="TENGE_LEDGER_SIGNING_KEY", default=DEFAULT_KEY_PATH, show_default=True,
              type=click.Path(dir_okay=False), help=KEY_OPTION_HELP)
@click.option("--list", "list_only", is_flag=True, help="list the stored checkpoints instead of signing a new one")
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="also write the signed checkpoint here as a C2SP signed note (tlog-checkpoint), for an auditor to keep")
@format_choice("table", "json")
@click.pass_obj
def checkpoint(obj: Context, key_path: str, list_only: bool, out_path: str | None, fmt: str | None) -> int:
    """Sign the Merkle log's current size and root, store the checkpoint and print it.

    With --out FILE the signed note is written to FILE too (with --list: the latest checkpoint's)."""
    audit = Audit(obj.ledger())
    if list_only:
        documents = [c.document() for c in audit.checkpoints()]
    else:
        try:
            key = load_private_key(Path(key_path))
        except KeyFileError as problem:
            raise UsageProblem(str(problem)) from problem
        ledger = obj.ledger()
        mode = "auto" if ledger.position() >= VERIFY_BAR_MIN_EVENTS else "none"
        with progress_bars(mode, transient=True) as bars:
            on_leaves = bars.task("checkpoint: Merkle log", ledger.position(), start=audit.log.size) if bars.on else None
            documents = [audit.make_checkpoint(key, on_progress=on_leaves).document()]
    if out_path:
        if not documents or documents[-1]["note"] is None:
            raise UsageProblem("there is no readable checkpoint to write: run `tenge-ledger checkpoint` first (and `verify`)")
        _write_note(Path(out_path), documents[-1]["note"])
    if (fmt or render.default_format()) == "json":
        render.dump_json(documents if list_only else documents[0])
    else:
        render.print_table("Checkpoints", ["#", "tree size", "root (base64)", "time", "key"],
                           ([d["number"], d["tree_size"], d["root_hash"], d["time"], d["key_id"]] for d in documents))
    return EXIT_OK


def _write_note(path: Path, note: str) -> None:
    try:
        path.write_text(note, encoding="utf-8", newline="\n")
    except OSError as problem:
        raise UsageProblem(f"cannot write the checkpoint to {path}: {problem.strerror or problem}") from problem
    click.echo(f"wrote {path} (keep it outside the store; check the store against it with `verify --checkpoint {path}`)", err=True)


def _held_checkpoints(paths: tuple[str, ...]) -> list[HeldCheckpoint]:
    """The checkpoint notes an auditor kept; a file that is not one is a usage error naming it."""
    held = []
    for path in paths:
        try:
            checkpoint, signatures = checkpoint_from_note(Path(path).read_text(encoding="utf-8"))
        except OSError as problem:
            raise UsageProblem(f"{path}: cannot read the checkpoint: {problem.strerror or problem}") from problem
        except (UnicodeDecodeError, ProofFailed) as problem:
            raise UsageProblem(f"{path}: not a checkpoint note (C2SP tlog-checkpoint): {problem}") from problem
        held.append(HeldCheckpoint(path, checkpoint, tuple(signatures)))
    return held


@click.command()
@click.argument("transaction")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="write the proof here instead of stdout")
@click.pass_obj
def proof(obj: Context, transaction: str, out_path: str | None) -> int:
    """An inclusion proof that TRANSACTION's event is in the log signed by the latest checkpoint."""
    try:
        document = Audit(obj.ledger()).inclusion(transaction)
    except NotProvable as problem:
        raise UsageProblem(str(problem)) from problem
    _emit(document, out_path)
    return EXIT_OK


@click.command()
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="write the proof here instead of stdout")
@click.pass_obj
def consistency(obj: Context, old: int, new: int, out_path: str | None) -> int:
    """A consistency proof that checkpoint NEW's log extends checkpoint OLD's (append-only)."""
    try:
        document = Audit(obj.ledger()).consistency(old, new)
    except NotProvable as problem:
        raise UsageProblem(str(problem)) from problem
    _emit(document, out_path)
    return EXIT_OK


@click.command("verify-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False))
@click.option("--public-key", "public_key_path", required=True, type=click.Path(dir_okay=False),
              help="the ledger's public key (PATH.pub from keygen)")
def verify_proof(proof_file: str, public_key_path: str) -> int:
    """Check an inclusion or consistency proof against its signed checkpoint(s), without the store."""
    try:
        public = load_public_key(Path(public_key_path))
        document = orjson.loads(Path(proof_file).read_bytes())
    except KeyFileError as problem:
        raise UsageProblem(str(problem)) from problem
    except (OSError, orjson.JSONDecodeError) as problem:
        raise UsageProblem(f"{proof_file}: cannot read a JSON proof: {problem}") from problem
    if not isinstance(document, dict) or document.get("kind") not in ("inclusion", "consistency"):
        raise UsageProblem(f"{proof_file}: not a proof document (kind must be inclusion or consistency)")
    try:
        if document["kind"] == "inclusion":
            proven = verify_inclusion_document(document, public)
            what = (f"transaction {proven['transaction']}" if proven["payload_checked"]
                    else f"the event at position {proven['position']} (encrypted: its transaction id and content are not checked here)")
            click.echo(f"ok: {what} is leaf {proven['leaf_index']} (position {proven['position']}) "
                       f"of the {proven['tree_size']}-event log signed in checkpoint #{proven['checkpoint']}")
        else:
            proven = verify_consistency_document(document, public)
            click.echo(f"ok: the {proven['new_size']}-event log of checkpoint #{proven['new']} extends the "
                       f"{proven['old_size']}-event log of checkpoint #{proven['old']}")
    except ProofFailed as failure:
        click.echo(f"proof FAILED: {failure}", err=True)
        return EXIT_TAMPERED
    return EXIT_OK


@click.command()
@click.option("--public-key", "public_key_path", type=click.Path(dir_okay=False),
              help="check checkpoint signatures with this key (as the auditor holds it) instead of the keys stored in the store; "
                   "a store with events and no checkpoint signed by it fails")
@click.option("--checkpoint", "checkpoint_paths", multiple=True, type=click.Path(dir_okay=False),
              help="a checkpoint note kept outside the store (`checkpoint --out`): the log must extend it (repeatable)")
@click.option("--record", is_flag=True,
              help="append the outcome (when, up to which position, by whom, passed or the first finding) to the store, "
                   "for the console's overview; without it verify writes nothing")
@format_choice("table", "json")
@click.pass_obj
def verify(obj: Context, public_key_path: str | None, checkpoint_paths: tuple[str, ...], record: bool,
           fmt: str | None) -> int:
    """Recompute chain, Merkle log, checkpoints, keys, domain invariants and projections; exit 3 if anything is off."""
    try:
        public = load_public_key(Path(public_key_path)) if public_key_path else None
    except KeyFileError as problem:
        raise UsageProblem(str(problem)) from problem
    held = _held_checkpoints(checkpoint_paths)
    ledger = obj.ledger(sealed_ok=True)
    if not ledger.sealed:
        obj.read_side()
    with progress_bars("auto" if ledger.position() >= VERIFY_BAR_MIN_EVENTS else "none", transient=True) as bars:
        findings = Verifier(ledger, bars.phases("verify"), public, held).run()
    if record and not ledger.sealed:  # the outcome, for the console's overview (best effort)
        record_verify_run(obj.read_side().db, ledger.position(), ledger.actor, findings)
    fmt = fmt or render.default_format()
    if fmt == "json":
        render.dump_json({"ok": not findings, "position": ledger.position(), "sealed": ledger.sealed,
                          "checkpoints_held": len(held), "findings": [f.document() for f in findings]})
    elif findings:
        click.echo(f"verify FAILED: {findings[0]}", err=True)
        for finding in findings[1:20]:
            click.echo(f"  also {finding}", err=True)
    elif ledger.sealed:
        click.echo(f"ok: {ledger.position()} events: hash chain, Merkle log and checkpoints{_held_note(held)} agree (the store is encrypted: "
                   "set TENGE_LEDGER_KEY to check the invariants and projections too)")
    else:
        click.echo(f"ok: {ledger.position()} events: hash chain, Merkle log, checkpoints{_held_note(held)}, keys, invariants "
                   "and projections all agree")
    return EXIT_TAMPERED if findings else EXIT_OK


def _held_note(held: list[HeldCheckpoint]) -> str:
    return f" (and {len(held)} held outside the store)" if held else ""


AUDIT_COMMANDS: list[Any] = [keygen, checkpoint, proof, consistency, verify_proof, verify]
