"""What the last `verify` runs found, kept beside the checkpoints (the console's overview shows it).

`verify --record` (and the demo's tour) appends one row per run to `ledger_verify_runs` in the view database: when it ran, the
store position it checked up to, who ran it, whether it passed, how many findings and the first.
Recording is best effort: a store that cannot be written (read-only, encrypted and opened without
its key) keeps no record, and the verification's own answer is unchanged.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

VERIFY_RUNS_TABLE = "ledger_verify_runs"
_DDL = [f"CREATE TABLE IF NOT EXISTS {VERIFY_RUNS_TABLE} (number BIGINT PRIMARY KEY, time TEXT NOT NULL, "
        "position BIGINT NOT NULL, actor TEXT NOT NULL, ok BIGINT NOT NULL, findings BIGINT NOT NULL, "
        "first_finding TEXT NOT NULL)"]


def record_verify_run(db: Any, position: int, actor: str, findings: list[Any], now: datetime | None = None) -> bool:
    """Append this run's outcome; False when the store cannot keep it."""
    moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    try:
        db.ensure_tables(VERIFY_RUNS_TABLE, _DDL)
        with db.transaction():
            number = int(db.query(f"SELECT COALESCE(MAX(number), 0) FROM {VERIFY_RUNS_TABLE}")[0][0]) + 1
            db.execute(f"INSERT INTO {VERIFY_RUNS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (number, moment.isoformat(), position, actor, 0 if findings else 1, len(findings),
                        str(findings[0]) if findings else ""))
    except Exception:  # noqa: BLE001 - a record of the run is a convenience; the run's answer stands
        return False
    return True


def last_verify_run(db: Any) -> dict[str, Any] | None:
    """The latest recorded run ({number, time, position, actor, ok, findings, first_finding}), or None."""
    if not db.has_table(VERIFY_RUNS_TABLE):
        return None
    rows = db.query(f"SELECT number, time, position, actor, ok, findings, first_finding FROM {VERIFY_RUNS_TABLE} "
                    "ORDER BY number DESC LIMIT 1")
    if not rows:
        return None
    number, time, position, actor, ok, findings, first = rows[0]
    return {"number": int(number), "time": time, "position": int(position), "actor": actor, "ok": bool(ok),
            "findings": int(findings), "first_finding": first}
