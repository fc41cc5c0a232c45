"""The ISO 20022 schemas shipped with the package, loaded once, offline.

`schema("pain.001.001.10")` is an `lxml.etree.XMLSchema` (compiled once per process: compiling
pain.001 takes a few tens of milliseconds); `schema_path(name)` is the file, for other validators
(`xmlschema`). `message_name(namespace)` reads `pain.001.001.10` out of an ISO 20022 namespace or a
national variant's (`http://www.six-interbank-clearing.com/de/pain.001.001.03.ch.02.xsd`), so a
refusal can say what was found. `validation_errors(document, name)` lists a whole document's
schema errors as `line N: message` (for tests and for checking what we write).

The schemas import nothing (each is one self-contained file), so nothing is ever fetched.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
SCHEMA_FILES = {
    "pain.001.001.10": "pain.001.001.10_1.xsd",
    "pain.002.001.11": "pain.002.001.11.xsd",
    "camt.053.001.08": "camt.053.001.08.xsd",
}
_MESSAGE_NAME = re.compile(r"\b([a-z]{4}\.\d{3}\.\d{3}\.\d{2}(?:\.[a-z]{2}\.\d{2})?)")


def schema_path(name: str) -> Path:
    """The shipped XSD file of message `name` (`pain.001.001.10`, `pain.002.001.11`, `camt.053.001.08`)."""
    path = XSD_DIR / SCHEMA_FILES[name]
    assert path.is_file(), f"the package is missing {path}"
    return path


@cache
def schema(name: str) -> etree.XMLSchema:
    """The compiled schema of message `name` (network access off: the files are self-contained)."""
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(schema_path(name)), parser))


def namespace_of(name: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{name}"


def message_name(namespace: str | None) -> str | None:
    """`pain.001.001.03.ch.02` from a namespace that names an ISO 20022 message, else None."""
    match = _MESSAGE_NAME.search(namespace or "")
    return match.group(1) if match else None


def validation_errors(document: bytes | Path, name: str) -> list[str]:
    """Every schema error of a whole document against message `name`, as `line N: message`."""
    parser = etree.XMLParser(no_network=True, huge_tree=True)
    source = str(document) if isinstance(document, Path) else None
    try:
        tree = etree.parse(source, parser) if source else etree.fromstring(document, parser).getroottree()
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: not well-formed XML: {error.msg}"]
    checker = schema(name)
    if checker.validate(tree):
        return []
    return [f"line {entry.line}: {entry.message}" for entry in checker.error_log]  # type: ignore[attr-defined]
