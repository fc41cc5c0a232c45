"""Seeded scenario generators for the pilots, misuse injection with ground truth, evaluation, and
hypothesis strategies (SPEC §8). See `simulations/README.md`.

- `world` — configuration, project counts, parties; `pilots` — the ROAD, AGRO, LOCAL planners;
- `plan` / `realize` — a project's steps and how their amounts are resolved as they are written;
- `amounts` — integer money draws and the Benford-balancing `BenfordBook`; `identity` — ids;
- `schemes` — misuse schemes, one function each; `generator` — the streaming writer;
- `evaluate` — scoring flags against the truth; `runs` — worlds in memory; `hypothesis` — strategies;
- `demo` — the world `tenge-ledger demo` simulates and tours.
"""
