"""Audience tags: who an activity is for, from the words a document or a parent uses.

The vocabulary is data (``knowledge/data/audience.csv``: tag, word) so staff can extend it.
Words are matched after NFKC and kana folding, so パパ, ﾊﾟﾊﾟ and ぱぱ are one word.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from knowledge.lang.reference import read_shipped
from knowledge.lang.text import fold, nfkc

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


@functools.lru_cache(maxsize=1)
def raw_words() -> tuple[str, ...]:
    """The vocabulary's words as written (NFKC), longest first: what a question may say of whom."""
    return tuple(sorted({nfkc(r["word"]) for r in read_shipped("audience.csv") if r["word"]}, key=len, reverse=True))


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


# --- ages as ranges ------------------------------------------------------------------------
# Who an event is for, as a range of a child's age in months and whether expectant parents are
# welcome, read once from the words a record states (対象者) and compared with a question's
# age (0歳の子と, 2歳, 生後5か月) or group (妊娠中でも). Both ends are inclusive: 1歳から3歳 is
# 12..47 months (a child of 3 years 11 months is still 3).

_MONTHS_MARK = r"[かヶケヵカ箇ケ]?\s*月"
_ONE_AGE = (
    rf"(?:生後\s*(?P<m0>\d{{1,2}})\s*{_MONTHS_MARK}"
    rf"|(?P<y>\d{{1,2}})\s*歳\s*(?:(?P<half>半)|(?P<m>\d{{1,2}})\s*{_MONTHS_MARK})?"
    rf"|(?P<m1>\d{{1,2}})\s*[かヶケヵカ箇]\s*月(?!\s*\d)(?:\s*児)?)"
)
_AGE_ONE = re.compile(_ONE_AGE)
_RANGE_MARK = r"\s*(?:児|の子ども|の子供|の子|の赤ちゃん|の乳幼児)?\s*(?:から|~|〜|－|-|ー|より)\s*"
_AGE_SPAN = re.compile(
    rf"(?P<a>{_ONE_AGE.replace('?P<', '?P<a_')}){_RANGE_MARK}"
    rf"(?P<b>{_ONE_AGE.replace('?P<', '?P<b_')})\s*(?:児)?\s*(?P<below>未満|まで|以下)?"
)
# 1〜2歳児, 生後2~6か月: the unit stated once, after the second number.
_BARE_SPAN = re.compile(
    r"(?:生後\s*)?(\d{1,2})\s*(?:から|~|〜|－|-|ー)\s*(\d{1,2})\s*(歳|か\s*月)\s*(?:児)?\s*(未満|まで|以下)?"
)
_AGE_BOUND = re.compile(
    rf"(?P<a>{_ONE_AGE})\s*(?:児)?\s*(?:の子ども|の子|の方)?\s*(?P<bound>以上|以下|未満|まで|から)?"
)
# Groups of ages named in words: (pattern, first month, last month). Always read.
_AGE_WORDS = (
    (r"未就学|就学前|小学校入学前|就学まで", 0, 6 * 12 + 11),
    (r"未就園", 0, 3 * 12 + 11),
    (r"年少", 3 * 12, 4 * 12 - 1),
    (r"年中", 4 * 12, 5 * 12 - 1),
    (r"年長", 5 * 12, 6 * 12 - 1),
    (r"小学生|小学校", 6 * 12, 12 * 12 + 11),
    (r"中学生", 12 * 12, 15 * 12 + 11),
    (r"高校生", 15 * 12, 18 * 12 + 11),
)
# School years: 年少 36..47, 年中 48..59, 年長 60..71, 小N (小学N年生) 72+12(N-1) .. +11, 中N
# (中学N年生) 144+12(N-1) .. +11. A span of them (年中~小3, 小1〜小3, 小学1〜3年生) runs from the
# first's start to the last's end.
_KINDER = {"年少": 36, "年中": 48, "年長": 60}
_YEAR = r"(?:年少|年中|年長|小学校?\s*\d\s*年生?|小\s*\d(?!\s*[かヶケヵカ箇]?\s*月)|中学校?\s*\d\s*年生?|\d\s*年生)"
_SPAN_MARK = r"\s*(?:から|~|〜|－|-|ー|より)\s*"
_YEAR_SPAN = re.compile(
    rf"(?P<a>{_YEAR}){_SPAN_MARK}(?P<b>{_YEAR})|(?P<school>小学校?|中学校?)\s*(?P<n1>\d){_SPAN_MARK}(?P<n2>\d)\s*年生?"
)
_YEAR_ONE = re.compile(
    r"(?<![\u4e00-\u9fff])(?:小学校?\s*\d\s*年生?|小\s*\d(?!\s*[かヶケヵカ箇]?\s*月)|中学校?\s*\d\s*年生?)"
)
# A word of ages closed by a bound: 中学生以下 is 0..191, 小学3年生以上 72+24.. open.
_WORD_BOUND = r"\s*(?:児|の子ども|の子供|の子|のお子さん|の方)?\s*(以上|以下|未満|まで)"


def audience_tags(*texts: str | None) -> list[str]:
    """Audience tags found in any of the texts, in vocabulary order (each text on its own)."""
    found: set[str] = set()
    for text in texts:
        normalised = nfkc(text).strip()
        if not normalised:
            continue
        found |= set(tags_in(normalised))
    return [t for t in TAG_ORDER if t in found]


def _year_months(word: str, school: str | None = None) -> tuple[int, int] | None:
    """First and last month of a school year word (年中, 小3, 小学3年生, 中学1年; 3年生 after 小学)."""
    word = re.sub(r"\s", "", word)
    if word in _KINDER:
        return _KINDER[word], _KINDER[word] + 11
    n = re.search(r"\d", word)
    if not n or not 1 <= int(n.group()) <= 6:
        return None
    first = 144 if word.startswith("中") or (school or "").startswith("中") and not word.startswith("小") else 72
    low = first + 12 * (int(n.group()) - 1)
    return low, low + 11


# Words read only when no age is stated otherwise (「0歳から2歳の赤ちゃん」 says more than 赤ちゃん).
_VAGUE_AGE_WORDS = (
    (r"新生児", 0, 1),
    (r"乳幼児", 0, 6 * 12 + 11),
    (r"乳児|赤ちゃん|あかちゃん|ベビー|ﾍﾞﾋﾞｰ", 0, 11),
    (r"(?<!乳)幼児", 12, 6 * 12 + 11),
)
_PREGNANCY = re.compile(
    r"妊娠|妊婦|にんぷ|プレママ|プレパパ|ぷれまま|マタニティ|出産予定|出産前|これから(?:ママ|パパ|親)"
)
_ANYONE = re.compile(r"どなたでも|どなたも|誰でも|だれでも|年齢不問|年齢制限なし|制限なし|どなたでもご参加")


@dataclass(frozen=True)
class Ages:
    """Who a text names: a child's age in months (either end may be open) and expectant parents.

    ``low`` and ``high`` are both None when no age is stated. ``pregnancy`` is true when
    expectant parents are named (or everyone is welcome, which also opens the ages).
    """

    low: int | None = None
    high: int | None = None
    pregnancy: bool = False

    @property
    def stated(self) -> bool:
        return self.low is not None or self.high is not None

    @property
    def says_anything(self) -> bool:
        return self.stated or self.pregnancy


def _months(m: re.Match, prefix: str = "") -> tuple[int, int]:
    """First and last month of one stated age: 2歳 is 24..35, 1歳6か月 and 生後18か月 are 18..18."""
    g = lambda k: m.group(prefix + k)  # noqa: E731
    if g("m0") is not None:
        n = int(g("m0"))
        return n, n
    if g("m1") is not None:
        n = int(g("m1"))
        return n, n
    years = int(g("y"))
    if g("half"):
        return years * 12 + 6, years * 12 + 6
    if g("m") is not None:
        n = years * 12 + int(g("m"))
        return n, n
    return years * 12, years * 12 + 11


def ages_in(text: str | None) -> Ages:
    """The ages and groups a text states: 生後2か月から6か月 -> 2..6; 1歳から3歳 -> 12..47;
    3歳以上 -> 36..open; 1歳未満 -> 0..11; 就学前 -> 0..83; 妊娠中の方 -> pregnancy;
    どなたでも -> every age and pregnancy; 子育て中の保護者 -> nothing stated."""
    if not text:
        return Ages()
    s = nfkc(text)
    s = re.sub(r"[OoＯ](?=[才歳])", "0", s).replace("才", "歳").replace("ヵ", "か").replace("ヶ", "か")
    # 0・1歳児, 0、1、2歳: a list of ages with the unit once is the span from the first to the last.
    s = re.sub(r"(\d{1,2})(?:\s*[・、,･]\s*\d{1,2})*\s*[・、,･]\s*(\d{1,2})\s*(?=歳|か\s*月)", r"\1〜\2", s)
    spans: list[tuple[int | None, int | None]] = []
    rest = s
    for m in _YEAR_SPAN.finditer(s):
        if m.group("school"):
            a = _year_months(f"{m.group('school')}{m.group('n1')}年")
            b = _year_months(f"{m.group('school')}{m.group('n2')}年")
        else:
            school = re.match(r"小学校?|中学校?|小|中", m.group("a"))
            a = _year_months(m.group("a"))
            b = _year_months(m.group("b"), school.group() if school else None)
        if a and b and a[0] <= b[1]:
            spans.append((a[0], b[1]))
            rest = rest.replace(m.group(0), " ", 1)
    for m in _YEAR_ONE.finditer(rest):
        year = _year_months(m.group(0))
        bound = re.match(_WORD_BOUND, rest[m.end() :])
        if year:
            spans.append(_bounded(year, bound.group(1) if bound else None))
            rest = rest.replace(m.group(0), " ", 1)
    for m in _BARE_SPAN.finditer(s):
        a, b = int(m.group(1)), int(m.group(2))
        unit = 12 if m.group(3) == "歳" else 1
        high = b * unit - 1 if m.group(4) == "未満" else b * unit + unit - 1
        spans.append((a * unit, high))
        rest = rest.replace(m.group(0), " ", 1)
    for m in _AGE_SPAN.finditer(rest):
        a_low, _a_high = _months(m, "a_")
        b_low, b_high = _months(m, "b_")
        high = b_low - 1 if m.group("below") == "未満" else b_high
        spans.append((a_low, high))
        rest = rest.replace(m.group(0), " ", 1)
    for m in _AGE_BOUND.finditer(rest):
        low, high = _months(m)
        bound = m.group("bound")
        if bound == "から" and any(re.match(rf"\s*(?:{p})", rest[m.end() :]) for p, _l, _h in _AGE_WORDS):
            spans.append((low, high))  # 0歳から就学前: the word closes the range
        elif bound in ("以上", "から"):
            spans.append((low, None))
        elif bound in ("以下", "まで"):
            spans.append((0, high))
        elif bound == "未満":
            spans.append((0, low - 1))
        else:
            spans.append((low, high))
    for pattern, low, high in _AGE_WORDS:
        for m in re.finditer(pattern, rest):
            bound = re.match(_WORD_BOUND, rest[m.end() :])
            spans.append(_bounded((low, high), bound.group(1) if bound else None))
    if not spans:
        for pattern, low, high in _VAGUE_AGE_WORDS:
            if re.search(pattern, s):
                spans.append((low, high))
    pregnancy = bool(_PREGNANCY.search(s))
    if _ANYONE.search(s):
        return Ages(0, None, True)
    if not spans:
        return Ages(None, None, pregnancy)
    low = min(lo for lo, _ in spans)
    high = None if any(hi is None for _, hi in spans) else max(hi for _, hi in spans)
    return Ages(max(low, 0), high, pregnancy)


def _bounded(months: tuple[int, int], bound: str | None) -> tuple[int | None, int | None]:
    """An age word's months as closed by a bound after it (以下/まで: 0..its end; 以上: its start..)."""
    low, high = months
    if bound in ("以下", "まで"):
        return 0, high
    if bound == "未満":
        return 0, max(low - 1, 0)
    if bound == "以上":
        return low, None
    return low, high


def age_columns(text: str | None) -> dict:
    """The stored form of ``ages_in`` (activities.age_min_months, age_max_months, for_pregnancy)."""
    ages = ages_in(text)
    return {
        "age_min_months": ages.low,
        "age_max_months": ages.high,
        "for_pregnancy": int(ages.pregnancy) if ages.says_anything else None,
    }


def fits(record: Ages, asked: Ages) -> bool:
    """Whether an event for ``record`` suits who the question names; a record that states
    nothing suits everyone, and a question that names nobody is suited by every record."""
    if not asked.says_anything or not record.says_anything:
        return True
    if asked.stated:
        if not record.stated:
            return False  # for expectant parents only
        low = record.low or 0
        high = record.high if record.high is not None else 10**6
        a_low = asked.low or 0
        a_high = asked.high if asked.high is not None else 10**6
        if low <= a_high and a_low <= high:
            return True
        return asked.pregnancy and record.pregnancy
    return record.pregnancy  # asked for expectant parents only
