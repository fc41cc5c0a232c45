"""`tenge-ledger roles set [FILE]` / `roles show`: the roles policy recorded in the ledger.

`roles set FILE` records FILE (default: the `--roles` file) as the policy; from then on every
command is checked against it, whatever flags are given. Only an admin may change a recorded
policy (anyone may record the first one on a store that has none, as anyone may do everything
there); a policy naming no admin is refused. `roles show` prints the policy in force.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import click

from ledger.cli.base import EXIT_OK, Context, UsageProblem, format_choice
from ledger.render import text as render
from ledger.roles import load_roles


@click.group()
def roles() -> None:
    """The roles policy recorded in the ledger (who may do what)."""


@roles.command("set")
@click.argument("roles_file", required=False, type=click.Path(dir_okay=False))
@click.option("--id", "command_id", help="the transaction id; generated when absent")
@click.pass_obj
def set_roles(obj: Context, roles_file: str | None, command_id: str | None) -> int:
    """Record FILE (TOML, [actors] name = "role"; default the --roles file) as the ledger's roles policy."""
    path = roles_file or obj.roles_path
    if path is None:
        raise UsageProblem("roles set: give the roles file (roles set FILE, or --roles FILE)")
    policy = load_roles(path)
    assert policy.actors is not None
    now = datetime.now(UTC).replace(microsecond=0)
    command_id = command_id or f"roles-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    changed = obj.ledger().set_roles(policy.actors, command_id, now)
    if changed:
        click.echo(f"recorded {path} as the roles policy ({len(policy.actors)} actor(s)), transaction {command_id}", err=True)
    else:
        click.echo(f"{path} is the roles policy already; nothing was written", err=True)
    return EXIT_OK


@roles.command("show")
@format_choice("table", "json")
@click.pass_obj
def show_roles(obj: Context, fmt: str | None) -> int:
    """The roles policy in force: each actor's role, and who recorded it when."""
    ledger = obj.ledger()
    ledger.authorize("read")
    recorded = ledger.roles_policy()
    document = {
        "recorded": recorded is not None,
        "actors": dict(recorded.actors or {}) if recorded else None,
        "set_by": recorded.set_by if recorded else None,
        "set_at": recorded.set_at if recorded else None,
        "version": recorded.version if recorded else 0,
    }
    if (fmt or render.default_format()) == "json":
        render.dump_json(document)
    elif recorded is None:
        click.echo("no roles policy is recorded in this store: everyone may do everything "
                   "(or what a --roles file allows) until an admin records one with `roles set FILE`")
    else:
        render.print_table(f"Roles policy #{recorded.version}, recorded by {recorded.set_by or '(nobody named)'} at {recorded.set_at}",
                           ["actor", "role"], sorted((recorded.actors or {}).items()))
    return EXIT_OK
