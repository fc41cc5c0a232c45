"""ISO 20022 messages the ledger reads (SPEC §3.1): the schemas (`xsd`) and pain.001 in (`pain001`).

The official schemas ship with the package (`ledger/iso20022/xsd/`, from the moov-io/iso20022
repository, Apache License 2.0 — see the LICENSE there). Writing ISO 20022 documents (the
pain.002 answer of an import, statements) is output and lives with the faces (`ledger.render`).
"""

PAIN001_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"
PAIN002_NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"
CAMT053_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
