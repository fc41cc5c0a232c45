"""A simulated world: its configuration, its projects per pilot, and its parties.

Everything is derived from the seed: `World.rng(*names)` gives an independent `random.Random` for
each named thing (a party, a project, a project's payments, its misuse scheme, …), seeded with a
string — Python seeds strings through SHA-512, so nothing depends on `PYTHONHASHSEED` or on the
order in which things are generated.

`--transactions N` is split evenly over the pilots asked for; each pilot gets
`round(share / MOVES_PER_PROJECT[pilot])` projects (at least one). `MOVES_PER_PROJECT` is the mean
number of money-moving records (transfer, reserve, release, void, spend, return) a clean project of
that pilot writes, measured on large worlds, so the file holds about N of them (within a few %).

Parties come in pools per role whose sizes follow the number of projects; a party is a pure
function of (seed, role, index) and is registered in January, before any project starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Iterator
from datetime import date, timedelta, timezone
from fractions import Fraction
from math import ceil
from typing import Any

from domain.errors import InvalidValue
from domain.identifiers import PILOTS
from simulations.identity import (
    REGIONS, address_for, bin_for, company_name, iin_for, person_name, phone_for, tag_of,
)

GENERATOR = "tenge-ledger-sim/1"
FISCAL_YEAR = 2025
MOVES_PER_PROJECT = {"ROAD": 40, "AGRO": 53, "LOCAL": 40}
TRANSACTIONS_MAX = 10_000_000


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. `forced` puts a named scheme on a project: (pilot, project index, scheme)."""

    pilots: tuple[str, ...]
    seed: int = 0
    transactions: int = 1_000
    misuse_rate: Fraction = Fraction(0)
    schemes: tuple[str, ...] | None = None  # restrict the schemes drawn at `misuse_rate`
    forced: tuple[tuple[str, int, str], ...] = ()

    def __post_init__(self) -> None:
        assert self.pilots and all(p in PILOTS for p in self.pilots), self.pilots
        assert len(set(self.pilots)) == len(self.pilots), self.pilots
        assert 0 < self.transactions <= TRANSACTIONS_MAX, self.transactions
        assert 0 <= self.misuse_rate <= 1, self.misuse_rate
        object.__setattr__(self, "pilots", tuple(p for p in PILOTS if p in self.pilots))  # canonical order


@dataclass(frozen=True)
class Party:
    """One registered party of the world."""

    role: str
    index: int
    party: str
    name: str
    kind: str
    region: int  # index into REGIONS
    registered_on: date | None = None
    address: str | None = None
    phone: str | None = None
    directors: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return tag_of(self.name)

    @property
    def region_name(self) -> str:
        return REGIONS[self.region][0]

    @property
    def tz(self) -> timezone:
        return tz_of(self.region)

    def record_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"party": self.party, "name": self.name, "kind": self.kind}
        if self.registered_on:
            fields["registered_on"] = self.registered_on.isoformat()
        for name in ("address", "phone"):
            if getattr(self, name):
                fields[name] = getattr(self, name)
        if self.directors:
            fields["directors"] = list(self.directors)
        if self.officials:
            fields["officials"] = list(self.officials)
        if self.kind != "individual":
            fields["region"] = self.region_name
        return fields


def tz_of(region: int) -> timezone:
    offset = REGIONS[region][2]
    return timezone(timedelta(hours=int(offset[1:3])) * (1 if offset[0] == "+" else -1))


# role -> (pilot or None, kind, trade words for names, has a director)
ROLES: dict[str, tuple[str | None, str, str, bool]] = {
    "treasury": (None, "treasury", "", False),
    "road_admin": ("ROAD", "administrator", "", False),
    "road_gc": ("ROAD", "contractor", "Dorstroy", True),
    "road_sub": ("ROAD", "contractor", "Asphalt-Beton", True),
    "road_supplier": ("ROAD", "supplier", "Bitum Trade", True),
    "agro_operator": ("AGRO", "administrator", "", False),
    "agro_dealer": ("AGRO", "dealer", "Agro Technika", True),
    "agro_maker": ("AGRO", "supplier", "Agromash Import", True),
    "agro_farmer": ("AGRO", "farmer", "Farm", False),
    "local_akimat": ("LOCAL", "administrator", "", False),
    "local_contractor": ("LOCAL", "contractor", "Kurylys Service", True),
    "local_farm": ("LOCAL", "supplier", "Livestock", True),
    "local_seller": ("LOCAL", "farmer", "Sharua Farm", False),
    "worker": (None, "individual", "", False),
}
_TOWNS = ("Kosshy", "Stepnogorsk", "Shchuchinsk", "Atbasar", "Esil", "Derzhavinsk", "Makinsk", "Akkol", "Zhaksy",
          "Balkashino", "Ereymentau", "Saryagash", "Lenger", "Kentau", "Aksu", "Ekibastuz", "Ridder", "Zaisan")
_PILOT_OF_ROLE_PREFIX = {"road": "ROAD", "agro": "AGRO", "local": "LOCAL"}
PARTY_CACHE_MAX = 1 << 12
SCHEME_PROJECTS_MAX = 250_000 // len(PILOTS)  # a scheme party's BIN serial is 3 * project index + pilot (< 250 000)
_PEOPLE_RANGES = {"director": (0, 150_000), "official": (150_000, 10_000), "worker": (160_000, 90_000)}


class World:
    """The parties and project counts of one configuration; parties are computed on demand."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        share, extra = divmod(config.transactions, len(config.pilots))
        self.projects = {
            pilot: max(1, round(Fraction(share + (extra if i == 0 else 0), MOVES_PER_PROJECT[pilot])))
            for i, pilot in enumerate(config.pilots)
        }
        self.pools = self._pools()
        self._numbers: dict[str, int] = {}  # role -> first party number of its pool
        number = 0
        for role, size in self.pools.items():
            self._numbers[role] = number
            number += size
        self._people_numbers: dict[str, int] = {}  # role -> first person number of its directors / officials
        directed = officials = 0
        for role in self.pools:
            _, kind, _, has_director = ROLES[role]
            if has_director:
                self._people_numbers[role] = directed
                directed += self.pools[role]
            elif kind == "administrator":
                self._people_numbers[role] = officials
                officials += 2 * self.pools[role]
        for what, needed in (("director", directed), ("official", officials)):
            if needed > _PEOPLE_RANGES[what][1]:  # refused up front, not an assertion deep in the run
                raise InvalidValue(f"--transactions {config.transactions}: this world needs {needed:,} {what}s and the "
                                   f"generator has {_PEOPLE_RANGES[what][1]:,}; simulate fewer transactions per run")
        self._refuse_schemes_beyond_their_identifiers(config)
        self._cache: dict[tuple[str, int], Party] = {}

    def _refuse_schemes_beyond_their_identifiers(self, config: SimulationConfig) -> None:
        """A misuse scheme's own parties take BIN serials from their project's index
        (`schemes.base.scheme_party`), so only the first SCHEME_PROJECTS_MAX projects of a pilot can
        carry a scheme: refuse up front what would otherwise stop the run after minutes."""
        at_risk = [(pilot, self.projects[pilot] - 1) for pilot in config.pilots] if config.misuse_rate else []
        at_risk += [(pilot, index) for pilot, index, _ in config.forced]
        for pilot, index in at_risk:
            if index >= SCHEME_PROJECTS_MAX:
                raise InvalidValue(
                    f"--transactions {config.transactions}: {pilot} would have {self.projects[pilot]:,} projects and "
                    f"misuse schemes fit on the first {SCHEME_PROJECTS_MAX:,} of a pilot; simulate fewer transactions "
                    f"per run, or use --misuse-rate 0")

    def rng(self, *names: object) -> random.Random:
        """An independent random stream for the thing `names` identify."""
        return random.Random(f"{GENERATOR}:{self.config.seed}:" + ":".join(str(n) for n in names))

    def _pools(self) -> dict[str, int]:
        p = {pilot: self.projects.get(pilot, 0) for pilot in PILOTS}
        sizes = {"treasury": 1}
        if p["ROAD"]:
            sizes |= {"road_admin": min(len(REGIONS), ceil(p["ROAD"] / 10)), "road_gc": max(12, ceil(p["ROAD"] / 5)),
                      "road_sub": max(12, ceil(p["ROAD"] / 4)), "road_supplier": max(8, ceil(p["ROAD"] / 6))}
        if p["AGRO"]:
            sizes |= {"agro_operator": max(3, min(3 * len(REGIONS), ceil(p["AGRO"] / 10))),
                      "agro_dealer": max(16, ceil(p["AGRO"] * 8 / 5)), "agro_maker": 6,
                      "agro_farmer": max(40, p["AGRO"] * 8)}
        if p["LOCAL"]:
            sizes |= {"local_akimat": ceil(p["LOCAL"] / 8), "local_contractor": max(48, ceil(p["LOCAL"] * 6 / 5)),
                      "local_farm": max(8, ceil(p["LOCAL"] / 6)), "local_seller": max(20, p["LOCAL"])}
        # Workers are drawn at random from their pool for each project, so a large world shares them;
        # the cap keeps every worker's IIN within the generator's range of people.
        sizes["worker"] = min(_PEOPLE_RANGES["worker"][1], max(60, 2 * (p["ROAD"] + p["LOCAL"])))
        return sizes

    # --- parties ----------------------------------------------------------------------------

    def party(self, role: str, index: int) -> Party:
        """Party `index` (taken modulo the pool size) of `role`."""
        index %= self.pools[role]
        key = (role, index)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= PARTY_CACHE_MAX:
                self._cache.clear()
            found = self._cache[key] = self._make_party(role, index)
        return found

    def parties(self) -> Iterator[Party]:
        """Every party, role by role (the January registrations)."""
        for role, size in self.pools.items():
            for index in range(size):
                yield self.party(role, index)

    def _person(self, what: str, number: int) -> str:
        """The IIN of a person who is not registered (directors, officials); distinct per (what, number)."""
        base, size = _PEOPLE_RANGES[what]
        assert 0 <= number < size, (what, number)
        return iin_for(base + number, self.rng("person", what, number))

    def _make_party(self, role: str, index: int) -> Party:
        pilot, kind, trade, directed = ROLES[role]
        number = self._numbers[role] + index
        rng = self.rng("party", role, index)
        region = index % len(REGIONS) if kind == "administrator" else rng.randrange(len(REGIONS))
        if kind == "individual":
            return Party(role, index, self._person("worker", index), person_name(rng), kind, region)
        registered = date(rng.randint(1998, 2021), rng.randint(1, 12), rng.randint(1, 28))
        common = {"registered_on": registered, "address": address_for(number, region, rng), "phone": phone_for(number)}
        name = self._name(role, index, trade, region, rng)
        party_id = bin_for(number, registered)
        if kind == "administrator":
            first = self._people_numbers[role] + 2 * index
            officials = (self._person("official", first), self._person("official", first + 1))
            return Party(role, index, party_id, name, kind, region, officials=officials, **common)
        directors = (self._person("director", self._people_numbers[role] + index),) if directed else ()
        return Party(role, index, party_id, name, kind, region, directors=directors, **common)

    def _name(self, role: str, index: int, trade: str, region: int, rng: random.Random) -> str:
        region_name, city, _ = REGIONS[region]
        if role == "treasury":
            return "Treasury Committee of the Ministry of Finance"
        if role == "road_admin":
            return f"{region_name} Region Department of Passenger Transport and Highways"
        if role == "agro_operator":
            return f"Agrarian Credit Subsidy Operator, {region_name} branch {index // len(REGIONS) + 1}"
        if role == "local_akimat":
            return f"Akimat of {_TOWNS[index % len(_TOWNS)]} district no. {index // len(_TOWNS) + 1}"
        if role == "agro_farmer":
            return f"{person_name(rng).split()[1]} Peasant Farm"
        form = "LLP" if rng.randrange(5) else "JSC"
        return company_name(rng, trade, form)

