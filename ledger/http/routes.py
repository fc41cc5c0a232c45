"""The routers `create_app` includes, in order. To add pages or endpoints, write a module with an
`APIRouter` named `router` and add one line here (its paths are its own: `/v1/...` for the API)."""

from __future__ import annotations

from fastapi import APIRouter

from ledger.http import console
from ledger.http.api import commands, ops, reads, session, stream

ROUTERS: list[APIRouter] = [
    ops.router,  # /healthz, /readyz, /metrics
    session.router,  # /login, /logout: the console's session cookie
    commands.router,  # POST /v1/commands, /v1/commands/batch
    reads.router,  # GET /v1/colors ..., /v1/flags, /v1/checkpoints ...
    stream.router,  # GET /v1/stream (Server-Sent Events)
    *console.ROUTERS,  # the auditors' pages at /, POST /v1/flags/{id}/disposition
    # imports: POST /v1/imports; exports: GET /v1/exports/{format}
]
