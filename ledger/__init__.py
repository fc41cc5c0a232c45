"""The tenge-ledger application: command parsing, the Ledger, stores, integrity, CLI and HTTP."""
