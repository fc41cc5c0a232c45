"""The running server against its own OpenAPI document (schemathesis), on SQLite and PostgreSQL:
no 5xx, every status code documented, every response matching its schema and content type.

Bounded: schemathesis's own runner (`schemathesis run`) with `MAX_EXAMPLES` generated requests
per operation (positive and negative data), a fixed seed and a time budget of `MAX_SECONDS`. The
event stream (an endless response) and the NDJSON batch (a body schemathesis cannot build) are
covered by their own tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.support import World, cli_env, prepare_store, served
from tests.support import POSTGRES_URL, postgres_schema

MAX_EXAMPLES = 10
MAX_SECONDS = 20
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def run_schemathesis(world: World, base: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "--checks", CHECKS,
         "--header", f"Authorization: Bearer {world.tokens['operator']}",
         "--exclude-path-regex", r"^/v1/(stream|commands/batch)$",
         "--max-examples", str(MAX_EXAMPLES), "--max-time", str(MAX_SECONDS), "--seed", "20250301",
         "--workers", "1", "--report", "junit", "--report-dir", str(folder)],
        env=cli_env(), capture_output=True, text=True, timeout=MAX_SECONDS * 4, cwd=folder,
    )


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_every_operation_answers_as_its_openapi_document_says(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        url_context = None
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need TENGE_LEDGER_TEST_POSTGRES")
        url_context = postgres_schema(POSTGRES_URL)
        url = url_context.__enter__()
    try:
        world = prepare_store(url)
        with served(world.url, log_path=tmp_path / "serve.log") as base:
            done = run_schemathesis(world, base, tmp_path)
    finally:
        if url_context is not None:
            url_context.__exit__(None, None, None)
    summary = [line for line in done.stdout.splitlines() if "generated" in line or "Tested:" in line or " in " in line[-12:]]
    print(f"schemathesis on {kind}:", "; ".join(line.strip(" =") for line in summary))  # shown with pytest -s
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout or "passed" in done.stdout, done.stdout[-3000:]
