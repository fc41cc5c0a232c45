"""API tokens: who an HTTP request acts as (`tenge-ledger token create --actor NAME`).

A token is `tl_<token id>_<secret>`: the token id names it in lists and in `token revoke`, the
secret is 32 random bytes (base64url). The ledger keeps only the SHA-256 digest of the whole token,
on one stream of its own (`ApiTokens`): issuing is an `ApiTokenIssued` event and revoking an
`ApiTokenRevoked` event, each carrying the admin who did it as its actor. A request presenting a
token acts as the token's actor; the ledger's roles policy then decides what that actor may do.

The domain draws no randomness: the face makes the secret and passes it in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from domain import events as e
from domain.aggregate import Aggregate
from domain.errors import InvalidValue
from domain.roles import parse_actor

TOKENS_STREAM = uuid5(uuid5(NAMESPACE_URL, "https://tenge-ledger/streams"), "api-tokens")
TOKEN_PREFIX = "tl_"
TOKEN_ID_PATTERN = re.compile(r"[a-z0-9]{8,32}")
TOKEN_PATTERN = re.compile(r"tl_([a-z0-9]{8,32})_([A-Za-z0-9_-]{32,128})")


def token_digest(token: str) -> str:
    """The hex SHA-256 of a whole token: what the ledger keeps (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def make_token(token_id: str, secret: str) -> str:
    """The token text for an id and a secret (both checked)."""
    token = f"{TOKEN_PREFIX}{token_id}_{secret}"
    if not TOKEN_PATTERN.fullmatch(token):
        raise InvalidValue(f"a token id is 8-32 of a-z 0-9 and a secret 32-128 base64url characters, got id {token_id!r}")
    return token


def token_id_of(token: str) -> str | None:
    """The token id a presented token names, or None if it is not shaped like a token."""
    found = TOKEN_PATTERN.fullmatch(token)
    return found.group(1) if found else None


@dataclass(frozen=True)
class IssuedToken:
    """One issued token as the ledger remembers it (never the token itself)."""

    token_id: str
    actor: str
    digest_hex: str
    issued_by: str
    issued_at: str
    revoked_by: str | None = None
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_by is None


class ApiTokens(Aggregate):
    """The API tokens stream: every token issued, and which are revoked."""

    def __init__(self, originator_id: UUID = TOKENS_STREAM) -> None:
        super().__init__(originator_id)
        self.tokens: dict[str, IssuedToken] = {}

    def issue(self, token_id: str, actor: str, digest_hex: str, command_id: str, at: object,
              by: str) -> e.ApiTokenIssued:
        """The event issuing a token for `actor` (the caller checked that `by` may)."""
        if not TOKEN_ID_PATTERN.fullmatch(token_id):
            raise InvalidValue(f"a token id is 8-32 characters a-z 0-9, got {token_id!r}")
        if token_id in self.tokens:
            raise InvalidValue(f"token id {token_id} was issued before")
        parse_actor(actor)
        assert re.fullmatch(r"[0-9a-f]{64}", digest_hex), "a SHA-256 digest in hex"
        return e.ApiTokenIssued(originator_id=self.id, originator_version=self.version + 1, command_id=command_id,
                                at=at, actor=by, token_id=token_id, token_actor=actor,  # type: ignore[arg-type]
                                digest_hex=digest_hex)

    def revoke(self, token_id: str, command_id: str, at: object, by: str) -> e.ApiTokenRevoked | None:
        """The event revoking a token; None if it is revoked already. Unknown ids are refused."""
        issued = self.tokens.get(token_id)
        if issued is None:
            raise InvalidValue(f"no token {token_id} was issued")
        if not issued.active:
            return None
        return e.ApiTokenRevoked(originator_id=self.id, originator_version=self.version + 1, command_id=command_id,
                                 at=at, actor=by, token_id=token_id)  # type: ignore[arg-type]

    def actor_of(self, token: str) -> str | None:
        """The actor an active token acts as, or None (unknown, revoked or wrong secret)."""
        token_id = token_id_of(token)
        issued = self.tokens.get(token_id) if token_id else None
        if issued is None or not issued.active:
            return None
        if not hmac.compare_digest(issued.digest_hex, token_digest(token)):
            return None
        return issued.actor

    def _mutate(self, event: e.LedgerEvent) -> None:
        if isinstance(event, e.ApiTokenIssued):
            assert event.token_id not in self.tokens, "a token id is issued once"
            self.tokens[event.token_id] = IssuedToken(event.token_id, event.token_actor, event.digest_hex,
                                                      event.actor, event.at.isoformat())
        elif isinstance(event, e.ApiTokenRevoked):
            issued = self.tokens[event.token_id]
            assert issued.active, "a token is revoked once"
            self.tokens[event.token_id] = IssuedToken(issued.token_id, issued.actor, issued.digest_hex, issued.issued_by,
                                                      issued.issued_at, event.actor, event.at.isoformat())
        else:
            raise AssertionError(f"ApiTokens has no event {type(event).__name__}")
