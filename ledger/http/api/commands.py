"""Writing: `POST /v1/commands` (one interchange command) and `POST /v1/commands/batch` (NDJSON).

A command is the JSON object of one interchange line (SPEC §3), checked by the same schemas as an
import (`ledger.schemas`, whose declarations are also the OpenAPI request body). Its `id` is its
idempotency key: the same id with the same content again answers the original outcome with
`Idempotency-Replayed: true` (`duplicate` for an applied command, `blocked` with its rule and
sentence for a blocked one); the same id with other content is a conflict.

Status: 201 applied, 200 duplicate, 400 malformed (every field error with its JSON path), 409
conflict, 422 blocked (the rule and the sentence), 401/403 authentication/role (nothing written),
503 busy with `Retry-After`. An applied money movement answers with the holder balances of its
color just before and just after it.

The batch applies its lines in order, each in its own transaction, and answers each line (NDJSON,
streamed) as it is applied; a malformed line is answered and skipped. With `atomic=true` the lines
are validated first and applied in one transaction, all or none: any malformed line → 400, any
line that would be blocked or conflict → 422 or 409 with what each would have been, and nothing
written.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from domain import commands as c
from domain import events as e
from domain.allocation import Allocation
from domain.errors import MalformedInput
from ledger.app import APPLIED, BLOCKED, CONFLICT, DUPLICATE, BatchBusy, Ledger, NotAllApplied, Outcome, color_stream
from ledger.http.auth import Principal, authenticate, get_service
from ledger.http.errors import RETRY_AFTER_SECONDS
from ledger.http.observe import COMMANDS
from ledger.http.openapi import COMMAND_BODY_REF, PROBLEM_RESPONSES, Problem
from ledger.http.service import Service
from ledger.interchange import LINE_BYTES_MAX, MalformedInputs, ParsedLine, duplicate_keys, parse_record, read_lines
from ledger.roles import NotAllowed
from ledger.schemas.values import json_kind
from projections.balances import balance_changes

router = APIRouter(tags=["commands"])

MOVEMENTS = frozenset({"allocate", "transfer", "reserve", "release", "void", "spend", "return"})
BATCH_BYTES_MAX = 64 << 20
ATOMIC_LINES_MAX = 10_000
STATUS_CODES = {APPLIED: 201, DUPLICATE: 200, BLOCKED: 422, CONFLICT: 409}
NDJSON = "application/x-ndjson"


class FieldError(BaseModel):
    """One malformed field: `field` as the import names it, `path` as a JSONPath into the body."""

    field: str = Field(examples=["items[2].unit_price"])
    path: str = Field(examples=["$.items[2].unit_price"])
    message: str
    line: int | None = Field(None, description="the NDJSON line (batches only)")


class HolderBalance(BaseModel):
    """A holder's balance of the movement's color just before and just after it, in tiyn."""

    party: str
    before_tiyn: int
    after_tiyn: int


class CommandAnswer(BaseModel):
    """What became of one command."""

    id: str | None = None
    type: str | None = None
    status: Literal["applied", "duplicate", "blocked", "conflict", "malformed", "forbidden", "busy"]
    reason: str | None = Field(None, description="the rule that blocked it (SPEC §4), or why it conflicts")
    detail: str | None = Field(None, description="the sentence explaining the outcome")
    replayed: bool = Field(False, description="the id was recorded before: this is its original outcome")
    color: str | None = None
    balances: list[HolderBalance] | None = Field(None, description="an applied money movement: the color's holders before and after it")
    errors: list[FieldError] | None = None
    line: int | None = Field(None, description="the NDJSON line (batches only)")


def _field_error(error: MalformedInput, line: int | None = None) -> FieldError:
    field = error.field
    path = "$" if field == "line" else "$" + ("" if field.startswith("[") else ".") + field
    return FieldError(field=field, path=path, message=error.message, line=line)


def parse_body(raw: bytes) -> tuple[c.Command | None, list[MalformedInput], dict[str, Any]]:
    """The command of a request body (one JSON object), or every error in it; and the object."""
    if len(raw) > LINE_BYTES_MAX:
        return None, [MalformedInput("line", f"is longer than {LINE_BYTES_MAX} bytes")], {}
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return None, [MalformedInput("line", f"is not valid JSON: {error}")], {}
    duplicates = duplicate_keys(raw, obj)
    shown = obj if isinstance(obj, dict) else {}
    if not isinstance(obj, dict):
        return None, [MalformedInput("line", f"must be a JSON object, got {json_kind(obj)}")], {}
    try:
        command = parse_record(obj)
    except MalformedInputs as malformed:
        return None, duplicates + malformed.errors, shown
    return (None, duplicates, shown) if duplicates else (command, [], shown)


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value[:64] if isinstance(value, str) else None


async def _body(request: Request, most: int) -> bytes:
    """The request body, read no further than `most` bytes (a longer one is cut there)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) >= most:
            return bytes(raw[:most])
    return bytes(raw)


# --- applying ---------------------------------------------------------------------------------

def _streams(ledger: Ledger, command_ids: Sequence[str]) -> dict[str, UUID]:
    """The stream each recorded command's events are on (from the keys table)."""
    stored = {ledger.stored_key("command:" + cid): cid for cid in command_ids}
    found = ledger.recorder.lookup_keys(list(stored))
    return {stored[key]: UUID(value[1]) for key, value in found.items() if value[1]}


def _already_recorded(ledger: Ledger, commands: Sequence[c.Command]) -> set[str]:
    return set(_streams(ledger, [command.id for command in commands]))


def movement_balances(ledger: Ledger, commands: Sequence[c.Command], outcomes: Sequence[Outcome],
                      recorded: set[str]) -> dict[str, tuple[str, list[HolderBalance]]]:
    """For each command just applied by `execute_batch` that moved money: (color, the holders'
    balances before and after it). Read from the aggregates the batch left (cached) and the
    batch's own events (those of its commands not `recorded` before), walked backwards; nothing
    else is replayed."""
    written = [cmd for cmd, outcome in zip(commands, outcomes, strict=True)
               if outcome.status == APPLIED or (outcome.status == BLOCKED and cmd.id not in recorded)]
    if not any(cmd.TYPE in MOVEMENTS and outcome.status == APPLIED for cmd, outcome in zip(commands, outcomes, strict=True)):
        return {}
    applied_ids = {cmd.id for cmd, outcome in zip(commands, outcomes, strict=True) if outcome.status == APPLIED}
    # an applied command with a color is on that color's stream; the others' streams are looked up
    streams = {cmd.id: color_stream(cmd.color) for cmd in written  # type: ignore[attr-defined]
               if cmd.id in applied_ids and isinstance(getattr(cmd, "color", None), str)}
    unknown = [cmd.id for cmd in written if cmd.id not in streams]
    if unknown:
        streams.update(_streams(ledger, unknown))
    per_stream: dict[UUID, int] = {}
    for cmd in written:
        per_stream[streams[cmd.id]] = per_stream.get(streams[cmd.id], 0) + 1
    answers: dict[str, tuple[str, list[HolderBalance]]] = {}
    for stream, count in per_stream.items():
        allocation = ledger.loaded(stream)
        if not isinstance(allocation, Allocation):
            continue
        events = list(ledger.events.get(stream, gt=allocation.version - count, lte=allocation.version))
        balances = dict(allocation.balances)
        for event in reversed(events):
            after = dict(balances)
            for _, _color, holder, delta in balance_changes(0, event):
                balances[holder] = balances.get(holder, 0) - delta
            if isinstance(event, (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased,
                                  e.ReservationVoided, e.FundsSpent, e.FundsReturned)):
                holders = sorted(set(after) | set(balances))
                answers[event.command_id] = (event.color, [
                    HolderBalance(party=h, before_tiyn=balances.get(h, 0), after_tiyn=after.get(h, 0)) for h in holders])
    return answers


def _answers(commands: Sequence[c.Command], outcomes: Sequence[Outcome], recorded: set[str],
             balances: dict[str, tuple[str, list[HolderBalance]]], lines: Sequence[int | None] | None = None
             ) -> list[CommandAnswer]:
    answers = []
    for n, (cmd, outcome) in enumerate(zip(commands, outcomes, strict=True)):
        replayed = cmd.id in recorded and outcome.status in (DUPLICATE, BLOCKED)
        color, holders = balances.get(cmd.id, (getattr(cmd, "color", None), None))
        COMMANDS.labels(cmd.TYPE, outcome.status).inc()
        answers.append(CommandAnswer(id=cmd.id, type=cmd.TYPE, status=outcome.status, reason=outcome.reason,  # type: ignore[arg-type]
                                     detail=outcome.detail, replayed=replayed, color=color, balances=holders,
                                     line=lines[n] if lines else None))
    return answers


class AtomicRefused(Exception):
    """An atomic batch not applied: what each command would have been."""

    def __init__(self, answers: list[CommandAnswer]) -> None:
        super().__init__(f"{len(answers)} command(s) not applied")
        self.answers = answers


def apply_commands(service: Service, actor: str, commands: Sequence[c.Command], atomic: bool = False,
                   lines: Sequence[int | None] | None = None) -> list[CommandAnswer]:
    """Apply `commands` as `actor` in one transaction (`atomic`: all or none, else `AtomicRefused`)."""
    with service.acting(actor) as ledger:
        recorded = _already_recorded(ledger, commands)  # (execute_batch checks the roles policy)
        try:
            outcomes = ledger.execute_batch(commands, all_or_nothing=atomic)
        except NotAllApplied as refused:
            raise AtomicRefused(_answers(commands, refused.outcomes, recorded, {}, lines)) from refused
        return _answers(commands, outcomes, recorded, movement_balances(ledger, commands, outcomes, recorded), lines)


def _dump(answer: CommandAnswer) -> dict[str, Any]:
    return answer.model_dump(exclude_none=True)


def _respond(answer: CommandAnswer) -> JSONResponse:
    status = STATUS_CODES[answer.status]
    headers = {"Idempotency-Replayed": "true"} if answer.replayed else None
    return JSONResponse(_dump(answer), status_code=status, headers=headers)


COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": CommandAnswer, "description": "applied"},
    200: {"model": CommandAnswer, "description": "a duplicate: the id was applied before with this content "
                                                 "(`Idempotency-Replayed: true`)"},
    400: {"model": CommandAnswer, "description": "malformed: every field error, with its JSON path; nothing written"},
    409: {"model": CommandAnswer, "description": "conflict: the id was used before for other content; nothing written"},
    422: {"model": CommandAnswer, "description": "blocked by a rule of SPEC §4 (`reason`, `detail`); the attempt is "
                                                 "recorded, the money does not move"},
    **PROBLEM_RESPONSES,
}


@router.post("/v1/commands", status_code=201, responses=COMMAND_RESPONSES, response_model=CommandAnswer,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": COMMAND_BODY_REF}}}}})
async def post_command(request: Request, principal: Principal = Depends(authenticate),
                       service: Service = Depends(get_service)) -> Response:
    """Apply one interchange command (SPEC §3) as the token's actor."""
    raw = await _body(request, LINE_BYTES_MAX + 1)  # one byte more than a line may have: parse_body names it
    command, errors, obj = parse_body(raw)
    if command is None:
        COMMANDS.labels(_text(obj, "type") or "unknown", "malformed").inc()
        answer = CommandAnswer(id=_text(obj, "id"), type=_text(obj, "type"), status="malformed",
                               detail=f"{len(errors)} problem(s) in the command; nothing was written",
                               errors=[_field_error(error) for error in errors])
        return JSONResponse(_dump(answer), status_code=400)
    [answer] = await run_in_threadpool(apply_commands, service, principal.actor, [command])
    return _respond(answer)


# --- batches ------------------------------------------------------------------------------------

BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "NDJSON: one `CommandAnswer` per line, in order, each written as it is applied "
                         "(atomic: all applied, or duplicates)", "content": {NDJSON: {"schema": {"type": "string"}}}},
    201: {"description": "atomic: all applied (NDJSON answers)", "content": {NDJSON: {"schema": {"type": "string"}}}},
    400: {"description": "atomic: malformed lines (NDJSON, one `FieldError`-bearing answer per line); nothing written",
          "content": {NDJSON: {"schema": {"type": "string"}}}},
    409: {"description": "atomic: an id reused with other content (NDJSON answers); nothing written",
          "content": {NDJSON: {"schema": {"type": "string"}}}},
    413: {"description": "the body is too large", "model": Problem},
    422: {"description": "atomic: some line would be blocked (NDJSON answers); nothing written",
          "content": {NDJSON: {"schema": {"type": "string"}}}},
    **PROBLEM_RESPONSES,
}


def _ndjson(answers: Sequence[CommandAnswer]) -> bytes:
    return b"".join(orjson.dumps(_dump(answer)) + b"\n" for answer in answers)


def _malformed_line(parsed: ParsedLine) -> CommandAnswer:
    COMMANDS.labels("unknown", "malformed").inc()
    return CommandAnswer(status="malformed", line=parsed.line, detail=f"{len(parsed.errors)} problem(s) on line {parsed.line}",
                         errors=[_field_error(error, parsed.line) for error in parsed.errors])


@router.post("/v1/commands/batch", responses=BATCH_RESPONSES, response_class=StreamingResponse,
             openapi_extra={"requestBody": {"required": True, "content": {NDJSON: {"schema": {
                 "type": "string", "description": "interchange commands, one JSON object per line (SPEC §3)"}}}}})
async def post_batch(request: Request, atomic: bool = Query(False, description="apply all lines or none"),
                     principal: Principal = Depends(authenticate), service: Service = Depends(get_service)) -> Response:
    """Apply NDJSON commands in order, answering each line as it is applied (or all or none)."""
    raw = await _body(request, BATCH_BYTES_MAX + 1)
    if len(raw) > BATCH_BYTES_MAX:
        return JSONResponse({"detail": f"a batch is at most {BATCH_BYTES_MAX} bytes"}, status_code=413)
    parsed = list(read_lines(io.BytesIO(raw), "body"))
    if atomic:
        return await _atomic(parsed, principal, service)
    return StreamingResponse(_stream_lines(parsed, principal, service), media_type=NDJSON)


async def _atomic(parsed: list[ParsedLine], principal: Principal, service: Service) -> Response:
    bad = [p for p in parsed if p.command is None]
    if bad:
        return Response(_ndjson([_malformed_line(p) for p in bad]), status_code=400, media_type=NDJSON)
    if len(parsed) > ATOMIC_LINES_MAX:
        return JSONResponse({"detail": f"an atomic batch has at most {ATOMIC_LINES_MAX} lines"}, status_code=413)
    if not parsed:
        return Response(b"", status_code=200, media_type=NDJSON)
    commands = [p.command for p in parsed if p.command is not None]
    try:
        answers = await run_in_threadpool(apply_commands, service, principal.actor, commands, True, [p.line for p in parsed])
    except AtomicRefused as refused:
        answers = refused.answers
        status = 409 if any(a.status == CONFLICT for a in answers) else 422
        return Response(_ndjson(answers), status_code=status, media_type=NDJSON)
    status = 201 if any(a.status == APPLIED for a in answers) else 200
    return Response(_ndjson(answers), status_code=status, media_type=NDJSON)


async def _stream_lines(parsed: list[ParsedLine], principal: Principal, service: Service) -> AsyncIterator[bytes]:
    for p in parsed:
        if p.command is None:
            yield _ndjson([_malformed_line(p)])
            continue
        try:
            answers = await run_in_threadpool(apply_commands, service, principal.actor, [p.command], False, [p.line])
        except NotAllowed as refused:
            COMMANDS.labels(p.command.TYPE, "forbidden").inc()
            answers = [CommandAnswer(id=p.command.id, type=p.command.TYPE, status="forbidden", detail=str(refused), line=p.line)]
        except BatchBusy as busy:
            COMMANDS.labels(p.command.TYPE, "busy").inc()
            yield _ndjson([CommandAnswer(id=p.command.id, type=p.command.TYPE, status="busy", line=p.line,
                                         detail=f"{busy}; this line and the rest were not applied: send them again "
                                                f"(after {RETRY_AFTER_SECONDS} s)")])
            return
        yield _ndjson(answers)
