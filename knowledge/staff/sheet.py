"""A program's 重要取組シート (key-initiative sheet) as it stands, as data, Markdown and CSV.

The ward publishes the sheet as schedule items by period, each with its months and status,
and the progress of each period. ``load`` reads that from the base (imported rows and staff
entries alike); ``to_markdown`` and ``to_csv`` write it out so staff stop retyping sheets.
CSV cells a spreadsheet would run as a formula are escaped as ``knowledge.importers.export`` does.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import sqlite_utils

from knowledge.lang.csvrows import escape_cell
from knowledge.staff import progress as progress_mod

PERIOD_ORDER = ("前期", "中期", "後期", "次年度以降", "")
STATUS_WORDS = {"done": "実施済", "planned": "予定"}
CSV_COLUMNS = ["区分", "期", "月", "状況", "内容", "報告者", "報告日時"]


@dataclass
class Period:
    name: str
    items: list[dict] = field(default_factory=list)  # schedule_items rows, months as a list
    progress: list[dict] = field(default_factory=list)


@dataclass
class Sheet:
    program: dict
    periods: list[Period]

    def period(self, name: str) -> Period:
        return next((p for p in self.periods if p.name == name), Period(name))


def load(db: sqlite_utils.Database, program_id: str) -> Sheet | None:
    """The sheet of a program, periods in the sheet's order; None for an unknown program."""
    program = db["programs"].get(program_id) if db["programs"].count_where("id = ?", [program_id]) else None
    if program is None:
        return None
    periods: dict[str, Period] = {name: Period(name) for name in progress_mod.PERIODS}
    for item in db.query("SELECT * FROM schedule_items WHERE program_id = ? ORDER BY position, rowid", [program_id]):
        item["months"] = json.loads(item["months"] or "[]")
        periods.setdefault(item["period"] or "", Period(item["period"] or "")).items.append(item)
    for entry in progress_mod.entries(db, program_id):
        periods.setdefault(entry["period"] or "", Period(entry["period"] or "")).progress.append(entry)
    ordered = sorted(periods.values(), key=lambda p: PERIOD_ORDER.index(p.name) if p.name in PERIOD_ORDER else 99)
    return Sheet(program, [p for p in ordered if p.items or p.progress])


def months_text(months: list[str]) -> str:
    """['2025-05', '2025-07'] -> 5月・7月"""
    return "・".join(f"{int(m[5:7])}月" for m in months)


def title_line(sheet: Sheet) -> str:
    year = f"（{sheet.program['fiscal_year']}年度）" if sheet.program.get("fiscal_year") else ""
    return f"{sheet.program['title']}{year} {sheet.program['area'] or ''}".strip()


def to_markdown(sheet: Sheet) -> str:
    lines = [f"# 重要取組シート：{title_line(sheet)}", ""]
    if not sheet.periods:
        lines.append("スケジュールと進捗はまだ登録されていません。")
    for period in sheet.periods:
        lines.append(f"## {period.name or '期間指定なし'}")
        lines.append("")
        lines.append("### スケジュール")
        lines += [
            f"- [{'x' if i['status'] == 'done' else ' '}] {i['text']}" + _months_note(i) for i in period.items
        ] or ["- なし"]
        lines.append("")
        lines.append("### 進捗の状況")
        lines += [f"- {p['text']}" + _byline(p) for p in period.progress] or ["- まだ報告はありません"]
        lines.append("")
    return "\n".join(lines)


def _months_note(item: dict) -> str:
    """The item's months, unless its text already says them (研究会の開催（5月、7月）)."""
    if not item["months"] or "月" in item["text"]:
        return ""
    return f"（{months_text(item['months'])}）"


def _byline(entry: dict) -> str:
    who = entry.get("posted_by") or ""
    when = (entry.get("posted_at") or "")[:10]
    return f"（{who} {when}）".replace(" ）", "）") if who or when else ""


def to_csv(sheet: Sheet) -> str:
    """One row per schedule item and per progress entry, UTF-8 text (the caller adds a BOM if wanted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for period in sheet.periods:
        for i in period.items:
            _row(
                writer,
                [
                    "スケジュール",
                    period.name,
                    months_text(i["months"]),
                    STATUS_WORDS.get(i["status"], i["status"] or ""),
                    i["text"],
                    "",
                    "",
                ],
            )
        for p in period.progress:
            _row(writer, ["進捗", period.name, "", "", p["text"], p.get("posted_by") or "", p.get("posted_at") or ""])
    return out.getvalue()


def _row(writer, cells: list) -> None:
    writer.writerow([escape_cell("" if c is None else str(c)) for c in cells])
