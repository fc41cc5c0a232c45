"""The anomaly rules of RULES.md: the engine, shared facts, thresholds, and one module per family."""
