"""Audience tags: who an activity is for, from the words a document or a parent uses.

The vocabulary is data (``knowledge/data/audience.csv``: tag, word) so staff can extend it.
Words are matched after NFKC and kana folding, so パパ, ﾊﾟﾊﾟ and ぱぱ are one word.
"""

from __future__ import annotations

import functools

from knowledge.reference import read_csv
from knowledge.text import fold

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


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[tuple[str, str], ...]:
    """(folded word, tag) pairs, longest word first so specific words win."""
    pairs = {(fold(r["word"]), r["tag"]) for r in read_csv("audience.csv")}
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def tags_in(text: str) -> list[str]:
    """Audience tags named in the text, in vocabulary order, without repeats."""
    folded = fold(text)
    found: list[str] = []
    for word, tag in vocabulary():
        if word and word in folded and tag not in found:
            found.append(tag)
    return found
