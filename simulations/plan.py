"""One project's plan: its records (steps) before their amounts are final, and their realization.

A pilot's planner builds a `Plan` — interchange records in the order and at the business times they
happen, as plain dicts (`step["from"]`, `step["amount"]`, …) so that a misuse scheme can read,
change, add or remove them. Private keys start with `_` and never reach the file.

A step's `amount` is either a fixed `int` of tiyn or an amount *rule* resolved when the step is
written, against what the project's earlier records actually did:

- `Window(lo, hi)` — any amount in [lo, hi] (an advance, a subsidy);
- `Due(lo_percent, hi_percent)` — a share of what is due under the step's contract: accepted
  value, less the advances' share, less what was already paid for acceptances; capped by the
  contract's remaining amount and the payer's balance; for a contractor paying on, by 70 % of what
  it received less what it already paid on (so S01's 80 % is never reached). A stage is often paid
  in installments: `Due(10, 75)` for the first ones, `Due(60, 100)` for the last;
- `UpTo(lo, hi)` — what brings the contract's payments to between lo and hi in total (a second
  subsidy tranche);
- `ShareOfBalance(lo_percent, hi_percent)` — a share of the payer's balance (spends);
- `Rest()` — the whole balance (returns to the treasury);
- `SameAs(step_id)` — the amount another step was written with (a duplicate), or a share of the
  balance if that much is no longer there;
- `Onward(lo_percent, hi_percent)` — a share of the payer's balance passed on under the step's
  contract, *not* held to the 70 % of `Due` (a pass-through shell, S01's subcontracting): capped by
  the contract's remaining amount and, unless it is an advance, by what was accepted and not yet
  paid (so F11 stays silent);
- `Round(lo, hi)` — a multiple of 100 000 KZT in [lo, hi] that the payer's balance allows (F12's
  round amounts); not written when none fits.

Windows are wide (lo ≤ 60 % of hi, and for most payments of a busy payer far wider) so that
`BenfordBook` can keep every payer's first digits on Benford's curve: a payer whose amounts all lie
within a narrow band (an administrator of similar projects, an operator subsidising one class of
machines) can only be balanced when some of its windows span most of a decade — hence the
installments and tranches of the planners. A payment whose rule leaves nothing to pay (`hi` below `PAYMENT_MIN`) is not
written, and neither is the release of a reservation that was not. A step with `_blocked` set is an
attempt the ledger must block: it is written as planned and changes nothing.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.identifiers import make_color
from domain.money import format_kzt
from simulations.amounts import KZT
from simulations.world import FISCAL_YEAR, Party, World, tz_of

PAYMENT_MIN = 20_000 * KZT
PASS_ON_PERCENT = 70
MONEY_TYPES = frozenset({"transfer", "reserve", "release", "void", "spend", "return"})
PAYMENT_TYPES = frozenset({"transfer", "reserve", "spend"})
YEAR_END = date(FISCAL_YEAR, 12, 31)
_LETTERS = {"allocate": "A", "sign_contract": "K", "amend_contract": "M", "accept": "C", "transfer": "T",
            "reserve": "R", "release": "L", "void": "V", "spend": "S", "return": "X", "freeze": "F",
            "unfreeze": "U", "update_party": "P", "register_party": "N"}


# --- amount rules ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    lo: int
    hi: int


@dataclass(frozen=True)
class Due:
    lo_percent: int = 60
    hi_percent: int = 100


@dataclass(frozen=True)
class UpTo:
    """Whatever brings the contract's payments to between `lo` and `hi` in total."""

    lo: int
    hi: int


@dataclass(frozen=True)
class ShareOfBalance:
    lo_percent: int
    hi_percent: int


@dataclass(frozen=True)
class Rest:
    pass


@dataclass(frozen=True)
class SameAs:
    step_id: str


@dataclass(frozen=True)
class Onward:
    lo_percent: int
    hi_percent: int


@dataclass(frozen=True)
class Round:
    lo: int
    hi: int


ROUND_UNIT = 100_000 * KZT  # F12's round amounts: multiples of this

AmountRule = Window | Due | UpTo | ShareOfBalance | Rest | SameAs | Onward | Round


@dataclass
class ContractPlan:
    """A contract of the plan: who, how much, and its steps (for schemes to find)."""

    contract: str
    customer: Party
    supplier: Party
    amount: int
    sign: dict[str, Any]
    role: str  # main / sub / supply / machine / local / extra
    accepts: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Truth:
    """A misuse scheme injected into a project: the ground truth for evaluation."""

    scheme: str
    rules: tuple[str, ...]
    pilot: str
    project: str
    color: str
    transactions: list[str]
    parties: list[str]
    contracts: list[str]
    blocked: int = 0
    note: str = ""

    def document(self, instance: str) -> dict[str, Any]:
        return {"id": instance, "scheme": self.scheme, "rules": list(self.rules), "pilot": self.pilot,
                "project": self.project, "color": self.color, "transactions": list(dict.fromkeys(self.transactions)),
                "parties": list(dict.fromkeys(self.parties)), "contracts": list(dict.fromkeys(self.contracts)),
                "blocked": self.blocked, "note": self.note}


class Plan:
    """The steps of one project (one color) and what a scheme needs to find its way in them."""

    def __init__(self, world: World, pilot: str, index: int, admin: Party, program: int, start: date) -> None:
        self.world = world
        self.pilot = pilot
        self.index = index
        width = max(4, len(str(world.projects[pilot] - 1)))
        self.code = f"{pilot}-{index:0{width}d}"
        self.invoice_width = max(5, width)
        self.admin = admin
        self.treasury = world.party("treasury", 0)
        self.region = admin.region
        self.tz = tz_of(admin.region)
        self.program = program
        self.color = make_color(pilot, FISCAL_YEAR, program, index + 1)
        self.start = start
        self.rng = world.rng("plan", pilot, index)
        self.steps: list[dict[str, Any]] = []
        self.contracts: dict[str, ContractPlan] = {}
        self._n = 0
        self._invoices = 0
        self.scheme_parties = 0  # parties a misuse scheme registered in this project (`schemes.base.scheme_party`)

    # --- building -----------------------------------------------------------------------------

    def add(self, type_: str, at: datetime, **fields: Any) -> dict[str, Any]:
        """A step of `type_` at `at`; `from_` stands for `from`; None values are left out."""
        assert at.tzinfo is not None and at.year == FISCAL_YEAR, at
        self._n += 1
        step: dict[str, Any] = {"id": f"{self.code}-{_LETTERS.get(type_, 'Z')}{self._n:04d}", "type": type_, "at": at}
        step.update({name.rstrip("_"): value for name, value in fields.items() if value is not None})
        step["_order"] = self._n
        self.steps.append(step)
        return step

    def new_contract_id(self) -> str:
        return f"{self.code}-C{len(self.contracts) + 1:02d}"

    def invoice(self, issuer: Party) -> str:
        """A fresh invoice number of `issuer` for this project (unique after normalisation)."""
        self._invoices += 1
        return f"{issuer.tag}-{self.index:0{self.invoice_width}d}/{self._invoices:03d}"

    def evidence(self, what: str) -> str:
        """A SHA-256 standing for a document (an acceptance act, a registration record)."""
        return hashlib.sha256(f"{self.world.config.seed}:{self.code}:{what}".encode()).hexdigest()

    # --- time ---------------------------------------------------------------------------------

    def day(self, base: date, lo: int, hi: int, rng: random.Random | None = None) -> date:
        """A working day `lo`..`hi` days after `base` (weekends move to Monday)."""
        return workday(base + timedelta(days=(rng or self.rng).randint(lo, hi)))

    def at(self, day: date, rng: random.Random | None = None) -> datetime:
        """A moment of office hours on `day`, in the project's offset."""
        minute = (rng or self.rng).randrange(9 * 60)
        return datetime.combine(day, time(9 + minute // 60, minute % 60, (rng or self.rng).randrange(60)), tzinfo=self.tz)

    def later(self, moment: datetime, minutes: int = 20) -> datetime:
        """A moment shortly after `moment` (the same day when it can)."""
        return moment + timedelta(minutes=minutes, seconds=self.rng.randrange(60))

    # --- finding --------------------------------------------------------------------------------

    def find(self, **match: Any) -> list[dict[str, Any]]:
        """Steps whose fields equal `match` (`from_` for `from`), in plan order."""
        wanted = {name.rstrip("_"): value for name, value in match.items()}
        return [s for s in self.steps if all(s.get(k) == v for k, v in wanted.items())]

    def step(self, step_id: str) -> dict[str, Any]:
        [found] = [s for s in self.steps if s["id"] == step_id]
        return found

    @property
    def allocation(self) -> dict[str, Any]:
        [found] = self.find(type="allocate")
        return found

    def remove(self, step: dict[str, Any]) -> None:
        self.steps = [s for s in self.steps if s is not step]

    def sorted_steps(self) -> list[dict[str, Any]]:
        return sorted(self.steps, key=lambda s: (s["at"], s["_order"]))

    def last_money_day(self) -> date:
        return max(s["at"].date() for s in self.steps if s["type"] in MONEY_TYPES and s["type"] != "return")


def workday(day: date) -> date:
    """Saturdays and Sundays move to the Monday after."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def render(step: dict[str, Any], amount: Any) -> dict[str, Any]:
    """The interchange record of a step: private keys dropped, amounts and times as strings."""
    record: dict[str, Any] = {}
    for name, value in step.items():
        if name[0] == "_":
            continue
        if name == "at":
            value = value.isoformat()
        elif name == "amount":
            value = amount if isinstance(amount, str) else format_kzt(amount)
        elif name == "price":
            value = format_kzt(value)
        elif name == "items":
            value = [{**item, "unit_price": format_kzt(item["unit_price"])} for item in value]
        elif isinstance(value, date):
            value = value.isoformat()
        record[name] = value
    return record
