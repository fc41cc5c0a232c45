"""The auditors' console: server-rendered pages at `/` (issue 12).

Overview, colors (list and a color's page with its trace diagram, holders, history and an as-of
control), the flags inbox with case work (dispositions), a party's page, a transaction's page with
its provenance and a download of its inclusion proof, a contract's events. Pages are Jinja2
templates shipped in this package; the style sheet and the few lines of script are served from
here too, under a Content-Security-Policy that allows nothing from elsewhere, so the console works
offline and every page works without JavaScript (the script only animates the trace diagram and
labels the as-of slider).

Signing in: the session cookie `ledger.http.api.session` sets (`/login`, an API token); a page
asked without a valid one redirects to `/login?next=...`. Every page needs the `read` action of
the ledger's roles policy; recording a disposition needs `dispose_flag` (auditors).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.cases import DISPOSITIONS, STATUS_FILTERS
from domain.errors import InvalidValue
from domain.identifiers import PILOTS
from domain.money import format_kzt
from domain.roles import READ
from ledger.app import APPLIED, DUPLICATE, UnknownFlag
from ledger.http.auth import SESSION_COOKIE, Principal, get_service
from ledger.http.console import data
from ledger.http.service import Service
from ledger.integrity.audit import NotProvable
from ledger.render.trace_html import render_trace_parts
from ledger.roles import NotAllowed
from projections.rules.engine import SEVERITIES
from projections.rules.registry import CATALOG_ORDER

HERE = Path(__file__).resolve().parent
STATIC = {"console.css": "text/css", "console.js": "text/javascript"}
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'; connect-src 'self'")
EVALUATION_ENV = "TENGE_LEDGER_EVALUATION"  # `simulate --evaluate --format json` output: simulated precision
SORT_KEYS = ("color", "pilot", "fiscal_year", "allocated_tiyn", "spent_tiyn", "held_tiyn", "flags")

router = APIRouter(tags=["console"], include_in_schema=False)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
templates.filters["kzt"] = lambda tiyn: format_kzt(int(tiyn))
templates.filters["q"] = lambda value: quote(str(value), safe="")
templates.globals.update(SEVERITIES=SEVERITIES, DISPOSITIONS=DISPOSITIONS, STATUS_FILTERS=STATUS_FILTERS,
                         PILOTS=PILOTS, RULES=CATALOG_ORDER)


def console_user(request: Request, service: Service = Depends(get_service)) -> Principal:
    """The signed-in actor (session cookie or bearer token) who may read; else to /login."""
    token = request.cookies.get(SESSION_COOKIE)
    header = request.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    actor = service.actor_of(token) if token else None
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": "/login?" + urlencode({"next": target})})
    request.state.actor = actor
    with service.acting(actor) as ledger:
        try:
            ledger.authorize(READ)
        except NotAllowed as refused:
            raise HTTPException(403, str(refused)) from refused
    return Principal(actor)


def page(request: Request, template: str, principal: Principal, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = templates.get_template(template).render(request=request, actor=principal.actor, **context)
    return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": CSP,
                                                                "X-Content-Type-Options": "nosniff",
                                                                "Referrer-Policy": "same-origin"})


def problem_page(request: Request, principal: Principal, status_code: int, message: str) -> HTMLResponse:
    return page(request, "problem.html", principal, status_code=status_code, message=message)


def simulated_precision() -> dict[str, str | None]:
    """Per rule, the simulated precision of the evaluation named by TENGE_LEDGER_EVALUATION (if any)."""
    path = os.environ.get(EVALUATION_ENV)
    if not path:
        return {}
    try:
        document = orjson.loads(Path(path).read_bytes())
        return {entry["rule"]: entry["precision"] for entry in document["rules"]}
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return {}


@router.get("/console/static/{name}")
def static(name: str) -> Response:
    if name == "trace.css" or name == "trace.js":
        parts = render_trace_parts({"color": "", "pilot": "", "allocated_tiyn": 0, "holders": [], "edges": [],
                                    "spends": [], "conservation": {"allocated_tiyn": 0, "held_tiyn": 0, "reserved_tiyn": 0,
                                                                   "spent_tiyn": 0, "returned_tiyn": 0, "ok": True}})
        body, kind = (parts.css, "text/css") if name == "trace.css" else (parts.script, "text/javascript")
    elif name in STATIC:
        body, kind = (HERE / "static" / name).read_text(encoding="utf-8"), STATIC[name]
    else:
        raise HTTPException(404, "no such file")
    return Response(body, media_type=kind, headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (pages say so with a data: URL; the login page and browsers still ask)."""
    return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, principal: Principal = Depends(console_user),
             service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        moment = data.Moment(read, None)
        flags = data.flags_with_status(read, moment)
        rows = data.colors(read, moment, flags)
        context = {"totals": data.totals_by_pilot_year(rows), "counts": data.flag_counts(flags),
                   "integrity": data.integrity_status(ledger, read), "moment": moment}
    return page(request, "overview.html", principal, **context)


@router.get("/colors", response_class=HTMLResponse)
def colors(request: Request, q: str = "", pilot: str = "", year: str = "", flagged: str = "",
           sort: str = "color", order: str = "asc", principal: Principal = Depends(console_user),
           service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        moment = data.Moment(read, None)
        rows = data.colors(read, moment, data.flags_with_status(read, moment))
    years = sorted({row["fiscal_year"] for row in rows})
    needle = q.strip().lower()
    shown = [row for row in rows
             if (not needle or any(needle in str(row[k]).lower() for k in ("color", "purpose", "administrator", "administrator_name")))
             and (not pilot or row["pilot"] == pilot) and (not year or str(row["fiscal_year"]) == year)
             and (not flagged or row["flags"] > 0)]
    sort = sort if sort in SORT_KEYS else "color"
    shown.sort(key=lambda row: (row[sort], row["color"]), reverse=order == "desc")
    return page(request, "colors.html", principal, rows=shown, total=len(rows), years=years, q=q, pilot=pilot,
                year=year, flagged=flagged, sort=sort, order=order, sort_keys=SORT_KEYS)


@router.get("/colors/{color}", response_class=HTMLResponse)
def color_page(request: Request, color: str, as_of: str = "", position: str = "",
               principal: Principal = Depends(console_user), service: Service = Depends(get_service)) -> HTMLResponse:
    asked = data.parse_as_of(as_of, position)
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        try:
            moment = data.Moment(read, asked)
        except InvalidValue as bad:
            return problem_page(request, principal, 400, f"as of: {bad}")
        try:
            allocated_at = read.color_events(color, moment.now)[0][0]  # the slider starts there
            trace = read.trace(color, moment.position, moment.as_of)
            events = read.color_events(color, moment.position, moment.as_of)
        except (data.UnknownColor, InvalidValue) as unknown:
            return problem_page(request, principal, 404, str(unknown))
        flags = data.filter_flags(data.flags_with_status(read, moment), None, None, None, None, color=color)
    parts = render_trace_parts(trace)
    history = [{"position": p, "at": ev.at.isoformat(), "type": type(ev).__name__, "transaction": ev.command_id,
                "actor": ev.actor, "summary": data.event_summary(ev)} for p, ev in events]
    return page(request, "color.html", principal, color=color, trace=trace, parts=parts, history=history, flags=flags,
                moment=moment, allocated_at=allocated_at, as_of=as_of if as_of.strip() else (asked or ""))


@router.get("/flags", response_class=HTMLResponse)
def flags_inbox(request: Request, rule: str = "", pilot: str = "", severity: str = "", status: str = "open",
                as_of: str = "", principal: Principal = Depends(console_user),
                service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        try:
            moment = data.Moment(read, as_of.strip() or None)
        except InvalidValue as bad:
            return problem_page(request, principal, 400, f"as of: {bad}")
        everything = data.flags_with_status(read, moment)
        may_dispose = _may(ledger, "dispose_flag")
    status = status if status in (*STATUS_FILTERS, "all") else "open"
    shown = data.filter_flags(everything, rule or None, pilot or None, severity or None,
                              None if status == "all" else status)
    scope = data.filter_flags(everything, rule or None, pilot or None, severity or None, None)
    return page(request, "flags.html", principal, flags=shown, counts=data.flag_counts(scope),
                precision=data.precision_rows(everything, simulated_precision()), rule=rule, pilot=pilot,
                severity=severity, status=status, as_of=as_of, moment=moment, may_dispose=may_dispose,
                query=request.url.query)


def _may(ledger: Any, action: str) -> bool:
    try:
        ledger.authorize(action)
    except NotAllowed:
        return False
    return True


@router.post("/flags/disposition")
def record_disposition(request: Request, flag: str = Form(...), disposition: str = Form(...), comment: str = Form(""),
                       back: str = Form("/flags"), principal: Principal = Depends(console_user),
                       service: Service = Depends(get_service)) -> Response:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    command_id = f"web-{now:%Y%m%d%H%M%S}-{os.urandom(4).hex()}"
    with service.acting(principal.actor) as ledger:
        service.read_side(ledger)  # opened with the server's rules before the ledger asks it about the flag
        try:
            outcome = ledger.dispose_flag(flag, disposition, comment, command_id, now)
        except NotAllowed as refused:
            return problem_page(request, principal, 403, str(refused))
        except UnknownFlag as unknown:
            return problem_page(request, principal, 404, str(unknown))
        except InvalidValue as bad:
            return problem_page(request, principal, 400, f"the disposition was not recorded: {bad}")
    assert outcome.status in (APPLIED, DUPLICATE), outcome
    target = back if back.startswith("/") and not back.startswith("//") else "/flags"
    return RedirectResponse(f"{target}#flag-{quote(flag, safe='')}", status_code=303)


@router.get("/parties/{party_id}", response_class=HTMLResponse)
def party_page(request: Request, party_id: str, as_of: str = "", principal: Principal = Depends(console_user),
               service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        try:
            moment = data.Moment(read, as_of.strip() or None)
        except InvalidValue as bad:
            return problem_page(request, principal, 400, f"as of: {bad}")
        found = data.party(ledger, read, party_id, moment)
        if found is None:
            return problem_page(request, principal, 404, f"no party {party_id}")
        flags = data.filter_flags(data.flags_with_status(read, moment), None, None, None, None, party=party_id)
    return page(request, "party.html", principal, party=found, flags=flags, moment=moment)


@router.get("/transactions/{transaction_id}", response_class=HTMLResponse)
def transaction_page(request: Request, transaction_id: str, principal: Principal = Depends(console_user),
                     service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        read = service.read_side(ledger)
        found = data.transaction(ledger, read, transaction_id)
    if found is None:
        return problem_page(request, principal, 404, f"no transaction {transaction_id}")
    return page(request, "transaction.html", principal, tx=found)


@router.get("/transactions/{transaction_id}/proof")
def transaction_proof(request: Request, transaction_id: str, principal: Principal = Depends(console_user),
                      service: Service = Depends(get_service)) -> Response:
    """The inclusion proof and its signed checkpoint, as `tenge-ledger proof TX` writes it (a download)."""
    with service.acting(principal.actor) as ledger:
        try:
            document = data.inclusion_proof(ledger, transaction_id)
        except NotProvable as problem:
            return problem_page(request, principal, 404, str(problem))
    body = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in transaction_id)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="proof-{safe}.json"'})


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(request: Request, contract_id: str, principal: Principal = Depends(console_user),
                  service: Service = Depends(get_service)) -> HTMLResponse:
    with service.acting(principal.actor) as ledger:
        ledger.authorize(READ)
        found = data.contract(ledger, contract_id)
    if found is None:
        return problem_page(request, principal, 404, f"no contract {contract_id}")
    return page(request, "contract.html", principal, contract=found)
