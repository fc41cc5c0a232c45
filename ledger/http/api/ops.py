"""Operations: `/healthz` (the process answers), `/readyz` (the store answers and the projections
are caught up within `ready_lag_events`), `/metrics` (Prometheus text format). No authentication:
they say nothing about the ledger's contents."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from ledger.http.auth import get_service
from ledger.http.observe import PROJECTION_LAG, REGISTRY, STORE_POSITION
from ledger.http.service import Service

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str  # "ready" or "not ready"
    store_position: int | None = None
    projections_position: int | None = None
    lag_events: int | None = None
    lag_events_max: int
    detail: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (no store access)."""
    return Health(status="ok")


def _lag(service: Service) -> tuple[int, int]:
    with service.acting("") as ledger:
        head = ledger.position()
        reached = service.read_side(ledger).runner.reached()
    PROJECTION_LAG.set(max(0, head - reached))
    STORE_POSITION.set(head)
    return head, reached


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(service: Service = Depends(get_service)) -> JSONResponse:
    """Ready when the store answers and the projections are at most `ready_lag_events` behind it."""
    most = service.settings.ready_lag_events
    try:
        head, reached = _lag(service)
    except Exception as problem:  # noqa: BLE001 - any store failure means: not ready
        body = Readiness(status="not ready", lag_events_max=most, detail=f"{type(problem).__name__}: {problem}")
        return JSONResponse(body.model_dump(), status_code=503)
    ready = head - reached <= most
    body = Readiness(status="ready" if ready else "not ready", store_position=head, projections_position=reached,
                     lag_events=head - reached, lag_events_max=most)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(service: Service = Depends(get_service)) -> PlainTextResponse:
    """Prometheus text format: requests, latencies, commands by outcome, projection lag."""
    try:
        _lag(service)
    except Exception:  # noqa: BLE001 - metrics still answer when the store does not
        pass
    return PlainTextResponse(generate_latest(REGISTRY).decode(), media_type=CONTENT_TYPE_LATEST)
