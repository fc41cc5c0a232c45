"""What the console's pages show, asked of the read side and the integrity layer (no SQL here).

Every function takes the ledger and its read side inside `Service.acting` (one request at a time
per process) and returns plain dicts for the templates. Money stays integer tiyn; the templates
print it with `format_kzt`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from domain.cases import CLOSED, DISPOSITIONS, OPEN
from domain.errors import InvalidValue
from ledger.app import Ledger
from ledger.integrity.audit import Audit, NotProvable
from ledger.integrity.document import event_document
from ledger.integrity.verify_runs import last_verify_run
from ledger.read import ReadSide, UnknownColor, precision_by_rule, status_matches
from ledger.render.text import event_summary
from projections.rules.engine import SEVERITIES


def wall_clock() -> datetime:
    """Now: flags with no `as_of` are judged as of it (as `tenge-ledger flags`)."""
    return datetime.now(timezone.utc)


class Moment:
    """An as-of question resolved: the position, the text asked (None: now), and now."""

    def __init__(self, read: ReadSide, as_of: str | None) -> None:
        self.now = read.catch_up()
        self.as_of = as_of or None
        self.position = read.resolve_as_of(self.as_of, self.now)  # InvalidValue on bad text

    @property
    def label(self) -> str:
        return self.as_of or f"now (@{self.now})"


def color_summary(read: ReadSide, color: str, moment: Moment) -> dict[str, Any] | None:
    """A color's trace document (SPEC §6.1) as of the moment, or None if not allocated then."""
    try:
        return read.trace(color, moment.position, moment.as_of)
    except UnknownColor:
        return None


def colors(read: ReadSide, moment: Moment, flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every color as of the moment: its allocation's facts (the log index) and its figures (its trace)."""
    flagged = Counter(flag["color"] for flag in flags if flag.get("color"))
    rows = []
    for facts in read.colors_allocated(moment.position):
        trace = color_summary(read, facts["color"], moment)
        if trace is None:  # allocated later than a business time asked for
            continue
        c = trace["conservation"]
        names = {h["party"]: h["name"] for h in trace["holders"]}
        rows.append({
            **facts, "administrator_name": names.get(facts["administrator"], ""),
            "allocated_tiyn": c["allocated_tiyn"], "spent_tiyn": c["spent_tiyn"], "returned_tiyn": c["returned_tiyn"],
            "reserved_tiyn": c["reserved_tiyn"], "held_tiyn": c["held_tiyn"], "ok": c["ok"],
            "holders": len(trace["holders"]), "flags": flagged.get(facts["color"], 0),
        })
    return rows


def totals_by_pilot_year(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Allocated, spent, returned, reserved and held per (pilot, fiscal year)."""
    totals: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault((row["pilot"], row["fiscal_year"]), {
            "pilot": row["pilot"], "fiscal_year": row["fiscal_year"], "colors": 0, "allocated_tiyn": 0,
            "spent_tiyn": 0, "returned_tiyn": 0, "reserved_tiyn": 0, "held_tiyn": 0})
        entry["colors"] += 1
        for key in ("allocated_tiyn", "spent_tiyn", "returned_tiyn", "reserved_tiyn", "held_tiyn"):
            entry[key] += row[key]
    return [totals[key] for key in sorted(totals)]


def flags_with_status(read: ReadSide, moment: Moment) -> list[dict[str, Any]]:
    """Every flag as of the moment with its case status and the history of its dispositions."""
    wall_time = wall_clock() if moment.as_of is None else None
    documents = read.with_status(read.flags(moment.position, moment.now, moment.as_of, wall_time),
                                 moment.position, moment.now, moment.as_of)
    history: dict[str, list[dict[str, Any]]] = {}
    for item in read.dispositions(moment.position, moment.now, moment.as_of):
        history.setdefault(item["flag"], []).append(item)
    return [{**document, "history": history.get(document["id"], [])} for document in documents]


def filter_flags(flags: list[dict[str, Any]], rule: str | None, pilot: str | None, severity: str | None,
                 status: str | None, color: str | None = None, party: str | None = None) -> list[dict[str, Any]]:
    least = SEVERITIES.index(severity) if severity in SEVERITIES else 0
    return [flag for flag in flags
            if (not rule or flag["rule"] == rule) and (not pilot or flag["pilot"] == pilot)
            and SEVERITIES.index(flag["severity"]) >= least and status_matches(flag, status or None)
            and (not color or flag["color"] == color) and (not party or party in flag["parties"])]


def flag_counts(flags: list[dict[str, Any]]) -> dict[str, Any]:
    """Flags by rule and severity (with how many are open), and by status."""
    by_rule: dict[str, dict[str, Any]] = {}
    for flag in flags:
        entry = by_rule.setdefault(flag["rule"], {"rule": flag["rule"], "title": flag["title"], "total": 0, "open": 0,
                                                  **{severity: 0 for severity in SEVERITIES}})
        entry["total"] += 1
        entry[flag["severity"]] += 1
        entry["open"] += flag["status"] == OPEN
    statuses = Counter(flag["status"] for flag in flags)
    return {"rules": [by_rule[k] for k in sorted(by_rule)], "severities": Counter(f["severity"] for f in flags),
            "statuses": {OPEN: statuses[OPEN], CLOSED: sum(statuses[d] for d in DISPOSITIONS),
                         **{d: statuses[d] for d in DISPOSITIONS}}}


def precision_rows(flags: list[dict[str, Any]], simulated: dict[str, str | None]) -> list[dict[str, Any]]:
    """Per rule: precision on real dispositions beside the simulated precision (if known)."""
    rules = precision_by_rule(flags)
    codes = sorted(set(rules) | {code for code, value in simulated.items() if value is not None})
    empty = {"raised": 0, OPEN: 0, **{d: 0 for d in DISPOSITIONS}, "precision": None}
    return [{"rule": code, **(rules.get(code) or empty), "simulated": simulated.get(code)} for code in codes]


def integrity_status(ledger: Ledger, read: ReadSide) -> dict[str, Any]:
    """The latest signed checkpoint and the last verify run (as recorded by `verify`)."""
    checkpoints = Audit(ledger).checkpoints()
    latest = checkpoints[-1] if checkpoints else None
    return {"checkpoint": latest.document() if latest else None, "checkpoints": len(checkpoints),
            "verify": last_verify_run(read.db), "position": ledger.position()}


def transaction(ledger: Ledger, read: ReadSide, transaction_id: str) -> dict[str, Any] | None:
    """A transaction's events (with their positions), its color's trace and the provenance paths
    of the money it moved (for a spend: SPEC §6.1 `paths`, from the allocation to this spend)."""
    positions = read.transaction_positions(transaction_id)
    if not positions:
        return None
    events = []
    for position in positions:
        [notification] = ledger.recorder.select_notifications(start=position, limit=1)
        event = ledger.mapper.to_domain_event(notification)
        events.append({"position": position, "event": event, "document": event_document(event),
                       "summary": event_summary(event), "type": type(event).__name__})
    color = next((getattr(item["event"], "color", None) for item in events if getattr(item["event"], "color", None)), None)
    trace = read.trace(color, read.catch_up(), None) if color else None
    spends = [s for s in trace["spends"] if s["transaction"] == transaction_id] if trace else []
    edges = [edge for edge in trace["edges"] if transaction_id in edge["transactions"]] if trace else []
    try:
        proof_problem = None
        Audit(ledger).inclusion(transaction_id)
    except NotProvable as problem:
        proof_problem = str(problem)
    return {"id": transaction_id, "events": events, "color": color, "spends": spends, "edges": edges,
            "holders": {h["party"]: h for h in trace["holders"]} if trace else {}, "proof_problem": proof_problem}


def inclusion_proof(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    """The inclusion proof document `tenge-ledger proof` prints (with its signed checkpoint)."""
    return Audit(ledger).inclusion(transaction_id)


def party(ledger: Ledger, read: ReadSide, party_id: str, moment: Moment) -> dict[str, Any] | None:
    """A party: its registration, its balances per color, and every flow of every color it held."""
    aggregate = ledger.party(party_id)
    if aggregate is None:
        return None
    names = read.party_names(moment.position)
    balances = read.balances(None if moment.as_of is None else moment.position, party=party_id, as_of=moment.as_of)
    flows, spends = [], []
    for color, _, _ in balances:
        trace = color_summary(read, color, moment)
        if trace is None:
            continue
        flows += [{**edge, "color": color} for edge in trace["edges"] if party_id in (edge["from"], edge["to"])]
        spends += [{**spend, "color": color} for spend in trace["spends"] if spend["holder"] == party_id]
    return {"id": party_id, "name": names.get(party_id, ""), "kind": aggregate.kind, "status": aggregate.status,
            "balances": balances, "flows": flows, "spends": spends, "names": names}


def contract(ledger: Ledger, contract_id: str) -> dict[str, Any] | None:
    """A contract's color and its events (signing, amendments, acceptances, payments under it)."""
    key = "contract:" + contract_id
    found = ledger.recorder.lookup_keys([ledger.stored_key(key)]).get(ledger.stored_key(key))
    if found is None:
        return None
    events = [event for event in ledger.events.get(UUID(found[1])) if getattr(event, "contract", None) == contract_id]
    color = next((getattr(event, "color", None) for event in events), None)
    return {"id": contract_id, "color": color,
            "events": [{"type": type(ev).__name__, "at": ev.at.isoformat(), "transaction": ev.command_id,
                        "summary": event_summary(ev)} for ev in events]}


def parse_as_of(text: str | None, position: str | None) -> str | None:
    """The as-of control: a date/time or `@N` typed, else a position from the slider."""
    text = (text or "").strip()
    if text:
        return text
    if position and position.strip().isdigit():
        return "@" + position.strip()
    return None


__all__ = ["InvalidValue", "Moment"]
