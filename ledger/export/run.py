"""Run one export into a path: the file (or, for Parquet, the folder) appears whole or not at all.

A file format is written to a temporary file beside `--out` and renamed into place; the Parquet
tables go to a temporary folder beside it, moved in file by file at the end. An `--out` that
cannot be written fails before the store is read (`OSError` naming `--out`: exit 74).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger.export import FORMATS
from ledger.export.beancount import write_beancount
from ledger.export.camt053 import write_camt053
from ledger.export.ocds import DEFAULT_OCID_PREFIX, write_ocds
from ledger.export.source import ExportSource, OnColor


class NothingToExport(Exception):
    """No statement to write (camt.053 needs at least one): the filters matched no movement."""


@dataclass(frozen=True)
class ExportOptions:
    ocid_prefix: str = DEFAULT_OCID_PREFIX
    wall_time: datetime | None = None  # flags with no --as-of are judged as of it (as `flags` does)


class Staging:
    """A temporary file or folder beside `out`, created now (so an unwritable `--out` fails early)."""

    def __init__(self, out: Path, folder: bool) -> None:
        self.out = out
        self.folder = folder
        parent = out.parent if str(out.parent) else Path(".")
        try:
            if folder:
                self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
            else:
                name = parent / f".{out.name}.{secrets.token_hex(6)}.partial"  # mode 0666 less the umask
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                self.path = name
            if out.exists() and out.is_dir() != folder:
                wrong = errno.ENOTDIR if folder else errno.EISDIR
                raise OSError(wrong, os.strerror(wrong))
        except OSError as problem:
            self.discard()
            raise OSError(problem.errno, problem.strerror, str(out)) from problem

    def commit(self) -> None:
        if not self.folder:
            os.replace(self.path, self.out)
            return
        self.out.mkdir(parents=True, exist_ok=True)
        for part in sorted(self.path.iterdir()):
            os.replace(part, self.out / part.name)
        self.path.rmdir()

    def discard(self) -> None:
        path = getattr(self, "path", None)
        if path is None or not path.exists():
            return
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def write_export(fmt: str, source: ExportSource, path: Path, options: ExportOptions,
                 on_color: OnColor | None = None) -> str:
    """Write the export of `source` in `fmt` to `path` (a file; a folder for Parquet); a summary line."""
    assert fmt in FORMATS, fmt
    if fmt == "camt.053":
        with open(path, "wb") as out:
            count = write_camt053(source, out, on_color=on_color)
        if count == 0:
            raise NothingToExport("no holder has a movement to state (camt.053 needs at least one statement)")
        return f"{count} statement(s)"
    if fmt == "ocds":
        with open(path, "w", encoding="utf-8") as text:
            count = write_ocds(source, text, options.ocid_prefix, on_color=on_color)
        return f"{count} compiled release(s)"
    if fmt == "beancount":
        with open(path, "w", encoding="utf-8") as text:
            count = write_beancount(source, text, on_color=on_color)
        return f"{count} transaction(s)"
    from ledger.export.parquet import write_parquet  # pyarrow (~35 MB) only when a Parquet export runs

    counts = write_parquet(source, path, options.wall_time, on_color=on_color)
    return ", ".join(f"{rows} {table}" for table, rows in counts.items())
