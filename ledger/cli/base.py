"""What the CLI modules share: exit codes (SPEC §5), the store context, option helpers."""

from __future__ import annotations

import getpass
import os
from typing import Any

import click

from domain.errors import InvalidValue, LedgerError
from ledger.render import text as render
from domain.errors import StoreError
from ledger.app import BATCH_SIZE_DEFAULT, WAIT_SECONDS_DEFAULT, Ledger, TimeZoneMismatch, authorize_without_ledger
from ledger.roles import Policy, check_actor, load_roles
from ledger.read import ReadSide
from projections.rules.config import RulesConfigError, load_config
from ledger.store.errors import StoreFailure
from ledger.store.preflight import check_store
from ledger.store.url import StoreConfig, parse_store_url
from ledger.store.errors import EXIT_BUSY as STORE_BUSY, EXIT_IO as STORE_IO, EXIT_UNAVAILABLE as STORE_UNAVAILABLE

# SPEC §5's exit codes, defined once: the commands return these, docs/exit-codes.md is generated from EXIT_CODES.
EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_TAMPERED = 3
EXIT_UNAVAILABLE = STORE_UNAVAILABLE  # the store's failures carry their code (ledger/store/errors.py)
EXIT_INTERNAL = 70
EXIT_IO_ERROR = STORE_IO
EXIT_BUSY = STORE_BUSY
EXIT_NOT_PERMITTED = 77

EXIT_CODES: dict[int, tuple[str, str]] = {  # code -> (constant, meaning), in SPEC §5's words
    EXIT_OK: ("EXIT_OK", "success (duplicates included)"),
    EXIT_BLOCKED: ("EXIT_BLOCKED", "some commands blocked by the enforcement rules of SPEC §4 (the rest applied), "
                   "or an id reused with different content"),
    EXIT_USAGE: ("EXIT_USAGE", "malformed input or usage: nothing at all was written, and every error names "
                 "the file, the line and the field"),
    EXIT_TAMPERED: ("EXIT_TAMPERED", "`verify` found tampering or inconsistency (a damaged or unreadable store included)"),
    EXIT_UNAVAILABLE: ("EXIT_UNAVAILABLE", "the store is unavailable (server unreachable, unknown database, user or "
                       "schema, missing file for a read)"),
    EXIT_INTERNAL: ("EXIT_INTERNAL", "internal error (a bug: the only code that may print a traceback, and only "
                    "with `--debug`)"),
    EXIT_IO_ERROR: ("EXIT_IO_ERROR", "store I/O error (read-only store, disk full): whole batches already written "
                    "stay written, and the same import run again completes"),
    EXIT_BUSY: ("EXIT_BUSY", "busy: other writers held what this command needed past `--wait` (default 60 s), "
                "with what was applied reported"),
    EXIT_NOT_PERMITTED: ("EXIT_NOT_PERMITTED", "not permitted by the ledger's roles policy, nothing written"),
}
assert all(globals()[name] == code for code, (name, _) in EXIT_CODES.items()), "EXIT_CODES names its constants"


class UsageProblem(click.ClickException):
    """Bad input on the command line: exit 2, one clear line on stderr."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class Context:
    """What every subcommand shares: the store, opened on first use, and who is acting.

    The CLI only says who acts (`--actor`, default the login name) and which bootstrap policy
    `--roles` names; the application (`Ledger`, the read side) decides what they may do.
    """

    def __init__(self, store_url: str, rules_path: str | None = None, actor: str | None = None,
                 roles_path: str | None = None, time_zone: str | None = None) -> None:
        self.store_url = store_url
        self.time_zone = time_zone
        self.rules_path = rules_path
        self.actor = actor if actor is not None else getpass.getuser()
        self.roles_path = roles_path
        self.creates = True  # False for read commands: a missing store is then an error, never created
        self.wait_seconds = WAIT_SECONDS_DEFAULT  # `--wait` of a writing command (SPEC §5)
        self._ledger: Ledger | None = None

    def ledger(self, batch_size: int | None = None, sealed_ok: bool = False) -> Ledger:
        """The store's ledger; `sealed_ok`: an encrypted store may be opened without its key (verify)."""
        if self._ledger is None:
            config = store_config(self.store_url)
            cipher_key = os.environ.get("TENGE_LEDGER_KEY") or None
            check_actor(self.actor)  # the CLI always names somebody: "" is malformed here (exit 2)
            roles = self.bootstrap_roles()
            config = check_store(config, create=self.creates)
            try:
                self._ledger = Ledger(config, batch_size=batch_size or BATCH_SIZE_DEFAULT, cipher_key=cipher_key,
                                      actor=self.actor, sealed_ok=sealed_ok, roles=roles, time_zone=self.time_zone,
                                      wait_seconds=self.wait_seconds)
            except StoreFailure:
                raise
            except StoreError as problem:
                raise UsageProblem(str(problem)) from problem
            except (TimeZoneMismatch, InvalidValue) as problem:  # a usage error whatever the store (exit 2)
                raise UsageProblem(f"--time-zone: {problem}") from problem
        return self._ledger

    def close(self) -> None:
        """Release the store's connections (the CLI calls this when a command ends)."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def bootstrap_roles(self) -> Policy:
        """The `--roles` file's policy: in force only while the store has none recorded."""
        return load_roles(self.roles_path)

    def authorize_without_ledger(self, *actions: str) -> None:
        """For commands that write no store (keygen): the same check, without creating a store."""
        authorize_without_ledger(store_config(self.store_url), self.actor, self.bootstrap_roles(), *actions,
                                 cipher_key=os.environ.get("TENGE_LEDGER_KEY") or None)

    def read_side(self) -> ReadSide:
        """The ledger's projections, with the rule thresholds of `--rules` (default RULES.md)."""
        try:
            rules = load_config(self.rules_path)
        except RulesConfigError as problem:
            raise UsageProblem(str(problem)) from problem
        return self.ledger().read_side(rules)


def store_config(url: str) -> StoreConfig:
    try:
        config = parse_store_url(url)
    except LedgerError as problem:
        raise UsageProblem(str(problem)) from problem
    return config


def format_choice(*formats: str) -> Any:
    """The `--format` option with these choices (default: table on a terminal, json when piped)."""
    return click.option(
        "--format", "fmt", type=click.Choice(formats), default=None,
        help=f"{' | '.join(formats)}; default table on a terminal, json when piped",
    )


format_option = format_choice(*render.FORMATS)


def as_of_option(fn: Any) -> Any:
    return click.option(
        "--as-of", "as_of", metavar="T|@N",
        help="answer as the ledger stood at business time T (RFC 3339; a bare date is the end of that day "
             "in the ledger's time zone), color by color, or at store position @N",
    )(fn)


def checked(parse: Any, value: str | None, what: str) -> str | None:
    """A validated identifier from the command line; malformed input exits 2."""
    if value is None:
        return None
    try:
        parsed = parse(value)
    except InvalidValue as problem:
        raise UsageProblem(f"{what}: {problem}") from problem
    return parsed.text if hasattr(parsed, "text") else parsed
