"""地域子育て支援拠点事業 evaluation: the base, its operator, goals, results and named activities.

Two styles occur: a list style (旭区: 【0歳児向け】・赤ちゃんサロン(本拠点)12回・…) and a prose
style (鶴見区: ○…「はんどめいどくらぶ」を実施し…). Both yield one program for the fiscal year,
the support base and its サテライト, the ward's counter, and an activity per named thing, each
once, with its frequency, ages and audience as stated.
"""

from __future__ import annotations

import json
import re

from knowledge.importers import docs
from knowledge.importers.base import Parsed, UnreadableFile, make_id
from knowledge.lang.dates import fiscal_years_in
from knowledge.lang.text import nfkc, squash, strip_html

CATEGORY_TAGS = {"0歳児向け": "0歳", "妊娠期": "pregnancy", "父親支援": "fathers"}
BASE_MARK = re.compile(r"本拠点|サテライト|両拠点|両施設")
AGES = re.compile(
    r"(?:\d+歳(?:\d+か月)?|年少|年中|年長|小\d|中\d)\s*[～~〜-]\s*(?:\d+歳(?:\d+か月)?|年少|年中|年長|小\d|中\d)"
)
COUNT = re.compile(r"(?:計|各|年間各?)?\s*\d+(?:\s*[～~]\s*\d+)?\s*(?:回|か所)(?:程度)?")
# Named things in prose: quoted names, and compounds ending in the words below.
NAMED = re.compile(
    r"「([^」]+)」|((?:[一-龥々ァ-ヶーA-Za-z]|子育て|ひろば)+(?:コーナー|体験|ネットワーク会議|教室|預かり|[ァ-ヶー]+事業))"
)


def detect(text: str, name: str) -> bool:
    head = text[:600]
    return "地域子育て支援拠点事業" in head and "重点目標" in head


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    first = next((line for line in text.splitlines() if line.strip()), "")
    heading = squash(first.replace("*", ""))
    title = heading.split()[0] if heading else ""
    years = fiscal_years_in(heading) or fiscal_years_in(text)
    fy = fiscal_year or (years[0] if years else None)
    if fy is None:
        raise UnreadableFile(f"{name}: the evaluation states no fiscal year; pass --fiscal-year")
    ward, city = docs.ward_and_city(text)
    area = area or ((city or "") + (ward or "")) or None
    if not area:
        raise UnreadableFile(f"{name}: the evaluation names no ward; pass --area")

    cell = lambda label: squash(strip_html(docs.cells_after(text, label) or ""))  # noqa: E731
    actor = cell("事業の実施者").split()
    operator = next((a for a in actor if "法人" in a), actor[0] if actor else None)
    departments = [a for a in actor if a != operator]
    this_year, next_year = _split_years(text)
    parsed = Parsed(kind="evaluation", area=area, fiscal_year=fy)
    program_id = make_id("program", area, title, fy)
    services = [
        squash(s)
        for item in docs.cell_items(docs.cells_after(text, "事業の内容") or "")
        for s in re.split(r"\s(?=\d\s)", item)
    ]
    parsed.add(
        "programs",
        {
            "id": program_id,
            "title": title,
            "area": area,
            "fiscal_year": fy,
            "kind": "base_program",
            "purpose": cell("事業目的"),
            "content": "\n".join(services + [_cell_in(this_year, "取組内容")]),
            "operator": operator,
            "departments": json.dumps(departments, ensure_ascii=False),
            "goals": _cell_in(this_year, r"[^\t\n]*重点目標"),
            "results": _cell_in(this_year, "取組の成果"),
            "issues": _cell_in(this_year, "取組の課題"),
            "next_goals": "\n".join(
                filter(None, [_cell_in(next_year, r"[^\t\n]*重点目標"), _cell_in(next_year, "取組内容")])
            ),
        },
    )
    base_name = title.removesuffix("事業")
    main_base = make_id("base", area, base_name)
    parsed.add(
        "bases",
        {
            "id": main_base,
            "name": base_name,
            "kind": "地域子育て支援拠点",
            "area": area,
            "operator": operator,
            "program_id": program_id,
            "description": cell("事業目的") + "\n" + "\n".join(services),
        },
    )
    bases = {"本拠点": main_base}
    if "サテライト" in text:
        bases["サテライト"] = make_id("base", area, base_name + "サテライト")
        parsed.add(
            "bases",
            {
                "id": bases["サテライト"],
                "name": base_name + "サテライト",
                "kind": "サテライト",
                "area": area,
                "operator": operator,
                "program_id": program_id,
                "description": f"{base_name}のサテライト（分室）。運営：{operator}",
            },
        )
    for dept in departments:
        parsed.add(
            "bases",
            {
                "id": make_id("base", area, dept),
                "name": dept,
                "kind": "区役所",
                "area": area,
                "program_id": program_id,
                "description": f"{area}役所の窓口。{base_name}と連携しています。",
            },
        )

    found: dict[str, dict] = {}
    for service in services:
        for m in re.finditer(r"[(（]([^()（）]+事業)[)）]", nfkc(service)):
            _merge(found, m.group(1), service, [], kind="service")
    for block in (_cell_in(this_year, "取組内容"), _cell_in(this_year, "取組の成果")):
        _list_style(found, block)
    for block in (
        _cell_in(this_year, "取組内容"),
        _cell_in(this_year, "取組の成果"),
        _cell_in(this_year, "取組の課題"),
        _cell_in(next_year, "取組内容"),
    ):
        _prose_style(found, block)
    for act in found.values():
        _add(parsed, act, area, program_id, bases)
    return parsed


def _split_years(text: str) -> tuple[str, str]:
    m = re.search(r"(?m)^.*(?:次年度重点目標|次年度\s*重点目標)\s*$", text)
    return (text[: m.start()], text[m.end() :]) if m else (text, "")


def _cell_in(block: str, label: str) -> str:
    m = re.search(rf"(?m)^\**{label}[ \t]*\t+(.*)$", block)
    return squash(strip_html(m.group(1))) if m else ""


def _list_style(found: dict, block: str) -> None:
    """``【0歳児向け】・赤ちゃんサロン(本拠点)12回・…`` and ``・A・Bを開催します。``"""
    for section in re.split(r"[①②③④⑤]", block):
        category_tags: list[str] = []
        for piece in re.split(r"(【[^】]+】)|・", section):
            if not piece or not piece.strip():
                continue
            piece = piece.strip()
            cat = re.fullmatch(r"【([^】]+)】", piece)
            if cat:
                category_tags = [CATEGORY_TAGS[cat.group(1)]] if cat.group(1) in CATEGORY_TAGS else []
                continue
            held = re.match(r"(.+?)を開催します。", piece)
            if held:
                piece = held.group(1)
            elif "。" in piece or len(piece) > 45:
                continue
            title, stated, ages, base, frequency = _item(piece)
            _merge(found, title, stated, category_tags, ages, base, frequency)


def _item(piece: str) -> tuple[str, str, str | None, str | None, str | None]:
    """Title, the stated text, ages, base and frequency of one listed activity."""
    text = re.sub(r"\s*他$", "", piece.strip())
    ages = AGES.search(nfkc(text))
    base = BASE_MARK.search(text)
    counts = [m.group(0).strip() for m in COUNT.finditer(text)]
    title = re.split(r"[(（]|\s+(?:本拠点|サテライト)|\d+歳|\s+\d", text)[0].strip()
    title = re.sub(r"(?:の開催|の実施)$", "", title)
    frequency = (
        " ".join(
            filter(
                None,
                [
                    "、".join(re.findall(r"(?:本拠点|サテライト)\s*\d+回", text)) or (base.group(0) if base else None),
                    None if re.search(r"(?:本拠点|サテライト)\s*\d+回", text) else " ".join(counts) or None,
                ],
            )
        )
        or None
    )
    places = re.search(r"[(（](\d+か所)", text)
    if places and frequency and places.group(1) not in frequency:
        frequency = f"{places.group(1)} {frequency}"
    return title, text, ages.group(0) if ages else None, base.group(0) if base else None, frequency


def _prose_style(found: dict, block: str) -> None:
    for sentence in re.split(r"[○。]\s*", strip_html(block)):
        sentence = squash(sentence)
        for m in NAMED.finditer(sentence):
            name = m.group(1) or m.group(2)
            if name and 2 < len(name) <= 30:
                _merge(found, name, sentence + "。", [])


def _merge(found: dict, title, text="", tags=(), ages=None, base=None, frequency=None, kind=None) -> None:
    key = docs.activity_key(title)
    if not key or len(key) < 2:
        return
    act = found.setdefault(
        key, {"title": title, "texts": [], "tags": [], "ages": None, "base": None, "frequency": None, "kind": kind}
    )
    if text and text not in act["texts"]:
        act["texts"].append(text)
    act["tags"] += [t for t in tags if t not in act["tags"]]
    act["ages"] = act["ages"] or ages
    act["base"] = act["base"] or base
    act["frequency"] = act["frequency"] or frequency


def _add(parsed: Parsed, act: dict, area: str, program_id: str, bases: dict) -> None:
    description = "\n".join(act["texts"])
    base_id = bases.get(act["base"] or "", bases["本拠点"])
    parsed.add(
        "activities",
        {
            "id": make_id("activity", area, docs.activity_key(act["title"]), program_id),
            "title": act["title"],
            "kind": act["kind"] or docs.activity_kind(act["title"]),
            "area": area,
            "base_id": base_id,
            "program_id": program_id,
            "description": description,
            "audience": json.dumps(
                act["tags"] + [t for t in docs.tags(act["title"], act["ages"] or "") if t not in act["tags"]],
                ensure_ascii=False,
            ),
            "ages": act["ages"],
            "frequency": act["frequency"],
        },
    )
