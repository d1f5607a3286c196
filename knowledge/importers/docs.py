"""Helpers shared by the importers of ward documents (sheets, plans, evaluations).

The documents are PDF exports: tab-separated cells, HTML fragments, checkbox markers and
blocks repeated by the table extraction. These helpers turn a cell into clean items and
turn an item into a named activity, keeping the document's own spelling.
"""

from __future__ import annotations

import re

from knowledge.lang import audience
from knowledge.lang.text import fold, nfkc, squash, strip_html

PERIOD_LABEL = re.compile(r"(前期|中期|後期)\s*[(（]\s*[~～〜]\s*(\d{1,2})\s*月\s*[)）]|次年度\s*以降")
MONTH_PAREN = re.compile(r"[(（]([^()（）]*?(?:\d\s*月|通年)[^()（）]*)[)）]")
# 会 is a gathering (座談会, 見学会, ばあばの会) unless it is a body or its members (自治会,
# 連絡会, 協議会, 会議, 会員): those are how a program is run, not something a parent attends.
EVENT_WORDS = re.compile(
    r"(?<!連絡)(?<!自治)(?<!協議)(?<!委員)会(?![議員社場館計])|講座|講習|フォーラム|セミナー|サロン|[Cc]lub|クラブ|くらぶ|教室|体験|あつまれ|集まれ|"
    r"あそぼう|ひろば|マーケット|キャラバン|フェスティバル|ティータイム|Day|クッキング|見学|そとあそび"
)


def cell_items(cell: str) -> list[str]:
    """Split a cell into its items: checkbox items, list items, bullets, paragraphs."""
    text = strip_html(cell)
    parts = re.split(r"\n|☐|☑|(?:^|\s)・", text)
    items = []
    for part in parts:
        part = squash(part).lstrip("・-○ ").strip()
        if part:
            items.extend(split_after_months(part))
    return items


def split_after_months(item: str) -> list[str]:
    """``…の継続実施(4~7月) 子育て応援 MAP …`` is two items whose checkbox got lost."""
    pieces, start = [], 0
    for m in MONTH_PAREN.finditer(item):
        rest = item[m.end() :].strip()
        if rest and not rest.startswith(("、", "。", "を", "に", "の", "で")):
            pieces.append(item[start : m.end()].strip())
            start = m.end()
    pieces.append(item[start:].strip())
    return [p for p in pieces if p]


def dedupe(items: list[str]) -> list[str]:
    """Drop items repeated by the table extraction (same text after folding)."""
    seen, out = set(), []
    for item in items:
        key = fold(item)
        if key and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def month_spec(item: str) -> str | None:
    """The last month spec in parentheses of an item (the one that states its schedule)."""
    specs = MONTH_PAREN.findall(item)
    return specs[-1] if specs else None


_SUFFIXES = ("の継続実施", "を実施", "の実施", "の開催", "を開催", "開催", "の設置", "を設置")


def activity_name(item: str) -> str:
    """The name of the activity an item is about, in the document's spelling.

    A quoted name (「親子で楽しむ趣味 Club」) wins; ``X【主催：…】`` names X; otherwise the
    item without its months and without a trailing 開催 / を実施.
    """
    text = MONTH_PAREN.sub("", item).strip()
    quoted = re.search(r"「([^」]+)」", text)
    if quoted:
        return quoted.group(1).strip()
    organised = re.search(r"([^、。\s]+)【主催", text)
    if organised:
        return organised.group(1)
    text = text.rstrip("。 ")
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)].strip()
    return text


def activity_key(title: str) -> str:
    """Two spellings of one activity (あつまれ！ / あつまれ～) share this key."""
    return fold(title)


def activity_kind(title: str) -> str:
    return "event" if EVENT_WORDS.search(nfkc(title)) else "activity"


def tags(*texts: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        for tag in audience.tags_in(text or ""):
            if tag not in found:
                found.append(tag)
    return found


def cells_after(text: str, label: str) -> str | None:
    """The rest of the line after a tab-separated label cell (``label\\t\\tvalue``)."""
    m = re.search(rf"(?m)^\**{label}\**[ \t]*\t+(.*)$", text)
    return m.group(1).strip("\t ") if m else None


def ward_and_city(text: str) -> tuple[str | None, str | None]:
    """The ward (西区) and city (堺市) a document names in its header or plan links."""
    ward = re.search(r"([一-龥]{1,3}区)(?:役所|地域子育て支援拠点)", text)
    city = re.search(r"(?:20\d\d\s*)?([一-龥]{1,3}市)(?:基本計画|SDGs|子育て)", text)
    if not city and "横浜子育てサポートシステム" in text:
        return (ward.group(1) if ward else None), "横浜市"
    return (ward.group(1) if ward else None), (city.group(1) if city else None)
