"""The routers `create_app` includes, in order. To add pages or endpoints, write a module with an
`APIRouter` named `router` and add one line here (its paths are its own: `/v1/...` for the API)."""

from __future__ import annotations

from fastapi import APIRouter

from ledger.http import console
from ledger.http.api import commands, exports, imports, ops, reads, session, stream

ROUTERS: list[APIRouter] = [
    ops.router,  # /healthz, /readyz, /metrics
    session.router,  # /login, /logout: the console's session cookie
    commands.router,  # POST /v1/commands, /v1/commands/batch
    reads.router,  # GET /v1/colors ..., /v1/flags, /v1/checkpoints ...
    stream.router,  # GET /v1/stream (Server-Sent Events)
    exports.router,  # GET /v1/exports/{format}: camt.053, OCDS, Beancount, Parquet (zip)
    imports.router,  # POST /v1/imports: a pain.001 in, its pain.002 out
    *console.ROUTERS,  # the auditors' pages at /, POST /v1/flags/{id}/disposition
]
