"""Audience tags: who an activity is for, from the words a document or a parent uses.

The vocabulary is data (``knowledge/data/audience.csv``: tag, word) so staff can extend it.
Words are matched after NFKC and kana folding, so パパ, ﾊﾟﾊﾟ and ぱぱ are one word.
"""

from __future__ import annotations

import functools
import re

from knowledge.reference import read_shipped
from knowledge.text import fold, nfkc

LABELS = {
    "pregnancy": "妊娠中の方",
    "0歳": "0歳児",
    "1-2歳": "1〜2歳児",
    "3-5歳": "3〜5歳児",
    "school": "小学生以上",
    "fathers": "お父さん",
    "single_parents": "ひとり親家庭",
    "foreign": "外国につながる家庭",
    "twins": "多胎（双子・三つ子）の家庭",
    "grandparents": "祖父母",
    "parents": "保護者",
}


TAG_ORDER = list(LABELS)


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[tuple[str, str], ...]:
    """(folded word, tag) pairs, longest word first so specific words win."""
    pairs = {(fold(r["word"]), r["tag"]) for r in read_shipped("audience.csv")}
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


_AGE = re.compile(
    r"(\d{1,2})\s*歳(?:\s*\d{1,2}\s*[かヶケヵカ]?\s*月)?\s*児?\s*"
    r"(?:(?:から|~|〜|-|－|ー)\s*(\d{1,2})\s*歳(?:\s*\d{1,2}\s*[かヶケヵカ]?\s*月)?\s*児?\s*(未満)?|(未満))?"
)


def _age_tags(text: str) -> set[str]:
    """Age-band tags from stated ages: '0歳から5歳' -> 0歳, 1-2歳, 3-5歳; '1歳未満' -> 0歳."""
    tags = set()
    for m in _AGE.finditer(text):
        low = int(m.group(1))
        if m.group(2):
            high = int(m.group(2)) - (1 if m.group(3) else 0)
        elif m.group(4):
            low, high = 0, low - 1
        else:
            high = low
        for age in range(max(low, 0), min(high, 12) + 1):
            tags.add("0歳" if age == 0 else "1-2歳" if age <= 2 else "3-5歳" if age <= 5 else "school")
    return tags


def tags_in(text: str) -> list[str]:
    """Audience tags named in the text, in the order of ``LABELS``, without repeats."""
    folded = fold(text)
    found: list[str] = list(_age_tags(re.sub(r"[OoＯ](?=[才歳])", "0", nfkc(text)).replace("才", "歳")))
    for word, tag in vocabulary():
        if word and word in folded and tag not in found:
            found.append(tag)
    return sorted(found, key=TAG_ORDER.index)
