"""Tamper evidence: the RFC 9162 Merkle log, signed checkpoints, inclusion and consistency proofs,
`verify`, and the canonical event document the proofs rest on. Imports the core, never a face."""
