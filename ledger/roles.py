"""Roles as the application enforces them (the rules themselves are `domain.roles`).

A roles file (TOML) names each actor's role:

    [actors]
    aigerim = "operator"
    daniyar = "auditor"
    root = "admin"

`tenge-ledger roles set FILE` records such a file in the ledger (`Ledger.set_roles`); from then on
the recorded policy governs every command whatever flags are given. A `--roles FILE` given to a
store with no policy recorded is enforced for that one command (the bootstrap, as before policies
were stored); once a policy is recorded, `--roles` changes nothing. With neither, everyone may do
everything. The check lives in the application (`Ledger`, the read side), so every face gets it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from domain.errors import InvalidValue, LedgerError
from domain.roles import (
    ACTIONS,
    READ,
    ROLE_ACTIONS,
    ROLES,
    SET_ROLES,
    actors_problem,
    parse_actor,
    roles_needed,
)

__all__ = ["ACTIONS", "ROLE_ACTIONS", "InvalidRoles", "NotAllowed", "Policy", "check_actor", "load_roles", "parse_actor"]


class NotAllowed(LedgerError):
    """The actor's role does not allow the action, or the actor has no role (SPEC §5: exit 77)."""


class InvalidRoles(LedgerError):
    """A roles file or policy that cannot be used (unreadable, malformed, no admin): exit 2."""


def check_actor(name: str) -> str:
    """`parse_actor` with the message naming what it is about (`--actor`)."""
    try:
        return parse_actor(name)
    except InvalidValue as problem:
        raise InvalidValue(f"actor: {problem}") from problem


@dataclass(frozen=True)
class Policy:
    """A roles policy: `actors` None means everyone may do everything. `source` names it in messages."""

    actors: dict[str, str] | None
    source: str = "no roles policy"

    def check(self, actor: str, action: str) -> None:
        """Raise `NotAllowed` (one line: the actor, their role, what was refused) unless allowed."""
        assert action in ACTIONS, action
        if self.actors is None:
            return
        what = {READ: "reading", SET_ROLES: "changing the roles policy"}.get(action, action.replace("_", "-"))
        role = self.actors.get(actor)
        if role is None:
            raise NotAllowed(f"actor {actor!r} has no role in {self.source}; {what} refused; nothing was written")
        if action not in ROLE_ACTIONS[role]:
            allowed = " or ".join(roles_needed(action))
            raise NotAllowed(f"actor {actor!r} is an {role}; {what} needs the {allowed} role; nothing was written")


EVERYONE = Policy(None)


def parse_roles(text: str, source: str) -> dict[str, str]:
    """The `[actors]` table of a roles file's text, checked (names and roles; recording it also
    needs an admin, which `Ledger.set_roles` checks)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidRoles(f"{source}: not valid TOML: {error}") from error
    actors = data.get("actors")
    unknown = sorted(set(data) - {"actors"})
    if not isinstance(actors, dict) or unknown:
        raise InvalidRoles(f"{source}: expected one table [actors] of actor = \"role\" ({', '.join(ROLES)})"
                           + (f"; unknown: {unknown}" if unknown else ""))
    problem = actors_problem(actors)
    if problem is not None:
        raise InvalidRoles(f"{source}: {problem}")
    return dict(actors)


def load_roles(path: str | None) -> Policy:
    """The policy in a roles file (`None`: everyone may do everything)."""
    if path is None:
        return EVERYONE
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidRoles(f"{path}: cannot read the roles file: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise InvalidRoles(f"{path}: not UTF-8 text: {error}") from error
    return Policy(parse_roles(text, str(path)), str(path))
