"""Failures as HTTP answers: the store busy → 503 with Retry-After, unavailable → 503, bad
`as_of` or identifier → 400, a roles refusal inside the ledger → 403; each a JSON body
`{"detail": sentence}` (FastAPI's shape)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.errors import InvalidValue, LedgerError
from ledger.app import BatchBusy
from ledger.read import UnknownColor
from ledger.roles import NotAllowed
from ledger.store.errors import BUSY, StoreFailure, store_failure

RETRY_AFTER_SECONDS = 1


def problem(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def busy(detail: str) -> JSONResponse:
    return problem(503, detail, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def malformed_parameter(_request: Request, error: RequestValidationError) -> JSONResponse:
        detail = [{"where": ".".join(str(part) for part in problem.get("loc", ())), "message": problem.get("msg", "")}
                  for problem in error.errors()]
        return JSONResponse({"detail": detail}, status_code=400)

    @app.exception_handler(NotAllowed)
    async def not_allowed(_request: Request, error: NotAllowed) -> JSONResponse:
        return problem(403, str(error))

    @app.exception_handler(UnknownColor)
    async def unknown_color(_request: Request, error: UnknownColor) -> JSONResponse:
        return problem(404, str(error))

    @app.exception_handler(InvalidValue)
    async def invalid(_request: Request, error: InvalidValue) -> JSONResponse:
        return problem(400, str(error))

    @app.exception_handler(BatchBusy)
    async def batch_busy(_request: Request, error: BatchBusy) -> JSONResponse:
        return busy(str(error))

    @app.exception_handler(StoreFailure)
    async def store_failed(_request: Request, error: StoreFailure) -> JSONResponse:
        return busy(str(error)) if error.kind == BUSY else problem(503, str(error))

    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, error: LedgerError) -> JSONResponse:
        failure = store_failure(error, request.app.state.service.settings.store_url)
        if failure is not None:
            return busy(str(failure)) if failure.kind == BUSY else problem(503, str(failure))
        return problem(400, str(error))
