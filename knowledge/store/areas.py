"""Areas: municipalities and wards, resolved from full or short names.

A parent may write 旭区, 横浜市旭区 or 横浜 旭区; staff may pass --area 西区. A short name is
accepted only when exactly one known area carries it.
"""

from __future__ import annotations

import sqlite_utils

from knowledge.lang.text import nfkc, reading, to_hiragana


class AreaError(ValueError):
    pass


def _norm(name: str) -> str:
    """An area name as stored: NFKC, with no whitespace (横浜市 旭区 is 横浜市旭区)."""
    return "".join(nfkc(name).split())


def all_areas(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM areas ORDER BY name"))


def resolve(db: sqlite_utils.Database, name: str | None) -> str | None:
    """Full area name for a full or unambiguous short name; None for None/empty."""
    if not name or not name.strip():
        return None
    wanted = _norm(name)
    areas = all_areas(db)
    for a in areas:
        if wanted in (a["name"], a["code"], (a["code"] or "")[:5]):
            return a["name"]
    by_short = [a["name"] for a in areas if a["ward"] and wanted in (a["ward"], a["ward"][:-1])]
    if len(by_short) == 1:
        return by_short[0]
    if len(by_short) > 1:
        raise AreaError(f"「{name}」は複数の地域に当てはまります: {'、'.join(by_short)}")
    by_city = [a["name"] for a in areas if not a["ward"] and wanted in (a["city"], a["city"][:-1])]
    if len(by_city) == 1:
        return by_city[0]
    raise AreaError(f"「{name}」という地域は登録されていません")


def mentions(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(how a parent may write an area, its full name), longest first, unambiguous ones only.

    Full names, ward names, and their stems (鶴見, 横浜), also in kana (つるみ, ミハラ) since
    parents type place names in hiragana; stems shorter than two characters (堺, 西) or three
    kana (にし) are left out, being parts of too many other words.
    """
    found: dict[str, set[str]] = {}
    for a in all_areas(db):
        forms = {a["name"]}
        stems = []
        if a["ward"]:
            forms.add(a["ward"])
            stems.append(a["ward"][:-1])
        elif a["city"] == a["name"]:
            stems.append(a["city"][:-1])
        for stem in stems:
            if len(stem) >= 2:
                forms.add(stem)
            kana = reading(stem)
            if len(kana) >= 3:
                forms.update({kana, to_hiragana(kana)})
        for form in forms:
            found.setdefault(form, set()).add(a["name"])
    unique = [(form, next(iter(names))) for form, names in found.items() if len(names) == 1]
    return sorted(unique, key=lambda m: (-len(m[0]), m[0]))


def ensure_area(db: sqlite_utils.Database, name: str) -> str:
    """Resolve a name, or register a new area (an open-data file from another city)."""
    try:
        resolved = resolve(db, name)
    except AreaError:
        resolved = None
    if resolved:
        return resolved
    full = _norm(name)
    city, ward = split_city_ward(full)
    db["areas"].upsert({"name": full, "city": city, "ward": ward}, pk="name")
    return full


def split_city_ward(full: str) -> tuple[str, str | None]:
    """堺市美原区 -> (堺市, 美原区); 川口市 -> (川口市, None); 愛知県岡崎市 -> (岡崎市, None)."""
    for pref_end in ("都", "道", "府", "県"):
        i = full.find(pref_end)
        if 1 < i < 4 and len(full) > i + 1:
            full = full[i + 1 :]
            break
    i = full.find("市")
    if 0 < i < len(full) - 1 and full.endswith("区"):
        return full[: i + 1], full[i + 1 :]
    return full, None


def city_of(db: sqlite_utils.Database, area: str | None) -> str | None:
    if not area:
        return None
    row = db.execute("SELECT city FROM areas WHERE name = ?", [area]).fetchone()
    return row[0] if row else None


def wards_of(db: sqlite_utils.Database, area: str | None) -> list[str]:
    """The wards of a city (堺市 -> 堺市北区, 堺市西区 …), by name; none for a ward or a city without wards."""
    if not area:
        return []
    return [
        r[0]
        for r in db.execute(
            "SELECT name FROM areas WHERE city = ? AND name != ? ORDER BY name", [area, area]
        ).fetchall()
    ]


def contact(db: sqlite_utils.Database, area: str | None) -> str | None:
    if not area:
        return None
    row = db.execute("SELECT contact, city FROM areas WHERE name = ?", [area]).fetchone()
    if not row:
        return None
    if row[0]:
        return row[0]
    city = db.execute("SELECT contact FROM areas WHERE name = ?", [row[1]]).fetchone()
    return city[0] if city else None


def choices(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Where a parent may say they live: each city with its wards (a city without wards is
    its own only choice), cities in the order of their names."""
    found: dict[str, list[str]] = {}
    for a in all_areas(db):
        found.setdefault(a["city"] or a["name"], [])
        if a["ward"]:
            found[a["city"]].append(a["name"])
    return {city: wards or [city] for city, wards in sorted(found.items())}
