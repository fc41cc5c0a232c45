"""The anomaly rules of RULES.md: one module per rule (`<code>_<title>.py`), the registry that
checks them against the catalog's 27 codes, and the shared machinery — the engine, the facts the
rules share (world), thresholds and their loading (thresholds, config), the wording of numbers in
explanations, and the catalog document (`tenge-ledger rules`, docs)."""
