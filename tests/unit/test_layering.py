"""The import arrows of DESIGN.md hold, package by package.

Layers (a module belongs to the deepest listed package that contains it):
- `domain` imports nothing of ours (and of eventsourcing only its domain module);
- `projections` imports `domain`;
- the core, `ledger` and `ledger.store`, imports `domain` and `projections` (never a face, never
  the integrity layer);
- `ledger.integrity` imports `domain`, the core;
- the faces, `ledger.cli`, `ledger.render`, `ledger.export` and `ledger.http` (the HTTP service), import the core,
  `ledger.integrity`, `projections`, and each other; only `ledger.cli` (the composition root)
  imports `simulations`;
- `simulations` imports `domain`, the core and `projections`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("ledger", "ledger.store")
FACES = ("ledger.cli", "ledger.render", "ledger.export", "ledger.http", "ledger.__main__")
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "projections": {"domain", "projections"},
    "ledger": {"domain", "projections", *CORE},
    "ledger.store": {"domain", "projections", *CORE},
    "ledger.integrity": {"domain", *CORE, "ledger.integrity"},
    "ledger.cli": {"domain", "projections", *CORE, "ledger.integrity", *FACES, "simulations"},
    "ledger.render": {"domain", "projections", *CORE, "ledger.integrity", *FACES},
    "ledger.export": {"domain", "projections", *CORE, "ledger.integrity", *FACES},
    "ledger.http": {"domain", "projections", *CORE, "ledger.integrity", *FACES},
    "ledger.__main__": {"ledger.cli"},
    "simulations": {"domain", "projections", *CORE, "simulations"},
}
OURS = {"domain", "ledger", "projections", "simulations"}


def layer_of(module: str) -> str:
    """The layer a dotted module name belongs to: its longest prefix that names a layer."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in ALLOWED:
            return prefix
    return parts[0]


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file; relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from ledger import cli` imports the package ledger.cli
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def forbidden_arrows(paths: list[Path]) -> list[str]:
    wrong = []
    for path in paths:
        source_layer = layer_of(module_name(path))
        for line, module in imports(path):
            if module.split(".")[0] not in OURS:
                continue
            target = layer_of(module)
            if target not in ALLOWED[source_layer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {source_layer} imports {module} ({target})")
    return wrong


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["domain", "projections", "ledger", "simulations"])
def test_a_package_imports_only_what_its_layer_may(package: str) -> None:
    assert forbidden_arrows(sources(package)) == []


def test_the_layering_test_catches_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately added arrow (the core importing a face, the integrity layer going past the core
    to the projections) is found, with file, line and target."""
    fake_root = tmp_path
    (fake_root / "ledger" / "render").mkdir(parents=True)
    (fake_root / "ledger" / "store").mkdir()
    core = fake_root / "ledger" / "app.py"
    core.write_text("from domain.money import format_kzt\nfrom ledger.render.text import dump_json\n", encoding="utf-8")
    store = fake_root / "ledger" / "store" / "chain.py"
    store.write_text("from ledger.integrity.merkle import leaf_hash\n", encoding="utf-8")
    (fake_root / "ledger" / "integrity").mkdir()
    integrity = fake_root / "ledger" / "integrity" / "verify.py"
    integrity.write_text("from ledger.read import ReadSide\nfrom projections.runner import ProjectionRunner\n", encoding="utf-8")
    rules = fake_root / "projections.py"
    rules.write_text("from ledger.read import ReadSide\n", encoding="utf-8")
    face = fake_root / "ledger" / "render" / "text.py"
    face.write_text("from ledger.integrity.document import event_document\nfrom simulations import demo\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert forbidden_arrows([core, store, integrity, rules, face]) == [
        "ledger/app.py:2: ledger imports ledger.render.text.dump_json (ledger.render)",
        "ledger/store/chain.py:1: ledger.store imports ledger.integrity.merkle.leaf_hash (ledger.integrity)",
        "ledger/integrity/verify.py:2: ledger.integrity imports projections.runner.ProjectionRunner (projections)",
        "projections.py:1: projections imports ledger.read.ReadSide (ledger)",
        "ledger/render/text.py:2: ledger.render imports simulations.demo (simulations)",
    ]


def private_imports(paths: list[Path]) -> list[str]:
    """`file:line: name from module` for every `_private` name a file imports from another layer (a
    face reaching past a layer's public surface, as the CLI once did with `importer._reparse`)."""
    wrong = []
    for path in paths:
        source_layer = layer_of(module_name(path))
        for line, module in imports(path):
            owner, _, name = module.rpartition(".")
            if (module.split(".")[0] in OURS and name.startswith("_") and not name.startswith("__")
                    and layer_of(owner) != source_layer):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {name} from {owner}")
    return wrong


@pytest.mark.parametrize("package", ["domain", "projections", "ledger", "simulations"])
def test_no_layer_imports_a_private_name_of_another(package: str) -> None:
    assert private_imports(sources(package)) == []


def test_the_private_import_check_catches_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ledger" / "cli").mkdir(parents=True)
    face = tmp_path / "ledger" / "cli" / "__init__.py"
    face.write_text("from ledger.importer import _reparse, parsed_commands\nfrom ledger.cli.read import _position\n"
                    "from ledger import __version__\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert private_imports([face]) == ["ledger/cli/__init__.py:1: _reparse from ledger.importer"]


def test_the_domain_uses_only_the_standard_library_and_eventsourcing_domain() -> None:
    wrong = []
    for path in sources("domain"):
        for line, module in imports(path):
            top = module.split(".")[0]
            if top in OURS or top in sys.stdlib_module_names or module.startswith("eventsourcing.domain"):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert wrong == []


def test_the_domain_reads_no_clock_and_draws_no_randomness() -> None:
    """No wall clock and no randomness in domain/ (DESIGN.md: two clocks; deterministic)."""
    wrong = []
    for path in sources("domain"):
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now", "date.today", "time.time(", "import random", "from random", "uuid4("):
            if needle in text:
                wrong.append(f"{path.relative_to(ROOT)}: {needle}")
    assert wrong == []


def test_the_http_face_is_a_face_the_core_never_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ledger.http` may use the core and the integrity layer; the core (and the store) may not use
    it, and it may not use `simulations` (only the CLI, the composition root, does)."""
    (tmp_path / "ledger" / "http" / "api").mkdir(parents=True)
    (tmp_path / "ledger" / "store").mkdir()
    core = tmp_path / "ledger" / "tokens.py"
    core.write_text("from ledger.http.auth import require\n", encoding="utf-8")
    store = tmp_path / "ledger" / "store" / "views.py"
    store.write_text("import ledger.http.app\n", encoding="utf-8")
    face = tmp_path / "ledger" / "http" / "api" / "reads.py"
    face.write_text("from ledger.read import ReadSide\nfrom ledger.integrity.audit import Audit\n"
                    "from ledger.render.trace_html import render_trace_html\nfrom simulations import demo\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert layer_of("ledger.http.api.reads") == "ledger.http"
    assert forbidden_arrows([core, store, face]) == [
        "ledger/tokens.py:1: ledger imports ledger.http.auth.require (ledger.http)",
        "ledger/store/views.py:1: ledger.store imports ledger.http.app (ledger.http)",
        "ledger/http/api/reads.py:4: ledger.http imports simulations.demo (simulations)",
    ]
