"""Recurring events: Japanese phrases <-> RFC 5545 RRULE strings, and expansion to dates.

Wards announce regular events as 毎月第2火曜日 or 毎週水曜日 rather than as a list of dates. We
store the rule (``activities.recurrence``) and expand it on demand for the window a parent
asks about, with python-dateutil's ``rrule`` doing the calendar arithmetic. ``describe`` turns a
rule back into Japanese for exports and answers; ``parse_recurrence(describe(r)) == r`` for
every rule ``parse_recurrence`` produces.

Rules are kept to what a ward means: ``rule_problem`` says why an imported rule is not (more
often than daily, more than ``MAX_DATES_A_YEAR`` dates a year), and ``expand`` refuses such a
shape and stops after ``MAX_EXPANDED`` dates whatever a stored rule says, so no rule can make a
listing or the digest run for seconds (``FREQ=SECONDLY`` once made 今週のイベント take 20 s).

Pure functions: no database; a stored rule that expansion refuses or cuts short is logged once.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import date, datetime, time

from dateutil.rrule import rrulestr

from knowledge.lang.text import nfkc

logger = logging.getLogger(__name__)

WEEKDAY_CODES = {"月": "MO", "火": "TU", "水": "WE", "木": "TH", "金": "FR", "土": "SA", "日": "SU"}
CODE_ORDER = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
CODE_NAMES = {code: jp for jp, code in WEEKDAY_CODES.items()}
ALL_MONTHS = list(range(1, 13))
ODD_MONTHS = [1, 3, 5, 7, 9, 11]
EVEN_MONTHS = [2, 4, 6, 8, 10, 12]

# How often a ward's events may repeat: a day is the finest unit a listing shows. SECONDLY,
# MINUTELY and HOURLY rules name moments, not days (an RRULE typed into 開始日時特記事項).
WARD_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# The most dates a year an imported rule may give: every day of a leap year, with room for a
# rule that names two times on a few days; 毎日 at two hours (730) is not a ward's calendar.
MAX_DATES_A_YEAR = 400
# The most dates one expansion takes from dateutil, counted from where it starts (just before
# the window, or a COUNT rule's first date): a daily rule over five years, past the longest
# window asked (``schedule.upcoming``'s 400 days). A stored rule that gives more is cut here.
MAX_EXPANDED = 2000
# Rule parts and the frequencies they may go with. RFC 5545 (3.3.10) allows BYWEEKNO and
# BYYEARDAY only in YEARLY rules and BYMONTHDAY in no WEEKLY one; BYSETPOS is kept to MONTHLY and
# YEARLY here, since a day or a week of dates has nothing to pick by position, and BYEASTER
# (dateutil's own, not RFC 5545) to none: Easter is no ward's calendar, and it alone does not
# repeat with the calendar's 400-year cycle that ``_dates`` relies on.
PART_FREQUENCIES = {
    "BYWEEKNO": ("YEARLY",),
    "BYYEARDAY": ("YEARLY",),
    "BYMONTHDAY": ("DAILY", "MONTHLY", "YEARLY"),
    "BYSETPOS": ("MONTHLY", "YEARLY"),
    "BYEASTER": (),
}
# The largest day, week or position a part can name (negative ones count from the end); dateutil
# takes BYMONTHDAY=32, which matches no day and makes a daily rule search 400 years (0.4 s).
PART_LIMITS = {"BYMONTHDAY": 31, "BYYEARDAY": 366, "BYWEEKNO": 53, "BYSETPOS": 366}
# The Gregorian calendar repeats every 400 years (146,097 days, a whole number of weeks): the
# same weekdays, month lengths, leap days and ISO weeks, so a rule gives the same dates there.
CALENDAR_CYCLE = 400

_WD = "[月火水木金土日]"
_SEP = "[・、,と及びおよ]"
_RANGE = "(?:から|~|〜|-|ー|‐)"
# 第1・第3金曜, 第2・4水曜, 最終土曜, 第1・最終日曜
_ORDINAL_RUN = re.compile(rf"((?:第[1-5](?!\d)|最終|最後)(?:{_SEP}*(?:第?[1-5](?!\d)|最終|最後))*)の?({_WD})曜")
_WEEKDAY_SEGMENT = rf"(?:{_WD}(?:曜日?)?(?:{_SEP}|{_RANGE})*)+"
_WEEKLY = re.compile(rf"(?:毎週|隔週)の?({_WEEKDAY_SEGMENT})")
_EVERY_WEEKDAY = re.compile(rf"毎(?={_WD}曜)({_WEEKDAY_SEGMENT})")
_MONTH_DAYS = re.compile(rf"毎月((?:\d{{1,2}}日?{_SEP}+)*\d{{1,2}})日")
_MONTH_END = re.compile(r"毎月(?:末日|末|最終日)")
_YEARLY_MONTH = re.compile(r"毎年(\d{1,2})月")
_YEARLY_DAY = re.compile(r"毎年(\d{1,2})月(\d{1,2})日")
_EXCLUDED_MONTHS = re.compile(
    rf"((?:\d{{1,2}}月{_SEP}*)+)(?:は|を)?(?:除く|除き|除いて|開催なし|開催しません|お休み|休み|休止|休講|休会|なし|中止)"
)


def _format(parts: dict) -> str:
    """Serialise rule parts in a fixed key order, so equal rules compare equal as strings."""
    out = [f"FREQ={parts['FREQ']}"]
    if parts.get("INTERVAL", 1) != 1:
        out.append(f"INTERVAL={parts['INTERVAL']}")
    if parts.get("BYMONTH") and parts["BYMONTH"] != ALL_MONTHS:
        out.append("BYMONTH=" + ",".join(str(m) for m in parts["BYMONTH"]))
    if parts.get("BYDAY"):
        out.append("BYDAY=" + ",".join(parts["BYDAY"]))
    if parts.get("BYMONTHDAY"):
        out.append("BYMONTHDAY=" + ",".join(str(d) for d in parts["BYMONTHDAY"]))
    return ";".join(out)


def _passthrough(text: str) -> str | None:
    """RRULE text written by hand or by our export: kept when dateutil accepts it."""
    upper = text.upper()
    if upper.startswith("RRULE:"):
        upper = upper[len("RRULE:") :]
    if not upper.startswith("FREQ="):
        return None
    try:
        rrulestr(upper, dtstart=datetime(2025, 4, 1))
    except (ValueError, TypeError):
        return None
    return upper


def _ordinal_weekdays(text: str) -> list[str]:
    """['+1FR', '+3FR'] for 第1・第3金曜日; [] when no ordinal weekday is stated."""
    found = []
    for run, weekday in _ORDINAL_RUN.findall(text):
        for token in re.findall(r"[1-5]|最終|最後", run):
            ordinal = "-1" if token in ("最終", "最後") else f"+{token}"
            code = f"{ordinal}{WEEKDAY_CODES[weekday]}"
            if code not in found:
                found.append(code)
    return sorted(found, key=lambda c: (CODE_ORDER.index(c[-2:]), c.startswith("-"), c))


def _weekdays(segment: str) -> list[str]:
    """Weekday codes named in a segment: 月・水・金曜日, 土日, 月曜日から金曜日."""
    codes = {WEEKDAY_CODES[w] for w in re.findall(rf"({_WD})(?:曜日?)?", segment)}
    for first, last in re.findall(rf"({_WD})(?:曜日?)?{_RANGE}({_WD})", segment):
        a, b = CODE_ORDER.index(WEEKDAY_CODES[first]), CODE_ORDER.index(WEEKDAY_CODES[last])
        if a <= b:
            codes.update(CODE_ORDER[a : b + 1])
    return [c for c in CODE_ORDER if c in codes]


def _base_rule(text: str) -> dict | None:
    """The frequency and the days, from the most specific phrase found."""
    yearly_day = _YEARLY_DAY.search(text)
    if yearly_day:
        return {"FREQ": "YEARLY", "BYMONTH": [int(yearly_day.group(1))], "BYMONTHDAY": [int(yearly_day.group(2))]}
    ordinals = _ordinal_weekdays(text)
    if ordinals:
        yearly = _YEARLY_MONTH.search(text)
        if yearly:
            return {"FREQ": "YEARLY", "BYMONTH": [int(yearly.group(1))], "BYDAY": ordinals}
        return {"FREQ": "MONTHLY", "BYDAY": ordinals}
    month_days = _MONTH_DAYS.search(text)
    if month_days:
        days = sorted({int(d) for d in re.findall(r"\d{1,2}", month_days.group(1)) if 1 <= int(d) <= 31})
        if days:
            return {"FREQ": "MONTHLY", "BYMONTHDAY": days}
    if _MONTH_END.search(text):
        return {"FREQ": "MONTHLY", "BYMONTHDAY": [-1]}
    weekly = _WEEKLY.search(text) or _EVERY_WEEKDAY.search(text)
    if weekly:
        codes = _weekdays(weekly.group(1))
        if codes:
            return {"FREQ": "WEEKLY", "BYDAY": codes}
    if "平日" in text and ("毎週" in text or "毎日" in text):
        return {"FREQ": "WEEKLY", "BYDAY": CODE_ORDER[:5]}
    if "毎日" in text:
        return {"FREQ": "DAILY"}
    return None


def _months(text: str) -> list[int]:
    """Months the rule applies in: 奇数月 / 偶数月, minus months stated as closed (8月は休み)."""
    months = ODD_MONTHS if "奇数月" in text else EVEN_MONTHS if "偶数月" in text else ALL_MONTHS
    excluded: set[int] = set()
    for run in _EXCLUDED_MONTHS.findall(text):
        excluded.update(int(m) for m in re.findall(r"(\d{1,2})月", run))
    return [m for m in months if m not in excluded]


def parse_recurrence(text: str | None) -> str | None:
    """A Japanese recurrence phrase -> RRULE string (without 'RRULE:'); None if no rule is stated.

    毎週水曜日 -> FREQ=WEEKLY;BYDAY=WE; 毎月第2火曜日 -> FREQ=MONTHLY;BYDAY=+2TU;
    第1・第3金曜日 -> FREQ=MONTHLY;BYDAY=+1FR,+3FR; 毎月15日 -> FREQ=MONTHLY;BYMONTHDAY=15;
    毎月最終土曜 -> FREQ=MONTHLY;BYDAY=-1SA; 隔週 -> INTERVAL=2; '（10月は開催なし）' -> BYMONTH
    without 10. Vague statements (毎月1回, 不定期) give None: no dates can be derived from them.
    """
    if not text or not text.strip():
        return None
    normalised = "".join(nfkc(text).split())  # full-width digits and brackets; no whitespace
    passthrough = _passthrough(normalised)
    if passthrough:
        return passthrough
    parts = _base_rule(normalised)
    if parts is None:
        return None
    if parts["FREQ"] == "WEEKLY" and "隔週" in normalised:
        parts["INTERVAL"] = 2
    if parts["FREQ"] == "MONTHLY" and "隔月" in normalised:
        parts["INTERVAL"] = 2
    if parts["FREQ"] != "YEARLY":
        months = _months(normalised)
        if not months:
            return None
        parts["BYMONTH"] = months
    return _format(parts)


def _split_rule(rrule: str) -> dict[str, str]:
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return dict(p.split("=", 1) for p in text.upper().split(";") if "=" in p)


def _describe_months(months: list[int]) -> tuple[str, str] | None:
    """(prefix, suffix) for a BYMONTH list: 奇数月の / 偶数月の, or （8月・12月は休み）."""
    if months == ALL_MONTHS:
        return "", ""
    if months == ODD_MONTHS:
        return "奇数月の", ""
    if months == EVEN_MONTHS:
        return "偶数月の", ""
    closed = [m for m in ALL_MONTHS if m not in months]
    if 0 < len(closed) <= 6:
        return "", "（" + "・".join(f"{m}月" for m in closed) + "は休み）"
    return None


def _describe_ordinals(codes: list[str]) -> str | None:
    """第1・第3金曜日・最終土曜日 for ['+1FR', '+3FR', '-1SA']."""
    groups: dict[str, list[str]] = {}
    for code in codes:
        m = re.fullmatch(r"([+-]?\d)([A-Z]{2})", code)
        if not m or m.group(2) not in CODE_NAMES:
            return None
        n = int(m.group(1))
        if n == -1:
            label = "最終"
        elif 1 <= n <= 5:
            label = f"第{n}"
        else:
            return None
        groups.setdefault(m.group(2), []).append(label)
    return "・".join("・".join(labels) + f"{CODE_NAMES[code]}曜日" for code, labels in groups.items())


def describe(rrule: str | None) -> str | None:
    """Japanese for a rule ``parse_recurrence`` can produce; None for anything else.

    The CSV export writes this into 開始日時特記事項 (falling back to the RRULE text itself,
    which ``parse_recurrence`` also accepts), so a re-import finds the same rule.
    """
    if not rrule:
        return None
    try:
        parts = _split_rule(rrule)
    except ValueError:
        return None
    allowed = {"FREQ", "INTERVAL", "BYMONTH", "BYDAY", "BYMONTHDAY"}
    if set(parts) - allowed:
        return None
    try:
        interval = int(parts.get("INTERVAL", "1"))
        months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else ALL_MONTHS
        monthdays = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else []
    except ValueError:
        return None
    days = parts["BYDAY"].split(",") if "BYDAY" in parts else []
    freq = parts.get("FREQ")
    if freq == "YEARLY":
        if interval != 1 or len(months) != 1:
            return None
        if monthdays and not days and len(monthdays) == 1 and monthdays[0] > 0:
            text = f"毎年{months[0]}月{monthdays[0]}日"
        elif days and not monthdays:
            ordinals = _describe_ordinals(days)
            text = f"毎年{months[0]}月{ordinals}" if ordinals else None
        else:
            text = None
        return text if text and parse_recurrence(text) == _canonical(rrule) else None
    month_words = _describe_months(sorted(months))
    if month_words is None:
        return None
    prefix, suffix = month_words
    if freq == "DAILY" and interval == 1 and not days and not monthdays:
        body = "毎日"
    elif freq == "WEEKLY" and interval in (1, 2) and days and not monthdays:
        if any(d not in CODE_NAMES for d in days):
            return None
        ordered = [d for d in CODE_ORDER if d in days]
        body = ("隔週" if interval == 2 else "毎週") + "・".join(CODE_NAMES[d] for d in ordered) + "曜日"
    elif freq == "MONTHLY" and interval in (1, 2) and days and not monthdays:
        ordinals = _describe_ordinals(days)
        if not ordinals:
            return None
        # 奇数月の第2火曜日 reads naturally; 奇数月の毎月… would not.
        body = ("隔月" if interval == 2 else "" if prefix else "毎月") + ordinals
    elif freq == "MONTHLY" and interval in (1, 2) and monthdays and not days:
        word = "隔月" if interval == 2 else "毎月"
        if monthdays == [-1]:
            body = word + "末日"
        elif all(1 <= d <= 31 for d in monthdays):
            body = word + "・".join(f"{d}日" for d in sorted(monthdays))
        else:
            return None
    else:
        return None
    text = prefix + body + suffix
    return text if parse_recurrence(text) == _canonical(rrule) else None


def _canonical(rrule: str) -> str | None:
    """The rule in ``parse_recurrence``'s own key order, for comparing two spellings."""
    parts = _split_rule(rrule)
    try:
        canonical = {
            "FREQ": parts["FREQ"],
            "INTERVAL": int(parts.get("INTERVAL", "1")),
            "BYMONTH": [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else ALL_MONTHS,
            "BYDAY": parts["BYDAY"].split(",") if "BYDAY" in parts else [],
            "BYMONTHDAY": [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else [],
        }
    except (KeyError, ValueError):
        return None
    return _format(canonical)


def _shape_problem(rrule: str) -> str | None:
    """Why a rule's frequency or parts are outside what a ward means; None when they are not.

    Cheap (no dateutil): ``expand`` asks it of every stored rule it expands.
    """
    try:
        parts = _split_rule(rrule)
    except ValueError:
        return "is not an RRULE"
    freq = parts.get("FREQ", "")
    if freq not in WARD_FREQUENCIES:
        return f"repeats more often than daily (FREQ={freq}); an event may repeat daily at most"
    for part, frequencies in PART_FREQUENCIES.items():
        if part in parts and freq not in frequencies:
            return f"has {part}, which a FREQ={freq} rule does not take"
    for part, limit in PART_LIMITS.items():
        if part in parts and not all(_within(v, limit) for v in parts[part].split(",")):
            return f"has {part}={parts[part]}, which names no day (at most {limit} either way)"
    return None


def _within(value: str, limit: int) -> bool:
    """A part's value is a whole number from 1 to ``limit``, or from -1 to -``limit``."""
    try:
        number = int(value)
    except ValueError:
        return False
    return 1 <= abs(number) <= limit


def rule_problem(rrule: str, start: date) -> str | None:
    """Why an imported rule is refused, as the end of a sentence about its cell; None when kept.

    Kept: daily and slower, with parts that go with its frequency, giving at most
    ``MAX_DATES_A_YEAR`` dates in the year from ``start`` (counted without the rule's COUNT or
    UNTIL, since how dense a rule is does not depend on when it ends; the count stops one past
    the bound). The Slack modal refuses RRULE text outright; an import cannot, since the CSV
    export writes a rule it cannot phrase in Japanese as RRULE text, and a re-import reads it back.
    """
    problem = _shape_problem(rrule)
    if problem:
        return problem
    parts = {k: v for k, v in _split_rule(rrule).items() if k not in ("COUNT", "UNTIL")}
    body = ";".join(f"{k}={v}" for k, v in parts.items())
    last = date.fromordinal(min(start.toordinal() + 364, date.max.toordinal()))
    found, _cut = _dates(body, start, start, last, limit=MAX_DATES_A_YEAR + 1)
    if len(found) > MAX_DATES_A_YEAR:
        return f"gives more than {MAX_DATES_A_YEAR} dates a year; an event may repeat daily at most"
    return None


@functools.lru_cache(maxsize=256)
def _warn_once(rrule: str, why: str) -> None:
    """Log a stored rule that expansion refuses or cuts short, once per rule and process: every
    listing expands every rule of its window, and would otherwise log it on every question."""
    logger.warning("recurrence %r %s; fix or re-import its event", rrule[:200], why)


# Parts that, when all absent, make dateutil take the days from DTSTART (its weekday for
# WEEKLY, its day for MONTHLY, its month and day for YEARLY).
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYEASTER")


def _with_start_days(rrule: str, start: date) -> str | None:
    """The rule with the days it would take from ``start`` written out; None when it cannot be moved.

    A rule can be re-anchored on a later DTSTART only if DTSTART then fixes nothing but the
    phase: not with COUNT (counted from the first event), nor below daily frequency (the
    time of day would matter).
    """
    try:
        parts = _split_rule(rrule)
    except ValueError:
        return None
    freq = parts.get("FREQ")
    if "COUNT" in parts or freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return None
    extra = []
    if not any(p in parts for p in _DAY_PARTS):
        if freq == "WEEKLY":
            extra.append(f"BYDAY={CODE_ORDER[start.weekday()]}")
        elif freq == "MONTHLY":
            extra.append(f"BYMONTHDAY={start.day}")
        elif freq == "YEARLY":
            if "BYMONTH" not in parts:
                extra.append(f"BYMONTH={start.month}")
            extra.append(f"BYMONTHDAY={start.day}")
    body = rrule.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    return ";".join([body, *extra])


def _anchor(freq: str, interval: int, start: date, low: date) -> date:
    """The latest DTSTART not after ``low`` that is ``start`` moved by whole periods of the rule.

    A period is ``interval`` days, weeks, months or years. Moved by whole periods, the rule
    counts the same weeks (隔週) and months (隔月) as from ``start``; a moved anchor is the
    first day of its month or year, which holds no day before ``start``.
    """
    if freq in ("DAILY", "WEEKLY"):
        step = interval * (7 if freq == "WEEKLY" else 1)
        return date.fromordinal(start.toordinal() + (low.toordinal() - start.toordinal()) // step * step)
    if freq == "MONTHLY":
        months = (low.year - start.year) * 12 + low.month - start.month
        moved = months // interval * interval
        if moved <= 0:
            return start
        year, month = divmod(start.year * 12 + start.month - 1 + moved, 12)
        return date(year, month + 1, 1)
    moved = (low.year - start.year) // interval * interval
    return start if moved <= 0 else date(start.year + moved, 1, 1)


def _month_filter(rrule: str) -> tuple[str, set[int] | None]:
    """The rule without its BYMONTH, and the months to keep, where BYMONTH is only a filter.

    dateutil looks for the next date period by period (week, month, year) and stops only at
    date.max when none comes: a rule whose periods all fall in closed months (隔月 counted from
    an even month, with 奇数月) would cost every period up to year 9999. Without BYMONTH every
    period yields, and filtering the months afterwards gives the same dates. BYMONTH is more
    than a filter with BYSETPOS in a YEARLY rule (positions are counted in the year after it)
    and in a YEARLY rule with an ordinal BYDAY (第3日曜日 of the month, not of the year); such
    rules are kept whole. A MONTHLY rule's period is one month, wholly in BYMONTH or not, so
    its positions are the same with or without it.
    """
    parts = _split_rule(rrule)
    if "BYMONTH" not in parts or ("BYSETPOS" in parts and parts.get("FREQ") != "MONTHLY"):
        return rrule, None
    if parts.get("FREQ") == "YEARLY" and re.search(r"\d", parts.get("BYDAY", "")):
        return rrule, None
    try:
        months = {int(m) for m in parts["BYMONTH"].split(",")}
    except ValueError:
        return rrule, None
    body = rrule.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    kept = [p for p in body.split(";") if not p.strip().upper().startswith("BYMONTH=")]
    return ";".join(kept), months


def _moved(day: date, years: int) -> date:
    """``day`` moved by ``years``, a whole number of calendar cycles: the same month and day."""
    return day.replace(year=day.year + years) if years else day


def _until_moved(rrule: str, years: int, high: date) -> str:
    """The rule with its UNTIL moved by ``years``; an UNTIL after ``high`` is dropped (the window
    ends first), which also keeps the moved rule within the calendar."""
    if not years:
        return rrule
    kept = []
    for part in rrule.strip().split(";"):
        name, _, value = part.partition("=")
        m = re.match(r"(\d{4})(\d{2})(\d{2})", value.strip()) if name.strip().upper() == "UNTIL" else None
        if m:
            try:
                until = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                until = None
            if until and until > high:
                continue
            if until:
                part = f"{name}={until.year + years:04d}{value.strip()[4:]}"
        kept.append(part)
    return ";".join(kept)


def _dates(rrule: str, dtstart: date, low: date, high: date, limit: int = MAX_EXPANDED) -> tuple[list[date], bool]:
    """Dates of the rule from ``dtstart`` between low and high (both included), and whether the
    rule was cut short: at most ``limit`` dates are taken from dateutil, those before ``low``
    included, so what a rule gives is bounded whatever it says.

    dateutil stops searching for a next date only at year 9999: a rule whose filters match no
    day after the window (FREQ=MONTHLY;BYDAY=+5MO;BYMONTHDAY=1) would cost every period up to
    there. The rule is expanded whole calendar cycles later instead (``CALENDAR_CYCLE``), in
    the calendar's last cycle after the window, so such a search ends within 400 years.
    dateutil builds a whole week, month or year at a time, and raises when that period runs
    past date.max; the dates before that point have been yielded in order, so they are kept.
    A rule dateutil cannot read gives no dates.
    """
    years = (date.max.year - high.year) // CALENDAR_CYCLE * CALENDAR_CYCLE
    try:
        rule = rrulestr(
            _until_moved(rrule, years, high), dtstart=datetime.combine(_moved(dtstart, years), time()), ignoretz=True
        )
    except (ValueError, TypeError):
        return [], False
    low, high = _moved(low, years), _moved(high, years)
    out: list[date] = []
    try:
        for taken, moment in enumerate(rule):
            if taken == limit:
                return out, True
            day = moment.date()
            if day > high:
                break
            if day >= low:
                out.append(_moved(day, -years))
    except (ValueError, OverflowError):
        pass
    return out, False


def expand(rrule: str, start: date, until: date | None, window_start: date, window_end: date) -> list[date]:
    """Dates of a rule counted from ``start`` (and not after ``until``) inside the window.

    Both ends of the window are included. ``start`` anchors the rule as DTSTART does, which
    matters for INTERVAL=2 (隔週): the weeks counted are those of the first event. The rule is
    expanded from a DTSTART moved forward by whole periods to just before the window (see
    ``_anchor``), so the cost follows the window, not the years since ``start``; the dates are
    those counted from ``start``. Any dates from date.min to date.max are accepted.

    A rule of a shape no ward means (``_shape_problem``: more often than daily, parts its
    frequency does not take) gives no dates, and no rule gives more than ``MAX_EXPANDED``; both
    are logged once, so a rule stored before imports were checked cannot stall a listing.
    """
    low = max(start, window_start)
    high = min(until, window_end) if until else window_end
    if low > high:
        return []
    problem = _shape_problem(rrule)
    if problem:
        _warn_once(rrule, problem)
        return []
    found, cut = _expand(rrule, start, low, high)
    if cut:
        _warn_once(rrule, f"gave more than {MAX_EXPANDED} dates in one expansion; the rest were left out")
    return found


def _expand(rrule: str, start: date, low: date, high: date) -> tuple[list[date], bool]:
    """``expand``'s dates between low and high, from a DTSTART near ``low`` where the rule can be
    moved (see ``_anchor``), and whether ``MAX_EXPANDED`` cut them short."""
    movable = _with_start_days(rrule, start)
    if movable is None:
        return _dates(rrule.strip(), start, low, high)
    parts = _split_rule(movable)
    try:
        interval = int(parts.get("INTERVAL", "1"))
    except ValueError:
        interval = 0
    if interval < 1:
        return _dates(rrule.strip(), start, low, high)
    unfiltered, months = _month_filter(movable)
    found, cut = _dates(unfiltered, _anchor(parts["FREQ"], interval, start, low), low, high)
    return (found if months is None else [d for d in found if d.month in months]), cut
