"""The keys table as a projection of the events (SPEC §7, `verify`).

The recorders write `ledger_keys` in the same transaction as the events (`ledger.store.recorders`):
one `command:<id>` row per applied or blocked command (its content digest, for idempotency, and
the stream its event went to) and one row per name the ledger must keep unique — `contract:`,
`color:`, `reservation:`, `party:` (digest empty, the owning stream). With encryption the names are
keyed hashes (`Ledger.stored_key`). Every command leaves exactly one event, so the table is a
function of the events; `ExpectedKeys` rebuilds it, and `compare` says how the stored one differs.

A deleted `command:` row is what lets a re-import apply a command twice (the ledger cannot know
the id was used); the duplicate transaction id among the events and the missing key both show it.

The content digest of a command is recomputed from its event where the event holds the whole
command: a blocked attempt records the canonical command itself, and an applied one every field of
its command — except a transfer, whose event records the lots it took (merged, in order) but not
whether or how the command named them (`sources`), nor whether the contract was named or found.
For a transfer, and wherever a command field is not in its event, only the key's presence and
stream are checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any
from uuid import UUID

import orjson

from domain import commands as c
from domain import events as e
from domain.roles import SET_ROLES
from ledger.app import disposition_digest
from ledger.interchange import command_digest

# the command type each kind of applied event records
COMMAND_OF_EVENT: dict[type[e.LedgerEvent], type[c.Command]] = {
    e.FundsAllocated: c.Allocate, e.ContractSigned: c.SignContract, e.ContractAmended: c.AmendContract,
    e.DeliveryAccepted: c.Accept, e.FundsTransferred: c.Transfer, e.FundsReserved: c.Reserve,
    e.ReservationReleased: c.Release, e.ReservationVoided: c.Void, e.FundsSpent: c.Spend,
    e.FundsReturned: c.Return, e.ColorFrozen: c.Freeze, e.ColorUnfrozen: c.Unfreeze,
    e.PartyRegistered: c.RegisterParty, e.PartyUpdated: c.UpdateParty, e.ReferencePriceSet: c.SetReferencePrice,
}


@dataclass(frozen=True)
class ExpectedKey:
    """A key the events imply: which event (position, transaction, color) and what it should hold."""

    name: str  # in plain text, e.g. `command:T-1`
    stream: str
    position: int
    transaction: str
    color: str | None
    digests: frozenset[bytes] | None  # the acceptable digests; None: not recomputable


@dataclass(frozen=True)
class KeyProblem:
    """A difference between the stored keys and the events: `check` is `transaction` (an id repeated
    among the events) or `keys` (a key missing, extra or altered); position 0: no event to name."""

    check: str
    position: int
    transaction: str | None
    color: str | None
    message: str


class ExpectedKeys:
    """Collects, event by event, the keys table the events imply and the repeated transaction ids."""

    def __init__(self) -> None:
        self.keys: dict[str, ExpectedKey] = {}
        self.first_position: dict[str, int] = {}  # transaction id -> where it first occurs
        self.problems: list[KeyProblem] = []

    def observe(self, position: int, stream: UUID, event: e.LedgerEvent) -> None:
        transaction = event.command_id
        color = getattr(event, "color", None)
        first = self.first_position.setdefault(transaction, position)
        if first != position:
            self.problems.append(duplicate_problem(position, transaction, color, first))
            return
        for name, digests in names_of(event):
            self.keys[name] = ExpectedKey(name, str(stream), position, transaction, color, digests)


def names_of(event: e.LedgerEvent) -> list[tuple[str, frozenset[bytes] | None]]:
    """The keys one event implies (as `_BatchRun._apply` and `_claim_names` in ledger/app.py write them)."""
    names: list[tuple[str, frozenset[bytes] | None]] = [("command:" + event.command_id, digests_of(event))]
    empty = frozenset({b""})
    if isinstance(event, e.ContractSigned):
        names.append(("contract:" + event.contract, empty))
    elif isinstance(event, e.FundsAllocated):
        names.append(("color:" + event.color, empty))
    elif isinstance(event, e.FundsReserved):
        names.append(("reservation:" + event.command_id, empty))
    elif isinstance(event, e.PartyRegistered):
        names.append(("party:" + event.party, empty))
    elif isinstance(event, e.CommandBlocked):
        names.append(("blocked:" + event.command_id, empty))  # a re-submission answers its original outcome
    return names


def digests_of(event: e.LedgerEvent) -> frozenset[bytes] | None:
    """The content digests the event's command may have had; None if the event cannot tell."""
    if isinstance(event, e.CommandBlocked):
        return frozenset({hashlib.sha256(orjson.dumps(event.command, option=orjson.OPT_SORT_KEYS)).digest()})
    if isinstance(event, e.RolesPolicySet):  # as `Ledger.set_roles` digests the policy it records
        record = {"type": SET_ROLES, "id": event.command_id, "at": event.at.isoformat(), "actors": event.actors}
        return frozenset({hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).digest()})
    if isinstance(event, e.FlagDisposed):  # as `Ledger.dispose_flag` digests the disposition it records
        return frozenset({disposition_digest(event.command_id, event.at, event.flag, event.disposition, event.comment)})
    command_class = COMMAND_OF_EVENT.get(type(event))
    if command_class is None or command_class is c.Transfer:
        return None
    try:
        return frozenset(command_digest(command) for command in _commands(command_class, event))
    except Exception:  # noqa: BLE001 - a field the command cannot hold: the event cannot tell its digest
        return None


def _commands(command_class: type[c.Command], event: e.LedgerEvent) -> list[c.Command]:
    """The command of `command_class` the event came from (a list: an event kind may admit several)."""
    base: dict[str, Any] = {"id": event.command_id, "at": event.at}
    source = dict(event.changes) if isinstance(event, e.PartyUpdated) else None
    for spec in fields(command_class):
        if spec.name in ("id", "at", "actor"):
            continue
        if source is not None and spec.name != "party":
            value = source.get(spec.name)
            base[spec.name] = tuple(value) if isinstance(value, list) else value
        elif hasattr(event, spec.name):
            base[spec.name] = getattr(event, spec.name)
        else:
            raise KeyError(spec.name)  # the event does not record this field of its command
    return [command_class(**base)]


def compare(expected: ExpectedKeys, stored: dict[str, tuple[bytes, str]], stored_name: Any, ignore: set[str]) -> list[KeyProblem]:
    """How the stored keys table differs from the one the events imply.

    `stored`: stored name -> (digest, stream); `stored_name(name)` the stored form of a plain name
    (a keyed hash when encrypted); `ignore`: stored names that are not events' keys (the cipher marker).
    """
    problems = list(expected.problems)
    seen: set[str] = set()
    for name, key in expected.keys.items():
        hidden = stored_name(name)
        seen.add(hidden)
        problem = key_problem(name, key, hidden, stored.get(hidden))
        if problem is not None:
            problems.append(problem)
    extra = sorted(set(stored) - seen - ignore)
    problems += [extra_key_problem(hidden) for hidden in extra]
    return problems


def key_problem(name: str, key: ExpectedKey, hidden: str, row: tuple[bytes, str] | None) -> KeyProblem | None:
    """What is wrong with the stored row (digest, stream) of a key the events imply (None: nothing)."""
    what = f"key {name}" + (" (stored as a keyed hash)" if hidden != name else "")
    if row is None:
        consequence = (f"submitting transaction {key.transaction} again would apply it a second time"
                       if name.startswith("command:") else "another command could claim the same name")
        return KeyProblem("keys", key.position, key.transaction, key.color,
                          f"the {what} that this event implies is missing from ledger_keys: it was deleted, "
                          f"and {consequence}; restore the row (or the store)")
    digest, stream = row
    if stream != key.stream:
        return KeyProblem("keys", key.position, key.transaction, key.color,
                          f"the {what} in ledger_keys points at stream {stream}, but its event is on stream "
                          f"{key.stream}: the row was altered")
    if key.digests is not None and bytes(digest) not in key.digests:
        return KeyProblem("keys", key.position, key.transaction, key.color,
                          f"the {what} in ledger_keys holds a content digest that is not the digest of the "
                          "command this event records: the event or the key row was altered (a re-submission "
                          "of the original command would no longer be recognised as a duplicate)")
    return None


def extra_key_problem(hidden: str) -> KeyProblem:
    """A stored key that no event implies."""
    return KeyProblem("keys", 0, None, None,
                      f"ledger_keys holds the key {hidden}, which no event implies: it was inserted behind "
                      "the ledger's back (or its event was removed); it blocks that name or command id")


def duplicate_problem(position: int, transaction: str, color: str | None, first: int) -> KeyProblem:
    """A transaction id that occurs again among the events (first at `first`)."""
    return KeyProblem("transaction", position, transaction, color, (
        f"transaction {transaction} occurs a second time (first at position {first}): the same command was "
        "applied twice, which happens when its idempotency key (`command:` row of ledger_keys) was deleted "
        "and the command submitted again; this event must be reversed or the store restored"))


def stored_keys(recorder: Any) -> dict[str, tuple[bytes, str]]:
    """Every row of the keys table: name -> (digest, stream), read-only, whatever the store."""
    if hasattr(recorder, "_keys"):  # memory
        return dict(recorder._keys)
    if hasattr(recorder, "_keys_relation"):  # PostgreSQL
        from psycopg.sql import SQL

        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT key, digest, stream FROM {}").format(recorder._keys_relation))
            return {row["key"]: (bytes(row["digest"]), row["stream"]) for row in curs.fetchall()}
    with recorder.datastore.transaction(commit=False) as cursor:  # SQLite
        cursor.execute(f"SELECT key, digest, stream FROM {recorder.keys_table}")
        return {row[0]: (bytes(row[1]), row[2]) for row in cursor.fetchall()}
