"""`tenge-ledger token create --actor NAME` / `token revoke TOKEN_ID` / `token list`: API tokens
for `serve` (`ledger.tokens`). Only an admin (under the ledger's roles policy) may issue or revoke;
each is an event with its actor. `create` prints the token once: the store keeps only its digest."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import click

from ledger.cli.base import EXIT_OK, Context, UsageProblem, format_choice
from ledger.render import text as render
from ledger.roles import check_actor
from ledger.tokens import issue_token, list_tokens, revoke_token
from domain.errors import InvalidValue


def _now_and_id(prefix: str, command_id: str | None) -> tuple[datetime, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return now, command_id or f"{prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


@click.group("token")
def token() -> None:
    """API tokens for `serve` (issued and revoked by an admin)."""


@token.command("create")
@click.option("--actor", "token_actor", required=True, help="who requests with this token act as (their role: the roles policy)")
@click.option("--id", "command_id", help="the transaction id; generated when absent")
@click.pass_obj
def create(obj: Context, token_actor: str, command_id: str | None) -> int:
    """Issue a token acting as ACTOR; prints it once (the store keeps only its SHA-256)."""
    try:
        check_actor(token_actor)
    except InvalidValue as problem:
        raise UsageProblem(f"--actor: {problem}") from problem
    now, command_id = _now_and_id("token", command_id)
    token_id = secrets.token_hex(6)
    value = issue_token(obj.ledger(), token_actor, token_id, secrets.token_urlsafe(32), command_id, now)
    click.echo(value)
    click.echo(f"token {token_id} issued for {token_actor} (transaction {command_id}); it is shown only now", err=True)
    return EXIT_OK


@token.command("revoke")
@click.argument("token_id")
@click.option("--id", "command_id", help="the transaction id; generated when absent")
@click.pass_obj
def revoke(obj: Context, token_id: str, command_id: str | None) -> int:
    """Revoke the token TOKEN_ID (the part after `tl_`, also shown by `token list`)."""
    now, command_id = _now_and_id("revoke", command_id)
    try:
        changed = revoke_token(obj.ledger(), token_id, command_id, now)
    except InvalidValue as problem:
        raise UsageProblem(f"TOKEN_ID: {problem}") from problem
    click.echo(f"token {token_id} revoked (transaction {command_id})" if changed
               else f"token {token_id} was revoked already; nothing was written", err=True)
    return EXIT_OK


@token.command("list")
@format_choice("table", "json")
@click.pass_obj
def list_command(obj: Context, fmt: str | None) -> int:
    """Every token issued: its id, actor, who issued and revoked it (never the token)."""
    rows = [{"token_id": t.token_id, "actor": t.actor, "issued_by": t.issued_by, "issued_at": t.issued_at,
             "revoked_by": t.revoked_by, "revoked_at": t.revoked_at} for t in list_tokens(obj.ledger())]
    if (fmt or render.default_format()) == "json":
        render.dump_json({"tokens": rows})
    else:
        render.print_table("API tokens", ["token id", "actor", "issued by", "issued at", "revoked"],
                           ([r["token_id"], r["actor"], r["issued_by"], r["issued_at"],
                             f"{r['revoked_by']} {r['revoked_at']}" if r["revoked_by"] else ""] for r in rows))
    return EXIT_OK
