"""The tenge-ledger domain: money, identifiers, commands, events and the colored allocation.

Pure code: no I/O, no clock, no randomness. May import only the standard library and
`eventsourcing.domain`.
"""
