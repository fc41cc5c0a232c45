"""A, L — assets and local projects: machines subsidised twice, dealer kickbacks, ghost projects,
implausibly fast works, year-end rush, idle funds (RULES.md).

Interpretations (RULES.md leaves these open; the tests pin them down):

- A01: each VIN keeps the list of its *uses*: a contract naming it (`assets` of `sign_contract`),
  counted under (color, contract), and a spend naming it (`assets` of `spend`), counted under
  (color, its contract) or, without a contract, under its color only. A use that brings a color or
  a contract the VIN did not have, when the VIN then has more than one color or more than one
  contract, raises one flag (per VIN and use). A spend without a contract under the contract's own
  color (the dealer paying the manufacturer for the machine) is not a second subsidy.
- A03: payments are transfers, releases (when the money reaches the payee) and spends with a
  `payee`, in any AGRO color. A payment counts towards a contract when its payer is the contract's
  supplier (the dealer) or related to it, its payee the contract's `beneficiary` or related to it
  (`World.related`, at the time of the payment), and it comes within `window_days` of the
  contract's signing (inclusive). The flag rises when the payments summed per contract reach
  `share` of the contract's current amount (the machine price).
- L01: paid = transfers and releases under the contract (a reservation is not paid until it is
  released). When the payment that makes paid ≥ `paid_share` of the contract's current amount
  arrives and the contract has no `final` acceptance yet, a deadline is set `window_days` later;
  a final acceptance at or before it keeps the rule silent.
- L02: every contract under a ROAD or LOCAL color is a works contract (as in H01). A `final`
  acceptance less than `days` × 24 h after signing, on a contract whose current amount is
  ≥ `amount_min_kzt`, raises the flag.
- L03: per (administrator, pilot, calendar year of the local business date), the administrator's
  colored payments are transfers and reservations it makes (at reservation time; a voided
  reservation is taken back out) and its spends. "Last days" are the last `last_days` dates of the
  year (25–31 December by default), "rest" the dates before. Mean weekly payments of the rest =
  rest total × 7 / number of rest days (358 in 2025). The flag rises when the last-days total is
  > 0 and ≥ `ratio` × that mean (so a year with nothing paid before the last week and something in
  it is flagged). Evaluated at the start of 1 January of the next year, in the offset of the first
  payment of that year; payments after that moment for a year already evaluated are ignored.
- L04: undisbursed = the administrator's own balance of the color (allocated, less what it
  transferred, reserved — voids give back —, spent or returned). Evaluated at the start of the day
  `days_before_expiry` before `expires_on` (in the allocation's offset); a color allocated after
  that moment is not evaluated.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from domain import events as e
from domain.money import format_kzt
from projections.rules.engine import Rule, RuleContext
from projections.rules.world import World

WORKS_PILOTS = frozenset({"ROAD", "LOCAL"})


# --- formatting -------------------------------------------------------------------------------

def _kzt(tiyn: int) -> str:
    return f"{format_kzt(tiyn)} KZT"


def _decimal(value: Fraction, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def _pct(value: Fraction) -> str:
    """A share as a percentage with at most two decimals: Fraction(9, 10) -> "90 %"."""
    text = format(_decimal(value * 100, 2), "f").rstrip("0").rstrip(".")
    return f"{text} %"


def _times(value: Fraction) -> str:
    """A ratio with at most two decimals: Fraction(49, 10) -> "4.9"."""
    return format(_decimal(value, 2), "f").rstrip("0").rstrip(".")


def _ratio_text(value: Fraction) -> str:
    """A ratio for `evidence`, four decimals."""
    return format(_decimal(value, 4), "f")


def _days_between(start: datetime, end: datetime) -> str:
    return format(_decimal(Fraction(int((end - start).total_seconds()), 86400), 1), "f")


def _related_parties(world: World, party: str) -> list[str]:
    """The party and every party sharing its normalised address or phone, an owner or a director."""
    info = world.parties.get(party)
    found = {party}
    if info:
        if info["address_norm"]:
            found |= world.by_address.get(info["address_norm"], set())
        if info["phone_norm"]:
            found |= world.by_phone.get(info["phone_norm"], set())
        for owner in info["owners"]:
            found |= world.by_owner.get(owner, set())
        for director in info["directors"]:
            found |= world.by_director.get(director, set())
    return sorted(found)


# --- A01 --------------------------------------------------------------------------------------

class SameMachineTwice(Rule):
    """A01: one VIN appears in contracts or spends under more than one color or contract."""

    code = "A01"
    title = "Same machine subsidised twice"
    severity = "high"
    pilots = frozenset({"AGRO"})
    reads = (e.ContractSigned, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.FundsSpent) -> None:
        if isinstance(event, e.ContractSigned):
            use = {"transaction": event.command_id, "color": event.color, "contract": event.contract,
                   "amount_tiyn": event.amount_tiyn, "what": f"contract {event.contract}",
                   "parties": [p for p in (event.customer, event.supplier, event.beneficiary) if p]}
        else:
            use = {"transaction": event.command_id, "color": event.color, "contract": event.contract,
                   "amount_tiyn": event.amount_tiyn, "what": f"spend {event.command_id}",
                   "parties": [p for p in (event.holder, event.payee) if p]}
        vins = self.state.setdefault("vins", {})
        for vin in event.assets:
            uses = vins.setdefault(vin, [])
            new_color = all(u["color"] != use["color"] for u in uses)
            new_contract = use["contract"] is not None and all(u["contract"] != use["contract"] for u in uses)
            uses.append(use)
            colors = sorted({u["color"] for u in uses})
            contracts = sorted({u["contract"] for u in uses if u["contract"] is not None})
            if (new_color or new_contract) and (len(colors) > 1 or len(contracts) > 1):
                self._flag(ctx, vin, uses, colors, contracts)

    def _flag(self, ctx: RuleContext, vin: str, uses: list[dict[str, Any]], colors: list[str], contracts: list[str]) -> None:
        use, earlier = uses[-1], uses[:-1]
        before = "; ".join(f"{u['what']} ({_kzt(u['amount_tiyn'])}, color {u['color']})" for u in earlier)
        ctx.flag(
            self, f"{vin}:{use['transaction']}", color=use["color"],
            transactions=[u["transaction"] for u in uses], parties=[p for u in uses for p in u["parties"]],
            contracts=contracts,
            explanation=(f"VIN {vin} in {use['what']} ({_kzt(use['amount_tiyn'])}, color {use['color']}) was already "
                         f"funded by {before}: {len(colors)} color(s) and {len(contracts)} contract(s) for one machine "
                         f"(threshold: more than one color or contract)."),
            evidence={"vin": vin, "colors": colors, "contracts": contracts,
                      "uses": [{k: u[k] for k in ("transaction", "color", "contract", "amount_tiyn")} for u in uses]},
        )


# --- A03 --------------------------------------------------------------------------------------

class DealerKickback(Rule):
    """A03: the dealer (or a related party) pays the beneficiary farmer (or a related party)
    ≥ `share` of the machine price within `window_days` of the contract's signing."""

    code = "A03"
    title = "Dealer kickback"
    severity = "high"
    pilots = frozenset({"AGRO"})
    reads = (e.ContractSigned, e.FundsTransferred, e.ReservationReleased, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.ContractSigned):
            self._open(ctx, event)
        elif isinstance(event, e.FundsSpent):
            if event.payee:
                self._payment(ctx, event, event.holder, event.payee)
        else:
            self._payment(ctx, event, event.payer, event.payee)

    def _open(self, ctx: RuleContext, event: e.ContractSigned) -> None:
        if not event.beneficiary:
            return
        until = event.at + timedelta(days=self.number(ctx.pilot, "window_days"))
        self.state.setdefault("open", {})[event.contract] = {
            "dealer": event.supplier, "farmer": event.beneficiary, "color": event.color,
            "signed_at": event.at.isoformat(), "until": until.isoformat(), "paid": 0, "payments": [],
        }
        self.state.setdefault("by_dealer", {}).setdefault(event.supplier, []).append(event.contract)
        ctx.schedule(self, until, event.contract)

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        info = self.state.get("open", {}).pop(key, None)
        if info is not None:
            contracts = self.state["by_dealer"][info["dealer"]]
            contracts.remove(key)
            if not contracts:
                del self.state["by_dealer"][info["dealer"]]

    def _payment(self, ctx: RuleContext, event: Any, payer: str, payee: str) -> None:
        by_dealer, open_ = self.state.get("by_dealer", {}), self.state.get("open", {})
        for dealer in _related_parties(ctx.world, payer):
            for contract in by_dealer.get(dealer, ()):
                info = open_[contract]
                signed, until = datetime.fromisoformat(info["signed_at"]), datetime.fromisoformat(info["until"])
                if not signed <= event.at <= until or not ctx.world.related(payee, info["farmer"]):
                    continue
                info["paid"] += event.amount_tiyn
                info["payments"].append([event.command_id, payer, payee, event.amount_tiyn])
                self._check(ctx, contract, info, signed)

    def _check(self, ctx: RuleContext, contract: str, info: dict[str, Any], signed: datetime) -> None:
        price = ctx.world.contracts[contract]["amount_tiyn"]
        share, threshold = Fraction(info["paid"], price), self.ratio(ctx.pilot, "share")
        if share < threshold:
            return
        window = self.number(ctx.pilot, "window_days")
        payers = sorted({p[1] for p in info["payments"]})
        payees = sorted({p[2] for p in info["payments"]})
        ctx.flag(
            self, contract, color=info["color"], transactions=[p[0] for p in info["payments"]],
            parties=[info["dealer"], info["farmer"], *payers, *payees], contracts=[contract],
            explanation=(f"{_who('Dealer', info['dealer'], payers)} paid {_who('beneficiary', info['farmer'], payees)} "
                         f"{_kzt(info['paid'])}, "
                         f"{_pct(share)} of the {_kzt(price)} machine price of contract {contract}, "
                         f"{_days_between(signed, ctx.at)} days after signing "
                         f"(threshold {_pct(threshold)} within {window} days)."),
            evidence={"paid_tiyn": info["paid"], "price_tiyn": price, "share": _ratio_text(share),
                      "threshold_share": str(self.text(ctx.pilot, "share")), "window_days": window,
                      "signed_at": info["signed_at"], "payers": payers, "payees": payees},
        )


def _who(role: str, party: str, actual: list[str]) -> str:
    """"Dealer X", "Dealer X's related party Y" or "Dealer X and its related party Y"."""
    others = [p for p in actual if p != party]
    if not others:
        return f"{role} {party}"
    related = f"related part{'ies' if len(others) > 1 else 'y'} {', '.join(others)}"
    return f"{role} {party} and its {related}" if party in actual else f"{role} {party}'s {related}"


# --- L01 --------------------------------------------------------------------------------------

class GhostProject(Rule):
    """L01: ≥ `paid_share` of a contract paid and no final acceptance within `window_days`."""

    code = "L01"
    title = "Ghost project"
    severity = "medium"
    pilots = WORKS_PILOTS
    reads = (e.FundsTransferred, e.ReservationReleased, e.DeliveryAccepted)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if isinstance(event, e.DeliveryAccepted):
            if event.final:
                self.state.setdefault("final", {})[event.contract] = event.command_id
            return
        paid = self.state.setdefault("paid", {}).setdefault(event.contract, [0, []])
        paid[0] += event.amount_tiyn
        paid[1].append(event.command_id)
        crossed = self.state.setdefault("crossed", {})
        amount = ctx.world.contracts[event.contract]["amount_tiyn"]
        if event.contract in crossed or Fraction(paid[0], amount) < self.ratio(ctx.pilot, "paid_share"):
            return
        crossed[event.contract] = event.command_id
        if event.contract in self.state.get("final", {}):
            return
        window = self.number(ctx.pilot, "window_days")
        ctx.schedule(self, event.at + timedelta(days=window), event.contract, {
            "transaction": event.command_id, "at": event.at.isoformat(), "paid_tiyn": paid[0],
            "amount_tiyn": amount, "pilot": ctx.pilot, "window_days": window,
        })

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        if key in self.state.get("final", {}):
            return
        contract = ctx.world.contracts[key]
        share = Fraction(payload["paid_tiyn"], payload["amount_tiyn"])
        threshold = self.text(payload["pilot"], "paid_share")
        paid_on = datetime.fromisoformat(payload["at"]).date().isoformat()
        ctx.flag(
            self, key, color=contract["color"], transactions=self.state["paid"][key][1],
            parties=[contract["customer"], contract["supplier"]], contracts=[key],
            explanation=(f"Contract {key} was {_pct(share)} paid ({_kzt(payload['paid_tiyn'])} of "
                         f"{_kzt(payload['amount_tiyn'])}) by {payload['transaction']} on {paid_on}, but no final "
                         f"acceptance followed within {payload['window_days']} days "
                         f"(threshold {_pct(Fraction(threshold))} paid, {payload['window_days']} days)."),
            evidence={"paid_tiyn": payload["paid_tiyn"], "amount_tiyn": payload["amount_tiyn"],
                      "paid_share": _ratio_text(share), "threshold_paid_share": threshold,
                      "window_days": payload["window_days"], "crossing_transaction": payload["transaction"],
                      "crossed_at": payload["at"]},
        )


# --- L02 --------------------------------------------------------------------------------------

class ImplausiblyFastWorks(Rule):
    """L02: final acceptance < `days` after a works contract ≥ `amount_min_kzt` was signed."""

    code = "L02"
    title = "Implausibly fast works"
    severity = "medium"
    pilots = WORKS_PILOTS
    reads = (e.DeliveryAccepted,)

    def on_event(self, ctx: RuleContext, event: e.DeliveryAccepted) -> None:
        if not event.final:
            return
        contract = ctx.world.contracts[event.contract]
        signed = datetime.fromisoformat(contract["signed_at"])
        days, minimum = self.number(ctx.pilot, "days"), self.tiyn(ctx.pilot, "amount_min_kzt")
        amount = contract["amount_tiyn"]
        if amount < minimum or event.at - signed >= timedelta(days=days):
            return
        elapsed = _days_between(signed, event.at)
        ctx.flag(
            self, event.contract, color=event.color, transactions=[event.command_id],
            parties=[contract["customer"], contract["supplier"]], contracts=[event.contract],
            explanation=(f"Works contract {event.contract} of {_kzt(amount)} got its final acceptance "
                         f"{event.command_id} {elapsed} days after signing (threshold: under {days} days "
                         f"for contracts of {_kzt(minimum)} or more)."),
            evidence={"amount_tiyn": amount, "days": elapsed, "threshold_days": days,
                      "amount_min_tiyn": minimum, "signed_at": contract["signed_at"],
                      "accepted_at": event.at.isoformat()},
        )


# --- L03 --------------------------------------------------------------------------------------

class YearEndRush(Rule):
    """L03: an administrator pays ≥ `ratio` × its mean weekly colored payments of the rest of the
    fiscal year in the last `last_days` days of it."""

    code = "L03"
    title = "Year-end rush"
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.ReservationVoided, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        reservations = self.state.setdefault("reservations", {})
        if isinstance(event, e.ReservationReleased):
            reservations.pop(event.reservation, None)
            return
        if isinstance(event, e.ReservationVoided):
            self._void(event.reservation)
            return
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        if payer != ctx.world.colors[event.color]["administrator"]:
            return
        day = event.at.date()
        key = f"{payer}|{ctx.pilot}|{day.year}"
        if key in self.state.setdefault("closed", {}):
            return
        buckets = self.state.setdefault("buckets", {})
        if key not in buckets:
            buckets[key] = {"admin": payer, "pilot": ctx.pilot, "year": day.year, "rest": 0, "last": 0, "txns": []}
            ctx.schedule(self, datetime(day.year + 1, 1, 1, tzinfo=event.at.tzinfo), key)
        bucket = buckets[key]
        last_days = self.number(ctx.pilot, "last_days")
        part = "last" if day > date(day.year, 12, 31) - timedelta(days=last_days) else "rest"
        bucket[part] += event.amount_tiyn
        if part == "last":
            bucket["txns"].append([event.command_id, event.color])
        if isinstance(event, e.FundsReserved):
            reservations[event.command_id] = [key, part, event.amount_tiyn]

    def _void(self, reservation: str) -> None:
        """A voided reservation was not paid after all: take it back out of its open year."""
        entry = self.state["reservations"].pop(reservation, None)
        bucket = self.state.get("buckets", {}).get(entry[0]) if entry else None
        if bucket is None:
            return
        bucket[entry[1]] -= entry[2]
        bucket["txns"] = [t for t in bucket["txns"] if t[0] != reservation]

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        bucket = self.state["buckets"].pop(key)
        self.state["closed"][key] = True
        pilot, year, last = bucket["pilot"], bucket["year"], bucket["last"]
        last_days = self.number(pilot, "last_days")
        rest_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days - last_days
        mean = Fraction(bucket["rest"] * 7, rest_days)
        threshold = self.ratio(pilot, "ratio")
        if last <= 0 or last < threshold * mean:
            return
        measured = f"{_times(Fraction(last) / mean)} ×" if mean else "infinitely many times"
        colors = sorted({t[1] for t in bucket["txns"]})
        ctx.flag(
            self, key, color=colors[0] if len(colors) == 1 else None, pilot=pilot,
            transactions=[t[0] for t in bucket["txns"]], parties=[bucket["admin"]],
            explanation=(f"Administrator {bucket['admin']} paid {_kzt(last)} in the last {last_days} days of {year}, "
                         f"{measured} its mean weekly colored payments of {_kzt(int(_decimal(mean, 0)))} over the rest of the "
                         f"year ({_kzt(bucket['rest'])} in {rest_days} days; threshold {self.text(pilot, 'ratio')} ×)."),
            evidence={"last_tiyn": last, "rest_tiyn": bucket["rest"], "rest_days": rest_days, "last_days": last_days,
                      "mean_weekly_tiyn": int(_decimal(mean, 0)), "ratio": _ratio_text(Fraction(last) / mean) if mean else None,
                      "threshold_ratio": self.text(pilot, "ratio"), "fiscal_year": year, "colors": colors},
        )


# --- L04 --------------------------------------------------------------------------------------

class IdleFunds(Rule):
    """L04: ≥ `undisbursed_share` of an allocation still with its administrator
    `days_before_expiry` days before `expires_on`."""

    code = "L04"
    title = "Idle funds"
    severity = "medium"
    reads = (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided,
             e.FundsSpent, e.FundsReturned)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        colors = self.state.setdefault("colors", {})
        if isinstance(event, e.FundsAllocated):
            days = self.number(ctx.pilot, "days_before_expiry")
            moment = datetime.combine(event.expires_on - timedelta(days=days), time(0), tzinfo=event.at.tzinfo)
            if moment > event.at:
                colors[event.color] = {"allocation": event.command_id, "balance": event.amount_tiyn}
                ctx.schedule(self, moment, event.color)
            return
        info = colors.get(event.color)
        if info is None:
            return
        admin = ctx.world.colors[event.color]["administrator"]
        for party, sign in _movements(event):
            if party == admin:
                info["balance"] += sign * event.amount_tiyn

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        info = self.state["colors"].pop(key)
        color = ctx.world.colors[key]
        pilot, allocated, balance = color["pilot"], color["allocated_tiyn"], info["balance"]
        share, threshold = Fraction(balance, allocated), self.ratio(color["pilot"], "undisbursed_share")
        if share < threshold:
            return
        days = self.number(pilot, "days_before_expiry")
        ctx.flag(
            self, key, color=key, transactions=[info["allocation"]], parties=[color["administrator"]],
            explanation=(f"Administrator {color['administrator']} still held {_kzt(balance)}, {_pct(share)} of the "
                         f"{_kzt(allocated)} allocation of {key}, {days} days before it expires on "
                         f"{color['expires_on']} (threshold {_pct(threshold)} undisbursed)."),
            evidence={"undisbursed_tiyn": balance, "allocated_tiyn": allocated, "undisbursed_share": _ratio_text(share),
                      "threshold_share": self.text(pilot, "undisbursed_share"), "days_before_expiry": days,
                      "expires_on": color["expires_on"]},
        )


def _movements(event: Any) -> list[tuple[str, int]]:
    """How a movement changes holders' balances of its color: (party, +1 in / −1 out)."""
    if isinstance(event, e.FundsTransferred):
        return [(event.payer, -1), (event.payee, +1)]
    if isinstance(event, e.FundsReserved):
        return [(event.payer, -1)]
    if isinstance(event, e.ReservationReleased):
        return [(event.payee, +1)]
    if isinstance(event, e.ReservationVoided):
        return [(event.payer, +1)]
    return [(event.holder, -1)]  # FundsSpent, FundsReturned


RULES: list[type[Rule]] = [SameMachineTwice, DealerKickback, GhostProject, ImplausiblyFastWorks, YearEndRush, IdleFunds]
