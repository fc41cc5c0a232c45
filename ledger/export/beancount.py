"""`export beancount`: a Beancount ledger, one commodity per color, one account per holder (SPEC §3.2).

Accounts:
- `Assets:Holders:<BIN|IIN>-<id>`: each holder's money, one position per color (commodity);
- `Assets:Reserved`: money reserved and neither released nor voided yet;
- `Equity:Allocated`: where allocations come from (negative: the budget handed out);
- `Expenses:Spent:<Category>`: final spends; `Equity:Returned`: money returned to the budget;
- with `--party P`, the other holders of P's movements are `Equity:Counterparties:<id>`, so every
  `Assets:Holders` balance is a balance the ledger has.

One transaction per ledger movement event (dated in the ledger's time zone, metadata `txid`, the
store `position`, the contract and kind), each balancing to zero per color. At the end one `balance`
assertion per holder and color states the ledger's own balance (the `balance` command's answer),
so `bean-check` itself proves the export adds up — to the tiyn: the assertions carry an explicit
tolerance `~ 0.00` (Beancount would otherwise let one unit of the last digit, a tiyn, pass). Amounts are decimal tenge made exactly from
integer tiyn (`domain.money.format_kzt`), never a float.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import IO

from domain.money import format_kzt
from ledger.export.source import ColorSlice, ExportSource, Movement, OnColor

EQUITY_ALLOCATED = "Equity:Allocated"
EQUITY_RETURNED = "Equity:Returned"
RESERVED = "Assets:Reserved"
_COMMODITY = re.compile(r"[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]")


def holder_account(source: ExportSource, party: str) -> str:
    return f"Assets:Holders:{source.scheme(party)}-{party}"


def counterparty_account(party: str) -> str:
    return f"Equity:Counterparties:{party}"


def spend_account(category: str | None) -> str:
    words = (category or "other").replace("_", " ").split()
    return "Expenses:Spent:" + "".join(word.capitalize() for word in words)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


class BeancountWriter:
    """Writes one color at a time; remembers the accounts it opened and the final balances to assert."""

    def __init__(self, source: ExportSource, out: IO[str]) -> None:
        self.source = source
        self.out = out
        self.opened: dict[str, date] = {}
        self.last_day: date | None = None
        self.transactions = 0

    def account_of(self, party: str) -> str:
        own = self.source.party is None or party == self.source.party
        return holder_account(self.source, party) if own else counterparty_account(party)

    def _postings(self, event: list[Movement]) -> list[tuple[str, int]]:
        """(account, signed tiyn) postings of one event's movements, balancing to zero."""
        first = event[0]
        postings = [(self.account_of(m.holder), m.amount_tiyn) for m in event]
        if first.kind == "transfer" and len(event) == 1:  # --party: the other side is a counterparty
            postings.append((self.account_of(first.counterparty or ""), -first.amount_tiyn))
        elif first.kind == "allocate":
            postings.append((EQUITY_ALLOCATED, -first.amount_tiyn))
        elif first.kind in ("reserve", "release", "void"):
            postings.append((RESERVED, -first.amount_tiyn))
        elif first.kind == "spend":
            postings.append((spend_account(first.detail), -first.amount_tiyn))
        elif first.kind == "return":
            postings.append((EQUITY_RETURNED, -first.amount_tiyn))
        assert sum(amount for _, amount in postings) == 0, "every transaction balances"
        return postings

    def color(self, piece: ColorSlice) -> None:
        commodity = piece.color
        assert _COMMODITY.fullmatch(commodity), commodity
        purpose = piece.allocation.purpose
        start = self.source.local_date(piece.allocation.at)
        self.out.write(f"\n{start} commodity {commodity}\n  name: {_quoted(purpose)}\n"
                       f"  pilot: {_quoted(piece.allocation.pilot)}\n")
        groups: dict[tuple[int, str], list[Movement]] = {}
        for movement in piece.movements:
            groups.setdefault((movement.position, movement.transaction), []).append(movement)
        for (position, transaction), event in groups.items():
            self._transaction(commodity, position, transaction, event)

    def _transaction(self, commodity: str, position: int, transaction: str, event: list[Movement]) -> None:
        first = event[0]
        day = self.source.local_date(first.at)
        postings = self._postings(event)
        for account, _ in postings:  # opened at the end, on the first day any color used them
            self.opened[account] = min(self.opened.get(account, day), day)
        self.last_day = max(self.last_day or day, day)
        other = first.counterparty if first.counterparty and first.counterparty != first.holder else None
        payee = self.source.name(other) if other else ""
        narration = f"{first.kind} {transaction}"
        self.out.write(f"{day} * {_quoted(payee)} {_quoted(narration)}\n  txid: {_quoted(transaction)}\n"
                       f"  position: {position}\n  time: {_quoted(first.at.isoformat())}\n")
        if first.contract:
            self.out.write(f"  contract: {_quoted(first.contract)}\n")
        for account, amount_tiyn in postings:
            sign = "-" if amount_tiyn < 0 else ""
            self.out.write(f"  {account}  {sign}{format_kzt(abs(amount_tiyn))} {commodity}\n")
        self.transactions += 1

    def assertions(self, balances: list[tuple[str, str, int]]) -> None:
        """A `balance` per holder and color, the day after the last transaction: the ledger's balances."""
        if self.last_day is None:
            return
        self.out.write("\n")
        for account, first_day in sorted(self.opened.items()):
            self.out.write(f"{first_day} open {account}\n")
        day = self.last_day + timedelta(days=1)
        self.out.write("\n; the ledger's balances (tenge-ledger balance), checked by bean-check\n")
        for color, holder, balance_tiyn in balances:
            account = holder_account(self.source, holder)
            if account in self.opened:
                self.out.write(f"{day} balance {account}  {format_kzt(balance_tiyn)} ~ 0.00 {color}\n")


def write_beancount(source: ExportSource, out: IO[str], on_color: OnColor | None = None) -> int:
    """Write the Beancount ledger to `out` (text); returns the number of transactions."""
    as_of = source.as_of or f"@{source.position}"
    out.write(f"; tenge-ledger export as of {as_of}: one commodity per color, one account per holder\n")
    out.write('option "title" "tenge-ledger"\noption "operating_currency" "KZT"\n')
    writer = BeancountWriter(source, out)
    for piece in source.slices(on_color):
        writer.color(piece)
    writer.assertions(source.balances())
    return writer.transactions
