"""docs/ is generated from the code and kept in sync with it (and, where it is beside us, with SPEC.md).

The pages are regenerated in memory and compared with the committed ones; a stale page fails with
the command that refreshes it. Where the team's shared folder sits beside the repository, the exit
codes and command names of the pages are checked against SPEC.md §5, and the interchange page's
command types and fields (required or optional) against SPEC.md §3.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ledger.cli import cli
from ledger.cli.base import EXIT_CODES
from ledger.cli.docs import DOCS, cli_markdown, exit_codes_markdown, generate, optional_function, stale, write

ROOT = Path(__file__).resolve().parents[2]
SPEC_MD = ROOT.parent / "shared" / "SPEC.md"
# Commands SPEC §5 lists that later issues build; remove a name here when its command exists.
NOT_YET_BUILT: set[str] = set()


def every_command_path(group: click.Group, prefix: str = "tenge-ledger") -> list[str]:
    ctx = click.Context(group, info_name=prefix)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        paths.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            paths += every_command_path(command, f"{prefix} {name}")
    return paths


def documented_commands() -> set[str]:
    """The command names docs/cli.md has a section for."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    return {match.group(1) for match in re.finditer(r"^## `tenge-ledger ([a-z-]+)", text, re.MULTILINE)}


def documented_exit_codes() -> set[int]:
    text = (DOCS / "exit-codes.md").read_text(encoding="utf-8")
    return {int(match.group(1)) for match in re.finditer(r"^\| `(\d+)` \|", text, re.MULTILINE)}


def test_the_committed_docs_are_what_the_code_generates() -> None:
    assert stale(DOCS, generate()) == [], "docs/ is stale: run `python -m ledger.cli.docs` and commit docs/"


def test_every_command_and_option_is_in_the_reference() -> None:
    page = cli_markdown(cli)
    for path in every_command_path(cli):
        assert f"## `{path}`" in page, path
    for option in ("--store", "--as-of", "--batch-size", "--misuse-rate", "--format"):
        assert f"`{option}`" in page, option
    assert "`1000`" in page, "the --batch-size default"


def test_the_exit_code_page_lists_every_code_with_its_meaning() -> None:
    page = exit_codes_markdown()
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 69, 70, 74, 75, 77]
    for code, (name, meaning) in EXIT_CODES.items():
        assert f"| `{code}` | `{name}` | {meaning.replace('|', chr(92) + '|')} |" in page


def test_check_names_a_stale_page_and_writing_fixes_it(tmp_path: Path) -> None:
    pages = generate()
    write(tmp_path, pages)
    assert stale(tmp_path, pages) == []
    (tmp_path / "cli.md").write_text("hand-edited\n", encoding="utf-8")
    (tmp_path / "exit-codes.md").unlink()
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "gone.json").write_text("{}\n", encoding="utf-8")
    assert stale(tmp_path, pages) == ["cli.md", "exit-codes.md", "schemas/gone.json"]
    write(tmp_path, pages)
    assert stale(tmp_path, pages) == []
    assert not (tmp_path / "schemas" / "gone.json").exists()


def test_the_module_checks_and_exits_non_zero_naming_the_stale_file(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "ledger.cli.docs", "--docs", str(tmp_path)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    written = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert written.returncode == 0, written.stderr
    assert subprocess.run([*command, "--check"], cwd=ROOT, env=env, capture_output=True, check=False).returncode == 0
    (tmp_path / "exit-codes.md").write_text("old\n", encoding="utf-8")
    checked = subprocess.run([*command, "--check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert checked.returncode == 1
    assert "exit-codes.md" in checked.stderr and "cli.md" not in checked.stderr
    assert (tmp_path / "exit-codes.md").read_text(encoding="utf-8") == "old\n", "--check writes nothing"


def test_a_generator_that_does_not_exist_yet_is_skipped_and_a_broken_one_is_not(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert optional_function("ledger.no_such_module", "anything") is None
    assert optional_function("ledger.cli.base", "no_such_function") is None
    assert optional_function("ledger.cli.docs", "generate") is generate
    (tmp_path / "broken_docs_source.py").write_text("import no_such_dependency\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        optional_function("broken_docs_source", "anything")


# --- against SPEC.md, where the shared folder is beside the repository -------------------------------


def spec_section_5() -> str:
    if not SPEC_MD.is_file():
        pytest.skip(f"no SPEC.md at {SPEC_MD} (the shared folder sits beside the repository)")
    text = SPEC_MD.read_text(encoding="utf-8")
    section = re.search(r"^## 5\. .*?(?=^## 6\. )", text, re.MULTILINE | re.DOTALL)
    assert section, "SPEC.md has no §5"
    return section.group(0)


def test_the_exit_codes_are_specs() -> None:
    bullet = re.search(r"^- `0` success.*?(?=^- )", spec_section_5(), re.MULTILINE | re.DOTALL)
    assert bullet, "SPEC §5 no longer lists the exit codes in one bullet"
    spec_codes = {int(code) for code in re.findall(r"`(\d+)` ", bullet.group(0))}
    assert documented_exit_codes() == spec_codes == set(EXIT_CODES)


def test_the_commands_are_specs() -> None:
    first_cells = re.findall(r"^\| (`tenge-ledger .*?) \| ", spec_section_5(), re.MULTILINE)
    assert first_cells, "SPEC §5 has no command table"
    spec_commands = set()
    for cell in first_cells:
        for token in re.findall(r"`([^`]+)`", cell):
            spec_commands.add(token.removeprefix("tenge-ledger ").split()[0])
    assert {"demo", "import", "trace", "verify-proof", "unfreeze"} <= spec_commands, spec_commands
    documented = documented_commands()
    assert spec_commands - documented == NOT_YET_BUILT, "a SPEC §5 command is missing from docs/cli.md"


def spec_section_3() -> str:
    if not SPEC_MD.is_file():
        pytest.skip(f"no SPEC.md at {SPEC_MD} (the shared folder sits beside the repository)")
    section = re.search(r"^## 3\. .*?(?=^### 3\.1 )", SPEC_MD.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert section, "SPEC.md has no §3 before §3.1"
    return section.group(0)


def spec_fields(cell: str, required: bool) -> dict[str, bool]:
    """Field name -> required, for one cell of SPEC §3's table: the top-level names, and the parts
    of a nested object (`road` {`length_km`, …}, `sources` [{`lot`, `amount`}]) as `road.length_km`.
    Bracketed notes ([party ids], (`active`/…), (bool)) are not field names."""
    fields = {}
    for nested in re.finditer(r"`(\w+)`\s*\[?\{([^}]*)\}", cell):
        fields |= {f"{nested.group(1)}.{part}": True for part in re.findall(r"`(\w+)`", nested.group(2))}
    top = re.sub(r"\[[^\]]*\]|\{[^}]*\}|\([^)]*\)", "", cell)
    return fields | {name: required for name in re.findall(r"`(\w+)`", top)}


def spec_interchange() -> dict[str, dict[str, bool]]:
    """Command type -> field -> required, from SPEC §3's table (`id`, `type`, `at` in every one)."""
    commands: dict[str, dict[str, bool]] = {}
    for line in spec_section_3().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        fields = {"id": True, "type": True, "at": True} | spec_fields(cells[1], True) | spec_fields(cells[2], False)
        for type_name in re.findall(r"`(\w+)`", cells[0]):
            commands[type_name] = fields
    assert len(commands) >= 15, commands
    return commands


def documented_interchange(text: str) -> dict[str, dict[str, bool]]:
    """Command type -> field -> required, from docs/interchange.md (nested fields as `road.length_km`)."""
    commands = {}
    for section in text.split("\n## `")[1:]:
        rows = re.findall(r"^\| `([\w.]+)` \| (required|optional) \|", section, re.MULTILINE)
        commands[section.split("`")[0]] = {name: kind == "required" for name, kind in rows}
    return commands


def test_the_interchange_page_has_specs_commands_and_fields() -> None:
    """Every command type of SPEC §3 with exactly its fields, required or optional as SPEC says (the
    nested objects the table spells out included); `items`' parts are SPEC's bullet, checked too."""
    documented = documented_interchange((DOCS / "interchange.md").read_text(encoding="utf-8"))
    expected = spec_interchange()
    assert sorted(documented) == sorted(expected)
    for type_name, fields in expected.items():
        nested_in_spec = {name.split(".")[0] for name in fields if "." in name}
        page = {name: required for name, required in documented[type_name].items()
                if "." not in name or name.split(".")[0] in nested_in_spec}
        assert page == fields, type_name
    items = re.search(r"`items` of a contract: `\[\{([^}]*)\}\]`", spec_section_3())
    assert items, "SPEC §3 no longer spells out the parts of `items`"
    parts = {f"items.{part.strip()}" for part in items.group(1).split(",")}
    assert {name for name in documented["sign_contract"] if name.startswith("items.")} == parts


def test_the_interchange_check_catches_a_field_spec_does_not_have() -> None:
    page = (DOCS / "interchange.md").read_text(encoding="utf-8")
    changed = page.replace("| `invoice` | optional |", "| `invoice_no` | optional |", 1)
    assert documented_interchange(changed) != documented_interchange(page)
    transfer = documented_interchange(changed)["transfer"]
    assert "invoice_no" in transfer and transfer != spec_interchange()["transfer"]
    assert spec_fields("`road` {`length_km`, `width_m`} (the road), `owners` [party ids]", False) == {
        "road.length_km": True, "road.width_m": True, "road": False, "owners": False}


# --- README's "Where things are" ---------------------------------------------------------------------


def where_things_are() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Where things are\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no 'Where things are' section"
    return section.group(1)


def test_the_readme_tree_has_a_line_for_every_package_folder() -> None:
    tree = {line.split()[0] for line in where_things_are().split("```")[1].splitlines() if line.strip()}
    folders = {f"{path.parent.relative_to(ROOT).as_posix()}/" for path in ROOT.glob("*/__init__.py")}
    folders |= {f"{path.parent.relative_to(ROOT).as_posix()}/" for path in ROOT.glob("*/*/__init__.py")
                if path.parts[-3] in ("ledger", "projections")}
    folders |= {"docs/"}
    assert folders - tree == set(), "folders the README's tree does not mention"


def test_every_file_the_readme_points_to_exists() -> None:
    paths = set(re.findall(r"`((?:domain|ledger|projections|simulations|tests|bench|docs)/[\w/.-]*)`", where_things_are()))
    assert len(paths) >= 10, paths
    assert sorted(path for path in paths if not (ROOT / path).exists()) == []
