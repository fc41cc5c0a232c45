"""`POST /v1/imports`: a treasury system sends a pain.001.001.10 and gets the pain.002 back (SPEC §3.1).

The body is the pain.001 document (`application/xml`). It is read exactly as `tenge-ledger import
FILE.xml --report-format pain.002` reads it (`ledger.importer`: validate everything first, then
apply in batches as the token's actor; the `EndToEndId` is the transaction id, so sending the same
file again is idempotent), and the answer is the same `pain.002.001.11` status report:

- 200 with the pain.002: the file was taken; each transaction `ACCP` (applied now or before) or
  `RJCT` (blocked by a rule, with the rule and its sentence; a conflict), the group `ACCP`, `PART`
  or `RJCT`;
- 400 with the pain.002 (group `RJCT`, nothing written): a pain.001 with malformed transactions
  (another currency, no color, a schema error ...), each error in the report;
- 400 `{"detail": ...}`: not a pain.001.001.10 at all (another version, a national variant,
  not XML): there is no message to answer;
- 401 / 403: no token, or a role that may not `transfer` (the treasury operator may): nothing
  written; 413: a body over `IMPORT_BYTES_MAX`; 503: the store busy or unavailable.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from ledger.http.auth import Principal, get_service, require
from ledger.http.openapi import PROBLEM_RESPONSES, Problem
from ledger.http.service import Service
from ledger.importer import Source, apply, validate
from ledger.render.pain002 import Pain002Answer

router = APIRouter(tags=["imports"])

IMPORT_BYTES_MAX = 256 << 20
XML = "application/xml"
BODY_NAME = "pain.001"  # how errors name the body (as the CLI names a file)


def _import(service: Service, actor: str, path: Path) -> tuple[int, bytes] | str:
    """(status, pain.002) for the pain.001 at `path`, or the one-line reason it is not one."""
    with service.acting(actor) as ledger:
        zone = ledger.time_zone
        source = Source(BODY_NAME, path, lambda: zone)
        answer = Pain002Answer(path, source.time_zone)
        summary, total, kept = validate([source])
        if answer.header is None:
            return summary.errors[0] if summary.errors else "the body is not a pain.001.001.10 document"
        if not summary.error_count:
            apply(ledger, [source], total, kept, summary, on_outcome=answer.on_outcome)
    out = io.BytesIO()
    answer.write(out)
    return (400 if summary.error_count else 200), out.getvalue()


PAIN002_CONTENT = {XML: {"schema": {"type": "string", "description": "a pain.002.001.11 customer payment status report"}}}


@router.post("/v1/imports", responses={
    200: {"description": "the pain.002.001.11 status report: every transaction ACCP or RJCT", "content": PAIN002_CONTENT},
    400: {"model": Problem, "description": "malformed: the pain.002 rejecting the group (application/xml; nothing "
                                           "written), or a `Problem` when the body is not a pain.001.001.10",
          "content": PAIN002_CONTENT},
    413: {"model": Problem, "description": "the body is too large"},
    **PROBLEM_RESPONSES,
}, response_class=Response, openapi_extra={"requestBody": {"required": True, "content": {XML: {"schema": {
    "type": "string", "description": "a pain.001.001.10 customer credit transfer initiation"}}}}})
async def post_import(request: Request, principal: Principal = Depends(require("transfer")),
                      service: Service = Depends(get_service)) -> Response:
    """Import a pain.001.001.10 payment file; answer with its pain.002.001.11 status report."""
    with tempfile.NamedTemporaryFile(prefix="tenge-ledger-import-", suffix=".xml") as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > IMPORT_BYTES_MAX:
                return JSONResponse({"detail": f"an import is at most {IMPORT_BYTES_MAX} bytes"}, status_code=413)
            spool.write(chunk)
        spool.flush()
        result = await run_in_threadpool(_import, service, principal.actor, Path(spool.name))
    if isinstance(result, str):
        return JSONResponse({"detail": result}, status_code=400)
    status, document = result
    return Response(document, status_code=status, media_type=XML)
