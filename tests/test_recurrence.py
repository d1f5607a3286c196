"""Recurrence phrases -> RRULE -> dates, and back to Japanese for the CSV export."""

from datetime import date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from knowledge.lang import recurrence
from knowledge.lang.recurrence import describe, expand, parse_recurrence, rule_problem


@pytest.mark.parametrize(
    "phrase, rule",
    [
        ("毎週水曜日", "FREQ=WEEKLY;BYDAY=WE"),
        ("毎月第2火曜日", "FREQ=MONTHLY;BYDAY=+2TU"),
        ("第1・第3金曜日", "FREQ=MONTHLY;BYDAY=+1FR,+3FR"),
        ("第1、3金曜", "FREQ=MONTHLY;BYDAY=+1FR,+3FR"),
        ("毎月第２・４木曜日", "FREQ=MONTHLY;BYDAY=+2TH,+4TH"),
        ("毎月15日", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("毎月１５日", "FREQ=MONTHLY;BYMONTHDAY=15"),  # full-width digits
        ("毎月5日・20日", "FREQ=MONTHLY;BYMONTHDAY=5,20"),
        ("毎月最終土曜", "FREQ=MONTHLY;BYDAY=-1SA"),
        ("毎月末", "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("隔週水曜日", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
        ("隔月第2火曜日", "FREQ=MONTHLY;INTERVAL=2;BYDAY=+2TU"),
        ("毎週土曜日 10時～", "FREQ=WEEKLY;BYDAY=SA"),
        ("毎週土日", "FREQ=WEEKLY;BYDAY=SA,SU"),
        ("毎週月曜日から金曜日", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("毎月曜日", "FREQ=WEEKLY;BYDAY=MO"),
        ("毎月第1月曜日と第3水曜日", "FREQ=MONTHLY;BYDAY=+1MO,+3WE"),
        ("奇数月の第2火曜日", "FREQ=MONTHLY;BYMONTH=1,3,5,7,9,11;BYDAY=+2TU"),
        # 岡崎市's real 開始日時特記事項: the closed month leaves BYMONTH.
        ("毎月第2金曜日（10月は開催なし）", "FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,7,8,9,11,12;BYDAY=+2FR"),
        ("第3水曜日（8月・12月は休み）", "FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,7,9,10,11;BYDAY=+3WE"),
        ("毎年5月第3日曜日", "FREQ=YEARLY;BYMONTH=5;BYDAY=+3SU"),
        ("毎日", "FREQ=DAILY"),
        ("RRULE:FREQ=MONTHLY;BYDAY=+2TU", "FREQ=MONTHLY;BYDAY=+2TU"),
    ],
)
def test_phrase_to_rrule(phrase, rule):
    assert parse_recurrence(phrase) == rule


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "毎月1回",
        "不定期",
        "8月4日（火曜日）",
        "12/29から1/3まで休み",
        # 岡崎市's zoo: a note, not a rule.
        "動物園の別イベントと重複した場合に実施しないことがあります。祝日も開催することがあります。",
        "FREQ=SOMETIMES",
    ],
)
def test_no_rule_stated(text):
    assert parse_recurrence(text) is None


def test_second_tuesday_in_november_and_december_2026():
    rule = parse_recurrence("毎月第2火曜日")
    got = expand(rule, date(2025, 4, 1), None, date(2026, 11, 1), date(2026, 12, 31))
    assert got == [date(2026, 11, 10), date(2026, 12, 8)]


def test_weekly_wednesday_in_january_2026():
    got = expand(parse_recurrence("毎週水曜日"), date(2025, 4, 1), None, date(2026, 1, 1), date(2026, 1, 31))
    assert got == [date(2026, 1, 7), date(2026, 1, 14), date(2026, 1, 21), date(2026, 1, 28)]


def test_first_and_third_friday_and_last_saturday():
    window = (date(2026, 8, 1), date(2026, 8, 31))
    assert expand(parse_recurrence("第1・第3金曜日"), date(2025, 4, 1), None, *window) == [
        date(2026, 8, 7),
        date(2026, 8, 21),
    ]
    assert expand(parse_recurrence("毎月最終土曜"), date(2025, 4, 1), None, *window) == [date(2026, 8, 29)]
    assert expand(parse_recurrence("毎月15日"), date(2025, 4, 1), None, *window) == [date(2026, 8, 15)]


def test_closed_month_is_skipped():
    rule = parse_recurrence("毎月第2金曜日（10月は開催なし）")
    got = expand(rule, date(2026, 8, 14), None, date(2026, 8, 1), date(2026, 12, 31))
    assert got == [date(2026, 8, 14), date(2026, 9, 11), date(2026, 11, 13), date(2026, 12, 11)]


def test_start_and_until_bound_the_window():
    rule = parse_recurrence("毎週水曜日")
    # Nothing before the series starts, nothing after it ends.
    assert expand(rule, date(2026, 1, 20), date(2026, 2, 4), date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 21),
        date(2026, 1, 28),
        date(2026, 2, 4),
    ]
    assert expand(rule, date(2026, 3, 1), None, date(2026, 1, 1), date(2026, 1, 31)) == []


def test_every_other_week_counts_from_the_first_event():
    rule = parse_recurrence("隔週水曜日")
    got = expand(rule, date(2026, 1, 7), None, date(2026, 1, 1), date(2026, 2, 28))
    assert got == [date(2026, 1, 7), date(2026, 1, 21), date(2026, 2, 4), date(2026, 2, 18)]


@pytest.mark.parametrize(
    "rule, text",
    [
        ("FREQ=WEEKLY;BYDAY=WE", "毎週水曜日"),
        ("FREQ=MONTHLY;BYDAY=+2TU", "毎月第2火曜日"),
        ("FREQ=MONTHLY;BYDAY=+1FR,+3FR", "毎月第1・第3金曜日"),
        ("FREQ=MONTHLY;BYDAY=-1SA", "毎月最終土曜日"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "毎月15日"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "隔週水曜日"),
        ("FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,7,8,9,11,12;BYDAY=+2FR", "毎月第2金曜日（10月は休み）"),
        ("FREQ=MONTHLY;BYMONTH=1,3,5,7,9,11;BYDAY=+2TU", "奇数月の第2火曜日"),
        ("FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=5", "毎年5月5日"),
    ],
)
def test_describe_is_the_inverse_of_parse(rule, text):
    assert describe(rule) == text
    assert parse_recurrence(text) == rule


def test_describe_gives_up_on_rules_it_cannot_phrase():
    assert describe("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR") is None
    assert describe("FREQ=WEEKLY;COUNT=4;BYDAY=SA") is None
    assert describe(None) is None


# --- expansion starts near the window: the same dates as counted from the rule's start ------

WEEKDAY = st.sampled_from("月火水木金土日")
ORDINAL = st.sampled_from(["第1", "第2", "第3", "第4", "第5", "最終"])
MONTH_PREFIX = st.sampled_from(["", "奇数月の", "偶数月の"])
CLOSED = st.lists(st.integers(1, 12), max_size=2, unique=True).map(
    lambda ms: "（" + "・".join(f"{m}月" for m in ms) + "は休み）" if ms else ""
)


@st.composite
def phrases(draw):
    """Japanese phrases of every shape parse_recurrence turns into a rule."""
    kind = draw(
        st.sampled_from(
            ["weekly", "biweekly", "ordinal", "monthday", "monthend", "yearly_day", "yearly_ordinal", "daily"]
        )
    )
    every = draw(st.sampled_from(["毎月", "隔月"]))
    if kind in ("weekly", "biweekly"):
        days = draw(st.lists(WEEKDAY, min_size=1, max_size=3, unique=True))
        return ("毎週" if kind == "weekly" else "隔週") + "・".join(days) + "曜日" + draw(CLOSED)
    if kind == "ordinal":
        ordinals = draw(st.lists(ORDINAL, min_size=1, max_size=2, unique=True))
        prefix = draw(MONTH_PREFIX)
        return (
            prefix
            + ("" if prefix and every == "毎月" else every)
            + "・".join(ordinals)
            + draw(WEEKDAY)
            + "曜日"
            + draw(CLOSED)
        )
    if kind == "monthday":
        days = draw(st.lists(st.sampled_from([1, 5, 15, 28, 29, 30, 31]), min_size=1, max_size=2, unique=True))
        return (
            draw(MONTH_PREFIX)
            + "毎月"
            + "・".join(f"{d}日" for d in days)
            + ("（隔月）" if every == "隔月" else "")
            + draw(CLOSED)
        )
    if kind == "monthend":
        return draw(MONTH_PREFIX) + "毎月末日" + ("（隔月）" if every == "隔月" else "") + draw(CLOSED)
    if kind == "yearly_day":
        return f"毎年{draw(st.integers(1, 12))}月{draw(st.sampled_from([1, 15, 29, 30, 31]))}日"
    if kind == "yearly_ordinal":
        return f"毎年{draw(st.integers(1, 12))}月{draw(ORDINAL)}{draw(WEEKDAY)}曜日"
    return "毎日" + draw(CLOSED)


# Rules passed through as RRULE text, where DTSTART gives the days or the week start.
HANDWRITTEN = st.sampled_from(
    [
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;INTERVAL=3",
        "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SA,SU",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;INTERVAL=5",
        "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=31",
        "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=YEARLY",
        "FREQ=YEARLY;INTERVAL=2",
        "FREQ=YEARLY;INTERVAL=3;BYMONTH=2,8",
        "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=DAILY;INTERVAL=10;BYMONTH=1,7",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        # positions in a month are counted with BYMONTH set aside and the months filtered after
        "FREQ=MONTHLY;BYMONTH=1,7;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
        # an UNTIL or a COUNT, with the rule expanded whole calendar cycles later
        "FREQ=WEEKLY;UNTIL=20270315;BYDAY=MO,TH",
        "FREQ=MONTHLY;BYDAY=+2TU;UNTIL=20300101T000000Z",
        "FREQ=DAILY;COUNT=50",
    ]
)


def naive_expand(rrule, start, until, window_start, window_end):
    """The expansion as it was: dateutil counting every period from ``start``."""
    low = max(start, window_start)
    high = min(until, window_end) if until else window_end
    if low > high:
        return []
    rule = rrulestr(rrule.strip(), dtstart=datetime.combine(start, time()), ignoretz=True)
    return [d.date() for d in rule.between(datetime.combine(low, time()), datetime.combine(high, time()), inc=True)]


@st.composite
def windows(draw):
    start = draw(st.dates(date(1990, 1, 1), date(2040, 12, 31)))
    window_start = start + timedelta(days=draw(st.integers(-3 * 366, 6 * 366)))
    window_end = window_start + timedelta(days=draw(st.integers(0, 800)))
    until = draw(st.none() | st.integers(-100, 900).map(lambda n: window_start + timedelta(days=n)))
    return start, until, window_start, window_end


@settings(max_examples=300, deadline=None)  # the naive reference spins to 9999 on a rule that never matches
@given(st.one_of(phrases().map(parse_recurrence), HANDWRITTEN), windows())
def test_expansion_near_the_window_equals_expansion_from_the_start(rule, window):
    assume(rule is not None)
    assert expand(rule, *window) == naive_expand(rule, *window)


def test_every_other_week_keeps_its_phase_years_later():
    rule = parse_recurrence("隔週水曜日")
    got = expand(rule, date(2026, 1, 7), None, date(2036, 1, 1), date(2036, 1, 31))
    # 2036-01-02 is 521 weeks after 2026-01-07: an odd week, so not held; 2036-01-09 is.
    assert got == [date(2036, 1, 9), date(2036, 1, 23)]
    assert got == naive_expand(rule, date(2026, 1, 7), None, date(2036, 1, 1), date(2036, 1, 31))


def test_every_other_month_keeps_its_phase_years_later():
    rule = parse_recurrence("隔月第2火曜日")
    got = expand(rule, date(2025, 4, 1), None, date(2031, 1, 1), date(2031, 4, 30))
    assert [d.month for d in got] == [2, 4]  # April 2025 + 70 months = February 2031


ANY_DAY = st.one_of(st.dates(), st.dates(min_value=date(9998, 1, 1)), st.dates(max_value=date(2, 12, 31)))


@given(st.one_of(phrases().map(parse_recurrence), HANDWRITTEN), ANY_DAY, ANY_DAY, st.integers(0, 400))
def test_expansion_anywhere_in_the_calendar_never_raises(rule, start, window_start, days):
    """Any start and any 400-day window, up to date.max: no overflow, and quick (hypothesis' deadline)."""
    assume(rule is not None)
    window_end = date.fromordinal(min(window_start.toordinal() + days, date.max.toordinal()))
    got = expand(rule, start, None, window_start, window_end)
    assert got == sorted(got)
    assert all(max(start, window_start) <= d <= window_end for d in got)


# --- bounds: what a ward means, and what one expansion may cost ------------------------------

START = date(2025, 4, 1)


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("FREQ=SECONDLY", "repeats more often than daily (FREQ=SECONDLY)"),
        ("FREQ=MINUTELY;INTERVAL=30", "repeats more often than daily (FREQ=MINUTELY)"),
        ("RRULE:FREQ=HOURLY;BYHOUR=10", "repeats more often than daily (FREQ=HOURLY)"),
        ("FREQ=DAILY;BYHOUR=9,13", "gives more than 400 dates a year"),  # 730
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=9,13;UNTIL=20250501", "gives more than 400 dates a year"),
        ("FREQ=DAILY;BYMONTHDAY=30;BYYEARDAY=60", "has BYYEARDAY, which a FREQ=DAILY rule does not take"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "has BYMONTHDAY, which a FREQ=WEEKLY rule does not take"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=1", "has BYSETPOS, which a FREQ=DAILY rule does not take"),
        ("FREQ=YEARLY;BYEASTER=0", "has BYEASTER, which a FREQ=YEARLY rule does not take"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "has BYMONTHDAY=32, which names no day"),
    ],
)
def test_rules_beyond_a_ward_are_refused_with_a_reason(rule, reason):
    assert reason in rule_problem(rule, START)


@pytest.mark.parametrize(
    "rule",
    ["FREQ=SECONDLY", "FREQ=HOURLY", "FREQ=WEEKLY;BYMONTHDAY=3", "FREQ=DAILY;BYSETPOS=1", "FREQ=DAILY;BYMONTHDAY=0"],
)
def test_a_stored_rule_of_a_shape_no_ward_means_gives_no_dates(rule):
    """A rule stored before imports were checked, or written by hand into the base."""
    assert expand(rule, START, None, date(2026, 7, 6), date(2026, 7, 12)) == []


@pytest.mark.parametrize(
    "rule",
    [
        parse_recurrence("毎日"),
        parse_recurrence("毎週水曜日"),
        parse_recurrence("毎月第2火曜日"),
        parse_recurrence("毎年5月第3日曜日"),
        "FREQ=DAILY;COUNT=500",  # dense as a day is, whatever its end
        "FREQ=WEEKLY;BYDAY=SA;BYHOUR=10,14",  # two sessions each Saturday: 104 a year
        "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
    ],
)
def test_daily_and_slower_rules_are_kept(rule):
    assert rule_problem(rule, START) is None


def test_a_daily_rule_in_a_leap_year_is_within_the_bound():
    assert rule_problem("FREQ=DAILY", date(2028, 1, 1)) is None  # 366 dates
    assert len(expand("FREQ=DAILY", date(2028, 1, 1), None, date(2028, 1, 1), date(2028, 12, 31))) == 366


class CountingRules:
    """``rrulestr`` as ``recurrence`` calls it, counting the dates each rule gives and noting its
    DTSTART: what an expansion costs, read without a clock."""

    def __init__(self):
        self.taken: list[int] = []
        self.starts: list[datetime] = []

    def __call__(self, text, **kwargs):
        rule = rrulestr(text, **kwargs)
        self.starts.append(kwargs["dtstart"])
        self.taken.append(0)
        return self._counted(rule, len(self.taken) - 1)

    def _counted(self, rule, slot):
        for moment in rule:
            self.taken[slot] += 1
            yield moment


@pytest.fixture
def counting(monkeypatch):
    counter = CountingRules()
    monkeypatch.setattr(recurrence, "rrulestr", counter)
    return counter


def test_a_rule_of_every_second_in_the_base_costs_a_listing_nothing(demo_db, counting):
    """今週のイベント ran past 20 s with FREQ=SECONDLY stored: such a rule is not expanded at all."""
    from knowledge import ask
    from knowledge.answers.listings import events_between

    area = demo_db.execute("SELECT area FROM activities WHERE recurrence IS NOT NULL LIMIT 1").fetchone()[0]
    demo_db["activities"].insert(
        {
            "id": "act-every-second",
            "title": "毎秒ひろば",
            "kind": "event",
            "area": area,
            "audience": "[]",
            "recurrence": "FREQ=SECONDLY",
            "recurrence_start": "2025-04-01",
        }
    )
    listed = events_between(demo_db, area, date(2026, 7, 6), date(2026, 7, 12))
    assert listed and "毎秒ひろば" not in [e.title for e in listed]
    answer = ask(demo_db, "今週のイベント", area=area, today=date(2026, 7, 8))
    assert answer.text and "毎秒ひろば" not in answer.text
    assert counting.taken and max(counting.taken) <= recurrence.MAX_EXPANDED


def test_a_rule_of_many_times_a_day_is_cut_at_the_cap(counting):
    every_minute = "FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=" + ",".join(map(str, range(60)))
    got = expand(every_minute, START, None, date(2026, 7, 6), date(2026, 7, 12))
    assert got and set(got) == {date(2026, 7, 6), date(2026, 7, 7)}  # 1,440 a day: the cap ends day two
    assert counting.taken == [recurrence.MAX_EXPANDED + 1]  # the cap's own date is fetched, then left


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYDAY=+5MO;BYMONTHDAY=1",  # a fifth Monday is never the first
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # from a Monday, every seventh day is a Monday
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    ],
)
def test_a_rule_that_matches_no_day_searches_one_calendar_cycle_at_most(rule, counting):
    """dateutil searches for a next date up to year 9999: the rule is expanded in the calendar's
    last 400-year cycle, so that search ends within one cycle of the window."""
    assert expand(rule, date(2026, 4, 6), None, date(2026, 7, 6), date(2026, 7, 12)) == []
    assert counting.starts and all(date.max.year - s.year < recurrence.CALENDAR_CYCLE for s in counting.starts)
