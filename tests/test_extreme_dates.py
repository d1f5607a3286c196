"""Questions asked on the first and last days of the calendar, and far in the future, through ask()."""

from datetime import date

import pytest

from knowledge import ask
from knowledge.answers.schedule import dates_in, upcoming

QUESTIONS = [
    "来月のイベント",
    "今年度の行事",
    "来週の土曜日のイベント",
    "再来週のイベント",
    "明日のイベント",
    "あさってのイベント",
    "12月20日のイベント",
    "9月のイベント",
    "土曜日のイベント",
    "今週末のイベント",
    "今週のイベント",
    "今日のイベント",
    "赤ちゃんサロンはいつ？",
    "沐浴体験",
]


@pytest.mark.parametrize("today", [date.min, date.max, date(9999, 12, 27), date(9998, 6, 1), date(1, 3, 31)])
def test_ask_answers_on_any_day(demo_db, today):
    for question in QUESTIONS:
        answer = ask(demo_db, question, today=today)
        assert answer.text, (question, today)


def _an_activity(db, recurring: bool) -> str:
    where = "recurrence IS NOT NULL" if recurring else "recurrence IS NULL"
    return db.execute(f"SELECT id FROM activities WHERE {where} LIMIT 1").fetchone()[0]


def test_upcoming_stops_at_the_end_of_the_calendar(demo_db):
    activity = _an_activity(demo_db, recurring=True)  # counted from 2025: dates up to 9999-12-31
    got = upcoming(demo_db, activity, date(9999, 12, 1), limit=10)
    assert got and all(date(9999, 12, 1) <= o.day <= date.max for o in got)
    assert upcoming(demo_db, activity, date.max, limit=10) == [o for o in got if o.day == date.max]


def test_a_month_occurrence_in_december_9999(demo_db):
    activity = _an_activity(demo_db, recurring=False)
    demo_db["occurrences"].insert(
        {"id": "occ-test-9999", "activity_id": activity, "date": "9999-12-01", "precision": "month"}
    )
    got = dates_in(demo_db, activity, date(9999, 12, 31), date.max)
    assert [(o.day, o.precision) for o in got] == [(date(9999, 12, 1), "month")]
