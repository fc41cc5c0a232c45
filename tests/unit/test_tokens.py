"""API tokens (domain.tokens, ledger.tokens): only digests are kept, a token names its actor until revoked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidValue
from domain.tokens import ApiTokens, make_token, token_digest, token_id_of
from ledger.app import Ledger
from ledger.roles import NotAllowed
from ledger.tokens import TokenBook, issue_token, list_tokens, revoke_token

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECRET = "s" * 43


def test_a_token_acts_as_its_actor_until_revoked_and_only_with_its_own_secret() -> None:
    tokens = ApiTokens()
    token = make_token("abcdef12", SECRET)
    tokens.apply(tokens.issue("abcdef12", "aigerim", token_digest(token), "T-1", NOW, "root"))
    assert tokens.actor_of(token) == "aigerim"
    assert tokens.actor_of(make_token("abcdef12", "t" * 43)) is None  # another secret
    assert tokens.actor_of("Bearer " + token) is None and token_id_of("garbage") is None
    tokens.apply(tokens.revoke("abcdef12", "T-2", NOW, "root"))  # type: ignore[arg-type]
    assert tokens.actor_of(token) is None
    assert tokens.revoke("abcdef12", "T-3", NOW, "root") is None  # revoked already: nothing to record
    with pytest.raises(InvalidValue):
        tokens.issue("abcdef12", "dana", token_digest(token), "T-4", NOW, "root")  # an id is issued once
    with pytest.raises(InvalidValue):
        tokens.revoke("nosuch00", "T-5", NOW, "root")


def test_issuing_needs_the_admin_role_and_the_book_sees_revocations_by_others() -> None:
    admin = Ledger("memory://", actor="root")
    admin.set_roles({"root": "admin", "aigerim": "operator"}, "ROLES-1", NOW)
    token = issue_token(admin, "aigerim", "abcdef12", SECRET, "TOKEN-1", NOW)
    book = TokenBook()
    assert book.actor_of(admin, token) == "aigerim"
    assert [t.digest_hex for t in list_tokens(admin)] == [token_digest(token)]
    admin.actor = "aigerim"
    with pytest.raises(NotAllowed):
        issue_token(admin, "aigerim", "abcdef13", SECRET, "TOKEN-2", NOW)
    admin.actor = "root"
    assert revoke_token(admin, "abcdef12", "REVOKE-1", NOW) is True
    assert book.actor_of(admin, token) is None
    assert revoke_token(admin, "abcdef12", "REVOKE-2", NOW) is False
