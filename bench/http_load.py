"""Load on `tenge-ledger serve` (issue 12): clients posting transfers to one hot color and to
colors of their own, for a bounded time, on loopback; then the ledger is checked.

    python -m bench.http_load                               # 8 hot + 8 cold clients, 20 s, serve --workers 4, PostgreSQL
    python -m bench.http_load --seconds 3 --workers 2       # a short run
    python -m bench.http_load --store sqlite:///tmp/x.sqlite --workers 1

The store is fresh (a new schema on the PostgreSQL server of `--postgres`, default
TENGE_LEDGER_TEST_POSTGRES; or `--store URL`, which must not exist yet). Each client posts
transfers of 1.00 KZT from the administrator to the contractor of its color, one after another,
each with a new id, until the time is up; a 503 (busy) or a dropped connection is retried with the
same id (idempotency), so every command is answered. Printed: commands/s and p50/p99 latency per
group (hot: one color shared by the hot clients; cold: a color per client), retries, and the
checks — no command lost or applied twice (every id answered applied or as a replay of itself, the
store holds each exactly once), every balance as the answers imply, conservation of every color.
Exit status 1 if a check fails. It stops by itself; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from domain.identifiers import make_color
from ledger.app import Ledger
from ledger.interchange import parse_record
from ledger.tokens import issue_token

from bench.stores import postgres_schema
from bench.workload import party_id

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=5)))
AMOUNT_TIYN = 100  # each transfer: 1.00 KZT
ALLOCATION = "100000000.00"
START_TIMEOUT_S = 60.0


def _party(n: int) -> str:
    return party_id(n, "150740")


@dataclass
class World:
    url: str
    token: str
    admin: str
    contractor: str
    hot: str
    cold: list[str]


def build_world(url: str, cold_colors: int) -> World:
    """Parties, a hot color and `cold_colors` colors each with a contract admin → contractor; a
    roles policy (root admin, loadbot operator) and a token for loadbot."""
    treasury, admin, contractor = _party(1), _party(2), _party(3)
    colors = [make_color("ROAD", 2025, 41, seq) for seq in range(1, cold_colors + 2)]
    at = iter(T0 + timedelta(minutes=n) for n in range(10_000))
    records: list[dict[str, Any]] = [
        {"id": f"REG-{n}", "type": "register_party", "at": next(at).isoformat(), "party": party, "name": f"Party {n}", "kind": kind}
        for n, (party, kind) in enumerate([(treasury, "treasury"), (admin, "administrator"), (contractor, "contractor")])
    ]
    for n, color in enumerate(colors):
        records.append({"id": f"ALL-{n}", "type": "allocate", "at": next(at).isoformat(), "color": color, "program": "041",
                        "purpose": "load", "amount": ALLOCATION, "treasury": treasury, "administrator": admin,
                        "expires_on": "2025-12-31"})
        records.append({"id": f"CON-{n}", "type": "sign_contract", "at": next(at).isoformat(), "contract": f"C-{n}",
                        "color": color, "customer": admin, "supplier": contractor, "amount": ALLOCATION,
                        "items": [{"code": "WORKS", "unit": "lot", "quantity": "1", "unit_price": ALLOCATION}]})
    ledger = Ledger(url, actor="root")
    try:
        outcomes = ledger.execute([parse_record(record) for record in records])
        assert all(o.status == "applied" for o in outcomes), outcomes
        now = datetime.now(UTC).replace(microsecond=0)
        ledger.set_roles({"root": "admin", "loadbot": "operator"}, "ROLES-LOAD", now)
        token = issue_token(ledger, "loadbot", secrets.token_hex(6), secrets.token_urlsafe(32), "TOKEN-LOAD", now)
    finally:
        ledger.close()
    return World(url, token, admin, contractor, colors[0], colors[1:])


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str, *, workers: int = 1, log_path: Path | None = None, args: tuple[str, ...] = (),
            ready_path: str = "/readyz") -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`tenge-ledger serve` on a free loopback port: yields (base URL, the process) once `ready_path`
    answers 200; stopped with SIGTERM (graceful) afterwards. The tests' server (tests/http) too."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "ledger", "--store", url, "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers), *args],
                               env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve exited with {process.returncode} (log: {log_path})")
            try:
                if httpx.get(base + ready_path, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer {ready_path} in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log.close()  # type: ignore[union-attr]


@dataclass
class ClientLog:
    group: str
    color: str
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # command id -> final HTTP status
    retries: int = 0
    unanswered: list[str] = field(default_factory=list)


def _client(base: str, world: World, log: ClientLog, name: str, seconds: float, start: threading.Barrier) -> None:
    headers = {"Authorization": f"Bearer {world.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        start.wait()
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            command_id = f"{name}-{n}"
            record = {"id": command_id, "type": "transfer", "at": (T0 + timedelta(days=1)).isoformat(), "color": log.color,
                      "from": world.admin, "to": world.contractor, "amount": "1.00", "contract": None}
            began = time.perf_counter()
            for attempt in range(100):
                try:
                    answer = http.post("/v1/commands", json=record)
                except httpx.TransportError:
                    log.retries += 1
                    continue
                if answer.status_code == 503:
                    log.retries += 1
                    time.sleep(float(answer.headers.get("retry-after", "1")) * 0.1 * (1 + attempt % 5))
                    continue
                log.statuses[command_id] = answer.status_code
                break
            else:
                log.unanswered.append(command_id)
            log.latencies_s.append(time.perf_counter() - began)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Result:
    seconds: float
    groups: dict[str, dict[str, float]]
    problems: list[str]
    commands: int

    @property
    def ok(self) -> bool:
        return not self.problems


def run(url: str, *, seconds: float = 20.0, workers: int = 4, hot_clients: int = 8, cold_clients: int = 8,
        log_path: Path | None = None) -> Result:
    """Build a world in the (fresh) store, serve it, load it, check it."""
    world = build_world(url, cold_clients)
    logs = [ClientLog("hot", world.hot) for _ in range(hot_clients)]
    logs += [ClientLog("cold", color) for color in world.cold[:cold_clients]]
    with serving(url, workers=workers, log_path=log_path) as (base, _process):
        start = threading.Barrier(len(logs) + 1)
        threads = []
        for n, log in enumerate(logs):
            thread = threading.Thread(target=_client, args=(base, world, log, f"{log.group[0].upper()}{n}", seconds, start))
            thread.start()
            threads.append(thread)
        start.wait()
        began = time.monotonic()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        problems = check(base, world, logs)
    groups = {}
    for group in ("hot", "cold"):
        mine = [log for log in logs if log.group == group]
        latencies = [s for log in mine for s in log.latencies_s]
        answered = sum(len(log.statuses) for log in mine)
        groups[group] = {"clients": len(mine), "commands": answered, "commands_per_s": answered / elapsed,
                         "p50_ms": _percentile(latencies, 0.50) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
                         "retries": sum(log.retries for log in mine)}
    return Result(elapsed, groups, problems, sum(len(log.statuses) for log in logs))


def check(base: str, world: World, logs: list[ClientLog]) -> list[str]:
    """Every command answered, none lost or applied twice, balances as answered, conservation."""
    problems = []
    for log in logs:
        if log.unanswered:
            problems.append(f"{len(log.unanswered)} command(s) never answered, e.g. {log.unanswered[0]}")
        wrong = {cid: status for cid, status in log.statuses.items() if status not in (200, 201)}
        if wrong:
            problems.append(f"{len(wrong)} command(s) not applied: {sorted(wrong.items())[:3]}")
    headers = {"Authorization": f"Bearer {world.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as http:
        for color in {log.color for log in logs}:
            expected = {cid for log in logs if log.color == color for cid in log.statuses}
            history = http.get(f"/v1/colors/{color}/history").json()["events"]
            recorded = [event["transaction"] for event in history if event["event"] == "FundsTransferred"]
            if len(recorded) != len(set(recorded)):
                problems.append(f"{color}: a transaction recorded twice")
            if set(recorded) != expected:
                lost, extra = expected - set(recorded), set(recorded) - expected
                problems.append(f"{color}: {len(lost)} answered command(s) missing, {len(extra)} unexpected")
            detail = http.get(f"/v1/colors/{color}").json()
            if not detail["conservation"]["ok"]:
                problems.append(f"{color}: conservation broken: {detail['conservation']}")
            balances = {row["party"]: row["balance_tiyn"] for row in http.get("/v1/balances", params={"color": color}).json()["balances"]}
            if balances.get(world.contractor, 0) != AMOUNT_TIYN * len(expected):
                problems.append(f"{color}: contractor holds {balances.get(world.contractor, 0)} tiyn, "
                                f"expected {AMOUNT_TIYN * len(expected)}")
    return problems


def report(result: Result, workers: int) -> str:
    lines = [f"serve --workers {workers}, {result.seconds:.1f} s, {result.commands} commands answered",
             f"{'group':<6} {'clients':>7} {'commands':>9} {'cmd/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'retries':>8}"]
    for group, figures in result.groups.items():
        lines.append(f"{group:<6} {figures['clients']:>7.0f} {figures['commands']:>9.0f} {figures['commands_per_s']:>8.1f} "
                     f"{figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f} {figures['retries']:>8.0f}")
    hot, cold = result.groups["hot"], result.groups["cold"]
    if hot["commands_per_s"] > 0:
        lines.append(f"cold/hot throughput ratio: {cold['commands_per_s'] / hot['commands_per_s']:.2f}")
    lines.append("checks: " + ("all passed (no command lost or duplicated, balances as answered, conservation holds)"
                               if result.ok else "FAILED\n  " + "\n  ".join(result.problems)))
    return "\n".join(lines)


@contextmanager
def fresh_store(store: str | None, postgres: str | None) -> Iterator[str]:
    if store:
        yield store
        return
    if not postgres:
        raise SystemExit("give --store URL or a PostgreSQL server (--postgres or TENGE_LEDGER_TEST_POSTGRES)")
    with postgres_schema(postgres.split("?")[0], "bench_http_") as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--hot-clients", type=int, default=8)
    parser.add_argument("--cold-clients", type=int, default=8)
    parser.add_argument("--store", help="a store URL that does not exist yet (default: a fresh PostgreSQL schema)")
    parser.add_argument("--postgres", default=os.environ.get("TENGE_LEDGER_TEST_POSTGRES"))
    parser.add_argument("--log", type=Path, help="write the server's access log here")
    args = parser.parse_args(argv)
    with fresh_store(args.store, args.postgres) as url:
        result = run(url, seconds=args.seconds, workers=args.workers, hot_clients=args.hot_clients,
                     cold_clients=args.cold_clients, log_path=args.log)
    print(report(result, args.workers))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
