"""The API side of case work on flags: `POST /v1/flags/{flag_id}/disposition` (issue 12).

The body is a disposition (`confirmed`, `explained`, `false_positive`) with a comment, an optional
transaction `id` (the idempotency key; generated when absent) and business time `at` (default
now). Answers: 201 recorded, 200 the same id with the same content was recorded already, 409 the id
was used for other content, 404 no such flag, 400 a bad value, 401/403 authentication or role (the
auditor role's `dispose_flag`). The actor recorded is the token's.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from domain.cases import COMMENT_MAX, DISPOSE_FLAG
from ledger.app import APPLIED, CONFLICT, DUPLICATE, UnknownFlag
from ledger.interchange import parse_business_time
from ledger.http.auth import Principal, get_service, require
from ledger.http.openapi import PROBLEM_RESPONSES, Problem
from ledger.http.service import Service

router = APIRouter(tags=["flags"])


class DispositionRequest(BaseModel):
    """An auditor's disposition of a flag."""

    model_config = ConfigDict(extra="forbid")
    disposition: Literal["confirmed", "explained", "false_positive"]
    comment: str = Field(min_length=1, max_length=COMMENT_MAX, pattern=r"\S")
    id: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", description="the transaction id (idempotency key)")
    at: str | None = Field(None, max_length=40, description="business time, RFC 3339 with offset; default now")


class DispositionOutcome(BaseModel):
    id: str
    flag: str
    disposition: str
    status: Literal["applied", "duplicate", "conflict"]
    reason: str | None = None
    detail: str | None = None


@router.post("/v1/flags/{flag_id}/disposition", status_code=201, response_model=DispositionOutcome,
             responses={200: {"model": DispositionOutcome, "description": "recorded before (same id, same content)"},
                        400: {"model": Problem, "description": "a malformed value (comment, id, at)"},
                        **PROBLEM_RESPONSES,
                        404: {"model": Problem, "description": "no such flag"},
                        409: {"model": DispositionOutcome, "description": "the id was used for other content"}})
def dispose(body: DispositionRequest,
            flag_id: str = Path(max_length=512, pattern=r"^[A-Z][0-9]{2}:\S+$", description="the flag's `id`"),
            principal: Principal = Depends(require(DISPOSE_FLAG)),
            service: Service = Depends(get_service)) -> Any:
    """Record a disposition of flag `flag_id` as the token's actor (auditor role)."""
    at = parse_business_time(body.at) if body.at is not None else datetime.now(UTC).replace(microsecond=0)
    command_id = body.id or f"api-{at:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    with service.acting(principal.actor) as ledger:
        service.read_side(ledger)  # opened with the server's rules before the ledger asks it about the flag
        try:
            outcome = ledger.dispose_flag(flag_id, body.disposition, body.comment, command_id, at)
        except UnknownFlag as unknown:
            return JSONResponse({"detail": str(unknown)}, status_code=404)
    document = DispositionOutcome(id=command_id, flag=flag_id, disposition=body.disposition, status=outcome.status,
                                  reason=outcome.reason, detail=outcome.detail)
    code = {APPLIED: 201, DUPLICATE: 200, CONFLICT: 409}[outcome.status]
    return JSONResponse(document.model_dump(), status_code=code)
