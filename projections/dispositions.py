"""Auditors' dispositions of anomaly flags (`FlagDisposed`, `domain.cases`) as a projection.

One row per recorded disposition in `ledger_flag_dispositions`, in position order, with its
business time: a flag's status as of `@N` or a time T is its last disposition recorded up to N
(dated ≤ T). The flag id, the actor and the comment are sealed (`projections.sealing`): an id may
name a party, a comment may name anybody.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import events as e
from projections.base import Projection, ViewDatabase, as_of_where
from projections.index import utc_text
from projections.sealing import Sealer

TABLE = "ledger_flag_dispositions"


class Dispositions(Projection):
    name = "dispositions"
    version = 1
    tables = (TABLE,)

    def create_tables(self, db: ViewDatabase) -> None:
        db.execute(f"CREATE TABLE {TABLE} (position BIGINT PRIMARY KEY, flag_id TEXT NOT NULL, rule TEXT NOT NULL, "
                   "disposition TEXT NOT NULL, actor TEXT NOT NULL, comment TEXT NOT NULL, at_utc TEXT NOT NULL, "
                   "at TEXT NOT NULL, transaction_id TEXT NOT NULL)")

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        sealer = self.sealer
        rows = [(position, sealer.seal_id(event.flag), event.rule, event.disposition, sealer.seal_text(event.actor),
                 sealer.seal_text(event.comment), utc_text(event.at), event.at.isoformat(), event.command_id)
                for position, event in events if isinstance(event, e.FlagDisposed)]
        if rows:
            db.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def dispositions_as_of(db: ViewDatabase, sealer: Sealer, position: int | None = None, at_utc: str | None = None,
                       flag_id: str | None = None) -> list[dict[str, Any]]:
    """Every disposition recorded up to `position` and dated ≤ `at_utc` (None: no bound), in order."""
    sealed_flag = None if flag_id is None else sealer.seal_id(flag_id)
    where, params = as_of_where(position, at_utc, ("flag_id = ?", sealed_flag))
    sql = (f"SELECT position, flag_id, rule, disposition, actor, comment, at, transaction_id FROM {TABLE}"
           + where + " ORDER BY position")
    return [{"position": int(row[0]), "flag": sealer.open_id(row[1]), "rule": row[2], "disposition": row[3],
             "actor": sealer.open_text(row[4]), "comment": sealer.open_text(row[5]), "at": row[6], "transaction": row[7]}
            for row in db.query(sql, params)]
