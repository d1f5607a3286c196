"""Recurrence phrases -> RRULE -> dates, and back to Japanese for the CSV export."""

from datetime import date

import pytest

from knowledge.recurrence import describe, expand, parse_recurrence


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
