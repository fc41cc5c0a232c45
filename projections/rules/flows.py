"""F — money flows: splits, pass-through, circular flows, cash-like outflows, blocked attempts,
duplicate invoices, advances, payments ahead of acceptance, round amounts (RULES.md).

Readings of RULES.md that the code below commits to (see each rule's docstring for details):
- business time is the event's own `at`; windows are inclusive (`≤ 72 h`, `≤ 30 days`, …);
- "lot provenance" is the `consumed` list of an outgoing movement: (lot, tiyn) pairs naming the
  incoming transfer, release, void or allocation each tiyn came from;
- ratios are compared exactly (integer tiyn against `Fraction` thresholds), never with floats.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from domain import events as e
from domain.money import format_kzt
from projections.rules.engine import Rule, RuleContext
from projections.rules.world import World

# --- small helpers shared by the rules of this module -------------------------------------------


def _kzt(tiyn: int) -> str:
    return f"{format_kzt(tiyn)} KZT"


def _decimal(value: Fraction, places: int = 4) -> str:
    """An exact ratio as a decimal string for evidence ("0.9200")."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _pct(value: Fraction, against: Fraction | None = None) -> str:
    """A ratio as a percentage for sentences: 0.92 -> "92 %", 0.80001 -> "80.001 %".

    Two decimals at most, more only where rounding would hide a difference from `against` (the
    threshold it is compared with), so "30.00000003 %" never reads as "30 %" above "30 %".
    """
    exact = Fraction(value) * 100
    for places in range(2, 12):
        shown = Decimal(exact.numerator) / Decimal(exact.denominator)
        shown = shown.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if against is None or value == against or Fraction(shown) != against * 100:
            break
    text = str(shown).rstrip("0").rstrip(".") if "." in str(shown) else str(shown)
    return f"{text} %"


def _at_least(amount: int, share: Fraction, of: int) -> bool:
    """amount ≥ share × of, exactly."""
    return amount * share.denominator >= share.numerator * of


def _above(amount: int, share: Fraction, of: int) -> bool:
    """amount > share × of, exactly."""
    return amount * share.denominator > share.numerator * of


def _hours(start: datetime, end: datetime) -> str:
    return _decimal(Fraction(int((end - start).total_seconds()), 3600), 1).removesuffix(".0")


def _days(start: datetime, end: datetime) -> str:
    return _decimal(Fraction(int((end - start).total_seconds()), 86400), 1).removesuffix(".0")


def _who(world: World, party: str | None) -> str:
    """"Name (id)" when the party is registered, else the id."""
    info = world.party(party)
    return f"{info['name']} ({party})" if info else str(party)


def _time(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- F01 ---------------------------------------------------------------------------------------


class SplitBelowThreshold(Rule):
    """F01: a (payer, payee) pair with ≥ `count` contracts — or ≥ `count` transfers — in one fiscal
    year whose amount v lies in the open band (1−δ)·T < v < T.

    Contracts pair (customer, supplier) at their signed amount (amendments are H01's business);
    transfers pair (from, to) and are `transfer`s only (reservations are not counted). The fiscal
    year is the color's. Contracts and transfers are counted separately; a pair may span colors of
    one fiscal year, each amount judged by its own pilot's T and δ. One flag per pair, kind and year,
    raised by the item that reaches the count.
    """

    code = "F01"
    title = "Split below threshold"
    severity = "medium"
    reads = (e.ContractSigned, e.FundsTransferred)

    def on_event(self, ctx: RuleContext, event: e.ContractSigned | e.FundsTransferred) -> None:
        pilot, color = ctx.pilot, ctx.world.colors.get(event.color)
        if pilot is None or color is None:
            return
        threshold, delta = self.tiyn(pilot, "threshold_kzt"), self.ratio(pilot, "delta")
        low = threshold * (1 - delta)
        if not low < event.amount_tiyn < threshold:
            return
        if isinstance(event, e.ContractSigned):
            kind, payer, payee, record, contract = "contracts", event.customer, event.supplier, event.command_id, event.contract
        else:
            kind, payer, payee, record, contract = "transfers", event.payer, event.payee, event.command_id, event.contract
        year = color["fiscal_year"]
        items = self.state.setdefault("pairs", {}).setdefault(f"{kind}|{year}|{payer}|{payee}", [])
        items.append([record, event.amount_tiyn, contract, event.color])
        count = self.number(pilot, "count")
        if len(items) < count:
            return
        amounts = ", ".join(_kzt(amount) for _, amount, _, _ in items)
        low_tiyn = low.numerator // low.denominator
        ctx.flag(
            self, f"{kind}:{year}:{payer}:{payee}", color=event.color,
            transactions=[item[0] for item in items], parties=[payer, payee], contracts=[item[2] for item in items],
            explanation=(
                f"{_who(ctx.world, payer)} has {len(items)} {kind} with {_who(ctx.world, payee)} in fiscal year {year} "
                f"just below the threshold ({amounts}), each above {_kzt(low_tiyn)} and below {_kzt(threshold)} "
                f"(threshold {count} {kind} in the band, T = {_kzt(threshold)}, δ = {self.text(pilot, 'delta')})."
            ),
            evidence={
                "kind": kind, "fiscal_year": year, "count": len(items), "count_min": count,
                "amounts_tiyn": [item[1] for item in items], "threshold_tiyn": threshold,
                "band_low_tiyn": low_tiyn, "delta": self.text(pilot, "delta"),
                "colors": sorted({item[3] for item in items}),
            },
        )


# --- F03 ---------------------------------------------------------------------------------------


def _exempt(world: World, color: str, party: str) -> bool:
    """The treasury and administrators move money on by design."""
    info = world.colors.get(color) or {}
    return party in (info.get("administrator"), info.get("treasury")) or world.kind_of(party) in ("treasury", "administrator")


class RapidPassThrough(Rule):
    """F03: a holder (not the treasury or an administrator) moves on ≥ `share` of one colored
    inflow of ≥ `inflow_min_kzt` by transfer/reserve to other holders within `window_hours` of
    receiving it.

    An inflow is a transfer or a release the holder received: its lot (named by that command's id)
    is followed through `consumed`, so only what an outgoing transfer or reservation took from that
    very lot counts towards it; final spends and returns never count. One flag per inflow.
    """

    code = "F03"
    title = "Rapid pass-through"
    severity = "medium"
    reads = (e.FundsTransferred, e.FundsReserved, e.ReservationReleased)

    def on_event(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved | e.ReservationReleased) -> None:
        if ctx.pilot is None:
            return
        if not isinstance(event, e.ReservationReleased):
            self._outflow(ctx, event)
        if not isinstance(event, e.FundsReserved):
            self._inflow(ctx, event)

    def _inflow(self, ctx: RuleContext, event: e.FundsTransferred | e.ReservationReleased) -> None:
        if _exempt(ctx.world, event.color, event.payee) or event.amount_tiyn < self.tiyn(ctx.pilot, "inflow_min_kzt"):
            return
        carriers = [event.reservation, event.command_id] if isinstance(event, e.ReservationReleased) else [event.command_id]
        self.state.setdefault("lots", {})[event.command_id] = {
            "holder": event.payee, "payer": event.payer, "amount": event.amount_tiyn, "at": event.at.isoformat(),
            "contract": event.contract, "carriers": carriers, "moved": 0, "outs": [],
        }
        window = timedelta(hours=self.number(ctx.pilot, "window_hours"))
        ctx.schedule(self, event.at + window, event.command_id)  # forget the lot once its window closes

    def on_deadline(self, ctx: RuleContext, key: str, payload: Any) -> None:
        self.state.get("lots", {}).pop(key, None)

    def _outflow(self, ctx: RuleContext, event: e.FundsTransferred | e.FundsReserved) -> None:
        lots = self.state.get("lots", {})
        for lot, taken in event.consumed:
            info = lots.get(lot)
            if info is None or info["holder"] != event.payer or event.payee == event.payer:
                continue
            received = _time(info["at"])
            if event.at - received > timedelta(hours=self.number(ctx.pilot, "window_hours")):
                continue
            info["moved"] += taken
            info["outs"].append([event.command_id, event.payee, event.contract, taken])
            if _at_least(info["moved"], self.ratio(ctx.pilot, "share"), info["amount"]):
                self._raise(ctx, event, lot, info, received)
                del lots[lot]

    def _raise(self, ctx: RuleContext, event: Any, lot: str, info: dict[str, Any], received: datetime) -> None:
        pilot, share = ctx.pilot, Fraction(info["moved"], info["amount"])
        hours = _hours(received, event.at)
        outs = info["outs"]
        ctx.flag(
            self, lot, color=event.color,
            transactions=info["carriers"] + [out[0] for out in outs],
            parties=[info["holder"], info["payer"]] + [out[1] for out in outs],
            contracts=[info["contract"]] + [out[2] for out in outs],
            explanation=(
                f"{_who(ctx.world, info['holder'])} moved on {_pct(share, self.ratio(pilot, 'share'))} of the "
                f"{_kzt(info['amount'])} it received "
                f"in {lot} within {hours} h ({', '.join(out[0] for out in outs)}) "
                f"(threshold {_pct(self.ratio(pilot, 'share'))} within {self.number(pilot, 'window_hours')} h, "
                f"inflows from {_kzt(self.tiyn(pilot, 'inflow_min_kzt'))})."
            ),
            evidence={
                "inflow": lot, "inflow_tiyn": info["amount"], "moved_on_tiyn": info["moved"], "share": _decimal(share),
                "hours": hours, "share_min": self.text(pilot, "share"), "window_hours": self.number(pilot, "window_hours"),
                "inflow_min_tiyn": self.tiyn(pilot, "inflow_min_kzt"),
            },
        )


# --- F04 ---------------------------------------------------------------------------------------

# A hop is one payment the money took: (transaction, payer, payee, at ISO, amount_tiyn, contract).
# A lot's provenance is a list of [amount_tiyn, route] portions, route = the last hops that carried
# that money (at most hops_max − 1 of them, none older than the window), oldest first; outgoing
# movements take portions first-in first-out, like the ledger takes lots.
_TX, _PAYER, _PAYEE, _AT, _AMOUNT, _CONTRACT = range(6)


class CircularFlow(Rule):
    """F04: colored money comes back, within ≤ `hops_max` hops and ≤ `window_days` days, to a party
    that already held it in the same chain; or is spent to a payee who is an official of the
    color's administrator, or owned/directed by one (`World.controllers`). The returned amount must
    be ≥ `share_min` of the first hop.

    The first hop is the payment by which the party that gets the money back passed it on (for a
    spend: the administrator's payment that started the chain, or the spend itself when the
    administrator spends directly); hops and days run from that payment to the one closing the
    loop, both counted. A reservation is a hop when it is released (by the reservation's id, at the
    release's time); a void gives the money back to its payer unchanged. One flag per closing
    transaction and first hop.
    """

    code = "F04"
    title = "Circular flow"
    severity = "high"
    reads = (e.FundsAllocated, e.FundsTransferred, e.FundsReserved, e.ReservationReleased, e.ReservationVoided,
             e.FundsSpent, e.FundsReturned)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        lots = self.state.setdefault("lots", {})
        reserved = self.state.setdefault("reserved", {})
        if isinstance(event, e.FundsAllocated):
            lots[event.command_id] = [[event.amount_tiyn, ()]]
        elif isinstance(event, e.FundsTransferred):
            hop = (event.command_id, event.payer, event.payee, event.at.isoformat(), event.amount_tiyn, event.contract)
            self._arrive(ctx, event, self._take(event.consumed), hop, event.command_id, [event.command_id])
        elif isinstance(event, e.FundsReserved):
            reserved[event.command_id] = self._take(event.consumed)
        elif isinstance(event, e.ReservationReleased):
            hop = (event.reservation, event.payer, event.payee, event.at.isoformat(), event.amount_tiyn, event.contract)
            portions = reserved.pop(event.reservation, [[event.amount_tiyn, ()]])
            self._arrive(ctx, event, portions, hop, event.command_id, [event.reservation, event.command_id])
        elif isinstance(event, e.ReservationVoided):
            lots[event.command_id] = reserved.pop(event.reservation, [[event.amount_tiyn, ()]])
        elif isinstance(event, e.FundsSpent):
            portions = self._take(event.consumed)
            if event.payee:
                self._spent(ctx, event, portions)
        elif isinstance(event, e.FundsReturned):
            self._take(event.consumed)

    def _take(self, consumed: e.Consumed) -> list[list[Any]]:
        """The provenance portions an outgoing movement took, lot by lot, first-in first-out."""
        lots = self.state["lots"]
        taken: list[list[Any]] = []
        for lot, amount in consumed:
            portions = lots.get(lot) or [[amount, ()]]  # an unknown lot: money of unknown origin
            while amount > 0 and portions:
                use = min(amount, portions[0][0])
                taken.append([use, portions[0][1]])
                portions[0][0] -= use
                amount -= use
                if portions[0][0] == 0:
                    portions.pop(0)
            if not portions:
                lots.pop(lot, None)
        return taken

    def _limits(self, ctx: RuleContext) -> tuple[int, timedelta]:
        return self.number(ctx.pilot, "hops_max"), timedelta(days=self.number(ctx.pilot, "window_days"))

    def _recent(self, ctx: RuleContext, route: tuple[Any, ...]) -> tuple[Any, ...]:
        """The hops of a route that can still close a loop at `ctx.at`."""
        hops_max, window = self._limits(ctx)
        kept = tuple(hop for hop in route if ctx.at - _time(hop[_AT]) <= window)
        return kept[-(hops_max - 1):] if hops_max > 1 else ()

    def _arrive(self, ctx: RuleContext, event: Any, portions: list[list[Any]], hop: tuple[Any, ...],
                lot: str, closing: list[str]) -> None:
        """Money reaches `hop`'s payee as lot `lot`: check for a loop, then record its provenance."""
        loops: dict[str, list[Any]] = {}
        merged: dict[tuple[Any, ...], int] = {}
        for amount, route in portions:
            route = self._recent(ctx, tuple(route))
            back = [i for i, step in enumerate(route) if step[_PAYER] == hop[_PAYEE]]
            if back:
                self._add_loop(loops, amount, route[back[-1]:] + (hop,))
            longer = self._recent(ctx, route + (hop,))
            merged[longer] = merged.get(longer, 0) + amount
        self.state["lots"][lot] = [[amount, route] for route, amount in merged.items()]
        for first in sorted(loops):
            self._raise(ctx, event, hop[_PAYEE], loops[first], closing, None)

    @staticmethod
    def _add_loop(loops: dict[str, list[Any]], amount: int, path: tuple[Any, ...]) -> None:
        entry = loops.setdefault(path[0][_TX], [0, path[0], {}, 0])
        entry[0] += amount
        for step in path:
            entry[2].setdefault(step[_TX], step)
        entry[3] = max(entry[3], len(path))

    def _spent(self, ctx: RuleContext, event: e.FundsSpent, portions: list[list[Any]]) -> None:
        admin = (ctx.world.colors.get(event.color) or {}).get("administrator")
        officials = set((ctx.world.party(admin) or {}).get("officials", ()))
        payee = event.payee
        people = sorted({payee} & officials) or sorted(ctx.world.controllers(payee) & officials)
        if not people:
            return
        link = (f"an official of administrator {_who(ctx.world, admin)}" if payee in officials else
                f"owned or directed by {', '.join(people)}, official of administrator {_who(ctx.world, admin)}")
        spend = (event.command_id, event.holder, payee, event.at.isoformat(), event.amount_tiyn, event.contract)
        loops: dict[str, list[Any]] = {}
        if event.holder == admin:  # the administrator pays its own people: the spend is the first hop
            portions = []
            self._add_loop(loops, event.amount_tiyn, (spend,))
        for amount, route in portions:
            route = self._recent(ctx, tuple(route))
            back = [i for i, step in enumerate(route) if step[_PAYER] == admin]
            if back:
                self._add_loop(loops, amount, route[back[-1]:] + (spend,))
        for first in sorted(loops):
            self._raise(ctx, event, payee, loops[first], [event.command_id], link)

    def _raise(self, ctx: RuleContext, event: Any, party: str, loop: list[Any], closing: list[str], link: str | None) -> None:
        returned, first, steps, hops = loop
        hops_max, window = self._limits(ctx)
        share_min = self.ratio(ctx.pilot, "share_min")
        if hops > hops_max or not _at_least(returned, share_min, first[_AMOUNT]):
            return
        share, days = Fraction(returned, first[_AMOUNT]), _days(_time(first[_AT]), ctx.at)
        path = list(steps) + [tx for tx in closing if tx not in steps]
        limits = f"(threshold ≥ {_pct(share_min)} of the first hop within {hops_max} hops and {window.days} days)"
        later = f"{hops} hops and {days} days later via {' → '.join(path)}"
        if link is None:
            explanation = (f"{_who(ctx.world, party)} got back {_kzt(returned)} ({_pct(share, share_min)}) of the "
                           f"{_kzt(first[_AMOUNT])} it paid in {first[_TX]}, {later} {limits}.")
        elif hops == 1:
            explanation = (f"{_who(ctx.world, event.holder)} spent {_kzt(returned)} in {event.command_id} directly to "
                           f"{_who(ctx.world, party)}, {link} {limits}.")
        else:
            explanation = (f"{_who(ctx.world, event.holder)} spent {_kzt(returned)} ({_pct(share, share_min)} of the "
                           f"{_kzt(first[_AMOUNT])} paid in {first[_TX]}) to {_who(ctx.world, party)}, {link}, "
                           f"{later} {limits}.")
        ctx.flag(
            self, f"{event.command_id}:{first[_TX]}", color=event.color, transactions=path,
            parties=[p for step in steps.values() for p in (step[_PAYER], step[_PAYEE])] + [party],
            contracts=[step[_CONTRACT] for step in steps.values() if step[_CONTRACT]],
            explanation=explanation,
            evidence={
                "returned_to": party, "returned_tiyn": returned, "first_hop": first[_TX], "first_hop_tiyn": first[_AMOUNT],
                "share": _decimal(share), "hops": hops, "days": days, "share_min": self.text(ctx.pilot, "share_min"),
                "hops_max": hops_max, "window_days": window.days, "official_link": link is not None,
            },
        )


# --- F05 ---------------------------------------------------------------------------------------


class CashLikeOutflow(Rule):
    """F05: within `window_days` after a colored inflow, a holder's spends to individuals other
    than `wages` exceed `share` of its colored inflows (of that color, so far).

    Inflows are the allocation (for the administrator), transfers and releases the holder received;
    a spend counts when it comes at most `window_days` after the holder's latest inflow. A payee is
    an individual when it is registered with kind `individual`; an unregistered payee id is not
    counted, because the ledger cannot tell an IIN from a BIN without the registration and a rule
    never guesses (RULES.md). One flag per holder and color.
    """

    code = "F05"
    title = "Cash-like outflow"
    severity = "medium"
    reads = (e.FundsAllocated, e.FundsTransferred, e.ReservationReleased, e.FundsSpent)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        holders = self.state.setdefault("holders", {})
        if isinstance(event, e.FundsSpent):
            self._spent(ctx, event, holders.get(f"{event.color}|{event.holder}"))
            return
        receiver = event.administrator if isinstance(event, e.FundsAllocated) else event.payee
        entry = holders.setdefault(f"{event.color}|{receiver}", {"inflow": 0, "last": None, "cash": 0, "spends": []})
        entry["inflow"] += event.amount_tiyn
        if entry["last"] is None or event.at > _time(entry["last"]):
            entry["last"] = event.at.isoformat()

    def _spent(self, ctx: RuleContext, event: e.FundsSpent, entry: dict[str, Any] | None) -> None:
        if entry is None or event.category == "wages" or ctx.world.kind_of(event.payee) != "individual":
            return
        window = timedelta(days=self.number(ctx.pilot, "window_days"))
        if event.at - _time(entry["last"]) > window:
            return
        entry["cash"] += event.amount_tiyn
        entry["spends"].append([event.command_id, event.payee, event.amount_tiyn, event.category])
        share_max = self.ratio(ctx.pilot, "share")
        if not _above(entry["cash"], share_max, entry["inflow"]):
            return
        share = Fraction(entry["cash"], entry["inflow"])
        spends = entry["spends"]
        ctx.flag(
            self, f"{event.color}:{event.holder}", color=event.color,
            transactions=[spend[0] for spend in spends], parties=[event.holder] + [spend[1] for spend in spends],
            explanation=(
                f"{_who(ctx.world, event.holder)} paid {_kzt(entry['cash'])} to individuals outside wages "
                f"({', '.join(spend[0] for spend in spends)}) within {window.days} days of colored inflows, "
                f"{_pct(share, share_max)} of its {_kzt(entry['inflow'])} colored inflows (threshold above {_pct(share_max)} "
                f"within {window.days} days)."
            ),
            evidence={
                "cash_like_tiyn": entry["cash"], "inflow_tiyn": entry["inflow"], "share": _decimal(share),
                "share_max": self.text(ctx.pilot, "share"), "window_days": window.days,
                "categories": sorted({spend[3] for spend in spends}), "payees": sorted({spend[1] for spend in spends}),
            },
        )


# --- F07 ---------------------------------------------------------------------------------------


class BlockedAttempt(Rule):
    """F07: every command the ledger blocked (SPEC §4), one flag each."""

    code = "F07"
    title = "Blocked attempt"
    severity = "medium"
    reads = (e.CommandBlocked,)

    def on_event(self, ctx: RuleContext, event: e.CommandBlocked) -> None:
        record = event.command
        parties = [record[k] for k in ("from", "to", "payee", "party", "customer", "supplier", "holder", "administrator") if record.get(k)]
        contract = record.get("contract")
        ctx.flag(
            self, event.command_id, color=event.color, transactions=[event.command_id], parties=parties,
            contracts=[contract] if contract else [],
            explanation=f"The ledger blocked {event.command_type} {event.command_id}: {event.detail} (rule {event.reason}).",
            evidence={"reason": event.reason, "detail": event.detail, "command_type": event.command_type},
        )


# --- F09 ---------------------------------------------------------------------------------------


def normalize_invoice(invoice: str | None) -> str:
    """Upper-cased, letters and digits only: "kds-2025/017" -> "KDS2025017" ("" when nothing is left)."""
    return "".join(ch for ch in (invoice or "").upper() if ch.isalnum())


class DuplicateInvoice(Rule):
    """F09: two payments (transfers, reservations, spends) from one payer with the same normalised
    invoice reference; or two payments from one payer of the same amount under the same contract
    at most `window_days` apart, neither of kind `progress`.

    A voided reservation is no payment: it leaves the indices and never matches later. One flag per
    repeating payment, naming every earlier payment it repeats; high when the invoice repeats,
    medium for a repeated amount alone.
    """

    code = "F09"
    title = "Duplicate invoice"
    severity = "high"
    reads = (e.FundsTransferred, e.FundsReserved, e.FundsSpent, e.ReservationReleased, e.ReservationVoided)

    def on_event(self, ctx: RuleContext, event: Any) -> None:
        if ctx.pilot is None:
            return
        if isinstance(event, (e.ReservationReleased, e.ReservationVoided)):
            opened = self.state.get("open", {}).pop(event.reservation, None)
            if opened and isinstance(event, e.ReservationVoided):
                self._forget(event.reservation, *opened)
            return
        payer = event.holder if isinstance(event, e.FundsSpent) else event.payer
        kind = None if isinstance(event, e.FundsSpent) else event.kind
        invoice = normalize_invoice(event.invoice)
        amount_key = f"{payer}|{event.contract}|{event.amount_tiyn}" if event.contract and kind != "progress" else ""
        payment = [event.command_id, event.at.isoformat(), event.amount_tiyn, event.contract, event.invoice, event.color]
        by_invoice = self.state.setdefault("invoices", {}).setdefault(payer, {}).setdefault(invoice, []) if invoice else []
        same_invoice = list(by_invoice)
        same_amount = self._same_amount(ctx, amount_key, event.at) if amount_key else []
        if invoice:
            by_invoice.append(payment)
        if amount_key:
            self.state["amounts"][amount_key].append(payment)
        if isinstance(event, e.FundsReserved):
            self.state.setdefault("open", {})[event.command_id] = [payer, invoice, amount_key]
        if same_invoice or same_amount:
            self._raise(ctx, event, payer, invoice, same_invoice, same_amount)

    def _same_amount(self, ctx: RuleContext, key: str, at: datetime) -> list[list[Any]]:
        """Earlier payments of the key within the window (older ones are dropped for good)."""
        window = timedelta(days=self.number(ctx.pilot, "window_days"))
        payments = self.state.setdefault("amounts", {}).setdefault(key, [])
        payments[:] = [p for p in payments if at - _time(p[1]) <= window]
        return [p for p in payments if abs(at - _time(p[1])) <= window]

    def _forget(self, reservation: str, payer: str, invoice: str, amount_key: str) -> None:
        lists = [self.state.get("invoices", {}).get(payer, {}).get(invoice, []) if invoice else [],
                 self.state.get("amounts", {}).get(amount_key, []) if amount_key else []]
        for payments in lists:
            payments[:] = [p for p in payments if p[0] != reservation]

    def _raise(self, ctx: RuleContext, event: Any, payer: str, invoice: str,
               same_invoice: list[list[Any]], same_amount: list[list[Any]]) -> None:
        earlier = list({p[0]: p for p in same_invoice + same_amount}.values())
        listed = ", ".join(f"{p[0]} ({_kzt(p[2])}, {p[1][:10]})" for p in earlier)
        window = self.number(ctx.pilot, "window_days")
        reasons = []
        if same_invoice:
            reasons.append(f"the same invoice reference {event.invoice!r} (normalised {invoice})")
        if same_amount:
            reasons.append(f"the same amount under {event.contract} within {window} days, neither of kind progress")
        payees = [getattr(event, "payee", None)]
        ctx.flag(
            self, event.command_id, color=event.color, severity="high" if same_invoice else "medium",
            transactions=[p[0] for p in earlier] + [event.command_id], parties=[payer] + [p for p in payees if p],
            contracts=[p[3] for p in earlier if p[3]] + ([event.contract] if event.contract else []),
            explanation=(
                f"{_who(ctx.world, payer)} paid {_kzt(event.amount_tiyn)} in {event.command_id}, repeating {listed} "
                f"with {' and '.join(reasons)} (rule: an invoice is paid once; equal non-progress payments under one "
                f"contract within {window} days are duplicates)."
            ),
            evidence={
                "invoice": event.invoice, "invoice_normalized": invoice or None, "amount_tiyn": event.amount_tiyn,
                "same_invoice": [p[0] for p in same_invoice], "same_amount": [p[0] for p in same_amount],
                "earlier_amounts_tiyn": [p[2] for p in earlier], "window_days": window,
            },
        )


RULES: list[type[Rule]] = [
    SplitBelowThreshold, RapidPassThrough, CircularFlow, CashLikeOutflow, BlockedAttempt, DuplicateInvoice,
]
