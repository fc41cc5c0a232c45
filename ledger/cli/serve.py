"""`tenge-ledger serve`: the HTTP API and the auditors' pages (`ledger.http`), run by uvicorn.

Serving never creates a store (a missing one exits 69, as for every read command). With
`--workers N` uvicorn runs N processes, each with its own ledger over the same store: use
PostgreSQL for several workers (SQLite serializes its writers anyway). TLS belongs to a reverse
proxy in front (README). SIGTERM or Ctrl-C stops accepting connections and lets requests in
flight, batches included, finish (up to `--graceful-seconds`).
"""

from __future__ import annotations

import os

import click

from ledger.cli.base import EXIT_OK, Context, store_config
from ledger.http.settings import LEDGERS_DEFAULT, READY_LAG_EVENTS_DEFAULT, WAIT_SECONDS_HTTP_DEFAULT, Settings
from ledger.store.preflight import check_store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="server processes (several: PostgreSQL)")
@click.option("--wait", "wait_seconds", type=click.IntRange(1, 3600), default=WAIT_SECONDS_HTTP_DEFAULT, show_default=True,
              metavar="SECONDS", help="a write waits this long for what other writers hold, then answers 503 with Retry-After")
@click.option("--ready-lag", "ready_lag", type=click.IntRange(0), default=READY_LAG_EVENTS_DEFAULT, show_default=True,
              metavar="EVENTS", help="/readyz fails when the projections are more than EVENTS behind the store")
@click.option("--ledgers", type=click.IntRange(1, 64), default=LEDGERS_DEFAULT, show_default=True,
              help="requests of one process using the store at once (each with its own connections)")
@click.option("--graceful-seconds", type=click.IntRange(1, 3600), default=30, show_default=True,
              help="on shutdown, how long requests in flight may take to finish")
@click.pass_obj
def serve(obj: Context, host: str, port: int, workers: int, wait_seconds: int, ready_lag: int, ledgers: int,
          graceful_seconds: int) -> int:
    """Serve the HTTP API (/docs) and the auditors' console (/) over the store."""
    import uvicorn

    from ledger.http.service import Service

    check_store(store_config(obj.store_url), create=False)  # a missing store: exit 69, nothing created
    settings = Settings(obj.store_url, obj.rules_path, obj.roles_path, wait_seconds, ready_lag, ledgers)
    Service(settings).close()  # what would stop every worker (a wrong key, bad rules) stops here, with its exit code
    os.environ.update(settings.to_env())
    click.echo(f"serving {settings.store_url if '@' not in settings.store_url else 'the store'} on http://{host}:{port} "
               f"({workers} worker(s)); API docs at /docs", err=True)
    uvicorn.run("ledger.http.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_level="warning", timeout_graceful_shutdown=graceful_seconds)
    return EXIT_OK
