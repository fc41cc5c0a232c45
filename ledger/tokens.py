"""API tokens as the application issues, revokes and checks them (the rules: `domain.tokens`).

Issuing and revoking need the `manage_tokens` action (the admin role) under the ledger's roles
policy, and are recorded as events with their actor and a transaction key, like `roles set`.
`TokenBook` answers "who does this token act as?" for a server: it keeps the tokens stream in
memory and reads only the events recorded since it last looked, so a token revoked by another
process stops working at the next request.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime

import orjson
from eventsourcing.persistence import IntegrityError

from domain import events as e
from domain.roles import MANAGE_TOKENS
from domain.tokens import TOKENS_STREAM, ApiTokens, IssuedToken, make_token, token_digest
from ledger.app import BatchFailed, Ledger, _Batch

__all__ = ["TokenBook", "issue_token", "list_tokens", "revoke_token"]


def _tokens(ledger: Ledger) -> ApiTokens:
    aggregate = ApiTokens(TOKENS_STREAM)
    for event in ledger.events.get(TOKENS_STREAM):
        aggregate.apply(event)
    return aggregate


def _save(ledger: Ledger, event: e.LedgerEvent, record: dict[str, object]) -> None:
    digest = hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).digest()
    key = (ledger.stored_key("command:" + event.command_id), digest, str(TOKENS_STREAM))
    try:
        ledger.save(_Batch([event]), keys=[key])
    except IntegrityError as clash:
        raise BatchFailed(f"the tokens changed meanwhile, or transaction {event.command_id} exists; "
                          "nothing was written: try again") from clash


def issue_token(ledger: Ledger, actor: str, token_id: str, secret: str, command_id: str, at: datetime) -> str:
    """Issue a token acting as `actor` (the ledger's actor must be allowed `manage_tokens`); the
    token, which only this answer ever shows."""
    assert not ledger.sealed, "an encrypted store opened without its key is read-only"
    ledger.authorize(MANAGE_TOKENS)
    token = make_token(token_id, secret)
    event = _tokens(ledger).issue(token_id, actor, token_digest(token), command_id, at, ledger.actor)
    _save(ledger, event, {"type": "issue_token", "id": command_id, "at": at.isoformat(), "token_id": token_id,
                          "actor": actor})
    return token


def revoke_token(ledger: Ledger, token_id: str, command_id: str, at: datetime) -> bool:
    """Revoke a token; False if it was revoked already (nothing written)."""
    assert not ledger.sealed, "an encrypted store opened without its key is read-only"
    ledger.authorize(MANAGE_TOKENS)
    event = _tokens(ledger).revoke(token_id, command_id, at, ledger.actor)
    if event is None:
        return False
    _save(ledger, event, {"type": "revoke_token", "id": command_id, "at": at.isoformat(), "token_id": token_id})
    return True


def list_tokens(ledger: Ledger) -> list[IssuedToken]:
    """Every token issued, in order (digests, never tokens); needs `manage_tokens`."""
    ledger.authorize(MANAGE_TOKENS)
    return list(_tokens(ledger).tokens.values())


class TokenBook:
    """The tokens stream kept in memory, brought up to date on each question (thread-safe)."""

    def __init__(self) -> None:
        self._tokens = ApiTokens(TOKENS_STREAM)
        self._lock = threading.Lock()

    def actor_of(self, ledger: Ledger, token: str) -> str | None:
        """The actor an active token acts as, or None (unknown, revoked, wrong secret)."""
        with self._lock:
            for event in ledger.events.get(TOKENS_STREAM, gt=self._tokens.version):
                self._tokens.apply(event)
            return self._tokens.actor_of(token)
