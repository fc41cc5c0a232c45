"""Readable, valid, unique identifiers for simulated worlds: BINs, IINs, VINs, addresses, phones.

Every identifier is a pure function of a number (and a few drawn attributes), so two parties never
share one by accident — an accidental shared address or director would be a P02/P04 flag in a
world meant to be clean:

- `bin_for(n, registered_on)`: a company BIN, `YYMM` of registration, `4` (resident legal entity),
  six digits of `n`, check digit. Distinct `n` give distinct BINs.
- `iin_for(m, rng)`: a person's IIN, birth date (the year encodes `m // 10 000`), century/sex digit,
  four digits of `m`, check digit. Distinct `m` give distinct IINs. The fifth digit of a BIN is `4`
  and that of an IIN (tens of the birth day) at most `3`, so BINs and IINs never collide.
- `vin_for(serial, model)`: an ISO 3779 VIN with the North American check digit (position 9),
  model year 2025 (`S`); distinct serials give distinct VINs.
- `address_for(n, …)` / `phone_for(n)`: unique per party number.
"""

from __future__ import annotations

import random
from datetime import date

from domain.identifiers import make_party_id, normalize_vin

SERIALS_MAX = 1_000_000  # companies (BIN serial digits)
PEOPLE_MAX = 250_000  # people (IIN: 25 groups of 10 000)

# Seventeen regions, their centres and UTC offsets (the west of the country kept +05:00).
REGIONS: tuple[tuple[str, str, str], ...] = (
    ("Akmola", "Kokshetau", "+06:00"), ("Aktobe", "Aktobe", "+05:00"), ("Almaty", "Konaev", "+06:00"),
    ("Atyrau", "Atyrau", "+05:00"), ("East Kazakhstan", "Oskemen", "+06:00"), ("Jambyl", "Taraz", "+06:00"),
    ("Karaganda", "Karaganda", "+06:00"), ("Kostanay", "Kostanay", "+05:00"), ("Kyzylorda", "Kyzylorda", "+05:00"),
    ("Mangystau", "Aktau", "+05:00"), ("North Kazakhstan", "Petropavl", "+06:00"), ("Pavlodar", "Pavlodar", "+06:00"),
    ("Turkistan", "Turkistan", "+06:00"), ("West Kazakhstan", "Oral", "+05:00"), ("Abai", "Semey", "+06:00"),
    ("Jetisu", "Taldykorgan", "+06:00"), ("Ulytau", "Zhezkazgan", "+06:00"),
)
STREETS = ("Abay", "Kabanbay Batyr", "Tauelsizdik", "Satpayev", "Seifullin", "Baitursynov", "Auezov", "Kunayev",
           "Dostyk", "Zheltoksan", "Bukhar Zhyrau", "Respublika", "Tole Bi", "Raiymbek", "Al-Farabi", "Turan")
_PHONE_CODES = ("701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778")

_FIRST_NAMES = ("Serik", "Aidos", "Nurlan", "Yerlan", "Daulet", "Marat", "Asel", "Aigerim", "Dana", "Gulnara",
                "Zhanna", "Bolat", "Kairat", "Saule", "Madina", "Arman", "Timur", "Aliya", "Yerzhan", "Dinara")
_LAST_NAMES = ("Abenov", "Nurpeisov", "Tokayev", "Suleimenov", "Zhakupov", "Ismailov", "Kassymov", "Omarov",
               "Bekmukhambetov", "Sadykov", "Mukanov", "Akhmetov", "Baimukhanov", "Yessenov", "Tulegenov")
_STEMS = ("KazDor", "Zhol", "Sary-Arka", "Beton", "Kurylys", "Dala", "Altyn", "Nur", "Asphalt", "Temir", "Ak Zhol",
          "Kokshe", "Ertis", "Baiterek", "Tulpar", "Shygys", "Batys", "Ontustik", "Orda", "Qazyna")


def bin_for(n: int, registered_on: date) -> str:
    """The BIN of company number `n` (< SERIALS_MAX), registered on `registered_on`."""
    assert 0 <= n < SERIALS_MAX, n
    for shift in range(12):  # the rare stems without a check digit take a neighbouring month
        month = (registered_on.month - 1 + shift) % 12 + 1
        made = make_party_id(f"{registered_on.year % 100:02d}{month:02d}4{n:06d}")
        if made:
            return made
    raise AssertionError(f"no BIN for {n}")


def iin_for(m: int, rng: random.Random) -> str:
    """The IIN of person number `m` (< PEOPLE_MAX); the birth date is drawn from `rng`."""
    assert 0 <= m < PEOPLE_MAX, m
    year = 1950 + 2 * (m // 10_000) + rng.randrange(2)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    sex = 3 + rng.randrange(2)
    for shift in range(28):  # another birth day when a stem has no check digit
        made = make_party_id(f"{year % 100:02d}{month:02d}{(day - 1 + shift) % 28 + 1:02d}{sex}{m % 10_000:04d}")
        if made:
            return made
    raise AssertionError(f"no IIN for {m}")


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def company_name(rng: random.Random, trade: str, form: str = "LLP") -> str:
    return f"{rng.choice(_STEMS)} {trade} {form}"


def tag_of(name: str) -> str:
    """Letters that stand for a company in its invoice numbers: 'KazDor Stroy LLP' -> 'KDS'."""
    letters = [ch for word in name.replace("-", " ").split() if word not in ("LLP", "JSC") for ch in word[:1] if ch.isalpha()]
    letters += [ch for ch in name if ch.isupper()][len(letters):]
    tag = "".join(letters[:3]).upper()
    return tag if len(tag) >= 2 else "INV"


def address_for(n: int, region_index: int, rng: random.Random) -> str:
    """A unique street address: the (building, office) pair encodes the party number."""
    _, city, _ = REGIONS[region_index]
    return f"{city}, {rng.choice(STREETS)} st. {n // 100 + 1}, office {n % 100 + 1}"


def phone_for(n: int) -> str:
    """A unique mobile number: the last seven digits encode the party number."""
    assert 0 <= n < 10_000_000, n
    scrambled = (n * 7_919_821 + 1_234_567) % 10_000_000  # a bijection of 0..10^7-1 (gcd(7919821, 10) = 1)
    code = _PHONE_CODES[n % len(_PHONE_CODES)]
    digits = f"{scrambled:07d}"
    return f"+7 {code} {digits[:3]} {digits[3:5]} {digits[5:]}"


# --- VINs (ISO 3779, check digit as in 49 CFR 565) ----------------------------------------------

_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_SERIAL_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # plant codes: a serial beyond 10^6 moves to the next plant
MODEL_YEAR_2025 = "S"


def vin_for(serial: int, wmi: str, vds: str) -> str:
    """A valid VIN: world manufacturer `wmi` (3), descriptor `vds` (5), check digit, 2025, plant, serial."""
    assert len(wmi) == 3 and len(vds) == 5 and 0 <= serial < 1_000_000 * len(_VIN_SERIAL_LETTERS), serial
    plant = _VIN_SERIAL_LETTERS[serial // 1_000_000]
    body = f"{wmi}{vds}0{MODEL_YEAR_2025}{plant}{serial % 1_000_000:06d}"
    total = sum(_VIN_VALUES[ch] * weight for ch, weight in zip(body, _VIN_WEIGHTS, strict=True))
    check = total % 11
    vin = body[:8] + ("X" if check == 10 else str(check)) + body[9:]
    assert normalize_vin(vin) == vin and vin_check_ok(vin), vin
    return vin


def vin_check_ok(vin: str) -> bool:
    """Whether position 9 holds the check digit of the other sixteen characters."""
    total = sum(_VIN_VALUES[ch] * weight for ch, weight in zip(vin, _VIN_WEIGHTS, strict=True))
    return vin[8] == ("X" if total % 11 == 10 else str(total % 11))
