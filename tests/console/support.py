"""A store for the console's tests: the HTTP tests' road world (roles policy, a token per role),
plus payments, a final spend, two blocked cash withdrawals (two F07 flags), a signed checkpoint
and a recorded verify run."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.app import Ledger
from ledger.integrity.audit import Audit
from ledger.integrity.verify import Verifier
from ledger.integrity.verify_runs import record_verify_run
from tests.http.support import World, prepare_store, record

SPEND_ID = "SPEND-1"
CASH_IDS = ("CASH-1", "CASH-2")


def prepare_console_store(path: Path) -> World:
    world = prepare_store(f"sqlite:///{path}")
    n = world.names
    record(world, "transfer", id="PAY-1", color=n["color"], from_=n["admin"], to=n["contractor"], amount="300000.00",
           contract="C-1", kind="advance")
    record(world, "transfer", id="PAY-2", color=n["color"], from_=n["contractor"], to=n["sub"], amount="120000.00",
           contract="C-2", kind="advance")
    record(world, "spend", id=SPEND_ID, color=n["color"], from_=n["sub"], amount="50000.00", category="materials")
    for cash_id in CASH_IDS:
        record(world, "spend", id=cash_id, color=n["color"], from_=n["contractor"], amount="100.00",
               category="cash_withdrawal")
    fresh = world.script.commands()[-(3 + len(CASH_IDS)):]
    operator = Ledger(world.url, actor="olzhas")
    try:
        statuses = [outcome.status for outcome in operator.execute(fresh)]
        assert statuses == ["applied"] * 3 + ["blocked"] * len(CASH_IDS), statuses
    finally:
        operator.close()
    auditor = Ledger(world.url, actor="dana")
    try:
        Audit(auditor).make_checkpoint(Ed25519PrivateKey.generate())
        findings = Verifier(auditor).run()
        assert findings == []
        assert record_verify_run(auditor.read_side().db, auditor.position(), "dana", findings)
    finally:
        auditor.close()
    return world
