"""Write the knowledge base back out as standard open-data CSVs (the newer layouts).

Staff edit events and facilities in Excel, and other systems read the standard layouts, so the
export uses the 自治体標準オープンデータセット columns, UTF-8 with BOM (what Japanese Excel
needs to open UTF-8 correctly) and CRLF. Re-importing an export yields the same records: the ID
column carries our own ids, which the importers keep, and every derived field is written where
the importer reads it back unchanged. A cell Excel would run as a formula (=, +, -, @, tab or
carriage return first) gets a single quote in front (``csvrows.escape_cell``); the importers'
reader drops exactly that quote again. Negative numbers and a lone '-' are written as they are.
"""

from __future__ import annotations

import csv
import json
import pathlib

import sqlite_utils

from knowledge.importers.opendata_common import (
    EVENTS_NEW_COLUMNS,
    FACILITIES_NEW_COLUMNS,
    date_or_text_out,
    iso_to_slash,
)
from knowledge.importers.opendata_events import TAG_LABELS
from knowledge.lang.csvrows import escape_cell
from knowledge.lang.recurrence import describe

SAMPLE_NOTE = "サンプルデータ（実在の日程ではありません）"


def _area_codes(db: sqlite_utils.Database) -> dict[str, str]:
    """Area name -> 全国地方公共団体コード, for the first column of every row."""
    if "areas" not in db.table_names():
        return {}
    return {r["name"]: r["code"] or "" for r in db.query("SELECT name, code FROM areas")}


def _write(path: str | pathlib.Path, columns: list[str], rows: list[dict]) -> int:
    """Write rows (dicts keyed by column name) under the full standard header; return the count."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([escape_cell("" if row.get(c) is None else str(row.get(c))) for c in columns])
    return len(rows)


def _rule_note(activity: dict) -> str:
    """開始日時特記事項 for a recurring event: what the city wrote, else the rule in Japanese.

    A daily rule without a note came from a long 開始日～終了日 period, which the importer turns
    into the same rule again; a rule ``describe`` cannot phrase is written as RRULE text, which
    the importer accepts too.
    """
    if activity["frequency"]:
        return activity["frequency"]
    rule = activity["recurrence"]
    if rule == "FREQ=DAILY" and activity["recurrence_until"]:
        return ""
    return describe(rule) or rule


STATUS_LABELS = {"cancelled": "中止", "postponed": "延期"}


def _event_rows(activity: dict, occurrences: list[dict], code: str) -> list[dict]:
    """The rows of one event: the rule's row (if any), then one row per dated occurrence."""
    tags = json.loads(activity["audience"] or "[]")
    common = {
        "全国地方公共団体コード": code,
        "ID": activity["id"],
        "地方公共団体名": activity["area"],
        "イベント名": activity["title"],
        "状態": STATUS_LABELS.get(activity.get("status") or ""),
        "タグ": "、".join(TAG_LABELS[t] for t in tags if t in TAG_LABELS),
        "説明": activity["description"],
        "料金(基本)": activity["fee"],
        "連絡先名称": activity["contact"],
        "対象者": activity["ages"],
        "場所名称": activity["place"],
        "URL": activity["url"],
        # applying (定員備考 was joined into 定員 on import: written back as that one cell)
        "定員": activity.get("capacity"),
        "参加申込方法": activity.get("how_to_apply"),
        "申込開始日": date_or_text_out(activity.get("apply_start")),
        "申込開始時刻": activity.get("apply_start_time"),
        "参加申込終了日": date_or_text_out(activity.get("apply_end")),
        "参加申込終了時間": activity.get("apply_end_time"),
        "申込URL": activity.get("apply_url"),
        "備考": SAMPLE_NOTE if activity["sample"] else None,
    }
    rows = []
    if activity["recurrence"]:
        rows.append(
            common
            | {
                "開始日": iso_to_slash(activity["recurrence_start"]),
                "終了日": iso_to_slash(activity["recurrence_until"]),
                "開始時間": activity["start_time"],
                "終了時間": activity["end_time"],
                "開始日時特記事項": _rule_note(activity),
            }
        )
    # Without a rule the note (e.g. 祝日も開催することがあります) travels on every dated row.
    note = None if activity["recurrence"] else activity["frequency"]
    for occ in occurrences:
        if occ["precision"] == "month":
            # Only the month is known (a plan's schedule): no day may be invented for it.
            year, month = int(occ["date"][:4]), int(occ["date"][5:7])
            rows.append(common | {"開始日時特記事項": f"{year}年{month}月（日程未定）"})
            continue
        rows.append(
            common
            | {
                "開始日": iso_to_slash(occ["date"]),
                "終了日": iso_to_slash(occ["date"]),
                "開始時間": occ["start_time"],
                "終了時間": occ["end_time"],
                "開始日時特記事項": note,
            }
        )
    if not rows:
        rows.append(
            common | {"開始時間": activity["start_time"], "終了時間": activity["end_time"], "開始日時特記事項": note}
        )
    return rows


def export_events(db: sqlite_utils.Database, path: str | pathlib.Path) -> int:
    """Every event (activities of kind 'event') as a standard events CSV; return the row count."""
    codes = _area_codes(db)
    occurrences: dict[str, list[dict]] = {}
    for occ in db.query("SELECT * FROM occurrences ORDER BY date, start_time, id"):
        occurrences.setdefault(occ["activity_id"], []).append(occ)
    rows = []
    for activity in db.query("SELECT * FROM activities WHERE kind = 'event' ORDER BY area, title, id"):
        rows += _event_rows(activity, occurrences.get(activity["id"], []), codes.get(activity["area"], ""))
    return _write(path, EVENTS_NEW_COLUMNS, rows)


def export_facilities(db: sqlite_utils.Database, path: str | pathlib.Path) -> int:
    """Every base as a standard 子育て施設一覧 CSV; return the row count."""
    codes = _area_codes(db)
    rows = [
        {
            "全国地方公共団体コード": codes.get(base["area"], ""),
            "ID": base["id"],
            "地方公共団体名": base["area"],
            "名称": base["name"],
            "種別": base["kind"],
            "所在地_連結表記": base["address"],
            "緯度": repr(base["lat"]) if base["lat"] is not None else None,
            "経度": repr(base["lon"]) if base["lon"] is not None else None,
            "電話番号": base["phone"],
            "団体名": base["operator"],
            "受入年齢": base["ages"],
            "利用可能日時特記事項": base["hours"],
            "URL": base["url"],
            "備考": base["description"],
        }
        for base in db.query("SELECT * FROM bases ORDER BY area, kind, name, id")
    ]
    return _write(path, FACILITIES_NEW_COLUMNS, rows)
