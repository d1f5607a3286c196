"""A section of a city's child-rearing plan: the policy, its directions and related programs.

The section (3-1 / (1) 地域ぐるみの子育て支援のまちづくり) comes in two terms, the second's list
of 主な関連事業 and the third's table of 今後の方向性 / 主な関係事業 / 関係課. Each related program
becomes its own record (area: the city), with the directions it serves, the departments in
charge and the facts the section states about it (令和元年度は14か所 …). The section names no
city ("本市"), so ``--area`` is required; a year, when none is stated, is left empty.
"""

from __future__ import annotations

import json
import re

from knowledge.importers import docs
from knowledge.importers.base import Parsed, UnreadableFile, make_id
from knowledge.lang.text import fold, nfkc, squash, strip_html


def detect(text: str, name: str) -> bool:
    return "主な関連事業" in text or "主な関係事業" in text


def clean_name(name: str) -> str:
    name = re.sub(r"\^\{\*?\d+\}|（再掲）|\(再掲\)|\*\d+", "", name)
    return squash(name).lstrip("・- ").strip()


def _key(name: str) -> str:
    return fold(re.sub(r"事業$", "", clean_name(name)))


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    if not area:
        _ward, city = docs.ward_and_city(text)
        area = city
    if not area:
        raise UnreadableFile(f"{name}: the plan section names no city (本市); pass --area")
    title_m = re.search(r"(?m)^\s*(?:\(\d+\)|\d-\d)\s*(\S+?)(?:【[^】]*】)?\s*$", text)
    title = title_m.group(1) if title_m else name
    policy = re.findall(r"(?m)^\s*((?:\(\d+\)|\d-\d)\s*\S+)\s*$", text)
    third = text.split("第3期")[-1]
    situation = _paragraph_after(third, "【現状と課題】") or _paragraph_after(text, "現状と課題")
    directions = [squash(d) for d in re.findall(r"(?m)^- [①-⑩]\s*(.+)$", text)]
    rows = _table_rows(third)
    departments: list[str] = []
    for _direction, _items, depts in rows:
        departments += [d for d in depts if d not in departments]
    for d in re.findall(r"\[施策関係課\]\s*\n+\s*(.+)", text):
        departments += [x for x in re.split(r"[、,\s]+", d) if x and x not in departments]

    parsed = Parsed(kind="plan", area=area, fiscal_year=fiscal_year)
    plan_id = make_id("program", area, title, fiscal_year)
    parsed.add(
        "programs",
        {
            "id": plan_id,
            "title": title,
            "area": area,
            "fiscal_year": fiscal_year,
            "kind": "plan",
            "situation": situation,
            "goals": "\n".join(directions),
            "departments": json.dumps(departments, ensure_ascii=False),
            "plan_policy": " / ".join(squash(nfkc(p)) for p in policy[:2]) or None,
        },
    )
    related: dict[str, dict] = {}
    for item in re.findall(r"(?m)^- ・(.+)$", text):
        _relate(related, item, None, [])
    for direction, items, depts in rows:
        for item in items:
            _relate(related, item, direction, depts)
    sentences = [s + "。" for s in re.split(r"。", re.sub(r"\s+", "", situation + "".join(_all_paragraphs(text)))) if s]
    for rel in related.values():
        facts = _facts(rel["title"], sentences)
        parsed.add(
            "programs",
            {
                "id": make_id("program", area, rel["title"], fiscal_year),
                "title": rel["title"],
                "area": area,
                "fiscal_year": fiscal_year,
                "kind": "related",
                "purpose": "\n".join(rel["directions"]) or None,
                "situation": "\n".join(facts) or None,
                "departments": json.dumps(rel["departments"], ensure_ascii=False),
                "plan_policy": f"{title}（主な関連事業）",
                "parent_id": plan_id,
            },
        )
    return parsed


def _relate(related: dict, item: str, direction: str | None, depts: list[str]) -> None:
    title = clean_name(item)
    if not title:
        return
    rel = related.setdefault(_key(title), {"title": title, "directions": [], "departments": []})
    if direction:
        rel["title"] = title  # the third term's spelling is the current one
        if direction not in rel["directions"]:
            rel["directions"].append(direction)
    rel["departments"] += [d for d in depts if d not in rel["departments"]]


def _table_rows(section: str) -> list[tuple[str, list[str], list[str]]]:
    rows = []
    for line in section.splitlines():
        cells = line.split("\t")
        if len(cells) >= 3 and "<ul" in cells[1]:
            items = [clean_name(i) for i in docs.cell_items(cells[1])]
            rows.append((squash(cells[0]), [i for i in items if i], cells[2].split()))
    return rows


def _paragraph_after(text: str, heading: str) -> str:
    i = text.find(heading)
    if i < 0:
        return ""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text[i + len(heading) :]):
        block = block.strip()
        if not block:
            continue
        if block.startswith(("今後の方向性", "【", "[")):
            break
        paragraphs.append(squash(strip_html(block)))
    return "\n".join(paragraphs)


def _all_paragraphs(text: str) -> list[str]:
    return [_paragraph_after(text, "現状と課題")]


def _facts(title: str, sentences: list[str]) -> list[str]:
    """Sentences of the section that speak of this program (by its name or the name in （）)."""
    names = [re.sub(r"事業$", "", n) for n in re.findall(r"[^（）()「」]+", title) if len(n) >= 4]
    names = [n.replace("の設置", "") for n in names]
    out: list[str] = []
    for s in sentences:
        if any(n and n in s for n in names) and s not in out:
            out.append(s)
    return out[:4]
