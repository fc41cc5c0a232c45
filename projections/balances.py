"""Balances per holder and color, now and as of any position.

`ledger_balance_changes` keeps one row per (position, color, holder) change, so a balance as of
position N is a sum over rows up to N — no replay of the store per question. `ledger_balances`
holds the current balances for the common "now" question. Holders are sealed identifiers
(`projections.sealing`): filtering on one seals the parameter alike, and rows are put in
(color, holder) order after opening, per answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from domain import events as e
from projections.index import utc_text
from projections.base import Projection, ViewDatabase
from projections.sealing import Sealer

Change = tuple[int, str, str, int]  # position, color, holder, delta_tiyn


def balance_changes(position: int, event: e.LedgerEvent) -> Iterator[Change]:
    """How an event changes holders' balances (money held, not reserved, spent or returned)."""
    if isinstance(event, e.FundsAllocated):
        yield position, event.color, event.administrator, event.amount_tiyn
    elif isinstance(event, e.FundsTransferred):
        yield position, event.color, event.payer, -event.amount_tiyn
        yield position, event.color, event.payee, event.amount_tiyn
    elif isinstance(event, e.FundsReserved):
        yield position, event.color, event.payer, -event.amount_tiyn
    elif isinstance(event, e.ReservationReleased):
        yield position, event.color, event.payee, event.amount_tiyn
    elif isinstance(event, e.ReservationVoided):
        yield position, event.color, event.payer, event.amount_tiyn
    elif isinstance(event, (e.FundsSpent, e.FundsReturned)):
        yield position, event.color, event.holder, -event.amount_tiyn


class Balances(Projection):
    name = "balances"
    version = 2  # 2: at_utc, for balances dated at or before a business time
    tables = ("ledger_balance_changes", "ledger_balances")

    def create(self, db: ViewDatabase) -> None:
        db.execute(
            "CREATE TABLE ledger_balance_changes (position BIGINT NOT NULL, color TEXT NOT NULL, "
            "holder TEXT NOT NULL, delta_tiyn BIGINT NOT NULL, at_utc TEXT NOT NULL)"
        )
        db.execute("CREATE INDEX ledger_balance_changes_by_color ON ledger_balance_changes (color, holder, position)")
        db.execute("CREATE INDEX ledger_balance_changes_by_holder ON ledger_balance_changes (holder, position)")
        db.execute(
            "CREATE TABLE ledger_balances (color TEXT NOT NULL, holder TEXT NOT NULL, "
            "balance_tiyn BIGINT NOT NULL, PRIMARY KEY (color, holder))"
        )

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        seal_id = self.sealer.seal_id
        changes = [(at, color, seal_id(holder), delta_tiyn) for position, event in events
                   for at, color, holder, delta_tiyn in balance_changes(position, event)]
        if not changes:
            return
        dated = {position: utc_text(event.at) for position, event in events}
        db.executemany("INSERT INTO ledger_balance_changes VALUES (?, ?, ?, ?, ?)",
                       [(*change, dated[change[0]]) for change in changes])
        totals: dict[tuple[str, str], int] = {}
        for _, color, holder, delta_tiyn in changes:
            totals[color, holder] = totals.get((color, holder), 0) + delta_tiyn
        db.executemany(
            "INSERT INTO ledger_balances VALUES (?, ?, ?) ON CONFLICT (color, holder) "
            "DO UPDATE SET balance_tiyn = ledger_balances.balance_tiyn + excluded.balance_tiyn",
            [(color, holder, delta) for (color, holder), delta in totals.items()],
        )


def balances_as_of(db: ViewDatabase, sealer: Sealer, position: int | None, color: str | None = None,
                   party: str | None = None) -> list[tuple[str, str, int]]:
    """(color, holder, balance_tiyn) rows, sorted; as of `position` (None: now)."""
    where, params = [], []
    if color is not None:
        where.append("color = ?")
        params.append(color)
    if party is not None:
        where.append("holder = ?")
        params.append(sealer.seal_id(party))
    if position is None:
        sql = "SELECT color, holder, balance_tiyn FROM ledger_balances"
    else:
        where.append("position <= ?")
        params.append(position)
        sql = "SELECT color, holder, SUM(delta_tiyn) FROM ledger_balance_changes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if position is not None:
        sql += " GROUP BY color, holder"
    rows = sorted((r[0], sealer.open_id(r[1]), int(r[2])) for r in db.query(sql, params))
    assert all(balance >= 0 for _, _, balance in rows), "no balance ever goes below zero"
    return rows


def balances_dated(db: ViewDatabase, sealer: Sealer, at_utc: str, position: int | None = None,
                   color: str | None = None, party: str | None = None) -> list[tuple[str, str, int]]:
    """(color, holder, balance_tiyn) rows, sorted, from the changes dated at or before `at_utc`
    (`utc_text`), recorded up to `position` (None: now): the balances as of a business time (SPEC §2.5).

    Never negative on a store written under SPEC §2.5 (a color's movements dated ≤ T are a prefix of
    its stream); a store written before may hold out-of-order movements: shown as they add up.
    """
    where, params = ["at_utc <= ?"], [at_utc]
    for column, value in (("color", color), ("holder", sealer.seal_id(party) if party is not None else None),
                          ("position", position)):
        if value is not None:
            where.append(f"{column} {'<=' if column == 'position' else '='} ?")
            params.append(value)
    rows = db.query("SELECT color, holder, SUM(delta_tiyn) FROM ledger_balance_changes WHERE "
                    + " AND ".join(where) + " GROUP BY color, holder", params)
    return sorted((row[0], sealer.open_id(row[1]), int(row[2])) for row in rows)


def colors_of_holder(db: ViewDatabase, sealer: Sealer, party: str, position: int) -> list[str]:
    """The colors whose balance `party` ever held (received, paid, spent, returned) up to `position`."""
    rows = db.query("SELECT DISTINCT color FROM ledger_balance_changes WHERE holder = ? AND position <= ? ORDER BY color",
                    (sealer.seal_id(party), position))
    return [str(row[0]) for row in rows]
