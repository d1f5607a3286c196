"""Support bases near a point: what a parent who shares their location is offered.

Distances are great-circle (haversine) in kilometres: enough to rank places in one city.
Only bases with coordinates can be ranked; a channel says so and falls back to
``bases_in`` (a ward's bases by name) when none has them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlite_utils

EARTH_RADIUS_KM = 6371.0
NEAREST = 5  # bases offered for one location
MAX_KM = 30.0  # further than this is not "near": another city's base helps no one


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    area: str | None
    kind: str | None
    address: str | None
    phone: str | None
    hours: str | None
    url: str | None
    lat: float | None
    lon: float | None
    km: float | None = None  # distance from the asked point, when there was one


COLUMNS = "id, name, area, kind, address, phone, hours, url, lat, lon"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_bases(
    db: sqlite_utils.Database, lat: float, lon: float, *, limit: int = NEAREST, max_km: float = MAX_KM
) -> list[Place]:
    """The bases with coordinates closest to (lat, lon), nearest first, within ``max_km``."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a point on earth: {lat}, {lon}")
    rows = db.execute(f"SELECT {COLUMNS} FROM bases WHERE lat IS NOT NULL AND lon IS NOT NULL").fetchall()
    places = [
        Place(*row[:8], float(row[8]), float(row[9]), distance_km(lat, lon, float(row[8]), float(row[9])))
        for row in rows
    ]
    return sorted((p for p in places if p.km <= max_km), key=lambda p: (p.km, p.name))[:limit]


def located_bases(db: sqlite_utils.Database) -> int:
    """How many bases have coordinates (none: a location cannot be answered by distance)."""
    return db.execute("SELECT count(*) FROM bases WHERE lat IS NOT NULL AND lon IS NOT NULL").fetchone()[0]


def bases_in(db: sqlite_utils.Database, area: str | None, *, limit: int = 10) -> list[Place]:
    """A ward's bases by name (a city's: its wards' too); every base when no area is known."""
    if area:
        rows = db.execute(
            f"SELECT {COLUMNS} FROM bases WHERE area = ? OR area IN "
            "(SELECT name FROM areas WHERE city = ?) ORDER BY area, name LIMIT ?",
            [area, area, limit],
        ).fetchall()
    else:
        rows = db.execute(f"SELECT {COLUMNS} FROM bases ORDER BY area, name LIMIT ?", [limit]).fetchall()
    return [Place(*row) for row in rows]
