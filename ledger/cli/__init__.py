"""The `tenge-ledger` command line (SPEC §5): the composition root for operators and auditors.

`main(argv) -> int` runs one command and returns its exit code, so tests call it directly:
0 success (duplicates included), 1 some commands blocked, 2 malformed input or usage (nothing
written), 3 verification failed, 69 store unavailable, 74 store I/O error, 77 not permitted by the
roles policy (nothing written), 70 internal error.
"""

from __future__ import annotations

import secrets
import sys
import traceback
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any

import click

from domain.errors import LedgerError
from ledger.render import text as render
from ledger.render.progress import progress_bars
from ledger.app import BLOCKED, CONFLICT, WAIT_SECONDS_DEFAULT, Outcome
from ledger.cli.base import EXIT_BLOCKED, EXIT_INTERNAL, EXIT_NOT_PERMITTED, EXIT_OK, EXIT_TAMPERED, EXIT_USAGE, Context, UsageProblem
from ledger.cli.commands import COMMAND_FLAGS, Flag, build_record, wait_option
from ledger.cli.audit import AUDIT_COMMANDS
from ledger.cli.cases import CASE_COMMANDS
from ledger.cli.export import export
from ledger.cli.project import project
from ledger.cli.read import READ_COMMANDS
from ledger.cli.roles import roles
from ledger.cli.serve import serve
from ledger.cli.tokens import token
from ledger.cli.rules import RULES_COMMANDS
from ledger.cli.simulate import SIMULATE_COMMANDS
from ledger.cli.iso import REPORT_FORMATS, pain002_answer, zone_source
from ledger.importer import ImportSummary, apply, open_sources, validate
from ledger.interchange import MalformedInputs, parse_record
from ledger.roles import NotAllowed
from ledger.store.errors import DAMAGED, EXIT_IO, store_failure
from ledger.store.url import DEFAULT_STORE_URL

DEMO_STORE_PATH = "tenge-ledger-demo.sqlite"


READ_ONLY_COMMANDS = frozenset({"balance", "trace", "history", "flags", "verify", "proof", "consistency", "export", "serve",
                                 "project", "precision", "dispose"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code.

    The one place that turns exceptions into exit codes (SPEC §5): store failures are one line
    naming the store and the cause (69 unavailable, 74 I/O; `verify` of a damaged store 3), and
    only a bug is 70, with a traceback only under `--debug`.
    """
    session: dict[str, Any] = {}
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="tenge-ledger",
                          standalone_mode=False, obj=session)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as problem:
        problem.show()
        return EXIT_USAGE if problem.exit_code in (1, 2) else problem.exit_code
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except Exception as problem:  # noqa: BLE001 - the one place that maps failures to exit codes
        return _failed(problem, session)
    return result if isinstance(result, int) else EXIT_OK


def _failed(problem: Exception, session: dict[str, Any]) -> int:
    """Exit code and one line for a command that raised `problem`."""
    context: Context | None = session.get("context")
    debug = bool(session.get("debug"))
    if debug:
        traceback.print_exc(file=sys.stderr)
    failure = store_failure(problem, context.store_url if context else "") if context else None
    if failure is not None:
        if failure.kind == DAMAGED and session.get("command") == "verify":
            click.echo(f"finding: {failure}", err=True)
            click.echo("verify: FAILED (the store is damaged or unreadable)", err=True)
            return EXIT_TAMPERED
        click.echo(f"error: {failure}", err=True)
        return failure.exit_code
    if isinstance(problem, NotAllowed):
        click.echo(f"error: {problem}", err=True)
        return EXIT_NOT_PERMITTED
    if isinstance(problem, LedgerError):
        click.echo(f"error: {problem}", err=True)
        return EXIT_USAGE
    if isinstance(problem, OSError) and problem.errno is not None:  # a file other than the store
        where = f" {problem.filename}" if problem.filename else ""
        click.echo(f"error: cannot use{where}: {problem.strerror}", err=True)
        return EXIT_IO
    click.echo(f"internal error (a bug; please report it): {type(problem).__name__}: {problem}", err=True)
    if not debug:
        click.echo("run again with --debug for the traceback", err=True)
    return EXIT_INTERNAL


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--store", envvar="TENGE_LEDGER_STORE", default=DEFAULT_STORE_URL, show_default=True,
              help="a file path, sqlite:///PATH, memory:// or postgresql://user@host:port/db (env TENGE_LEDGER_STORE)")
@click.option("--rules", "rules_path", envvar="TENGE_LEDGER_RULES", type=click.Path(dir_okay=False),
              help="TOML file of anomaly-rule thresholds per pilot (env TENGE_LEDGER_RULES); default RULES.md")
@click.option("--actor", envvar="TENGE_LEDGER_ACTOR", help="who is acting, recorded on every event (env TENGE_LEDGER_ACTOR; default: the login name)")
@click.option("--roles", "roles_path", envvar="TENGE_LEDGER_ROLES", type=click.Path(dir_okay=False),
              help="TOML file giving each actor a role: operator, auditor or admin (env TENGE_LEDGER_ROLES): "
                   "the policy `roles set` records; until the store has one recorded, also the policy enforced")
@click.option("--time-zone", "time_zone", envvar="TENGE_LEDGER_TIME_ZONE", metavar="+HH:MM",
              help="the ledger's time zone, a fixed UTC offset (+05:00, UTC+05:00); fixed by the store's first "
                   "write (default UTC+05:00), a different one later is refused (env TENGE_LEDGER_TIME_ZONE)")
@click.option("--debug", is_flag=True, help="print the traceback of an internal error")
@click.version_option(package_name="tenge-ledger")
@click.pass_context
def cli(ctx: click.Context, store: str, rules_path: str | None, actor: str | None, roles_path: str | None,
        time_zone: str | None, debug: bool) -> None:
    """tenge-ledger: an event-sourced ledger for marked (colored) budget money.

    Encryption at rest: set TENGE_LEDGER_KEY (base64 AES key, see `keygen --cipher`).
    """
    context = Context(store, rules_path, actor, roles_path, time_zone)
    context.creates = ctx.invoked_subcommand not in READ_ONLY_COMMANDS
    if isinstance(ctx.obj, dict):  # main's session: what it needs to map a failure
        ctx.obj.update(context=context, debug=debug, command=ctx.invoked_subcommand)
    ctx.obj = context
    ctx.call_on_close(context.close)


# --- import -------------------------------------------------------------------------------

@cli.command("import")
@click.argument("files", nargs=-1, required=True)
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), help="write the per-line report (JSON Lines) here")
@click.option("--report-format", type=click.Choice(REPORT_FORMATS), default="jsonl", show_default=True,
              help="jsonl: one line per command; pain.002: the ISO 20022 status report answering a pain.001 file")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1_000, show_default=True, help="commands per transaction")
@click.option("--progress", type=click.Choice(["auto", "bar", "lines", "none"]), default="auto", show_default=True,
              help="auto: a bar on a terminal; lines: one 'committed N/M' line per batch on stderr")
@click.option("--wait", "wait_seconds", type=click.IntRange(1, 86_400), default=WAIT_SECONDS_DEFAULT, show_default=True, metavar="SECONDS",
              help="wait up to SECONDS for what other writers hold, then exit 75 (busy) reporting what was applied")
@click.pass_obj
def import_command(obj: Context, files: tuple[str, ...], report_path: str | None, report_format: str, batch_size: int,
                   progress: str, wait_seconds: int) -> int:
    """Apply interchange files (JSON Lines, or pain.001.001.10 payment files) in order; '-' reads standard input."""
    obj.wait_seconds = wait_seconds
    with ExitStack() as stack:
        sources = open_sources(list(files), stack, time_zone=zone_source(obj, batch_size))
        answer, answer_path = None, None
        if report_format == "pain.002":
            if not report_path:
                raise UsageProblem("--report-format pain.002 needs --report PATH")
            answer, answer_path = pain002_answer(sources, report_path)
        summary, total, kept = validate(sources)
        if summary.error_count:
            if answer is not None:
                _write_answer(answer, answer_path)
            for error in summary.errors:
                click.echo(error, err=True)
            hidden = summary.error_count - len(summary.errors)
            click.echo(f"{summary.error_count} problem(s) in the input{f' ({hidden} not shown)' if hidden > 0 else ''}; nothing was written", err=True)
            return EXIT_USAGE
        ledger = obj.ledger(batch_size)
        report = stack.enter_context(open(report_path, "wb")) if report_path and answer is None else None
        on_batch = _progress(stack, progress, total)
        apply(ledger, sources, total, kept, summary, report, on_batch, answer.on_outcome if answer else None)
        if answer is not None:
            _write_answer(answer, answer_path)
    _print_import_summary(summary, total)
    return summary.exit_code


def _write_answer(answer: Any, path: Any) -> None:
    if answer.header is not None:
        with path.open("wb") as out:
            answer.write(out)


def _progress(stack: ExitStack, mode: str, total: int) -> Any:
    if mode == "lines":
        def on_batch(done: int, all_lines: int) -> None:
            click.echo(f"committed {done}/{all_lines}", err=True)
        return on_batch
    tick = stack.enter_context(progress_bars(mode, unit="commands")).task("importing", total)
    return None if tick is None else lambda done, _total: tick(done)


def _print_import_summary(summary: ImportSummary, total: int) -> None:
    for problem in summary.problems:
        click.echo(problem, err=True)
    counts = summary.counts
    click.echo(
        f"{total} line(s): {counts['applied']} applied, {counts['duplicate']} duplicate, "
        f"{counts['blocked']} blocked, {counts['conflict']} conflict", err=True,
    )


# --- one command each ---------------------------------------------------------------------

def _make_command(cli_name: str, command_type: str, help_text: str, flags: tuple[Flag, ...]) -> click.Command:
    def callback(**given: Any) -> int:
        obj: Context = click.get_current_context().obj
        command_id = given.pop("command_id") or f"cli-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
        at = given.pop("at") or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        fmt = given.pop("fmt") or render.default_format()
        obj.wait_seconds = given.pop("wait_seconds")
        record = build_record(command_type, flags, given, command_id, at)
        try:
            command = parse_record(record)
        except MalformedInputs as malformed:
            raise UsageProblem("; ".join(f"{_flag_name(error.field)}: {error.message}" for error in malformed.errors)) from malformed
        [outcome] = obj.ledger().execute([command])
        _print_outcome(command_type, outcome, fmt)
        return EXIT_BLOCKED if outcome.status in (BLOCKED, CONFLICT) else EXIT_OK

    params: list[click.Parameter] = [flag.to_click() for flag in flags]
    params += [
        click.Option(["--id", "command_id"], help="the command (transaction) id; generated and printed when absent"),
        click.Option(["--at"], help="business time, RFC 3339 with offset; default now"),
        click.Option(["--format", "fmt"], type=click.Choice(render.FORMATS), default=None, help="table or json"),
        wait_option(),
    ]
    return click.Command(cli_name, callback=callback, params=params, help=help_text)


def _flag_name(field: str) -> str:
    """The command-line flag a field error is about (`items[2].unit_price` → `--item #3`)."""
    name, _, rest = field.partition("[")
    flag = {"owners": "owner", "directors": "director", "officials": "official", "items": "item",
            "assets": "asset", "quantities": "quantity", "sources": "source"}.get(name, name)
    if rest:
        index = rest.split("]")[0]
        return f"--{flag.replace('_', '-')} #{int(index) + 1}" if index.isdigit() else f"--{flag}"
    return "--" + flag.replace("_", "-")


def _print_outcome(command_type: str, outcome: Outcome, fmt: str) -> None:
    document = {"id": outcome.command_id, "type": command_type, "status": outcome.status,
                "reason": outcome.reason, "detail": outcome.detail}
    if fmt == "table":
        line = f"{outcome.status} {command_type} {outcome.command_id}"
        if outcome.reason:
            line += f": {outcome.reason}: {outcome.detail}"
        click.echo(line)
    elif fmt == "jsonl":
        render.dump_jsonl([document])
    else:
        render.dump_json(document)


for _name, (_type, _help, _flags) in COMMAND_FLAGS.items():
    cli.add_command(_make_command(_name, _type, _help, _flags))


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> int:
    """Simulate a modest three-pilot year with a few misuse schemes into a fresh store, and tour it:
    a road allocation's trace, balances, the flags explained, verify."""
    from ledger.cli.demo import run_demo
    from simulations.demo import TRACED, caught, write_demo_world

    obj: Context = ctx.obj
    source = ctx.parent.get_parameter_source("store") if ctx.parent else None
    store_given = source not in (None, click.core.ParameterSource.DEFAULT)
    return run_demo(obj.store_url if store_given else DEMO_STORE_PATH, fresh_file=not store_given,
                    write_world=write_demo_world, caught=caught, traced_scheme=TRACED)


for _command in READ_COMMANDS + CASE_COMMANDS + AUDIT_COMMANDS + SIMULATE_COMMANDS + RULES_COMMANDS + [roles, project, export, serve, token]:
    cli.add_command(_command)
