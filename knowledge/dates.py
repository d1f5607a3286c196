"""Japanese dates: fiscal years, month specs in schedules, and date words in questions.

Fiscal years run April to March (令和7年度 = FY2025 = 2025-04-01..2026-03-31), so a month
named in a FY2025 schedule resolves to 2025 for April-December and to 2026 for January-March.
Date words (今日, 来週の土曜, 週末, 来月, 9月 …) resolve against an explicit ``today`` so that
answers and tests are reproducible. The era table (令和, 平成, 昭和) is kept here, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date

from knowledge.text import nfkc

# The one era table: a year n of an era (元年 is n = 1) is ERAS[era] + n in the western calendar,
# so 令和1年 = 2019, 平成1年 = 1989, 昭和1年 = 1926.
ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}

WEEKDAYS = "月火水木金土日"
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def fiscal_year_of(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def month_in_fiscal_year(month: int, fy: int) -> str:
    """The real YYYY-MM of a month named in a fiscal year's schedule."""
    year = fy if month >= 4 else fy + 1
    return f"{year:04d}-{month:02d}"


_FISCAL_YEAR = re.compile(r"(令和|平成)\s*(\d+|元)\s*年度|(\d{4})\s*年度")


def fiscal_years_in(text: str) -> list[int]:
    """Every fiscal year the text states, in order: 令和7年度, 2025年度, 2025 年度, 平成31年度.

    A 昭和 年度 is left out: in a plan it dates a history (昭和50年度開設), not the plan's year.
    """
    text = nfkc(text)
    found = []
    for m in _FISCAL_YEAR.finditer(text):
        if m.group(3):
            found.append(int(m.group(3)))
        else:
            n = 1 if m.group(2) == "元" else int(m.group(2))
            found.append(ERAS[m.group(1)] + n)
    return found


_RANGE = re.compile(r"(\d{1,2})\s*[~～〜\-ー－]\s*(\d{1,2})\s*月")
_OPEN_START = re.compile(r"[~～〜]\s*(\d{1,2})\s*月")
_OPEN_END = re.compile(r"(\d{1,2})\s*月\s*[~～〜]")
_SINGLE = re.compile(r"(\d{1,2})\s*月")


def months_between(start: int, end: int) -> list[int]:
    """Months from start to end following the fiscal order (11~3 -> 11,12,1,2,3)."""
    i, j = FISCAL_MONTHS.index(start), FISCAL_MONTHS.index(end)
    return list(FISCAL_MONTHS[i : j + 1]) if i <= j else [start]


def parse_month_spec(spec: str, period_start: int | None = None, period_end: int | None = None) -> list[int]:
    """Months a schedule item names: (4~7月), （5月、7月）, (8月～), (～11月), (通年).

    An open range runs to (or from) the edge of the item's period; 通年 is the whole year.
    """
    spec = nfkc(spec)
    if "通年" in spec:
        return list(FISCAL_MONTHS)
    months: list[int] = []
    rest = spec
    for m in _RANGE.finditer(spec):
        months += months_between(int(m.group(1)), int(m.group(2)))
        rest = rest.replace(m.group(0), " ")
    m = _OPEN_END.search(rest)
    if m and not _SINGLE.search(rest[m.end():]):
        months += months_between(int(m.group(1)), period_end or 3)
        rest = rest.replace(m.group(0), " ")
    m = _OPEN_START.search(rest)
    if m:
        months += months_between(period_start or 4, int(m.group(1)))
        rest = rest.replace(m.group(0), " ")
    months += [int(m.group(1)) for m in _SINGLE.finditer(rest)]
    seen: list[int] = []
    for month in months:
        if 1 <= month <= 12 and month not in seen:
            seen.append(month)
    return seen


# --- date words in questions -------------------------------------------------------------


@dataclass(frozen=True)
class When:
    """A span of days a question asks about, with the words that named it."""

    start: date
    end: date
    label: str


# Spans are worked out on day ordinals (date.toordinal), plain integers that cannot overflow,
# and clipped to the calendar (date.min .. date.max) only when a When is made.
_FIRST, _LAST = date.min.toordinal(), date.max.toordinal()


def _ordinal(year: int, month: int, day: int) -> int:
    """The ordinal of a day; any day after date.max is _LAST + 1, any day before date.min _FIRST - 1.

    That is exact enough for clipping a span to the calendar, which is all the ordinals are for.
    """
    if year > MAXYEAR:
        return _LAST + 1
    if year < MINYEAR:
        return _FIRST - 1
    return date(year, month, day).toordinal()


def _month_span(year: int, month: int) -> tuple[int, int]:
    """First and last day (ordinals) of a month; month 12 is followed by month 1 of the next year."""
    following = _ordinal(year + 1, 1, 1) if month == 12 else _ordinal(year, month + 1, 1)
    return _ordinal(year, month, 1), following - 1


def _span(first: int, last: int, label: str) -> When | None:
    """The days first..last (ordinals) clipped to the calendar; None when none of them exists."""
    first, last = max(first, _FIRST), min(last, _LAST)
    if first > last:
        return None
    return When(date.fromordinal(first), date.fromordinal(last), label)


_WEEKDAY_WORD = re.compile(r"([月火水木金土日])曜(?:日)?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MONTH_ONLY = re.compile(r"(\d{1,2})\s*月(?!\s*\d{1,2}\s*日)")


def parse_when(question: str, today: date) -> When | None:
    """The span of days a question names, or None when it names none.

    来週の土曜 asked on a Wednesday is the Saturday of next week (weeks start on Monday);
    a bare 土曜 is the next Saturday from today (today included); 9月 asked in November is
    next September (the coming one), 週末 is this week's Saturday and Sunday.

    Any ``today`` from date.min to date.max is accepted. A span that runs past either end of
    the calendar is clipped to it (今年度 on 9999-05-01 ends on 9999-12-31, 今週 on 9999-12-31
    is that one day); a span of which no day exists (来月 or 明日 on 9999-12-31, 週末 when
    that Saturday would be in year 10000) gives None, as if the question named no date.
    Whatever is returned has start <= end.
    """
    q = nfkc(question)
    t = today.toordinal()
    this_monday = t - today.weekday()
    week_shift = None
    if "再来週" in q:
        week_shift = 2
    elif "来週" in q or "次の週" in q:
        week_shift = 1
    elif "今週" in q or "この週" in q:
        week_shift = 0

    weekday = _WEEKDAY_WORD.search(q)
    weekend = "週末" in q or "土日" in q
    if week_shift is not None:
        monday = this_monday + 7 * week_shift
        sunday = monday + 6
        label = {0: "今週", 1: "来週", 2: "再来週"}[week_shift]
        if weekday:
            d = monday + WEEKDAYS.index(weekday.group(1))
            return _span(d, d, f"{label}の{weekday.group(1)}曜日")
        if weekend:
            return _span(monday + 5, sunday, f"{label}末")
        return _span(max(monday, t) if week_shift == 0 else monday, sunday, label)
    if weekend:
        return _span(max(this_monday + 5, t), this_monday + 6, "今週末")
    for word, days in (("今日", 0), ("本日", 0), ("明日", 1), ("あした", 1), ("あす", 1), ("明後日", 2), ("あさって", 2)):
        if word in q:
            return _span(t + days, t + days, word)
    md = _MONTH_DAY.search(q)
    if md:
        d = _coming(today, int(md.group(1)), int(md.group(2)))
        if d:
            return When(d, d, f"{d.month}月{d.day}日")
    if "来月" in q:
        y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _span(*_month_span(y, m), "来月")
    if "今月" in q:
        return _span(t, _month_span(today.year, today.month)[1], "今月")
    if "今年度" in q:
        return _span(t, _ordinal(fiscal_year_of(today) + 1, 3, 31), "今年度")
    mo = _MONTH_ONLY.search(q)
    if mo and 1 <= int(mo.group(1)) <= 12:
        month = int(mo.group(1))
        year = today.year if month >= today.month else today.year + 1
        return _span(*_month_span(year, month), f"{month}月")
    if weekday:
        target = WEEKDAYS.index(weekday.group(1))
        d = t + (target - today.weekday()) % 7
        return _span(d, d, f"{weekday.group(1)}曜日")
    return None


def _coming(today: date, month: int, day: int) -> date | None:
    """The next date with this month and day, today included (None past date.max)."""
    for year in (today.year, today.year + 1):
        if year > MAXYEAR:
            return None
        try:
            d = date(year, month, day)
        except ValueError:
            return None
        if d >= today:
            return d
    return None


def format_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"

