"""Standard child-rearing facility CSVs (子育て施設一覧): the older 28- and newer 53-column layout.

One ``bases`` row per facility. The newer layout's ID is the city's stable key and becomes the
natural key of our id (川口市 lists two different 認定こども園新郷南幼稚園 at one address, told
apart only by ID); the older layout has only a running NO, so name and address are the key there.
"""

from __future__ import annotations

from knowledge.importers import opendata_common as common
from knowledge.importers.base import Parsed, RowError, make_id
from knowledge.lang.csvrows import header_of

FIELDS = {
    "own_id": ["ID"],
    "pref": ["都道府県名"],
    "city": ["地方公共団体名", "市区町村名"],
    "ward": ["区", "区名"],
    "name": ["名称"],
    "kind": ["種別"],
    "address": ["所在地_連結表記", "住所"],
    "addr_pref": ["所在地_都道府県"],
    "addr_city": ["所在地_市区町村"],
    "addr_town": ["所在地_町字"],
    "addr_rest": ["所在地_番地以下"],
    "building": ["建物名等(方書)", "方書"],
    "lat": ["緯度"],
    "lon": ["経度"],
    "phone": ["電話番号"],
    "phone_ext": ["内線番号"],
    "operator": ["団体名", "設置者", "運営者"],
    "licensed": ["認可等年月日", "許可等年月日"],
    "capacity": ["収容定員"],
    "ages": ["受入年齢", "対象年齢"],
    "days": ["利用可能曜日"],
    "opens": ["開始時間"],
    "closes": ["終了時間"],
    "hours_note": ["利用可能日時特記事項"],
    "temporary_care": ["一時預かりの有無"],
    "sick_child_care": ["病児保育の有無"],
    "nursing_room": ["授乳室"],
    "diaper_corner": ["おむつ替えコーナー"],
    "access": ["アクセス方法"],
    "parking": ["駐車場情報"],
    "url": ["URL"],
    "note": ["備考"],
}

# Facts a parent asks about, added to the description as 「label: value」 lines.
DESCRIPTION_FACTS = [
    ("temporary_care", "一時預かり"),
    ("sick_child_care", "病児保育"),
    ("nursing_room", "授乳室"),
    ("diaper_corner", "おむつ替え"),
    ("access", "アクセス"),
    ("parking", "駐車場"),
]


def detect(text: str, name: str) -> bool:
    """A standard facilities header: 名称 and 種別 with either layout's code column, no イベント名."""
    header = header_of(text)
    if "イベント名" in header or "名称" not in header or "種別" not in header:
        return False
    return common.OLD_CODE_COLUMN in header or (bool(header) and header[0] == common.NEW_CODE_COLUMN)


def _validate(rec: common.Record, table: common.Table) -> tuple[float | None, float | None]:
    """Coordinates of a valid row; ValueError naming every problem of an invalid one."""
    problems = common.long_cells(rec, table)
    if not rec.get("name"):
        problems.append(f"{table.label('name')} is empty")
    coordinates = []
    for key, axis in (("lat", "lat"), ("lon", "lon")):
        try:
            coordinates.append(common.parse_coordinate(rec.get(key), axis))
        except ValueError as exc:
            problems.append(f"{table.label(key)} {exc}")
    try:
        common.parse_date(rec.get("licensed"))
    except ValueError as exc:
        problems.append(f"{table.label('licensed')} {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    return coordinates[0], coordinates[1]


def _address(rec: common.Record) -> str | None:
    """所在地_連結表記 (or 住所), else the parts joined; 方書 appended when not already there."""
    address = rec.get("address") or common.address_from_parts(
        rec.get("addr_pref"), rec.get("addr_city"), rec.get("addr_town"), rec.get("addr_rest")
    )
    building = rec.get("building")
    if building and (not address or building not in address):
        return common.join_nonempty([address, building])
    return address


def _hours(rec: common.Record) -> str | None:
    """'月火水木金土 7:00～19:00' and the 特記事項 on the next line, as the city wrote them."""
    opens, closes = rec.get("opens"), rec.get("closes")
    times = f"{opens}～{closes}" if opens or closes else None
    first_line = common.join_nonempty([rec.get("days"), times])
    return common.join_nonempty([first_line, common.clean_text(rec.get("hours_note"))], "\n")


def _description(rec: common.Record) -> str | None:
    """備考 plus the facts a parent asks about (一時預かり, 授乳室, アクセス ...)."""
    lines = [common.clean_text(rec.get("note"))]
    lines += [f"{label}: {rec.get(key)}" for key, label in DESCRIPTION_FACTS if rec.get(key)]
    return common.join_nonempty(lines, "\n")


def _phone(rec: common.Record) -> str | None:
    phone = rec.get("phone")
    if phone and rec.get("phone_ext"):
        return f"{phone}（内線{rec.get('phone_ext')}）"
    return phone or None


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    """Parse a facilities CSV into ``bases`` rows (no database access)."""
    table = common.read_table(text, FIELDS)
    parsed = Parsed(kind="facilities", area=area, fiscal_year=fiscal_year, rows=table.seen)
    parsed.errors.extend(table.errors)
    common.add_note(parsed, common.columns_note(table))
    seen: set[str] = set()
    for rec in table.records:
        try:
            lat, lon = _validate(rec, table)
        except ValueError as exc:
            parsed.errors.append(RowError(rec.line, str(exc)))
            continue
        record_area = area or common.area_name(rec.get("pref"), rec.get("city"), rec.get("ward"))
        address = _address(rec)
        own_id = rec.get("own_id")
        if common.OWN_ID.match(own_id):
            base_id = own_id
        elif own_id:
            base_id = make_id("base", record_area, own_id)
        else:
            base_id = make_id("base", record_area, rec.get("name"), rec.get("kind"), address)
        if base_id in seen:
            parsed.errors.append(
                RowError(rec.line, f"{table.label('own_id')} '{own_id or rec.get('name')}' appears twice")
            )
            continue
        seen.add(base_id)
        parsed.add(
            "bases",
            {
                "id": base_id,
                "name": rec.get("name"),
                "kind": rec.get("kind") or None,
                "area": record_area,
                "operator": rec.get("operator") or None,
                "address": address,
                "lat": lat,
                "lon": lon,
                "phone": _phone(rec),
                "hours": _hours(rec),
                "ages": rec.get("ages") or None,
                "url": rec.get("url") or None,
                "description": _description(rec),
            },
        )
    parsed.errors.sort(key=lambda e: e.line or 0)
    if area is None:
        areas = {r["area"] for r in parsed.records.get("bases", [])}
        parsed.area = areas.pop() if len(areas) == 1 else None
    return parsed
