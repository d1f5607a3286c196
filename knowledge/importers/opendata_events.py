"""Standard events CSVs (イベント一覧): the older 32-column and the newer 79-column layout.

One ``activities`` row (kind "event") per event and one ``occurrences`` row per dated day.
Real files list a recurring event as one row per date (岡崎市: OK0001015696, OK0011015696 with
the same title and page); rows with the same area, title and page (or description, when there
is no page) are one event. A rule stated in 開始日時特記事項 (毎月第2火曜日) becomes an RRULE.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.importers import opendata_common as common
from knowledge.importers.base import Parsed, RowError, make_id, too_long
from knowledge.lang.audience import TAG_ORDER, audience_tags
from knowledge.lang.csvrows import header_of
from knowledge.lang.recurrence import parse_recurrence, rule_problem
from knowledge.lang.text import nfkc

# Our field -> the column names of both layouts (first present wins).
FIELDS = {
    "own_id": ["ID"],
    "pref": ["都道府県名"],
    "city": ["地方公共団体名", "市区町村名"],
    "ward": ["区", "区名"],
    "title": ["イベント名"],
    "status": ["状態"],
    "start_date": ["開始日"],
    "end_date": ["終了日"],
    "start_time": ["開始時間"],
    "end_time": ["終了時間"],
    "date_note": ["開始日時特記事項"],
    "summary": ["概要"],
    "description": ["説明"],
    "fee": ["料金(基本)"],
    "fee_detail": ["料金(詳細)"],
    "contact_name": ["連絡先名称"],
    "contact_phone": ["連絡先電話番号"],
    "contact_ext": ["連絡先内線番号"],
    "audience": ["対象者"],
    "audience_note": ["対象者備考"],
    "tags": ["タグ"],
    "keywords": ["キーワード"],
    "category": ["カテゴリー", "カテゴリ"],
    "place": ["場所名称"],
    "address": ["所在地_連結表記", "住所"],
    "building": ["建物名等(方書)", "方書"],
    "lat": ["緯度"],
    "lon": ["経度"],
    "url": ["URL"],
    "content_url": ["コンテンツURL"],
    "note": ["備考"],
    "capacity": ["定員"],
    "capacity_note": ["定員備考"],
    "how_to_apply": ["参加申込方法"],
    "apply_start": ["申込開始日"],
    "apply_start_time": ["申込開始時刻"],
    "apply_end": ["参加申込終了日"],
    "apply_end_time": ["参加申込終了時間"],
    "apply_url": ["申込URL"],
}

# Audience tags: words that, found in 対象者 / タグ / title / description, mark who an event is
# for. Matched on NFKC text. Ages stated as numbers (0歳, 1歳～2歳, 3歳未満) are read separately.

# The word the export writes into タグ for each tag: it must yield exactly that tag again.
TAG_LABELS = {
    "pregnancy": "妊娠中の方",
    "0歳": "0歳",
    "1-2歳": "1～2歳",
    "3-5歳": "3～5歳",
    "school": "小学生",
    "fathers": "パパ",
    "single_parents": "ひとり親",
    "foreign": "外国",
    "twins": "多胎",
    "grandparents": "祖父母",
    "parents": "保護者",
}

# What a row says about applying (参加申込方法, 申込開始日/時刻, 参加申込終了日/時間, 申込URL, 定員 with
# 定員備考), kept as the activity's own columns (``knowledge.store.schema`` m008, m013).
APPLYING = (
    "how_to_apply",
    "apply_start",
    "apply_start_time",
    "apply_end",
    "apply_end_time",
    "apply_url",
    "capacity",
)

# Longest span (days) listed as one occurrence per day; longer periods (exhibitions running for
# months) become a daily rule instead of hundreds of rows.
MAX_SPAN_DAYS = 31


def detect(text: str, name: str) -> bool:
    """A standard events header: the event-name column plus either layout's code column."""
    header = header_of(text)
    if "イベント名" not in header:
        return False
    return common.OLD_CODE_COLUMN in header or (bool(header) and header[0] == common.NEW_CODE_COLUMN)


@dataclass
class EventRow:
    """One valid data row, its values already parsed."""

    line: int
    own_id: str | None
    area: str | None
    title: str
    start: str | None
    end: str | None
    start_time: str | None
    end_time: str | None
    note: str | None
    rule: str | None
    fields: dict  # activity-level values (description, place, ...)
    tags: list[str]
    sample: int
    status: str | None = None

    @property
    def group_key(self) -> tuple:
        """Rows describing the same event: an id we minted, else area + title + page/description."""
        if self.own_id:
            return ("id", self.own_id)
        return ("natural", self.area, self.title, self.fields.get("url") or self.fields.get("description") or "")


def _row(rec: common.Record, table: common.Table, area: str | None) -> EventRow:
    """Validate and convert one record; raise ValueError with every problem of the row."""
    long = common.long_cells(rec, table)
    if long:  # refused for that alone: the other reasons would quote the long cell
        raise ValueError("; ".join(long))
    problems = []
    label = table.label
    title = rec.get("title")
    if not title:
        problems.append(f"{label('title')} is empty")
    parsed: dict[str, object] = {}
    for key in ("start_date", "end_date"):
        try:
            parsed[key] = common.parse_date(rec.get(key))
        except ValueError as exc:
            problems.append(f"{label(key)} {exc}")
    for key, axis in (("lat", "lat"), ("lon", "lon")):
        try:
            common.parse_coordinate(rec.get(key), axis)
        except ValueError as exc:
            problems.append(f"{label(key)} {exc}")
    start, end = parsed.get("start_date"), parsed.get("end_date")
    if start and end and end < start:
        problems.append(
            f"{label('end_date')} '{rec.get('end_date')}' is before {label('start_date')} '{rec.get('start_date')}'"
        )
    note = common.clean_text(rec.get("date_note"))
    rule = parse_recurrence(note)
    description = _description(rec.get("summary"), rec.get("description"))
    problems += _out_of_bounds(table, rule, start, description)
    if problems:
        raise ValueError("; ".join(problems))

    start_time, end_time = common.time_or_text(rec.get("start_time")), common.time_or_text(rec.get("end_time"))
    if not start_time and note:
        start_time, end_time = common.times_in_text(note)
    ages = common.join_nonempty([rec.get("audience"), rec.get("audience_note")])
    own_id = rec.get("own_id")
    fields = {
        "description": description,
        "ages": ages,
        "place": rec.get("place") or common.join_nonempty([rec.get("address"), rec.get("building")]),
        "fee": common.join_nonempty([rec.get("fee"), rec.get("fee_detail")], " / "),
        "contact": _contact(rec),
        "url": rec.get("url") or rec.get("content_url") or None,
        # applying: how, from and until when, where online, how many
        "how_to_apply": common.clean_text(rec.get("how_to_apply")),
        "apply_start": common.date_or_text(rec.get("apply_start")),
        "apply_start_time": common.time_or_text(rec.get("apply_start_time")),
        "apply_end": common.date_or_text(rec.get("apply_end")),
        "apply_end_time": common.time_or_text(rec.get("apply_end_time")),
        "apply_url": rec.get("apply_url") or None,
        "capacity": common.join_nonempty([rec.get("capacity"), rec.get("capacity_note")], " / "),
    }
    return EventRow(
        line=rec.line,
        own_id=own_id if common.OWN_ID.match(own_id) else None,
        area=area or common.area_name(rec.get("pref"), rec.get("city"), rec.get("ward")),
        title=title,
        start=start,
        end=end,
        start_time=start_time,
        end_time=end_time,
        note=note,
        rule=rule,
        fields=fields,
        tags=audience_tags(
            ages,
            *common.split_values(rec.get("tags")),
            *common.split_values(rec.get("keywords")),
            *common.split_values(rec.get("category")),
            title,
            description,
        ),
        sample=1 if "サンプル" in rec.get("note") else 0,
        status=status_of(rec.get("status"), title),
    )


def _out_of_bounds(table: common.Table, rule: str | None, start: str | None, description: str | None) -> list[str]:
    """Reasons a row is outside what a ward means or a reply can show: a rule in 開始日時特記事項
    more often than daily or giving more than a few hundred dates a year
    (``recurrence.rule_problem``, counted from the row's 開始日), or 概要 with 説明 longer
    than a reply shows (each cell alone is checked by ``common.long_cells``)."""
    reasons = []
    if rule:
        problem = rule_problem(rule, date.fromisoformat(start or common.DEFAULT_RECURRENCE_START))
        if problem:
            reasons.append(f"{table.label('date_note')} {problem}")
    joined = too_long(f"{table.label('summary')} with {table.label('description')}", description)
    if joined:
        reasons.append(joined)
    return reasons


_CANCELLED = re.compile(r"中止|取り?止め|取りやめ|休止|開催なし")
_POSTPONED = re.compile(r"延期")
# A cancelled or postponed mark in brackets anywhere in a title (【中止】親子リトミック, 親子リトミック（中止）,
# ［延期］…); 雨天中止 and the like in brackets are conditions, not marks, and are not read.
_TITLE_MARK = re.compile(
    r"[【\[［(（<＜〈]\s*(?:開催)?(中止|延期)(?:\s*(?:します|しました|となりました|になりました|のお知らせ))?\s*[】\]］)）>＞〉]"
)


def status_of(state: str | None, title: str | None = None) -> str | None:
    """'cancelled' or 'postponed' from 状態 (中止, 延期) or a title marked 【中止】; else None."""
    text = nfkc(state or "")
    mark = _TITLE_MARK.search(nfkc(title or ""))
    if mark:
        text += mark.group(1)
    if _CANCELLED.search(text):
        return "cancelled"
    if _POSTPONED.search(text):
        return "postponed"
    return None


def _description(summary: str, description: str) -> str | None:
    """説明, with 概要 in front when it says something 説明 does not."""
    summary_text, body = common.clean_text(summary), common.clean_text(description)
    if summary_text and body and summary_text not in body:
        return f"{summary_text}\n{body}"
    return body or summary_text


def _contact(rec: common.Record) -> str | None:
    """連絡先名称 and 電話番号 (with 内線) as one line a parent can act on."""
    phone = rec.get("contact_phone")
    if phone and rec.get("contact_ext"):
        phone += f"（内線{rec.get('contact_ext')}）"
    return common.join_nonempty([rec.get("contact_name"), phone])


_SESSIONS = re.compile(r"(?:全\s*(\d{1,2})\s*回|(\d{1,2})\s*回\s*(?:コース|連続|シリーズ|講座))")


def _days(start: str, end: str, text: str = "") -> list[str]:
    """The days of a period: each day, or the weekly sessions a course states.

    'ベビママハッピーYOGA（4回コース）' from 2026/08/08 to 2026/08/29 is four Saturdays, not 22 days:
    when N sessions fit exactly into N-1 weeks, the course is weekly.
    """
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    span = (last - first).days
    m = _SESSIONS.search(nfkc(text))
    sessions = int(m.group(1) or m.group(2)) if m else 0
    if sessions >= 2 and span == 7 * (sessions - 1):
        return [(first + timedelta(weeks=i)).isoformat() for i in range(sessions)]
    return [(first + timedelta(days=i)).isoformat() for i in range(span + 1)]


def _is_series_row(row: EventRow, rule: str | None) -> bool:
    """With a rule, a row without a single fixed date states the series' span, not a day."""
    return bool(rule) and (row.start is None or row.end is None or row.end != row.start)


def _build_event(rows: list[EventRow], parsed: Parsed) -> None:
    """One activity (and its occurrences) from the rows of one event."""
    first = rows[0]
    activity_id = first.own_id or make_id("event", *first.group_key[1:])
    rule = next((r.rule for r in rows if r.rule), None)
    occurrences: dict[str, dict] = {}
    series_starts: list[str] = []
    series_ends: list[str] = []
    long_spans: list[tuple[str, str]] = []

    def occur(day: str, row: EventRow) -> None:
        occ_id = make_id("occ", activity_id, day, row.start_time)
        occurrences.setdefault(
            occ_id,
            {
                "id": occ_id,
                "activity_id": activity_id,
                "date": day,
                "precision": "day",
                "start_time": row.start_time,
                "end_time": row.end_time,
            },
        )

    # A status on every row is the event's; a date cancelled among others is left out.
    statuses = {r.status for r in rows}
    status = statuses.pop() if len(statuses) == 1 else None
    for row in rows:
        if row.status and not status:
            continue
        if row.start is None:
            if rule and row.end:
                series_ends.append(row.end)
        elif _is_series_row(row, rule):
            series_starts.append(row.start)
            if row.end:
                series_ends.append(row.end)
        elif row.end and row.end != row.start:
            days = _days(row.start, row.end, f"{row.title} {row.fields.get('description') or ''}")
            if len(days) > MAX_SPAN_DAYS:
                long_spans.append((row.start, row.end))
            else:
                for day in days:
                    occur(day, row)
        else:
            occur(row.start, row)
    if long_spans:  # only reached without a stated rule: the event runs daily in its period
        rule = "FREQ=DAILY"
        series_starts += [s for s, _ in long_spans]
        series_ends += [e for _, e in long_spans]

    ordered = sorted(occurrences.values(), key=lambda o: (o["date"], o["start_time"] or ""))
    timed = next(({"start_time": r.start_time, "end_time": r.end_time} for r in rows if r.start_time), {})
    if ordered:
        timed = ordered[0]
    record = {
        "id": activity_id,
        "title": first.title,
        "kind": "event",
        "area": first.area,
        "audience": json.dumps(sorted({t for r in rows for t in r.tags}, key=TAG_ORDER.index), ensure_ascii=False),
        "frequency": next((r.note for r in rows if r.note), None),
        "recurrence": rule,
        "recurrence_start": None,
        "recurrence_until": None,
        "start_time": timed.get("start_time"),
        "end_time": timed.get("end_time"),
        "sample": max(r.sample for r in rows),
        "status": status,
    }
    for key in APPLYING + ("description", "ages", "place", "fee", "contact", "url"):
        record[key] = next((r.fields[key] for r in rows if r.fields.get(key)), None)
    if rule:
        dated = series_starts + [o["date"] for o in ordered]
        record["recurrence_start"] = min(dated) if dated else common.DEFAULT_RECURRENCE_START
        record["recurrence_until"] = max(series_ends) if series_ends else None
    parsed.add("activities", record)
    for occurrence in ordered:
        parsed.add("occurrences", occurrence)


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    """Parse an events CSV into activities and occurrences (no database access)."""
    table = common.read_table(text, FIELDS)
    parsed = Parsed(kind="events", area=area, fiscal_year=fiscal_year, rows=table.seen)
    parsed.errors.extend(table.errors)
    common.add_note(parsed, common.columns_note(table))
    groups: dict[tuple, list[EventRow]] = {}
    for rec in table.records:
        try:
            row = _row(rec, table, area)
        except ValueError as exc:
            parsed.errors.append(RowError(rec.line, str(exc)))
            continue
        groups.setdefault(row.group_key, []).append(row)
    parsed.errors.sort(key=lambda e: e.line or 0)
    for rows in groups.values():
        _build_event(rows, parsed)
    if area is None:
        areas = {r["area"] for r in parsed.records.get("activities", [])}
        parsed.area = areas.pop() if len(areas) == 1 else None
    return parsed
