"""`python -m ledger` is the `tenge-ledger` command."""

from ledger.cli import run

run()
