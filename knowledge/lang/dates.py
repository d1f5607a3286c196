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

from knowledge.lang.text import nfkc

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
    if m and not _SINGLE.search(rest[m.end() :]):
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
    weekdays: tuple[int, ...] = ()  # only these weekdays (Monday 0) of the span; () is every day

    def holds(self, day: date) -> bool:
        """Whether the day is one the question asks about."""
        return self.start <= day <= self.end and (not self.weekdays or day.weekday() in self.weekdays)


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
_NEXT_WEEKDAY = re.compile(r"(?:次の|今度の|次回の)\s*([月火水木金土日])曜")
_MONTH_DAY = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_SLASH_DAY = re.compile(r"(?<![\d/.])(?:(\d{4})/)?(\d{1,2})/(\d{1,2})(?![\d/])")
_MONTH_ONLY = re.compile(r"(\d{1,2})\s*月(?!\s*\d{1,2}\s*日)")
_DAY_WORDS = (("今日", 0), ("本日", 0), ("明日", 1), ("明後日", 2))  # in hiragana: see kanji_dates
# Named periods of the year: (first month, day), (last month, day). A period that ends before
# it starts runs into the next year. 年末年始 is the offices' closing days (12/29–1/3); school
# holidays are the usual public-school ones, which vary a little by city.
SEASONS = (
    ("年末年始", (12, 29), (1, 3)),
    ("冬休み", (12, 25), (1, 7)),
    ("春休み", (3, 25), (4, 7)),
    ("夏休み", (7, 20), (8, 31)),
    ("ゴールデンウィーク", (4, 29), (5, 5)),
    ("GW", (4, 29), (5, 5)),
)


# Date words written in hiragana, read as their kanji only where they stand alone: not inside a
# longer hiragana word (あすなろ保育園, きょうだい), so followed by a particle, a mark or the end.
_KANA_DATES = (
    ("さらいしゅう", "再来週"),
    ("こんしゅうまつ", "今週末"),
    ("らいしゅうまつ", "来週末"),
    ("こんしゅう", "今週"),
    ("らいしゅう", "来週"),
    ("しゅうまつ", "週末"),
    ("さらいげつ", "再来月"),
    ("こんげつ", "今月"),
    ("らいげつ", "来月"),
    ("どにち", "土日"),
    ("きょう", "今日"),
    ("ほんじつ", "本日"),
    ("あさって", "明後日"),
    ("みょうにち", "明日"),
    ("あした", "明日"),
    ("あす", "明日"),
)
_KANA_DATE = re.compile(
    r"(?<![ぁ-ゖ])(" + "|".join(k for k, _ in _KANA_DATES) + r")(?=[のはにもでってや、。,.!?！？\s]|$)"
)


def kanji_dates(text: str) -> str:
    """Hiragana date words standing alone as kanji (きょうのイベント -> 今日のイベント)."""
    table = dict(_KANA_DATES)
    return _KANA_DATE.sub(lambda m: table[m.group(1)], text)


# Words that join two date words into one window: 今日か明日, 今週と来週, 12月20日から25日, 土曜か日曜.
_JOINER = re.compile(r"から|または|か|と|や|[~〜～]")
_BARE_DAY = re.compile(r"^\s*(\d{1,2})\s*日")
MAX_JOINED_DAYS = 62  # two date words further apart than this are not one window


def parse_when(question: str, today: date) -> When | None:
    """The span of days a question names, or None when it names none.

    Two date words joined (今日か明日, 今週と来週, 土曜か日曜, 12月20日から25日) are one window
    from the first day to the last; two single days keep only their weekdays, so 土曜か日曜
    asked on a Sunday is today and the coming Saturday, not the week between.
    """
    q = kanji_dates(nfkc(question))
    return _joined(q, today) or _single(q, today)


def _joined(q: str, today: date) -> When | None:
    """The window of two date words joined by か, と, や, から or 〜; None if the question has no such pair."""
    for join in _JOINER.finditer(q):
        left, right = q[: join.start()], q[join.end() :]
        first = _single(left, today) if left else None
        if first is None:
            continue
        bare = _BARE_DAY.match(right)
        if bare and first.start == first.end:  # 12月20日から25日: the day of the same month
            right = f"{first.start.month}月{bare.group(1)}日{right[bare.end() :]}"
        second = _single(right, today) if right else None
        if second is None:
            continue
        start, end = min(first.start, second.start), max(first.end, second.end)
        if (end - start).days > MAX_JOINED_DAYS:
            continue
        single_days = first.start == first.end and second.start == second.end
        weekdays = tuple(sorted({first.start.weekday(), second.start.weekday()})) if single_days else ()
        if join.group() in ("から", "~", "〜", "～") or (end - start).days < 2:
            weekdays = ()  # a range, or two days side by side: every day between
        return When(start, end, f"{first.label}{join.group()}{second.label}", weekdays)
    return None


def _single(q: str, today: date) -> When | None:
    """The span of the first date word of ``q`` (already NFKC, kana date words as kanji).

    来週の土曜 asked on a Wednesday is the Saturday of next week (weeks start on Monday);
    a bare 土曜 is the next Saturday from today (today included), 次の土曜 the next one after
    today; 9月 asked in November is next September (the coming one), 週末 / 土日 is this week's
    Saturday and Sunday (from today). The current month named by number (12月 in December) runs
    from today, as 今月 does; a weekday of this week already past (今週の金曜日 asked on Sunday)
    is the coming one, labelled 次の金曜日 so the answer says which day it gives. A month with a weekday (12月の土曜日, 来月の土日) is that
    month's Saturdays (``When.weekdays``); 12/20 is 12月20日; 年末年始, 冬休み, 夏休み, 春休み and
    ゴールデンウィーク are the current or coming one (see ``SEASONS``).

    Any ``today`` from date.min to date.max is accepted. A span that runs past either end of
    the calendar is clipped to it (今年度 on 9999-05-01 ends on 9999-12-31, 今週 on 9999-12-31
    is that one day); a span of which no day exists (来月 or 明日 on 9999-12-31, 週末 when
    that Saturday would be in year 10000) gives None, as if the question named no date.
    Whatever is returned has start <= end.
    """
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
            if d < t:  # 今週の金曜日 asked on Sunday: it has passed; the coming one, said as such
                return _span(d + 7, d + 7, f"次の{weekday.group(1)}曜日")
            return _span(d, d, f"{label}の{weekday.group(1)}曜日")
        if weekend:
            return _span(max(monday + 5, t), sunday, f"{label}末")
        return _span(max(monday, t) if week_shift == 0 else monday, sunday, label)
    following = _NEXT_WEEKDAY.search(q)
    if following:
        target = WEEKDAYS.index(following.group(1))
        d = t + (target - today.weekday() - 1) % 7 + 1  # strictly after today
        return _span(d, d, f"次の{following.group(1)}曜日")
    for word, days in _DAY_WORDS:
        if word in q:
            return _span(t + days, t + days, word)
    for word, first, last in SEASONS:
        if word in q:
            return _season(today, first, last, word)
    md = _MONTH_DAY.search(q) or _SLASH_DAY.search(q)
    if md:
        d = _day(today, md.group(1), int(md.group(2)), int(md.group(3)))
        if d:
            return When(d, d, f"{d.month}月{d.day}日")
    days = (5, 6) if weekend else (WEEKDAYS.index(weekday.group(1)),) if weekday else ()
    days_label = "土日" if weekend else f"{weekday.group(1)}曜日" if weekday else ""
    month = _month_named(q, today)
    if month:
        first, last, label = month
        when = _span(first, last, label + (f"の{days_label}" if days else ""))
        if when and days:
            when = _only(when, days)
        return when
    if "今年度" in q:
        return _span(t, _ordinal(fiscal_year_of(today) + 1, 3, 31), "今年度")
    if "年内" in q:
        return _span(t, _ordinal(today.year, 12, 31), "年内")
    if weekend:
        return _span(max(this_monday + 5, t), this_monday + 6, "今週末")
    if weekday:
        target = WEEKDAYS.index(weekday.group(1))
        d = t + (target - today.weekday()) % 7
        return _span(d, d, f"{weekday.group(1)}曜日")
    return None


def _month_named(q: str, today: date) -> tuple[int, int, str] | None:
    """The days (ordinals) and label of a month the question names: 来月, 今月 (from today), 9月."""
    t = today.toordinal()
    if "再来月" in q:
        y, m = divmod(today.year * 12 + today.month - 1 + 2, 12)
        return (*_month_span(y, m + 1), "再来月")
    if "来月" in q:
        y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return (*_month_span(y, m), "来月")
    if "今月" in q:
        return t, _month_span(today.year, today.month)[1], "今月"
    mo = _MONTH_ONLY.search(q)
    if mo and 1 <= int(mo.group(1)) <= 12:
        month = int(mo.group(1))
        year = today.year if month >= today.month else today.year + 1
        first, last = _month_span(year, month)
        return max(first, t), last, f"{month}月"  # this month, as 今月: from today
    return None


def _only(when: When, weekdays: tuple[int, ...]) -> When | None:
    """The span narrowed to its first and last day on one of the weekdays; None if it has none."""
    first, last = when.start.toordinal(), when.end.toordinal()
    while first <= last and date.fromordinal(first).weekday() not in weekdays:
        first += 1
    while last >= first and date.fromordinal(last).weekday() not in weekdays:
        last -= 1
    if first > last:
        return None
    return When(date.fromordinal(first), date.fromordinal(last), when.label, tuple(sorted(weekdays)))


def _season(today: date, first: tuple[int, int], last: tuple[int, int], label: str) -> When | None:
    """The current or the coming period from first to last (month, day), from today on."""
    t = today.toordinal()
    wraps = last < first
    for year in (today.year - 1, today.year, today.year + 1):  # _ordinal clips years off the calendar
        start = _ordinal(year, *first)
        end = _ordinal(year + 1 if wraps else year, *last)
        if end >= t:
            return _span(max(start, t), end, label)
    return None


def _day(today: date, year: str | None, month: int, day: int) -> date | None:
    """A date the question names: with its year as stated, else the coming one."""
    if year:
        try:
            return date(int(year), month, day)
        except ValueError:
            return None
    return _coming(today, month, day)


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
