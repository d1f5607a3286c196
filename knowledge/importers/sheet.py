"""重要取組シート (a ward's key-initiative sheet): program, schedule, progress, activities.

The sheet states its ward in the header (美原区役所), its city in the plan link (堺市基本計画),
and its fiscal year in the SDGs target (目標値（2023 年度）) — the last year stated on the sheet;
the plan's own year (2025 堺市基本計画) names the plan, not the sheet. A sheet that states no
year needs ``--fiscal-year``.
"""

from __future__ import annotations

import json
import re

from knowledge.importers import docs
from knowledge.importers.base import Parsed, UnreadableFile, make_id
from knowledge.lang.dates import fiscal_years_in, month_in_fiscal_year, parse_month_spec
from knowledge.lang.text import nfkc, squash, strip_html


def detect(text: str, name: str) -> bool:
    return "重要取組シート" in text[:400] or ("取組項目" in text and "スケジュール" in text)


def sheet_year(text: str) -> int | None:
    targets = re.findall(r"目標値\s*[(（]\s*(\d{4})\s*年度", nfkc(text))
    if targets:
        return int(targets[-1])
    years = fiscal_years_in(text)
    return years[-1] if years else None


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    fy = fiscal_year or sheet_year(text)
    if fy is None:
        raise UnreadableFile(f"{name}: the sheet states no fiscal year; pass --fiscal-year")
    ward, city = docs.ward_and_city(text)
    area = area or ((city or "") + (ward or "")) or None
    if not area:
        raise UnreadableFile(f"{name}: the sheet names no ward or city; pass --area")
    title = squash(strip_html(docs.cells_after(text, "取組項目") or ""))
    if not title:
        raise UnreadableFile(f"{name}: no 取組項目 (initiative title) found")

    parsed = Parsed(kind="sheet", area=area, fiscal_year=fy)
    header = text.split("取組項目")[0]
    departments = [
        squash(line)
        for line in header.splitlines()
        if line.strip().endswith(("課", "センター")) and "シート" not in line
    ]
    program_id = make_id("program", area, title, fy)
    plan = re.search(r"該当する\s*施策\s*\t+([^\t\n]+)", text)
    sdg = re.search(r"ゴール番号[ \t]*(\d+)?[ \t]*([^\t\n]*)", text)
    parsed.add(
        "programs",
        {
            "id": program_id,
            "title": title,
            "area": area,
            "fiscal_year": fy,
            "kind": "key_initiative",
            "situation": "\n".join(docs.cell_items(docs.cells_after(text, "現状・課題") or "")),
            "content": "\n".join(docs.cell_items(docs.cells_after(text, "取組の内容") or "")),
            "departments": json.dumps(departments, ensure_ascii=False),
            "plan_policy": squash(nfkc(plan.group(1))) if plan else None,
            "sdg_goal": squash(f"{sdg.group(1) or ''} {sdg.group(2) or ''}") or None if sdg else None,
        },
    )

    schedule, progress = _split_sections(text)
    periods = _periods(schedule)
    activities: dict[str, dict] = {}
    for p_index, (period, end_month, items) in enumerate(periods):
        start_month = _period_start(periods, p_index)
        for position, item in enumerate(items):
            spec = docs.month_spec(item)
            months = parse_month_spec(spec, start_month, end_month) if spec else []
            ym = [month_in_fiscal_year(m, fy) for m in months] if period != "次年度以降" else []
            parsed.add(
                "schedule_items",
                {
                    "id": make_id("sched", program_id, period, position),
                    "program_id": program_id,
                    "period": period,
                    "period_end_month": end_month,
                    "position": position,
                    "text": item.lstrip("☐☑ "),
                    "months": json.dumps(ym, ensure_ascii=False),
                    "status": "done" if item.startswith("☑") else "planned",
                },
            )
            if period != "次年度以降":
                _collect_activity(activities, item.lstrip("☐☑ "), ym, period)
    for period, _end, items in _periods(progress):
        if items:
            parsed.add(
                "progress",
                {
                    "id": make_id("progress", program_id, period, "import"),
                    "program_id": program_id,
                    "period": period,
                    "text": "\n".join(i.lstrip("☐☑ ") for i in items),
                    "posted_by": "、".join(departments) or name,
                    "posted_at": None,
                    "origin": "import",
                },
            )
    content_items = docs.cell_items(docs.cells_after(text, "取組の内容") or "")
    for act in activities.values():
        key = docs.activity_key(act["title"])
        act["items"] += [c for c in content_items if key and key in docs.activity_key(c)]
        _add_activity(parsed, act, area, program_id, fy)
    return parsed


def _split_sections(text: str) -> tuple[str, str]:
    start = text.find("スケジュール")
    prog = re.search(r"進捗の\s*状況", text)
    end = re.search(r"\d{4}\s*[^\n]*基本計画|該当する", text[prog.end() :]) if prog else None
    schedule = text[start : prog.start()] if prog else text[start:]
    progress = text[prog.end() : prog.end() + end.start()] if prog and end else (text[prog.end() :] if prog else "")
    return schedule, progress


def _periods(section: str) -> list[tuple[str, int | None, list[str]]]:
    """Items by period, in order, each period once; repeated table blocks merged."""
    marks = list(docs.PERIOD_LABEL.finditer(section))
    merged: dict[str, tuple[int | None, list[str]]] = {}
    for i, m in enumerate(marks):
        label = m.group(1) or "次年度以降"
        end_month = int(m.group(2)) if m.group(2) else None
        body = section[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(section)]
        items = [it for it in docs.cell_items(body) if not docs.PERIOD_LABEL.fullmatch(it)]
        prev = merged.get(label, (end_month, []))
        merged[label] = (prev[0] or end_month, docs.dedupe(prev[1] + items))
    return [(label, end, items) for label, (end, items) in merged.items()]


def _period_start(periods, index: int) -> int:
    if index == 0:
        return 4
    prev_end = periods[index - 1][1]
    return (prev_end % 12) + 1 if prev_end else 4


def _collect_activity(activities: dict, item: str, months: list[str], period: str) -> None:
    title = docs.activity_name(item)
    key = docs.activity_key(title)
    act = activities.setdefault(key, {"title": title, "items": [], "months": [], "periods": []})
    act["items"].append(item)
    act["months"] += [m for m in months if m not in act["months"]]
    if period not in act["periods"]:
        act["periods"].append(period)


def _add_activity(parsed: Parsed, act: dict, area: str, program_id: str, fy: int) -> None:
    activity_id = make_id("activity", area, docs.activity_key(act["title"]), program_id)
    description = "\n".join(docs.dedupe(act["items"]))
    parsed.add(
        "activities",
        {
            "id": activity_id,
            "title": act["title"],
            "kind": docs.activity_kind(act["title"]),
            "area": area,
            "program_id": program_id,
            "description": description,
            "audience": json.dumps(docs.tags(act["title"], description), ensure_ascii=False),
            "frequency": "、".join(act["periods"]),
        },
    )
    for ym in sorted(act["months"]):
        parsed.add(
            "occurrences",
            {
                "id": make_id("occ", activity_id, ym),
                "activity_id": activity_id,
                "date": f"{ym}-01",
                "precision": "month",
            },
        )
