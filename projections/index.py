"""The log index: every event's position, stream, transaction id and business time; colors; parties.

`ledger_transactions` answers "which position is transaction X" (proofs), "which positions belong
to this color up to N" (as-of history and trace) and "which position is business time T" (as-of).
`ledger_colors` and `ledger_parties` are the current catalogue of allocations and parties.

Personal values pass through the projection's sealer (`projections.sealing`): transaction ids
(they may embed a BIN/IIN), party ids, administrators and treasuries as identifiers; names,
addresses, phones, the people of a party and an allocation's purpose (free text that may name a
party) as text. Positions, streams, versions, event names,
colors and times stay plain: every lookup below filters on plain columns or on sealed identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timezone
from typing import Any

import orjson

from domain import events as e
from projections.base import Projection, ViewDatabase
from projections.sealing import Sealer

PARTY_LIST_FIELDS = ("owners", "directors", "officials")
PARTY_TEXT_FIELDS = ("name", "address", "phone", "status")


def utc_text(moment: Any) -> str:
    """A business time as fixed-width UTC text, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LogIndex(Projection):
    name = "index"
    version = 3
    tables = ("ledger_transactions", "ledger_colors", "ledger_parties", "ledger_party_names")

    def create(self, db: ViewDatabase) -> None:
        db.execute(
            "CREATE TABLE ledger_transactions (position BIGINT PRIMARY KEY, stream TEXT NOT NULL, "
            "version BIGINT NOT NULL, transaction_id TEXT NOT NULL, event TEXT NOT NULL, color TEXT, "
            "at_utc TEXT NOT NULL)"
        )
        db.execute("CREATE INDEX ledger_transactions_by_id ON ledger_transactions (transaction_id)")
        db.execute("CREATE INDEX ledger_transactions_by_color ON ledger_transactions (color, position)")
        db.execute("CREATE INDEX ledger_transactions_by_stream ON ledger_transactions (stream, version)")
        db.execute("CREATE INDEX ledger_transactions_by_time ON ledger_transactions (at_utc)")
        db.execute(
            "CREATE TABLE ledger_colors (color TEXT PRIMARY KEY, stream TEXT NOT NULL, pilot TEXT NOT NULL, "
            "fiscal_year BIGINT NOT NULL, program TEXT NOT NULL, purpose TEXT NOT NULL, "
            "administrator TEXT NOT NULL, treasury TEXT NOT NULL, allocated_tiyn BIGINT NOT NULL, "
            "expires_on TEXT NOT NULL, region TEXT, position BIGINT NOT NULL)"
        )
        db.execute(
            "CREATE TABLE ledger_parties (party TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
            "status TEXT NOT NULL, registered_on TEXT, address TEXT, phone TEXT, owners TEXT NOT NULL, "
            "directors TEXT NOT NULL, officials TEXT NOT NULL, region TEXT, position BIGINT NOT NULL)"
        )
        db.execute("CREATE TABLE ledger_party_names (party TEXT NOT NULL, position BIGINT NOT NULL, name TEXT NOT NULL, "
                   "PRIMARY KEY (party, position))")

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        rows = []
        seal_id = self.sealer.seal_id
        for position, event in events:
            color = getattr(event, "color", None)
            rows.append((position, str(event.originator_id), event.originator_version, seal_id(event.command_id),
                         type(event).__name__, color, utc_text(event.at)))
            if isinstance(event, e.FundsAllocated):
                self._color(db, position, event)
            elif isinstance(event, e.PartyRegistered):
                self._party(db, position, event)
            elif isinstance(event, e.PartyUpdated):
                self._party_update(db, position, event)
        db.executemany("INSERT INTO ledger_transactions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _color(self, db: ViewDatabase, position: int, ev: e.FundsAllocated) -> None:
        seal_id = self.sealer.seal_id
        db.execute(
            "INSERT INTO ledger_colors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ev.color, str(ev.originator_id), ev.pilot, ev.fiscal_year, ev.program, self.sealer.seal_text(ev.purpose),
             seal_id(ev.administrator), seal_id(ev.treasury), ev.amount_tiyn, ev.expires_on.isoformat(), ev.region, position),
        )

    def _party(self, db: ViewDatabase, position: int, ev: e.PartyRegistered) -> None:
        party, text = self.sealer.seal_id(ev.party), self._seal_text
        db.execute(
            "INSERT INTO ledger_parties VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)",
            (party, text(ev.name), ev.kind, ev.registered_on.isoformat() if ev.registered_on else None,
             text(ev.address), text(ev.phone), text(_json(ev.owners)), text(_json(ev.directors)),
             text(_json(ev.officials)), ev.region, position),
        )
        db.execute("INSERT INTO ledger_party_names VALUES (?, ?, ?)", (party, position, text(ev.name)))

    def _party_update(self, db: ViewDatabase, position: int, ev: e.PartyUpdated) -> None:
        party, text = self.sealer.seal_id(ev.party), self._seal_text
        if "name" in ev.changes:
            db.execute("INSERT INTO ledger_party_names VALUES (?, ?, ?)", (party, position, text(ev.changes["name"])))
        for field, value in ev.changes.items():
            assert field in PARTY_TEXT_FIELDS or field in PARTY_LIST_FIELDS, field
            stored = _json(value) if field in PARTY_LIST_FIELDS else value
            if field != "status":  # a party's status is one of a few words, not personal data
                stored = text(stored)
            db.execute(f"UPDATE ledger_parties SET {field} = ?, position = ? WHERE party = ?", (stored, position, party))

    def _seal_text(self, value: str | None) -> str | None:
        return None if value is None else self.sealer.seal_text(value)


def _json(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


def party_names_as_of(db: ViewDatabase, sealer: Sealer, position: int) -> dict[str, str]:
    """Every party's name as it was at `position` (renames after it not yet applied)."""
    rows = db.query(
        "SELECT n.party, n.name FROM ledger_party_names n JOIN (SELECT party, MAX(position) AS last "
        "FROM ledger_party_names WHERE position <= ? GROUP BY party) m ON n.party = m.party AND n.position = m.last",
        (position,),
    )
    return {sealer.open_id(row[0]): sealer.open_text(row[1]) for row in rows}


# --- the questions this projection answers (the only SQL on its tables outside `apply`) --------

def position_at_time(db: ViewDatabase, at_utc: str, until: int) -> int:
    """The last store position at or before `until` whose business time is at or before `at_utc`
    (0 if none)."""
    rows = db.query("SELECT MAX(position) FROM ledger_transactions WHERE at_utc <= ? AND position <= ?", (at_utc, until))
    return int(rows[0][0] or 0)


def color_stream(db: ViewDatabase, color: str, position: int) -> str | None:
    """The stream id (text) of `color` if it was allocated at or before `position`."""
    rows = db.query("SELECT stream FROM ledger_colors WHERE color = ? AND position <= ?", (color, position))
    return str(rows[0][0]) if rows else None


def stream_positions(db: ViewDatabase, stream: str, position: int) -> list[tuple[int, int]]:
    """(version, position) of a stream's events recorded up to `position`, in version order."""
    rows = db.query("SELECT version, position FROM ledger_transactions WHERE stream = ? AND position <= ? ORDER BY version",
                    (stream, position))
    return [(int(version), int(at)) for version, at in rows]


def transaction_positions(db: ViewDatabase, sealer: Sealer, transaction: str) -> list[int]:
    """The positions of a transaction's events, in order (one unless the id was reused)."""
    rows = db.query("SELECT position FROM ledger_transactions WHERE transaction_id = ? ORDER BY position",
                    (sealer.seal_id(transaction),))
    return [int(row[0]) for row in rows]


def all_colors(db: ViewDatabase) -> list[str]:
    """Every allocated color, in order."""
    return [str(row[0]) for row in db.query("SELECT color FROM ledger_colors ORDER BY color")]


def party_names_now(db: ViewDatabase, sealer: Sealer) -> dict[str, str]:
    """Every party's current name."""
    return {sealer.open_id(row[0]): sealer.open_text(row[1]) for row in db.query("SELECT party, name FROM ledger_parties")}


def colors_allocated(db: ViewDatabase, sealer: Sealer, position: int) -> list[dict[str, Any]]:
    """Every color allocated at or before `position`, in color order, with its allocation's facts."""
    rows = db.query("SELECT color, pilot, fiscal_year, program, purpose, administrator, treasury, allocated_tiyn, "
                    "expires_on, region, position FROM ledger_colors WHERE position <= ? ORDER BY color", (position,))
    return [{"color": str(color), "pilot": str(pilot), "fiscal_year": int(year), "program": str(program),
             "purpose": sealer.open_text(purpose), "administrator": sealer.open_id(admin), "treasury": sealer.open_id(treasury),
             "allocated_tiyn": int(allocated), "expires_on": str(expires), "region": region, "position": int(at)}
            for color, pilot, year, program, purpose, admin, treasury, allocated, expires, region, at in rows]
