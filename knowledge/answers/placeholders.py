"""Template placeholders in FAQ data (○○市, （電話番号）, （自治体HP内関連ページのURL）…).

The FAQ open data is a template: a municipality's own words belong where the placeholders
stand. Staff set values per area (``kosodate-bot faq placeholders``, or ``kb import`` of a CSV
with columns ``placeholder,value[,area]``). A parent never sees a raw placeholder: a set value
is filled in; ○○市 becomes the parent's city; a line whose placeholder has no value is left
out, and when nothing of the answer is left the reply points to the ward's contact.
"""

from __future__ import annotations

import re

import sqlite_utils

from knowledge.store.areas import city_of
from knowledge.store.areas import contact as ward_contact

CUES = re.compile(r"自治体|ＵＲＬ|URL|電話|名称|例|住所|担当|窓口|場所|時間|金額|番号|施設|記載|○|△|×|◎|●|ＡＡ|AA|BB")
SYMBOL_RUN = re.compile(
    r"(?:[○●△×◎□■]{2}|[ＡＢAB]{2})[一-龥ぁ-んァ-ヶ]{0,6}?(?:市役所本庁舎|市役所|都道府県|県|市|町|村|区|階|課|出張所|支所|センター|保健所)?"
)
ELLIPSIS = re.compile(r"…{2,}[^…]*…{2,}")


def find(text: str) -> list[str]:
    """Placeholders in order of appearance: （…） groups with template cues, and ○○-style runs."""
    found: list[str] = []
    for span in _paren_groups(text):
        if CUES.search(span) and span not in found:
            found.append(span)
    rest = text
    for span in found:
        rest = rest.replace(span, " ")
    for m in list(SYMBOL_RUN.finditer(rest)) + list(ELLIPSIS.finditer(rest)):
        if m.group(0) not in found:
            found.append(m.group(0))
    return found


def _paren_groups(text: str) -> list[str]:
    """Outermost full-width parenthesised groups, nesting respected."""
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "（":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "）" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start : i + 1])
    return groups


def values(db: sqlite_utils.Database, area: str | None) -> dict[str, str]:
    """Values set for every area (''), the city, then the area: the most specific wins."""
    if "placeholders" not in db.table_names():
        return {}
    scopes = [""]
    city = city_of(db, area)
    if city and city != area:
        scopes.append(city)
    if area:
        scopes.append(area)
    out: dict[str, str] = {}
    for scope in scopes:
        sql = "SELECT placeholder, value FROM placeholders WHERE area = ?"
        for row in db.query(sql, [scope]):
            out[row["placeholder"]] = row["value"]
    return out


def fill(text: str, db: sqlite_utils.Database, area: str | None) -> tuple[str, bool]:
    """The text with values filled and unfilled lines left out; and whether anything was dropped."""
    known = values(db, area)
    city = city_of(db, area)
    dropped = False
    lines = []
    for line in text.split("\n"):
        for ph in find(line):
            value = known.get(ph)
            if value is None and city and re.fullmatch(r"[○●]{2}市", ph):
                value = city
            if value is not None:
                line = line.replace(ph, value)
        if find(line):
            dropped = True
            continue
        lines.append(line)
    cleaned = "\n".join(lines)
    cleaned = re.sub(r"\n*▼詳しくはこちら\s*$", "", cleaned.strip())
    return re.sub(r"\n{3,}", "\n\n", cleaned).strip(), dropped


def fill_answer(db: sqlite_utils.Database, answer: str, area: str | None) -> str:
    text, dropped = fill(answer, db, area)
    if not text or len(text) < 8:
        contact = ward_contact(db, area) or "お住まいの市区町村の担当窓口"
        return f"くわしくは{contact}にお問い合わせください。"
    if dropped:
        contact = ward_contact(db, area)
        if contact:
            text += f"\nくわしい窓口や連絡先は{contact}でご案内しています。"
    return text


def inventory(db: sqlite_utils.Database, area: str | None) -> list[dict]:
    """Every placeholder in the FAQs: how many FAQs use it and the value set for the area."""
    counts: dict[str, int] = {}
    for row in db.query("SELECT question, answer FROM faqs"):
        for ph in set(find(row["question"] or "") + find(row["answer"] or "")):
            counts[ph] = counts.get(ph, 0) + 1
    known = values(db, area)
    return [
        {"placeholder": ph, "faqs": n, "value": known.get(ph)}
        for ph, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def set_value(db: sqlite_utils.Database, placeholder: str, value: str, area: str | None) -> None:
    """Set (or replace) a placeholder's value for an area ('' or None: every area)."""
    from knowledge.store.db import bump_version, now_iso, writing

    with writing(db):
        db["placeholders"].upsert(
            {"area": area or "", "placeholder": placeholder, "value": value, "source": "cli", "updated_at": now_iso()},
            pk=("area", "placeholder"),
        )
        bump_version(db)
