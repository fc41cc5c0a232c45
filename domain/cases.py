"""Case work on anomaly flags: an auditor's disposition of a flag, on a stream of its own.

A flag (SPEC §6.2) is named by its id, `RULE:key` (the rule's code and what it is about), stable
across rebuilds: the rules raise a flag once per id. An auditor records what the flag turned out
to be — `confirmed` (misuse), `explained` (allowed, with a reason) or `false_positive` (the rule
was wrong) — with a comment, as a `FlagDisposed` event carrying its actor. The latest disposition
is the flag's status; a flag with none is `open`. `closed` names every flag that has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain import events as e
from domain.aggregate import Aggregate
from domain.errors import InvalidValue

CONFIRMED, EXPLAINED, FALSE_POSITIVE = "confirmed", "explained", "false_positive"
DISPOSITIONS = (CONFIRMED, EXPLAINED, FALSE_POSITIVE)
OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, *DISPOSITIONS)  # what a flag's status may be
STATUS_FILTERS = (*STATUSES, CLOSED)  # what `flags --status` takes: `closed` is any disposition
DISPOSE_FLAG = "dispose_flag"  # the roles-policy action (auditors)

FLAG_ID_MAX = 512
COMMENT_MAX = 2_000
_FLAG_ID = re.compile(r"[A-Z][0-9]{2}:[^\s]+")
# C0, DEL, C1 and the bidirectional controls (as the interchange's text fields, SPEC §5)
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def parse_flag_id(text: str) -> str:
    """A flag id as the rules write it (`F07:...`), or `InvalidValue`."""
    if not isinstance(text, str) or not text or len(text) > FLAG_ID_MAX:
        raise InvalidValue(f"a flag id has 1 to {FLAG_ID_MAX} characters")
    if _CONTROL.search(text) or not _FLAG_ID.fullmatch(text):
        raise InvalidValue(f"a flag id looks like F07:<key> (a rule code, a colon, no spaces), got {text!r}")
    return text


def parse_disposition(text: str) -> str:
    if text not in DISPOSITIONS:
        raise InvalidValue(f"a disposition is one of {', '.join(DISPOSITIONS)}, got {text!r}")
    return text


def parse_comment(text: str) -> str:
    """A disposition's comment: not blank, at most COMMENT_MAX characters, no control characters."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue("a disposition needs a comment (what was found)")
    if len(text) > COMMENT_MAX:
        raise InvalidValue(f"a comment has at most {COMMENT_MAX} characters, got {len(text)}")
    control = _CONTROL.search(text)
    if control is not None:
        raise InvalidValue(f"a comment must not contain control characters, got U+{ord(control.group()):04X} "
                           f"at character {control.start() + 1}")
    return text


def rule_of(flag_id: str) -> str:
    return flag_id.partition(":")[0]


@dataclass(frozen=True)
class Disposition:
    """One recorded disposition, as the read side shows it."""

    flag: str
    disposition: str
    comment: str
    actor: str
    at: str
    transaction: str


class FlagCase(Aggregate):
    """A flag's case stream: its dispositions in order (the last one is in force)."""

    def __init__(self, originator_id: object) -> None:
        super().__init__(originator_id)  # type: ignore[arg-type]
        self.flag: str | None = None
        self.history: list[Disposition] = []

    @property
    def status(self) -> str:
        return self.history[-1].disposition if self.history else OPEN

    def dispose(self, flag: str, disposition: str, comment: str, command_id: str, at: object,
                actor: str) -> e.FlagDisposed:
        """The event recording `disposition` of `flag` (the caller checked the role and the flag)."""
        parse_flag_id(flag)
        parse_disposition(disposition)
        parse_comment(comment)
        assert self.flag in (None, flag), (self.flag, flag)
        return e.FlagDisposed(originator_id=self.id, originator_version=self.version + 1, command_id=command_id,
                              at=at, actor=actor, flag=flag, rule=rule_of(flag), disposition=disposition,  # type: ignore[arg-type]
                              comment=comment)

    def _mutate(self, event: e.LedgerEvent) -> None:
        assert isinstance(event, e.FlagDisposed), type(event)
        self.flag = event.flag
        self.history.append(Disposition(event.flag, event.disposition, event.comment, event.actor,
                                        event.at.isoformat(), event.command_id))

    def _check_after_event(self) -> None:
        assert all(item.flag == self.flag for item in self.history), "one flag per case stream"
        assert all(item.disposition in DISPOSITIONS for item in self.history)
