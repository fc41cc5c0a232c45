"""Every error class the project defines is used: raised, built, or the base of one that is.

An error class that nothing raises is a promise the code does not keep (a caller catching it waits
for something that never comes); this test finds such classes by reading the sources.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "ledger", "projections", "simulations")


def _trees() -> list[tuple[Path, ast.Module]]:
    paths = [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths]


def _name(node: ast.expr) -> str:
    """The last part of a (dotted) name, or "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def error_classes(trees: list[tuple[Path, ast.Module]]) -> dict[str, tuple[Path, list[str]]]:
    """name -> (file, bases) for every class that derives, directly or not, from an exception."""
    classes = {node.name: (path, [_name(base) for base in node.bases])
               for path, tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    errors: dict[str, tuple[Path, list[str]]] = {}
    grew = True
    while grew:
        grew = False
        for name, (path, bases) in classes.items():
            if name in errors:
                continue
            builtin = [b for b in bases if isinstance(getattr(builtins, b, None), type)
                       and issubclass(getattr(builtins, b), BaseException)]
            if builtin or any(b in errors for b in bases):
                errors[name] = (path, bases)
                grew = True
    return errors


def used_names(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """Names that are raised or called (an error built to be collected counts as used)."""
    used: set[str] = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                used.add(_name(node.exc.func if isinstance(node.exc, ast.Call) else node.exc))
            elif isinstance(node, ast.Call):
                used.add(_name(node.func))
    return used


def test_every_error_class_is_raised_or_is_the_base_of_one_that_is() -> None:
    trees = _trees()
    errors = error_classes(trees)
    assert {"LedgerError", "InvalidValue", "StoreError"} <= set(errors), sorted(errors)
    used = used_names(trees)
    live = {name for name in errors if name in used}
    grew = True
    while grew:  # a base of a live class is live
        before = len(live)
        live |= {base for name in live for base in errors[name][1] if base in errors}
        grew = len(live) > before
    dead = sorted(f"{errors[name][0].relative_to(ROOT)}: {name}" for name in set(errors) - live)
    assert dead == [], f"error classes nothing raises: {dead}"


def test_the_scan_finds_a_class_nothing_raises(tmp_path: Path) -> None:
    """The check itself: a module defining an unraised error is reported."""
    source = "class Unused(ValueError):\n    pass\n\nclass Used(Exception):\n    pass\n\nraise Used()\n"
    tree = ast.parse(source)
    errors = error_classes([(tmp_path / "m.py", tree)])
    assert set(errors) == {"Unused", "Used"}
    assert set(errors) - used_names([(tmp_path / "m.py", tree)]) == {"Unused"}
