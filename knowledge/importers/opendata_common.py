"""Reading the standard municipal open-data CSVs (推奨データセット / 自治体標準オープンデータセット).

Shared by the events and facilities importers and by ``knowledge.importers.export``. Real files differ in
ways the standard does not foresee: UTF-8 with or without BOM, CRLF record ends with bare LF
inside quoted cells, full-width parentheses in headers, dates with and without zero padding in
one file, several values in one cell separated by 「、」. Everything here is pure: text in,
values out, so the importers stay small and the quirks are handled (and tested) once.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

from knowledge.importers.base import RowError, too_long
from knowledge.lang.csvrows import norm_header, read_csv
from knowledge.lang.text import nfkc
from knowledge.store.areas import split_city_ward

# The code column that tells the older layouts (推奨データセット) apart.
OLD_CODE_COLUMN = "都道府県コード又は市区町村コード"
NEW_CODE_COLUMN = "全国地方公共団体コード"

# Column lists of the four layouts, as published (see docs/field-notes and the real files).
EVENTS_OLD_COLUMNS = [
    "都道府県コード又は市区町村コード",
    "NO",
    "都道府県名",
    "市区町村名",
    "イベント名",
    "イベント名_カナ",
    "イベント名_英語",
    "開始日",
    "終了日",
    "開始時間",
    "終了時間",
    "開始日時特記事項",
    "説明",
    "料金(基本)",
    "料金(詳細)",
    "連絡先名称",
    "連絡先電話番号",
    "連絡先内線番号",
    "主催者",
    "場所名称",
    "住所",
    "方書",
    "緯度",
    "経度",
    "アクセス方法",
    "駐車場情報",
    "定員",
    "参加申込終了日",
    "参加申込終了時間",
    "参加申込方法",
    "URL",
    "備考",
]
EVENTS_NEW_COLUMNS = [
    "全国地方公共団体コード",
    "法人番号",
    "ID",
    "地方公共団体名",
    "イベント名",
    "言語コード",
    "イベント通称",
    "サブタイトル",
    "イベント名_カナ",
    "イベント名_英語",
    "コンテンツURL",
    "状態",
    "キーワード",
    "タグ",
    "対象となる産業",
    "開催パターン",
    "開始日",
    "終了日",
    "開始時間",
    "終了時間",
    "開始日時特記事項",
    "所要時間",
    "掲載開始日",
    "掲載終了日",
    "概要",
    "説明",
    "サブイベント",
    "イベント種類",
    "料金(基本)",
    "料金(詳細)",
    "連絡先名称",
    "連絡先電話番号",
    "連絡先内線番号",
    "主催者",
    "共催団体",
    "関連組織",
    "対象者",
    "対象者備考",
    "場所名称",
    "集合（受付）場所",
    "所在地_全国地方公共団体コード",
    "町字ID",
    "所在地_連結表記",
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
    "緯度",
    "経度",
    "アクセス方法",
    "駐車場情報",
    "駐車場料金",
    "駐輪場情報",
    "Web開催",
    "Web開催URL",
    "ツール・環境",
    "定員",
    "定員備考",
    "料金種別",
    "決済種別",
    "外国語対応",
    "外国語対応備考",
    "開催条件",
    "参加申込終了日",
    "参加申込終了時間",
    "参加申込方法",
    "申込開始日",
    "申込開始時刻",
    "申込URL",
    "URL",
    "授乳室",
    "おむつ替えコーナー",
    "飲食可否",
    "ベビーカー貸出",
    "ベビーカー利用",
    "画像",
    "画像_ライセンス",
    "備考",
]
FACILITIES_OLD_COLUMNS = [
    "都道府県コード又は市区町村コード",
    "NO",
    "都道府県名",
    "市区町村名",
    "名称",
    "名称_カナ",
    "種別",
    "住所",
    "方書",
    "緯度",
    "経度",
    "アクセス方法",
    "駐車場情報",
    "電話番号",
    "内線番号",
    "FAX番号",
    "法人番号",
    "団体名",
    "許可等年月日",
    "収容定員",
    "受入年齢",
    "利用可能曜日",
    "開始時間",
    "終了時間",
    "利用可能日時特記事項",
    "一時預かりの有無",
    "URL",
    "備考",
]
FACILITIES_NEW_COLUMNS = [
    "全国地方公共団体コード",
    "ID",
    "地方公共団体名",
    "名称",
    "名称_カナ",
    "名称_英字",
    "種別",
    "所在地_全国地方公共団体コード",
    "町字ID",
    "所在地_連結表記",
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
    "緯度",
    "経度",
    "高度の種別",
    "高度の値",
    "アクセス方法",
    "駐車場情報",
    "電話番号",
    "内線番号",
    "FAX番号",
    "連絡先メールアドレス",
    "連絡先FormURL",
    "連絡先備考（その他、SNSなど）",
    "郵便番号",
    "法人番号",
    "団体名",
    "認可等年月日",
    "収容定員",
    "受入年齢",
    "利用可能曜日",
    "開始時間",
    "終了時間",
    "利用可能日時特記事項",
    "一時預かりの有無",
    "子供預かり料金種別",
    "子供預かり料金",
    "子供預かり料金備考",
    "子供預かり開所時間",
    "子供預かり閉所時間",
    "病児保育の有無",
    "授乳室",
    "おむつ替えコーナー",
    "飲食可否",
    "ベビーカー貸出",
    "ベビーカー利用",
    "URL",
    "画像",
    "画像_ライセンス",
    "備考",
]

# Where no 開始日 says when a recurring event began, rules count from the start of FY2025.
DEFAULT_RECURRENCE_START = "2025-04-01"

# An id minted by ``make_id`` (ours or another importer's): kept as is when a file carries it,
# so an exported base re-imports onto the same rows.
OWN_ID = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-f]{12}$")


STANDARD_HEADERS = {
    norm_header(c) for c in EVENTS_OLD_COLUMNS + EVENTS_NEW_COLUMNS + FACILITIES_OLD_COLUMNS + FACILITIES_NEW_COLUMNS
}


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Record:
    """One data record: the physical line it starts on and its cells by our field name."""

    line: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        """The cell stripped of surrounding whitespace ('' when the column is absent)."""
        return (self.values.get(name) or "").strip()


@dataclass
class Table:
    header: list[str]  # as written in the file
    columns: dict[str, str]  # our field name -> header name as written (for messages)
    unmapped: list[str]  # header names that feed none of our fields
    unknown: list[str]  # the unmapped ones that belong to no standard layout (city additions)
    records: list[Record]  # the rows the reader found whole
    errors: list[RowError]  # rows that are not whole (wrong number of cells, open quote)

    @property
    def seen(self) -> int:
        """Data rows in the file, whole or not."""
        return len(self.records) + len(self.errors)

    def label(self, name: str) -> str:
        """The file's own header for a field, so a reason names a column the user can find."""
        return self.columns.get(name, name)


def map_header(header: list[str], aliases: dict[str, list[str]]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Match header cells (after NFKC) to field names; return indexes, labels and the unmapped.

    ``aliases`` lists, per field, the column names of both layouts in order of preference; the
    first one present wins, so 所在地_連結表記 beats 住所 when a city publishes both.
    """
    normalised = [norm_header(h) for h in header]
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    used: set[int] = set()
    for field_name, names in aliases.items():
        for name in names:
            wanted = norm_header(name)
            if wanted in normalised:
                i = normalised.index(wanted)
                index[field_name] = i
                labels[field_name] = header[i].strip().lstrip("\ufeff")
                used.add(i)
                break
    unmapped = [header[i].strip().lstrip("\ufeff") for i in range(len(header)) if i not in used and header[i].strip()]
    return index, labels, unmapped


def read_table(text: str, aliases: dict[str, list[str]]) -> Table:
    """Read a whole CSV (``csvrows.read_csv``) into records keyed by our field names."""
    csv_table = read_csv(text)
    if not csv_table.header:
        return Table([], {}, [], [], [], csv_table.errors)
    header = csv_table.header
    index, labels, unmapped = map_header(header, aliases)
    unknown = [h for h in unmapped if norm_header(h) not in STANDARD_HEADERS]
    records = [
        Record(line, {name: (cells[i] if i < len(cells) else "") for name, i in index.items()})
        for line, cells in csv_table.rows
    ]
    return Table(header, labels, unmapped, unknown, records, csv_table.errors)


def long_cells(rec: Record, table: Table) -> list[str]:
    """Reasons for the row's cells longer than a reply can show (``base.MAX_FIELD_CHARS``), by
    the file's own column names; [] when none is."""
    reasons = (too_long(table.label(name), value) for name, value in rec.values.items())
    return [r for r in reasons if r]


def columns_note(table: Table) -> str | None:
    """A note for the import report on columns a city added that nothing reads (not an error)."""
    if not table.unknown:
        return None
    return "columns not read (not in the standard layout): " + ", ".join(table.unknown)


def add_note(parsed, note: str | None) -> None:
    """Attach a note (not an error, e.g. columns outside the standard) to a ``Parsed``."""
    if note:
        parsed.notes.append(note)


# --- values -----------------------------------------------------------------------------------

from knowledge.lang.dates import ERAS as _ERAS  # noqa: E402  (the one era table)

_DATE = re.compile(r"^(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_WAREKI = re.compile(r"^(令和|平成|昭和)\s*(\d{1,2}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")


def parse_date(value: str | None) -> str | None:
    """'2026/8/4', '2026-08-04', '2026年8月4日', '令和8年8月4日' -> '2026-08-04'; '' -> None.

    Spreadsheet exports sometimes append a midnight time ('2026/08/04 0:00:00'); it is dropped.
    Raises ValueError("'<value>' is not a date") otherwise, so the caller can name the column.
    """
    text = nfkc(value).strip()
    if not text:
        return None
    m = _DATE.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        w = _WAREKI.match(text)
        if not w:
            raise ValueError(f"'{value.strip()}' is not a date")
        y = _ERAS[w.group(1)] + (1 if w.group(2) == "元" else int(w.group(2)))
        mo, d = int(w.group(3)), int(w.group(4))
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        raise ValueError(f"'{value.strip()}' is not a date") from None


def iso_to_slash(iso: str | None) -> str:
    """'2026-08-04' -> '2026/08/04', the form the published files use."""
    return iso.replace("-", "/") if iso else ""


def date_or_text(value: str | None) -> str | None:
    """A date as YYYY-MM-DD when the cell holds one, else the cell as written (never an error):
    参加申込終了日 may say 定員になり次第締切 instead of a day, which still tells a parent something."""
    try:
        return parse_date(value)
    except ValueError:
        return clean_text(value)


def date_or_text_out(value: str | None) -> str:
    """``date_or_text``'s value as a cell again: a date in the published form, text as it was."""
    return iso_to_slash(value) if value and _ISO.match(value) else (value or "")


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_TIME = re.compile(r"^(\d{1,2})\s*(?::|時)\s*(?:(\d{1,2})\s*分?|(半))?(?::\d{2})?$")


def parse_time(value: str | None) -> str | None:
    """'9:30', '09:30', '９：３０', '10時', '10時30分', '9:30:00' -> 'HH:MM'; '' -> None.

    Raises ValueError("'<value>' is not a time") for anything else.
    """
    text = nfkc(value).strip()
    if not text:
        return None
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"'{value.strip()}' is not a time")
    hour = int(m.group(1))
    minute = 30 if m.group(3) else int(m.group(2) or 0)
    if hour > 24 or minute > 59:
        raise ValueError(f"'{value.strip()}' is not a time")
    return f"{hour:02d}:{minute:02d}"


def time_or_text(value: str | None) -> str | None:
    """A normalised time when the cell holds one, else the cell as written (never an error).

    Times are not a reason to reject a row: '午前中' or '10:00頃' still tell a parent something.
    """
    try:
        return parse_time(value)
    except ValueError:
        return value.strip() or None


_TIME_IN_TEXT = re.compile(r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分|(半))?)")


def times_in_text(text: str | None) -> tuple[str | None, str | None]:
    """First two clock times in free text ('毎週土曜日 10時～11時半' -> ('10:00', '11:30')).

    Used when a recurring event states its time only in 開始日時特記事項.
    """
    found = []
    for m in _TIME_IN_TEXT.finditer(nfkc(text)):
        hour, minute = int(m.group(1)), int(m.group(2) or m.group(3) or (30 if m.group(4) else 0))
        if hour <= 24 and minute <= 59:
            found.append(f"{hour:02d}:{minute:02d}")
    return (found[0] if found else None, found[1] if len(found) > 1 else None)


def parse_number(value: str | None) -> float | None:
    """'35.80447743' -> float; '' -> None; ValueError("'<value>' is not a number") otherwise."""
    text = nfkc(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"'{value.strip()}' is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"'{value.strip()}' is not a number")
    return number


def parse_coordinate(value: str | None, axis: str) -> float | None:
    """A latitude ('lat') or longitude ('lon'); out-of-range values (swapped columns) are errors."""
    number = parse_number(value)
    if number is None:
        return None
    limit = 90 if axis == "lat" else 180
    if not -limit <= number <= limit:
        kind = "latitude" if axis == "lat" else "longitude"
        raise ValueError(f"'{value.strip()}' is out of range for a {kind}")
    return number


def split_values(value: str | None) -> list[str]:
    """Several values in one cell: 'パーク＆ネイチャー、パパママ＆ベビー' -> two values."""
    return [v.strip() for v in re.split(r"[、,，;；]", value or "") if v.strip()]


def clean_text(value: str | None) -> str | None:
    """Readable multi-line text from a description cell; None when empty.

    Real cells carry HTML entities (&nbsp;), tabs used as list separators and full-width
    indents. The result is stable: cleaning it again changes nothing, which the CSV export
    relies on for its round trip.
    """
    text = html.unescape(value or "").replace("\xa0", " ").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.replace("\t", "\n").split("\n")]
    joined = "\n".join(line for line in lines if line)
    return joined or None


def join_nonempty(parts: list[str | None], sep: str = " ") -> str | None:
    """Join the non-empty parts; None when nothing is left."""
    kept = [p.strip() for p in parts if p and p.strip()]
    return sep.join(kept) or None


# --- areas ------------------------------------------------------------------------------------


def area_name(*parts: str | None) -> str | None:
    """The project's area name from the file's own columns, without the prefecture.

    ('神奈川県横浜市旭区',) -> 横浜市旭区; ('愛知県岡崎市',) -> 岡崎市; ('神奈川県', '横浜市', '旭区') ->
    横浜市旭区 (the older layout's 都道府県名, 市区町村名 and a city's own 区 column).
    """
    full = ""
    for part in parts:
        text = "".join(nfkc(part).split())
        if text and not full.endswith(text):
            full += text
    if not full:
        return None
    city, ward = split_city_ward(full)
    return city + (ward or "")


def address_from_parts(pref: str | None, city: str | None, town: str | None, rest: str | None) -> str | None:
    """Join 所在地_都道府県 / _市区町村 / _町字 / _番地以下 into one address.

    Real files put the whole rest of the address into 所在地_市区町村 ('川口市栄町1-2-19') and
    then may repeat 栄町 / 1-2-19 in the next columns: a town or number part already inside such
    an overlong 市区町村 cell is not added again. A plain 市区町村 ('川口市') never hides a part.
    """
    city = (city or "").strip()
    overlong = bool(re.search(r"\d", nfkc(city)))
    result = (pref or "").strip()
    if city:
        result = city if city.startswith(result) else result + city
    for part in (town, rest):
        text = (part or "").strip()
        if text and not (overlong and text in city):
            result += text
    return result or None
