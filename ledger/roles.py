"""Who may do what (issue: roles): operators move money, auditors watch and freeze, admins keep
the registers and keys. Everyone may read.

A roles file (TOML) names each actor's role:

    [actors]
    aigerim = "operator"
    daniyar = "auditor"
    root = "admin"

Without a roles file (the embedded single-user default) the local user may do everything.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from domain.errors import LedgerError

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"allocate", "sign_contract", "amend_contract", "accept", "transfer", "reserve",
                           "release", "void", "spend", "return"}),
    "auditor": frozenset({"freeze", "unfreeze", "checkpoint"}),
    "admin": frozenset({"register_party", "update_party", "set_reference_price", "keygen", "rebuild"}),
}
ACTIONS = frozenset().union(*ROLE_ACTIONS.values())


class NotAllowed(LedgerError):
    """The actor's role does not allow the action, or the actor has no role."""


@dataclass(frozen=True)
class Roles:
    """The roles file's contents; `None` file means everyone may do everything."""

    actors: dict[str, str] | None
    source: str = ""

    def check(self, actor: str, action: str) -> None:
        assert action in ACTIONS, action
        if self.actors is None:
            return
        role = self.actors.get(actor)
        if role is None:
            raise NotAllowed(f"actor {actor!r} has no role in {self.source}; nothing was written")
        if action not in ROLE_ACTIONS[role]:
            allowed = ", ".join(r for r, actions in ROLE_ACTIONS.items() if action in actions)
            raise NotAllowed(f"actor {actor!r} is an {role}; {action.replace('_', '-')} needs the {allowed} role; nothing was written")


def load_roles(path: str | None) -> Roles:
    if path is None:
        return Roles(None)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise NotAllowed(f"{path}: cannot read the roles file: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise NotAllowed(f"{path}: not valid TOML: {error}") from error
    actors = data.get("actors")
    unknown = sorted(set(data) - {"actors"})
    if not isinstance(actors, dict) or unknown:
        raise NotAllowed(f"{path}: expected one table [actors] of actor = \"role\"" + (f"; unknown: {unknown}" if unknown else ""))
    for actor, role in actors.items():
        if role not in ROLE_ACTIONS:
            raise NotAllowed(f"{path}: actors.{actor}: role must be one of {', '.join(ROLE_ACTIONS)}, got {role!r}")
    return Roles(dict(actors), str(path))
