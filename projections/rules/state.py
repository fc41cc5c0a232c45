"""Rule state kept per key, loaded on first use and saved by what changed (issue 11).

The engine's memory (each rule's sections, the world's parties/colors/contracts/prices and their
relations, the flag ids raised) is a set of named *sections*, each a mapping from a key (a party, a
contract, a color, a lot…) to a plain value. A section is a `LazySection`: it holds only the keys
used since the last eviction; a key it has not seen is fetched from a `Backing` (the flags
projection's SQL table, or another engine for a throwaway copy) on first access; every key written,
or read by a rule (rules mutate the values they read in place), is *dirty* and is written back at
the next save. So a catch-up of N events loads and writes O(N) rows, not the whole history, and the
memory held between chunks is bounded by `KeyedState.evict`.

A section can be iterated only while everything is in memory (a bare engine without a backing):
rules ask for keys, never for "all keys", which is what lets their state live out of memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction
from typing import Any, Protocol

ABSENT: Any = object()  # a key known not to exist (cached, so a miss is asked once)
_MISSING: Any = object()


class Backing(Protocol):
    """Where keys not yet in memory come from."""

    def fetch(self, section: str, key: Any) -> Any:
        """The stored value of `key` in `section` (a fresh object the caller may mutate), or ABSENT."""


class LazySection:
    """One section of rule state: dict-like (and set-like: `add`, `discard`, `in`) per key.

    `track_reads`: a value returned by `get`/`[]`/`setdefault` may be mutated by the caller, so it is
    marked dirty; the world, whose values only it mutates, marks its writes itself (`touch`)."""

    __slots__ = ("cache", "dirty", "name", "owner", "track_reads")

    def __init__(self, name: str, owner: KeyedState, track_reads: bool = True) -> None:
        self.name = name
        self.owner = owner
        self.track_reads = track_reads
        self.cache: dict[Any, Any] = {}
        self.dirty: set[Any] = set()

    def _load(self, key: Any) -> Any:
        value = self.cache.get(key, _MISSING)
        if value is _MISSING:
            value = self.cache[key] = self.peek_uncached(key)
        return value

    def peek_uncached(self, key: Any) -> Any:
        """The value (or ABSENT), read from the backing if not in memory but not kept there: for a
        throwaway reader (a fork) that must not grow this state's memory."""
        value = self.cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        owner = self.owner
        backing, stored = owner.backing, owner.stored
        if backing is None or owner.complete or (stored is not None and not stored.may_hold((self.name, key))):
            return ABSENT
        return backing.fetch(self.name, key)

    def peek(self, key: Any, default: Any = None) -> Any:
        """The value without marking it dirty (for readers that do not mutate it)."""
        value = self.cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._load(key)
        return default if value is ABSENT else value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self.cache.get(key, _MISSING)  # the common case inline: a key already in memory
        if value is _MISSING:
            value = self._load(key)
        if value is ABSENT:
            return default
        if self.track_reads:
            self.dirty.add(key)
        return value

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        value = self.cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._load(key)
        return value is not ABSENT

    def __setitem__(self, key: Any, value: Any) -> None:
        assert value is not ABSENT
        self.cache[key] = value
        self.dirty.add(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = self._load(key)
        if value is ABSENT:
            self.cache[key] = value = default
        self.dirty.add(key)
        return value

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        value = self._load(key)
        if value is ABSENT:
            if default is _MISSING:
                raise KeyError(key)
            return default
        self.cache[key] = ABSENT
        self.dirty.add(key)
        return value

    def __delitem__(self, key: Any) -> None:
        self.pop(key)

    def forget(self, key: Any) -> None:
        """Delete `key` without reading it (`discard` without loading a value nobody needs)."""
        self.cache[key] = ABSENT
        self.dirty.add(key)

    def add(self, key: Any) -> None:
        """Set semantics: `key` is a member (written without asking the store whether it was)."""
        self[key] = True

    def discard(self, key: Any) -> None:
        self.pop(key, None)

    def touch(self, key: Any) -> None:
        """The value of `key` was changed in place: write it at the next save."""
        if self.cache.get(key, ABSENT) is not ABSENT:
            self.dirty.add(key)

    # --- whole-section views, only while everything is in memory --------------------------------

    def items(self) -> Iterator[tuple[Any, Any]]:
        assert self.owner.complete, f"section {self.name} is loaded lazily: it cannot be iterated"
        return ((key, value) for key, value in self.cache.items() if value is not ABSENT)

    def keys(self) -> Iterator[Any]:
        return (key for key, _ in self.items())

    def values(self) -> Iterator[Any]:
        return (value for _, value in self.items())

    def __iter__(self) -> Iterator[Any]:
        return self.keys()

    def __len__(self) -> int:
        return sum(1 for _ in self.items())


class KeyFilter:
    """A Bloom filter of the keys a process has saved: "certainly not stored" without asking the
    store, for a process that wrote the whole state itself (a rebuild) and then evicted some of it.
    A false "may hold" costs one query; there are no false "not stored"."""

    BITS = 1 << 26  # 8 MB: ~1e-4 false positives at 10^6 keys, ~5 % at 10^7

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS >> 3)

    def _positions(self, item: Any) -> tuple[int, int, int]:
        first, second = hash(item), hash((item, 1))
        return first % self.BITS, second % self.BITS, (first + 2 * second) % self.BITS

    def add(self, item: Any) -> None:
        for bit in self._positions(item):
            self.bits[bit >> 3] |= 1 << (bit & 7)

    def may_hold(self, item: Any) -> bool:
        return all(self.bits[bit >> 3] & (1 << (bit & 7)) for bit in self._positions(item))


class KeyedState:
    """All sections of one engine, their backing, and what changed since the last save."""

    def __init__(self, backing: Backing | None = None, complete: bool = True) -> None:
        self.sections: dict[str, LazySection] = {}
        self.backing = backing
        self.complete = complete or backing is None  # True: every stored key is in memory already
        self.stored: KeyFilter | None = None  # after evicting a complete state: which keys may be stored

    def section(self, name: str, track_reads: bool = True) -> LazySection:
        found = self.sections.get(name)
        if found is None:
            found = self.sections[name] = LazySection(name, self, track_reads)
        return found

    def changes(self) -> Iterator[tuple[str, Any, Any]]:
        """(section, key, value or ABSENT) of every dirty key (rows: their order does not matter)."""
        for name, section in self.sections.items():
            for key in section.dirty:
                yield name, key, section.cache[key]

    def saved(self) -> None:
        """The changes are written: nothing is dirty; deletions need no memory any more."""
        stored = self.stored
        for section in self.sections.values():
            if stored is not None:
                for key in section.dirty:
                    if section.cache[key] is not ABSENT:
                        stored.add((section.name, key))
            if section.dirty and not self.complete:
                for key in section.dirty:
                    if section.cache[key] is ABSENT:
                        del section.cache[key]  # absent in the store too: a miss asks it again
            section.dirty.clear()

    def cached(self) -> int:
        return sum(len(section.cache) for section in self.sections.values())

    def evict(self, keep_at_most: int) -> None:
        """When more than `keep_at_most` keys are held, forget the clean keys loaded longest ago
        (they are in the backing) until about that many are held. Each section's cache is in
        the order its keys were loaded, so the keys kept are the ones loaded last — at scale the
        working set is larger than the cache, and forgetting everything made the next events
        fetch their hot keys again (issue 11: a catch-up of 10^6 events spent 39 % in fetches)."""
        cached = self.cached()
        if self.backing is None or cached <= keep_at_most:
            return
        if self.complete:  # everything stored is in memory: remember which keys, not their values
            self.stored = KeyFilter()
            for section in self.sections.values():
                for key, value in section.cache.items():
                    if value is not ABSENT:
                        self.stored.add((section.name, key))
        keep_share = Fraction(keep_at_most, cached)
        for section in self.sections.values():
            cache, dirty = section.cache, section.dirty
            drop = len(cache) - int(len(cache) * keep_share)  # the oldest keys of every section alike
            for key in list(itertools.islice(cache, drop)):
                if key not in dirty:
                    del cache[key]
        self.complete = False

    def dump(self) -> dict[str, dict[Any, Any]]:
        assert self.complete, "lazily loaded state cannot be dumped whole"
        return {name: dict(section.items()) for name, section in sorted(self.sections.items())}

    def load(self, sections: dict[str, dict[Any, Any]]) -> None:
        for name, items in sections.items():
            section = self.section(name)
            for key, value in items.items():
                section.cache[key] = value
