"""`GET /v1/exports/{format}`: an export of the ledger (SPEC §3.2) over HTTP, as `tenge-ledger
export FORMAT` writes it: `color`, `party`, `as_of` (and `ocid_prefix`) as the CLI's options.

Needs the `read` action (auditors; every role that reads). The export is written while the
process's ledger is held (`Service.acting`), into a temporary file, then streamed from that file
after the ledger is released, and the file is removed when the response ends. Parquet, a folder
of tables, is sent as a zip of its files.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
import tempfile
import zipfile
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from domain.errors import InvalidValue
from domain.identifiers import parse_color, parse_party_id
from domain.roles import READ
from ledger.export.ocds import DEFAULT_OCID_PREFIX
from ledger.export.run import ExportOptions, NothingToExport, write_export
from ledger.export.source import ExportSource
from ledger.http.auth import Principal, get_service, require
from ledger.http.errors import problem
from ledger.http.openapi import READ_RESPONSES, Problem
from ledger.http.service import Service

router = APIRouter(tags=["exports"])

CHUNK_BYTES = 64 * 1024


class ExportFormat(str, Enum):
    camt053 = "camt.053"
    ocds = "ocds"
    beancount = "beancount"
    parquet = "parquet"


MEDIA_TYPES = {"camt.053": "application/xml", "ocds": "application/json", "beancount": "text/plain; charset=utf-8",
               "parquet": "application/zip"}
FILE_NAMES = {"camt.053": "camt053.xml", "ocds": "ocds.json", "beancount": "ledger.beancount",
              "parquet": "parquet.zip"}


def _checked(parse, value: str | None) -> str | None:  # type: ignore[no-untyped-def]
    if value is None:
        return None
    parsed = parse(value)
    return parsed.text if hasattr(parsed, "text") else parsed


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as data:
        while chunk := data.read(CHUNK_BYTES):
            yield chunk


def _zip_folder(folder: Path, into: Path) -> None:
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_STORED) as archive:  # Parquet is compressed already
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)


@router.get(
    "/v1/exports/{fmt}",
    summary="Export the ledger: camt.053, OCDS, Beancount or Parquet (zip)",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the export, as `tenge-ledger export FORMAT` writes it",
              "content": {"application/xml": {}, "application/json": {}, "text/plain": {}, "application/zip": {}}},
        404: {"model": Problem, "description": "nothing to export (camt.053: no holder has a movement)"},
        **READ_RESPONSES,
    },
)
def export(
    fmt: ExportFormat,
    color: str | None = Query(None, max_length=64, description="only this color"),
    party: str | None = Query(None, max_length=32, description="only this holder (BIN/IIN)"),
    as_of: str | None = Query(None, max_length=64, description="business time (RFC 3339), a date, or @N"),
    ocid_prefix: str = Query(DEFAULT_OCID_PREFIX, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                             description="ocds: the publisher's ocid prefix"),
    principal: Principal = Depends(require(READ)),
    service: Service = Depends(get_service),
) -> StreamingResponse:
    try:
        color, party = _checked(parse_color, color), _checked(parse_party_id, party)
    except InvalidValue as malformed:
        return problem(400, str(malformed))  # type: ignore[return-value]
    folder = Path(tempfile.mkdtemp(prefix="tenge-ledger-export-"))
    try:
        out = folder / FILE_NAMES[fmt.value]
        with service.acting(principal.actor) as ledger:
            read = service.read_side(ledger)
            now = read.catch_up()
            position = read.resolve_as_of(as_of, now)
            source = ExportSource(read, position, as_of, color, party)
            target = folder / "tables" if fmt is ExportFormat.parquet else out
            wall_time = datetime.now(UTC) if as_of is None else None  # as `flags` and the CLI judge them
            write_export(fmt.value, source, target, ExportOptions(ocid_prefix, wall_time))
        if fmt is ExportFormat.parquet:
            _zip_folder(folder / "tables", out)
    except NothingToExport as nothing:
        shutil.rmtree(folder, ignore_errors=True)
        return problem(404, f"nothing to export: {nothing}")  # type: ignore[return-value]
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StreamingResponse(
        _chunks(out), media_type=MEDIA_TYPES[fmt.value],
        headers={"Content-Disposition": f'attachment; filename="{out.name}"', "Content-Length": str(out.stat().st_size)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
