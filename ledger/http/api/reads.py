"""Reading: colors, a color (summary and conservation), its trace (SPEC §6.1, JSON or the HTML page),
history, balances, a party, a transaction (provenance and inclusion proof), flags (§6.2),
checkpoints and consistency proofs.

Every read needs the `read` action and takes `as_of` as the CLI's `--as-of` does: an RFC 3339
business time, a date (the end of that day in the ledger's time zone), or `@N` (the store's first
N positions). Lists are paged with an opaque `cursor` that also pins the store position the first
page was answered at, so later pages never shift while the ledger grows.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from domain import events as e
from domain.errors import InvalidValue
from domain.identifiers import PILOTS, parse_color, parse_party_id
from domain.roles import READ
from ledger.app import Ledger
from ledger.http.auth import Principal, get_service, require
from ledger.http.openapi import READ_RESPONSES, Problem
from ledger.http.service import Service
from ledger.integrity.audit import Audit, NotProvable
from ledger.integrity.document import event_document
from ledger.read import ReadSide, UnknownColor, status_matches
from ledger.render.trace_html import render_trace_html
from projections.rules.engine import SEVERITIES
from projections.rules.registry import CATALOG_ORDER

router = APIRouter(tags=["read"])

AS_OF = Query(None, description="business time (RFC 3339), a date YYYY-MM-DD, or @N (the store's first N positions)",
              examples=["2025-06-30", "@120"], max_length=64)
LIMIT = Query(100, ge=1, le=1000, description="items per page")
CURSOR = Query(None, description="the `next_cursor` of the previous page", max_length=512)
NOT_FOUND = {404: {"model": Problem, "description": "not in the ledger (as of that time)"}}


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Me(BaseModel):
    actor: str
    role: str | None


class ColorSummary(Open):
    color: str
    pilot: str
    fiscal_year: int
    program: str
    purpose: str
    administrator: str
    treasury: str
    allocated_tiyn: int
    expires_on: str
    region: str | None = None
    position: int = Field(description="the store position of the allocation")


class ColorsPage(BaseModel):
    items: list[ColorSummary]
    next_cursor: str | None
    position: int = Field(description="the store position the list is as of")


class Conservation(Open):
    allocated_tiyn: int
    held_tiyn: int
    reserved_tiyn: int
    spent_tiyn: int
    returned_tiyn: int
    ok: bool


class ColorDetail(Open):
    color: str
    as_of: str
    position: int
    allocation: ColorSummary
    holders: int
    conservation: Conservation


class Trace(Open):
    """SPEC §6.1."""

    color: str
    pilot: str
    allocated: str
    allocated_tiyn: int
    as_of: str | None = None
    holders: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    spends: list[dict[str, Any]]
    conservation: Conservation


class History(BaseModel):
    color: str
    as_of: str
    position: int
    events: list[dict[str, Any]]


class BalanceRow(BaseModel):
    color: str
    party: str
    name: str
    balance_tiyn: int


class Balances(BaseModel):
    as_of: str
    position: int
    balances: list[BalanceRow]


class PartyColor(BaseModel):
    color: str
    balance_tiyn: int
    received_tiyn: int
    paid_on_tiyn: int
    spent_tiyn: int
    returned_tiyn: int
    reserved_tiyn: int


class Party(BaseModel):
    party: str
    name: str | None
    as_of: str
    position: int
    colors: list[PartyColor]
    flows: list[dict[str, Any]] = Field(description="payments to or from the party: trace edges with the color")
    spends: list[dict[str, Any]] = Field(description="the party's final spends, with their provenance paths")


class Transaction(BaseModel):
    transaction: str
    events: list[dict[str, Any]]
    provenance: list[dict[str, Any]] = Field(description="spends: the paths from the allocation; payments: the "
                                                          "trace edges that carried it")
    proof: dict[str, Any] | None = Field(description="the inclusion proof against the latest checkpoint, if one covers it")
    proof_problem: str | None = None


class Flag(Open):
    """SPEC §6.2."""

    rule: str
    severity: str
    explanation: str


class FlagsPage(BaseModel):
    items: list[Flag]
    next_cursor: str | None
    position: int


# --- helpers --------------------------------------------------------------------------------------

@contextmanager
def asking(service: Service, principal: Principal, as_of: str | None) -> Iterator[tuple[Ledger, ReadSide, int, int]]:
    """(ledger, read side, now, position of as_of) for one question, as the principal."""
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        now = read.catch_up()
        yield ledger, read, now, read.resolve_as_of(as_of, now)


def checked(parse: Any, value: str, what: str) -> str:
    try:
        parsed = parse(value)
    except InvalidValue as problem:
        raise InvalidValue(f"{what}: {problem}") from problem
    return str(parsed.text if hasattr(parsed, "text") else parsed)


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if cursor is None:
        return {}
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as problem:
        raise InvalidValue("cursor: not a cursor this server gave") from problem
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or data["p"] < 0:
        raise InvalidValue("cursor: not a cursor this server gave")
    return data


def _pinned(cursor: dict[str, Any], position: int) -> int:
    """A later page answers at the position the first page was answered at."""
    return min(int(cursor["p"]), position) if cursor else position


def _as_of_text(as_of: str | None, position: int) -> str:
    return as_of or f"@{position}"


def _wall_time(as_of: str | None) -> datetime | None:
    """Flags with no as_of are judged as of now (SPEC §5)."""
    return datetime.now(UTC) if as_of is None else None


# --- routes ---------------------------------------------------------------------------------------

@router.get("/v1/me", response_model=Me, responses=READ_RESPONSES)
def me(principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Me:
    """Who the token acts as, and their role under the ledger's roles policy (null: no policy recorded)."""
    with service.acting(principal.actor) as ledger:
        policy, _version = ledger.policy()
    return Me(actor=principal.actor, role=(policy.actors or {}).get(principal.actor))


@router.get("/v1/colors", response_model=ColorsPage, responses=READ_RESPONSES)
def colors(pilot: str | None = Query(None, description="ROAD, AGRO or LOCAL", pattern="^(ROAD|AGRO|LOCAL)$"),
           fiscal_year: int | None = Query(None, ge=1900, le=9999),
           administrator: str | None = Query(None, description="the administrator's BIN", max_length=12),
           flagged: bool | None = Query(None, description="only colors with (true) or without (false) flags"),
           as_of: str | None = AS_OF, cursor: str | None = CURSOR, limit: int = LIMIT,
           principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> ColorsPage:
    """Allocated colors, in color order, filtered and paged."""
    assert pilot is None or pilot in PILOTS
    admin = checked(parse_party_id, administrator, "administrator") if administrator else None
    after = decode_cursor(cursor)
    with asking(service, principal, as_of) as (_ledger, read, now, position):
        position = _pinned(after, position)
        rows = [row for row in read.colors_allocated(position)
                if (pilot is None or row["pilot"] == pilot) and (fiscal_year is None or row["fiscal_year"] == fiscal_year)
                and (admin is None or row["administrator"] == admin) and row["color"] > after.get("a", "")]
        if flagged is not None:
            marked = {flag["color"] for flag in read.flags(position, now, as_of, _wall_time(as_of))}
            rows = [row for row in rows if (row["color"] in marked) == flagged]
    page = rows[:limit]
    more = encode_cursor({"a": page[-1]["color"], "p": position}) if len(rows) > limit else None
    return ColorsPage(items=[ColorSummary(**row) for row in page], next_cursor=more, position=position)


def _color(color: str) -> str:
    return checked(parse_color, color, "color")


COLOR = Path(description="a color, e.g. ROAD-2025-041-000001-98", max_length=64)


@router.get("/v1/colors/{color}", response_model=ColorDetail, responses={**READ_RESPONSES, **NOT_FOUND})
def color_detail(color: str = COLOR, as_of: str | None = AS_OF, principal: Principal = Depends(require(READ)),
                 service: Service = Depends(get_service)) -> ColorDetail:
    """A color: its allocation, how many hold it, and its conservation line."""
    color = _color(color)
    with asking(service, principal, as_of) as (_ledger, read, _now, position):
        document = read.trace(color, position, as_of)
        [allocation] = [row for row in read.colors_allocated(position) if row["color"] == color] or [None]
    if allocation is None:
        raise UnknownColor(f"color {color} was not allocated as of {_as_of_text(as_of, position)}")
    return ColorDetail(color=color, as_of=_as_of_text(as_of, position), position=position,
                       allocation=ColorSummary(**allocation), holders=len(document["holders"]),
                       conservation=Conservation(**document["conservation"]))


@router.get("/v1/colors/{color}/trace", response_model=Trace,
            responses={**READ_RESPONSES, **NOT_FOUND, 200: {"content": {"text/html": {"schema": {"type": "string"}}},
                                                            "description": "the trace (JSON), or its page (format=html)"}})
def trace(color: str = COLOR, as_of: str | None = AS_OF,
          format: str = Query("json", pattern="^(json|html)$", description="json (SPEC §6.1) or html (the page)"),  # noqa: A002
          principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Response:
    """Where the allocation went (SPEC §6.1): holders, payments, final spends with their provenance."""
    color = _color(color)
    with asking(service, principal, as_of) as (_ledger, read, _now, position):
        document = read.trace(color, position, as_of)
    if format == "html":
        return HTMLResponse(render_trace_html(document))
    return JSONResponse(Trace(**document).model_dump())


@router.get("/v1/colors/{color}/history", response_model=History, responses={**READ_RESPONSES, **NOT_FOUND})
def history(color: str = COLOR, as_of: str | None = AS_OF, principal: Principal = Depends(require(READ)),
            service: Service = Depends(get_service)) -> History:
    """The color's events in order, as recorded (blocked attempts included), with their store positions."""
    color = _color(color)
    with asking(service, principal, as_of) as (_ledger, read, _now, position):
        events = read.color_events(color, position, as_of)
    return History(color=color, as_of=_as_of_text(as_of, position), position=position,
                   events=[{"position": p, **event_document(event)} for p, event in events])


@router.get("/v1/balances", response_model=Balances, responses=READ_RESPONSES)
def balances(color: str | None = Query(None, max_length=64), party: str | None = Query(None, max_length=12),
             as_of: str | None = AS_OF, principal: Principal = Depends(require(READ)),
             service: Service = Depends(get_service)) -> Balances:
    """Balances per holder and color."""
    color = _color(color) if color else None
    party = checked(parse_party_id, party, "party") if party else None
    with asking(service, principal, as_of) as (_ledger, read, now, position):
        names = read.party_names(position)
        rows = read.balances(None if position == now and as_of is None else position, color, party, as_of)
    return Balances(as_of=_as_of_text(as_of, position), position=position,
                    balances=[BalanceRow(color=c, party=h, name=names.get(h, ""), balance_tiyn=t) for c, h, t in rows])


@router.get("/v1/parties/{party}", response_model=Party, responses={**READ_RESPONSES, **NOT_FOUND})
def party(party: str = Path(description="a BIN or IIN", max_length=12), as_of: str | None = AS_OF,
          principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Party:
    """A party: every color it held and every payment and spend that touches it."""
    party = checked(parse_party_id, party, "party")
    with asking(service, principal, as_of) as (_ledger, read, _now, position):
        names = read.party_names(position)
        if party not in names:
            raise UnknownColor(f"party {party} was not registered as of {_as_of_text(as_of, position)}")
        touched = set(read.holder_colors(party, position))
        touched |= {row["color"] for row in read.colors_allocated(position) if party in (row["administrator"], row["treasury"])}
        held, flows, spends = [], [], []
        for color in sorted(touched):
            try:
                document = read.trace(color, position, as_of)
            except UnknownColor:
                continue
            for holder in document["holders"]:
                if holder["party"] == party:
                    held.append(PartyColor(color=color, **{k: holder[k] for k in PartyColor.model_fields if k != "color"}))
            flows += [{"color": color, **edge} for edge in document["edges"] if party in (edge["from"], edge["to"])]
            spends += [{"color": color, **spend} for spend in document["spends"] if spend["holder"] == party]
    return Party(party=party, name=names.get(party), as_of=_as_of_text(as_of, position), position=position,
                 colors=held, flows=flows, spends=spends)


@router.get("/v1/transactions/{transaction}", response_model=Transaction, responses={**READ_RESPONSES, **NOT_FOUND})
def transaction(transaction: str = Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
                as_of: str | None = AS_OF, principal: Principal = Depends(require(READ)),
                service: Service = Depends(get_service)) -> Transaction:
    """A transaction: its events, its provenance (from the allocation to it) and its inclusion proof."""
    with asking(service, principal, as_of) as (ledger, read, _now, position):
        positions = [p for p in read.transaction_positions(transaction) if p <= position]
        if not positions:
            raise UnknownColor(f"no transaction {transaction} as of {_as_of_text(as_of, position)}")
        events = []
        for p in positions:
            [notification] = ledger.recorder.select_notifications(start=p, limit=1)
            events.append((p, ledger.mapper.to_domain_event(notification)))
        provenance: list[dict[str, Any]] = []
        colors = {event.color for _, event in events if isinstance(event, e.ColorEvent)}
        for color in sorted(colors):
            document = read.trace(color, position, as_of)
            provenance += [{"color": color, "spend": spend} for spend in document["spends"] if spend["transaction"] == transaction]
            provenance += [{"color": color, "edge": edge} for edge in document["edges"] if transaction in edge["transactions"]]
        proof, problem = None, None
        try:
            proof = Audit(ledger).inclusion(transaction)
        except NotProvable as refused:
            problem = str(refused)
    return Transaction(transaction=transaction, events=[{"position": p, **event_document(ev)} for p, ev in events],
                       provenance=provenance, proof=proof, proof_problem=problem)


@router.get("/v1/transactions/{transaction}/proof", response_model=dict[str, Any],
            responses={**READ_RESPONSES, **NOT_FOUND, 409: {"model": Problem, "description": "no checkpoint covers it yet"}})
def transaction_proof(transaction: str = Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
                      principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Response:
    """The inclusion proof document (as `tenge-ledger proof TX`), for `verify-proof`."""
    with service.acting(principal.actor) as ledger:
        audit = Audit(ledger)
        if not audit.read.transaction_positions(transaction):
            return JSONResponse({"detail": f"no transaction {transaction} in the ledger"}, status_code=404)
        try:
            document = audit.inclusion(transaction)
        except NotProvable as refused:
            return JSONResponse({"detail": str(refused)}, status_code=409)
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="proof-{transaction}.json"'})


@router.get("/v1/flags", response_model=FlagsPage, responses=READ_RESPONSES)
def flags(pilot: str | None = Query(None, pattern="^(ROAD|AGRO|LOCAL)$"), color: str | None = Query(None, max_length=64),
          rule: list[str] | None = Query(None, description="rule codes, e.g. F01 (repeatable)"),
          severity: str | None = Query(None, pattern="^(low|medium|high)$", description="at least this severe"),
          status: str | None = Query(None, pattern="^(open|confirmed|explained|false_positive|closed)$",
                                     description="case status: open, a latest disposition, or closed (any)"),
          as_of: str | None = AS_OF, cursor: str | None = CURSOR, limit: int = LIMIT,
          principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> FlagsPage:
    """Anomaly flags (SPEC §6.2) in the order raised, judged as of `as_of` (default: now)."""
    color = _color(color) if color else None
    codes = {code.upper() for code in rule or []}
    unknown = sorted(codes - set(CATALOG_ORDER))
    if unknown:
        raise InvalidValue(f"rule: no rule {', '.join(unknown)}; rules: {', '.join(CATALOG_ORDER)}")
    least = SEVERITIES.index(severity) if severity else 0
    after = decode_cursor(cursor)
    offset = after.get("o", 0)
    if not isinstance(offset, int) or offset < 0:
        raise InvalidValue("cursor: not a cursor this server gave")
    with asking(service, principal, as_of) as (_ledger, read, now, position):
        position = _pinned(after, position)
        documents = [flag for flag in read.with_status(read.flags(position, now, as_of, _wall_time(as_of)), position, now, as_of)
                     if status_matches(flag, status) and (not pilot or flag["pilot"] == pilot) and (not color or flag["color"] == color)
                     and (not codes or flag["rule"] in codes) and SEVERITIES.index(flag["severity"]) >= least]
    page = documents[offset:offset + limit]
    more = encode_cursor({"o": offset + limit, "p": position}) if len(documents) > offset + limit else None
    return FlagsPage(items=[Flag(**flag) for flag in page], next_cursor=more, position=position)


@router.get("/v1/checkpoints", response_model=list[dict[str, Any]], responses=READ_RESPONSES)
def checkpoints(principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> list[dict[str, Any]]:
    """The signed checkpoints (tree size, root, signature, C2SP note), oldest first."""
    with service.acting(principal.actor) as ledger:
        return [checkpoint.document() for checkpoint in Audit(ledger).checkpoints()]


@router.get("/v1/checkpoints/consistency", response_model=dict[str, Any],
            responses={**READ_RESPONSES, 409: {"model": Problem, "description": "the proof cannot be made"}})
def consistency(old: int = Query(ge=1, le=2**31), new: int = Query(ge=1, le=2**31),
                principal: Principal = Depends(require(READ)), service: Service = Depends(get_service)) -> Response:
    """A consistency proof that checkpoint `new`'s log extends checkpoint `old`'s (append-only)."""
    with service.acting(principal.actor) as ledger:
        try:
            document = Audit(ledger).consistency(old, new)
        except (NotProvable, LookupError) as refused:
            return JSONResponse({"detail": str(refused)}, status_code=409)
    return JSONResponse(document)
