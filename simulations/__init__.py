"""Seeded scenario generators for the pilots, misuse injection and evaluation (issue 6)."""
