"""Following the ledger: `GET /v1/stream`, Server-Sent Events of new events and new flags.

Each recorded event is a message `event: ledger-event` whose id is its store position `N`; each
flag raised by the event at position N is a message `event: flag` with id `N:k` (its k-th flag).
A client that reconnects sends the last id it saw as `Last-Event-ID` (browsers do so by
themselves) or `?after=`: the stream resumes right after it, so nothing is lost or repeated.
Filters: `color`, `pilot`, `rule` (flags of these rules only, and then no events); `follow=false`
ends the stream once it has caught up (for batch consumers and tests). While idle, a comment line
is sent every `KEEP_ALIVE_S` seconds so proxies keep the connection open.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from domain.errors import InvalidValue
from domain.identifiers import parse_color
from domain.roles import READ
from ledger.http.auth import Principal, get_service, require
from ledger.http.openapi import READ_RESPONSES
from ledger.http.service import Service
from ledger.integrity.document import event_document
from projections.rules.registry import CATALOG_ORDER

router = APIRouter(tags=["follow"])

POLL_S = 0.25  # between two looks at the store while idle
KEEP_ALIVE_S = 15.0
CHUNK_EVENTS = 500  # events read per look
EVENT_ID = re.compile(r"(\d{1,18})(?::(\d{1,9}))?")


@dataclass(frozen=True)
class Mark:
    """Where a stream stands: the event at `position` and its first `flags` flags were sent (a
    plain id `N`: the event N, none of its flags yet)."""

    position: int
    flags: int = 0


def parse_mark(text: str | None) -> Mark:
    if text is None or text == "":
        return Mark(0)
    found = EVENT_ID.fullmatch(text.strip())
    if not found:
        raise InvalidValue(f"Last-Event-ID: expected N or N:k as this stream sends, got {text[:40]!r}")
    return Mark(int(found.group(1)), int(found.group(2) or 0))


@dataclass(frozen=True)
class Filters:
    color: str | None
    pilot: str | None
    rules: frozenset[str]

    def event(self, document: dict[str, Any]) -> bool:
        if self.rules:
            return False
        color = document.get("color")
        if self.color and color != self.color:
            return False
        return not self.pilot or (isinstance(color, str) and color.startswith(self.pilot + "-"))

    def flag(self, document: dict[str, Any]) -> bool:
        return ((not self.color or document.get("color") == self.color) and (not self.pilot or document.get("pilot") == self.pilot)
                and (not self.rules or document.get("rule") in self.rules))


def message(event_id: str, kind: str, data: dict[str, Any]) -> bytes:
    return b"id: " + event_id.encode() + b"\nevent: " + kind.encode() + b"\ndata: " + orjson.dumps(data, default=str) + b"\n\n"


def next_messages(service: Service, actor: str, mark: Mark, filters: Filters) -> tuple[list[bytes], Mark, bool]:
    """The messages after `mark` (at most CHUNK_EVENTS positions), the new mark, and whether the
    stream has reached the store's head."""
    with service.acting(actor) as ledger:
        read = service.read_side(ledger)
        head = read.catch_up()
        notifications = (ledger.recorder.select_notifications(start=mark.position + 1, limit=CHUNK_EVENTS)
                         if head > mark.position else [])
        upto = min(notifications[-1].id, head) if notifications else mark.position
        flags: dict[int, list[dict[str, Any]]] = {}
        for position, document in read.flags_between(mark.position - 1, upto):
            flags.setdefault(position, []).append(document)
        out: list[bytes] = []
        # the flags of the mark's own position not yet sent
        for k, document in enumerate(flags.get(mark.position, []), start=1):
            if k > mark.flags and mark.position > 0 and filters.flag(document):
                out.append(message(f"{mark.position}:{k}", "flag", document))
        for notification in notifications:
            if notification.id > upto:
                break
            document = {"position": notification.id, **event_document(ledger.mapper.to_domain_event(notification))}
            if filters.event(document):
                out.append(message(str(notification.id), "ledger-event", document))
            for k, flag in enumerate(flags.get(notification.id, []), start=1):
                if filters.flag(flag):
                    out.append(message(f"{notification.id}:{k}", "flag", flag))
        return out, Mark(upto, len(flags.get(upto, [])) if upto > mark.position else max(mark.flags, len(flags.get(upto, [])))), upto >= head


@router.get("/v1/stream", response_class=StreamingResponse, responses={
    **READ_RESPONSES, 200: {"description": "text/event-stream: `ledger-event` and `flag` messages",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def stream(request: Request,
                 color: str | None = Query(None, max_length=64), pilot: str | None = Query(None, pattern="^(ROAD|AGRO|LOCAL)$"),
                 rule: list[str] | None = Query(None, description="only flags of these rules (and no events)"),
                 after: str | None = Query(None, description="resume after this id (as Last-Event-ID)", max_length=32),
                 follow: bool = Query(True, description="false: end once caught up"),
                 last_event_id: str | None = Header(None, max_length=32),
                 principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> StreamingResponse:
    """New events and flags as Server-Sent Events, each with its store position as its id."""
    checked_color = parse_color(color).text if color else None
    codes = frozenset(code.upper() for code in rule or [])
    unknown = sorted(codes - set(CATALOG_ORDER))
    if unknown:
        raise InvalidValue(f"rule: no rule {', '.join(unknown)}")
    mark = parse_mark(last_event_id if last_event_id is not None else after)
    filters = Filters(checked_color, pilot, codes)

    async def messages() -> AsyncIterator[bytes]:
        nonlocal mark
        yield b"retry: 2000\n\n"
        quiet_since = time.monotonic()
        while not service.stopping.is_set():
            out, mark, at_head = await run_in_threadpool(next_messages, service, principal.actor, mark, filters)
            for item in out:
                yield item
            if out:
                quiet_since = time.monotonic()
            if at_head:
                if not follow:
                    return
                if time.monotonic() - quiet_since >= KEEP_ALIVE_S:
                    yield b": keep-alive\n\n"
                    quiet_since = time.monotonic()
                if await request.is_disconnected():
                    return
                await anyio.sleep(POLL_S)

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
