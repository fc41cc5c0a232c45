"""Writing a project's steps: compact compiled steps, and the amounts resolved as they are written.

Once a project is planned (and its scheme injected), its steps are *compiled*: each becomes a small
tuple holding what realization needs (who pays whom under which contract, the amount or its rule)
and the record's JSON line with a placeholder where a computed amount goes. An active project thus
costs a few hundred bytes per remaining step — the step dicts, their datetimes and nested items
are gone — which is what keeps a streaming generation's memory small.

`Realizer` follows the project's color as lines are written: balances per holder, per contract the
amount, what was paid (advances apart) and accepted, open reservations. A payment's amount rule is
resolved against that state into a window, and `BenfordBook` picks the amount in it.
"""

from __future__ import annotations

import calendar
from typing import Any, NamedTuple

import orjson

from domain.money import format_kzt
from simulations.amounts import BenfordBook
from simulations.plan import (
    PASS_ON_PERCENT, PAYMENT_MIN, ROUND_UNIT, AmountRule, Due, Onward, Plan, Rest, Round, SameAs, ShareOfBalance, UpTo,
    Window, render,
)

_MARK = "@@AMOUNT@@"
_MARK_BYTES = orjson.dumps(_MARK)
_COMPUTED = frozenset({"transfer", "reserve", "spend", "return", "release", "void"})


class Step(NamedTuple):
    """A compiled step: business time (UTC epoch seconds), its parts, and its line's template."""

    at: int
    type: str
    id: str
    payer: str | None  # `from`, or the administrator of an allocation
    payee: str | None
    contract: str | None
    kind: str | None  # advance, progress, subsidy
    reservation: str | None
    amount: Any  # tiyn, an amount rule, or None
    blocked: bool
    template: bytes  # the JSON line without its newline; the amount replaced when computed


def epoch(moment: Any) -> int:
    return calendar.timegm(moment.utctimetuple())


def compile_steps(plan: Plan) -> tuple[list[Step], set[str]]:
    """The plan's steps in writing order, compiled; and the ids whose amounts `SameAs` refers to."""
    compiled = []
    referenced = set()
    for step in plan.sorted_steps():
        amount = step.get("amount")
        if isinstance(amount, SameAs):
            referenced.add(amount.step_id)
        blocked = bool(step.get("_blocked"))
        computed = step["type"] in _COMPUTED and not blocked
        line = bytes(memoryview(orjson.dumps(render(step, _MARK if computed else amount))))  # exact size: orjson over-allocates
        payer = step.get("from") or step.get("administrator")
        compiled.append(Step(epoch(step["at"]), step["type"], step["id"], payer, step.get("to"), step.get("contract"),
                             step.get("kind"), step.get("reservation"), amount, blocked, line))
    return compiled, referenced


class Realizer:
    """Resolves a project's compiled steps into lines, tracking what its color did."""

    def __init__(self, plan: Plan, book: BenfordBook, referenced: set[str]) -> None:
        self.pilot = plan.pilot
        self.admin = plan.admin.party
        self.book = book
        self.rng_name = ("emit", plan.pilot, plan.index)
        self.world = plan.world
        self.referenced = referenced
        self.balances: dict[str, int] = {}
        self.received: dict[str, int] = {}
        self.passed_on: dict[str, int] = {}
        self.contracts: dict[str, list[int]] = {}  # id -> [amount, paid, paid for acceptances, advanced, accepted]
        self.reservations: dict[str, tuple[int, str, str, str]] = {}
        self.amounts: dict[str, int] = {}  # of steps some SameAs refers to

    def realize(self, step: Step) -> bytes | None:
        """The line to write for `step` (without newline), or None when there is nothing to write."""
        if step.blocked:
            return step.template
        handler = _HANDLERS.get(step.type)
        if handler is None:
            return step.template
        amount = handler(self, step)
        if amount is None:
            return None
        if step.id in self.referenced:
            self.amounts[step.id] = amount
        if step.type in _COMPUTED:
            return step.template.replace(_MARK_BYTES, orjson.dumps(format_kzt(amount)), 1)
        return step.template

    # --- what each record does to the color ---------------------------------------------------

    def _allocate(self, step: Step) -> int:
        self.balances[step.payer] = self.balances.get(step.payer, 0) + step.amount
        return step.amount

    def _sign(self, step: Step) -> int:
        self.contracts[step.contract] = [step.amount, 0, 0, 0, 0]
        return step.amount

    def _amend(self, step: Step) -> int:
        self.contracts[step.contract][0] = step.amount
        return step.amount

    def _accept(self, step: Step) -> int:
        self.contracts[step.contract][4] += step.amount
        return step.amount

    def _transfer(self, step: Step) -> int | None:
        amount = self._payment(step)
        if amount is not None:
            self._paid(step, amount)
            self._receive(step.payee, amount)
        return amount

    def _reserve(self, step: Step) -> int | None:
        amount = self._payment(step)
        if amount is not None:
            self._paid(step, amount)
            self.reservations[step.id] = (amount, step.payer, step.payee, step.contract)
        return amount

    def _release(self, step: Step) -> int | None:
        reservation = self.reservations.pop(step.reservation, None)
        if reservation is None:
            return None  # its reservation was not written
        self._receive(reservation[2], reservation[0])
        return reservation[0]

    def _void(self, step: Step) -> int | None:
        reservation = self.reservations.pop(step.reservation, None)
        if reservation is None:
            return None
        amount, payer, _, contract = reservation
        self.balances[payer] += amount
        record = self.contracts[contract]
        record[1] -= amount
        record[2] -= amount
        return amount

    def _spend(self, step: Step) -> int | None:
        amount = self._payment(step)
        if amount is not None:
            self.balances[step.payer] -= amount
        return amount

    def _return(self, step: Step) -> int | None:
        balance = self.balances.get(step.payer, 0)
        amount = balance if isinstance(step.amount, Rest) else min(step.amount, balance)
        if amount <= 0:
            return None
        self.balances[step.payer] = balance - amount
        return amount

    # --- payments -------------------------------------------------------------------------------

    def _paid(self, step: Step, amount: int) -> None:
        self.balances[step.payer] -= amount
        record = self.contracts[step.contract]
        record[1] += amount
        record[3 if step.kind == "advance" else 2] += amount
        if step.payer != self.admin:
            self.passed_on[step.payer] = self.passed_on.get(step.payer, 0) + amount

    def _receive(self, payee: str, amount: int) -> None:
        self.balances[payee] = self.balances.get(payee, 0) + amount
        self.received[payee] = self.received.get(payee, 0) + amount

    def _payment(self, step: Step) -> int | None:
        """The amount of a transfer, reservation or spend, chosen by the Benford book."""
        if isinstance(step.amount, int):
            self.book.record(step.payer, step.amount)
            return step.amount
        rng = self.world.rng(*self.rng_name, step.id)  # one stream per payment: nothing kept between steps
        if isinstance(step.amount, Round):
            return self._round(step, rng)
        if isinstance(step.amount, Onward):
            window = self._onward(step.amount, step.payer, step.contract, step.kind)
        else:
            window = self._window(step.amount, step.payer, step.contract, passes_on=step.type != "spend")
        if window is None:
            return None
        lo, hi = window
        return self.book.choose(step.payer, max(1, min(lo, hi)), hi, rng, self.pilot)

    def _onward(self, rule: Onward, payer: str, contract: str | None, kind: str | None) -> tuple[int, int] | None:
        """A share of the payer's balance, held only to the contract (not to the 70 % of `Due`)."""
        balance = self.balances.get(payer, 0)
        record = self.contracts[contract] if contract else None
        room = min(balance, record[0] - record[1]) if record else balance
        if record is not None and kind != "advance":
            room = min(room, record[4] - record[2])  # never more than accepted (F11)
        lo, hi = balance * rule.lo_percent // 100, min(balance * rule.hi_percent // 100, room)
        return (lo, hi) if hi >= PAYMENT_MIN else None

    def _round(self, step: Step, rng: Any) -> int | None:
        """A multiple of `ROUND_UNIT` in the rule's window that the balance allows, or None."""
        rule = step.amount
        balance = self.balances.get(step.payer, 0)
        record = self.contracts.get(step.contract) if step.contract else None
        room = min(balance, record[0] - record[1]) if record else balance
        first = -(-rule.lo // ROUND_UNIT)
        last = min(rule.hi, room) // ROUND_UNIT
        if last < first:
            return None
        amount = ROUND_UNIT * rng.randint(first, last)
        self.book.record(step.payer, amount)
        return amount

    def _window(self, rule: AmountRule, payer: str, contract: str | None, *, passes_on: bool) -> tuple[int, int] | None:
        balance = self.balances.get(payer, 0)
        record = self.contracts.get(contract) if contract else None
        room = min(balance, record[0] - record[1]) if record else balance
        if passes_on and payer != self.admin:  # a contractor paying its own suppliers (S01)
            room = min(room, self.received.get(payer, 0) * PASS_ON_PERCENT // 100 - self.passed_on.get(payer, 0))
        if isinstance(rule, Window):
            lo, hi = rule.lo, min(rule.hi, room)
        elif isinstance(rule, Due):
            assert record is not None, "Due needs a contract"
            amount, _, for_acceptance, advanced, accepted = record
            due = min(accepted * (amount - advanced) // amount - for_acceptance, room)
            lo, hi = due * rule.lo_percent // 100, due * rule.hi_percent // 100
        elif isinstance(rule, UpTo):
            assert record is not None, "UpTo needs a contract"
            lo, hi = rule.lo - record[1], min(rule.hi - record[1], room)
        elif isinstance(rule, ShareOfBalance):
            lo, hi = balance * rule.lo_percent // 100, min(balance * rule.hi_percent // 100, room)
        elif isinstance(rule, SameAs):
            same = self.amounts.get(rule.step_id)
            if same is not None and same <= room:
                return same, same
            lo, hi = balance * 20 // 100, min(balance * 40 // 100, room)
        else:
            raise AssertionError(f"no amount rule {rule!r} for a payment")
        return (lo, hi) if hi >= PAYMENT_MIN else None


_HANDLERS = {
    "allocate": Realizer._allocate, "sign_contract": Realizer._sign, "amend_contract": Realizer._amend,
    "accept": Realizer._accept, "transfer": Realizer._transfer, "reserve": Realizer._reserve,
    "release": Realizer._release, "void": Realizer._void, "spend": Realizer._spend, "return": Realizer._return,
}
