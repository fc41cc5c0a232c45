"""`create_app(settings) -> FastAPI`: the ASGI application `tenge-ledger serve` runs.

The application owns one `Service` (the process's ledger), includes every router of
`ledger.http.routes.ROUTERS`, logs each request as one JSON line (`ledger.http.observe`) and counts
it for `/metrics`. `create_app_from_env` is the factory uvicorn's worker processes call.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType

from fastapi import FastAPI

from ledger.http.docs_ui import install_docs
from ledger.http.errors import install_error_handlers
from ledger.http.observe import install_observation
from ledger.http.openapi import install_openapi
from ledger.http.routes import ROUTERS
from ledger.http.service import Service
from ledger.http.settings import Settings

API_TITLE = "tenge-ledger"
API_DESCRIPTION = """The ledger of marked (colored) budget money in digital tenge, as a service.

Authenticate with an API token (`tenge-ledger token create --actor NAME`) as
`Authorization: Bearer <token>`; the ledger's roles policy decides what its actor may do.
Commands are the interchange commands of SPEC §3 (one JSON object each); money is in tiyn where a
field ends in `_tiyn`, else a KZT string. Every read takes `as_of`: an RFC 3339 business time, a
date, or `@N` (the store's first N positions)."""


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    """The application over `settings.store_url` (which must exist: serving never creates a store)."""
    service = service or Service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        restore = _hear_shutdown(service)
        try:
            yield
        finally:
            restore()
            service.close()

    app = FastAPI(title=API_TITLE, description=API_DESCRIPTION, version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # /docs from the package's files (docs_ui), no CDN
    app.state.service = service
    install_error_handlers(app)
    install_observation(app)
    install_openapi(app)
    install_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def _hear_shutdown(service: Service) -> Callable[[], None]:
    """Let the server's own SIGTERM/SIGINT handling (uvicorn's graceful shutdown) also tell the
    service it is stopping, so endless responses (event streams) end and let the shutdown finish,
    while requests in flight (batches) run to their end. Returns what undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # not a server process's main thread (tests): nothing to hear
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def heard(sig: int, frame: FrameType | None) -> None:
        service.stopping.set()
        handler = previous[signal.Signals(sig)]
        if callable(handler):
            handler(sig, frame)
        else:  # the default action (or ignore), as if we had not been here
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    for sig in previous:
        signal.signal(sig, heard)

    def restore() -> None:
        if threading.current_thread() is threading.main_thread():
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return restore


def create_app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process: the settings `serve` put in the environment."""
    return create_app(Settings.from_env())
