"""Exports (SPEC §3.2): the ledger as other systems read it — camt.053 statements, OCDS releases,
a Beancount ledger, Parquet tables. A face: it reads through the read side (`ledger.read`) and
writes files; `source` walks the colors once for every format.
"""

FORMATS = ("camt.053", "ocds", "beancount", "parquet")
