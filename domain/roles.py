"""Who may do what: the roles, their actions, valid actor names, and the roles-policy stream.

Operators move money, auditors watch, freeze, sign checkpoints and dispose of flags, admins keep the registers, the
keys and the roles policy itself. Every role may read. An actor a policy does not name may do
nothing at all, not even read.

The policy the ledger enforces is recorded in the ledger, on one stream of its own
(`RolesPolicy`): each change is a `RolesPolicySet` event carrying its actor. A store with no
policy recorded lets everyone do everything (the embedded single-user default) until an admin
records one. A policy that names no admin is refused: it would lock every admin out for good,
since only an admin may change the policy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from uuid import NAMESPACE_URL, UUID, uuid5

from domain import events as e
from domain.aggregate import Aggregate
from domain.errors import InvalidValue

READ = "read"
SET_ROLES = "set_roles"
MANAGE_TOKENS = "manage_tokens"  # issue and revoke API tokens (domain.tokens)
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({READ, "allocate", "sign_contract", "amend_contract", "accept", "transfer", "reserve",
                           "release", "void", "spend", "return"}),
    "auditor": frozenset({READ, "freeze", "unfreeze", "checkpoint", "dispose_flag"}),
    "admin": frozenset({READ, "register_party", "update_party", "set_reference_price", "keygen", "rebuild", SET_ROLES,
                        MANAGE_TOKENS}),
}
ROLES = tuple(ROLE_ACTIONS)
ACTIONS = frozenset().union(*ROLE_ACTIONS.values())
ADMIN = "admin"

ACTOR_NAME_MAX = 64
ACTOR_PUNCTUATION = frozenset("._-@+")

# The one stream that holds the roles policy.
ROLES_STREAM = uuid5(uuid5(NAMESPACE_URL, "https://tenge-ledger/streams"), "roles-policy")


# What to call a character Unicode gives no name (C0/C1 controls have none): "with a control character (U+0001)".
_UNNAMED = {"Cc": "a control character", "Cs": "a surrogate", "Co": "a private-use character", "Cn": "an unassigned character"}


def parse_actor(name: str) -> str:
    """A valid actor name, or `InvalidValue` saying why not.

    1 to 64 characters, letters or digits (any script: "Айгерім" is a name) and `. _ - @ +`
    (login names and e-mail addresses), so no control, bidi or format character, space or quote can
    make a name in an audit log look like another.
    """
    if not isinstance(name, str) or not name:
        raise InvalidValue("an actor name must not be empty")
    if len(name) > ACTOR_NAME_MAX:
        raise InvalidValue(f"an actor name has at most {ACTOR_NAME_MAX} characters, got {len(name)}")
    for char in name:
        if char in ACTOR_PUNCTUATION or (char.isalnum() and unicodedata.category(char)[0] in "LN"):
            continue
        described = f"{unicodedata.name(char, '') or _UNNAMED.get(unicodedata.category(char), 'a character')} (U+{ord(char):04X})"
        raise InvalidValue(f"an actor name may hold only letters, digits and {''.join(sorted(ACTOR_PUNCTUATION))}; "
                           f"got {name!r} with {described}")
    return name


def roles_needed(action: str) -> list[str]:
    """The roles that allow `action`, in the order of `ROLES`."""
    assert action in ACTIONS, action
    return [role for role in ROLES if action in ROLE_ACTIONS[role]]


def actors_problem(actors: Mapping[str, str]) -> str | None:
    """What is wrong with a policy's names or roles, or None."""
    for actor, role in actors.items():
        try:
            parse_actor(actor)
        except InvalidValue as problem:
            return f"actors.{actor}: {problem}"
        if not isinstance(role, str) or role not in ROLE_ACTIONS:
            return f"actors.{actor}: role must be one of {', '.join(ROLES)}, got {role!r}"
    return None


def policy_problem(actors: Mapping[str, str]) -> str | None:
    """Why a policy may not be recorded (bad names or roles, no admin), or None."""
    problem = actors_problem(actors)
    if problem is not None:
        return problem
    if ADMIN not in actors.values():
        return "names no admin: recording it would lock every admin out (only an admin may change the roles policy)"
    return None


class RolesPolicy(Aggregate):
    """The roles-policy stream: the policy in force (None until one is recorded) and who set it."""

    def __init__(self, originator_id: UUID = ROLES_STREAM) -> None:
        super().__init__(originator_id)
        self.actors: dict[str, str] | None = None
        self.set_by = ""
        self.set_at: str = ""

    def record(self, actors: Mapping[str, str], command_id: str, at: object, actor: str) -> e.RolesPolicySet:
        """The event recording `actors` as the new policy (the caller checked who may)."""
        problem = policy_problem(actors)
        assert problem is None, problem
        return e.RolesPolicySet(originator_id=self.id, originator_version=self.version + 1, command_id=command_id,
                                at=at, actor=actor, actors=dict(sorted(actors.items())))  # type: ignore[arg-type]

    def _mutate(self, event: e.LedgerEvent) -> None:
        assert isinstance(event, e.RolesPolicySet), type(event)
        self.actors = dict(event.actors)
        self.set_by = event.actor
        self.set_at = event.at.isoformat()

    def _check_after_event(self) -> None:
        assert self.actors is None or ADMIN in self.actors.values(), "a recorded policy names an admin"
