"""Today is Japan's whatever the server's zone; the unanswered log keeps what staff need."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import Config, ConfigError
from knowledge import ask
from knowledge.lang import clock
from knowledge.settings import Settings
from knowledge.store import unanswered

LATE_UTC = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # Friday 23:30 UTC = Saturday 08:30 in Tokyo


@pytest.fixture
def late_evening_utc(monkeypatch):
    monkeypatch.setattr(clock, "_utcnow", lambda: LATE_UTC)


def test_today_is_tokyos_at_2330_utc(late_evening_utc, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    assert clock.today() == date(2026, 12, 5)
    assert clock.Clock.named(None).today() == date(2026, 12, 5)
    assert clock.Clock.named("UTC").today() == date(2026, 12, 4)


def test_a_deploys_zone_reaches_ask_through_its_settings(late_evening_utc, demo_db):
    """The zone is passed down in the settings the edge made, not set in a global: two settings
    in one process give two days."""
    utc = Settings(clock=clock.Clock.named("UTC"))
    assert ask(demo_db, "今日のイベント", area="横浜市旭区", log=False, settings=utc).understanding.today == date(
        2026, 12, 4
    )
    assert ask(demo_db, "今日のイベント", area="横浜市旭区", log=False).understanding.today == date(2026, 12, 5)


def test_an_unknown_zone_is_refused_with_its_name():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        clock.Clock.named("Mars/Olympus")


def test_ask_without_today_uses_japans_date(late_evening_utc, demo_db):
    answer = ask(demo_db, "今日のイベント", area="横浜市旭区", log=False)
    assert answer.understanding.today == date(2026, 12, 5)
    assert answer.understanding.when.start == date(2026, 12, 5)


def test_web_today_is_japans(demo_db_path, monkeypatch):
    """At 16:00 UTC on the day of 赤ちゃんサロン (2nd Tuesday, 2026-12-08) it is already the 9th
    in Japan: the next session is January's, not today's."""
    from bot.app import create_app

    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 12, 8, 16, 0, tzinfo=UTC))
    client = create_app(Config(db_path=str(demo_db_path))).test_client()

    def ask_on(**today):
        return client.get(
            "/api/ask", query_string={"q": "赤ちゃんサロンはいつ？", "area": "横浜市旭区", **today}
        ).get_json()

    by_clock, japan, server = ask_on(), ask_on(today="2026-12-09"), ask_on(today="2026-12-08")
    assert japan != server  # the question's answer depends on the day
    assert by_clock == japan and "2027年1月12日" in by_clock["text"].splitlines()[1]


def test_time_zone_is_configurable_and_checked():
    assert Config.from_env({}).timezone == "Asia/Tokyo"
    assert Config.from_env({"KOSODATE_TIMEZONE": "Asia/Seoul"}).timezone == "Asia/Seoul"
    with pytest.raises(ConfigError):
        Config.from_env({"KOSODATE_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError):
        Config.from_env({"KOSODATE_UNANSWERED_DAYS": "0"})


@pytest.mark.parametrize("value", ["2000-01-01", "2026-11-25", "2099-12-31"])
def test_parse_day_accepts_the_sane_range(value):
    assert clock.parse_day(value) == date.fromisoformat(value)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01", "2026-02-30", "", "明日"])
def test_parse_day_refuses_the_rest(value):
    with pytest.raises(ValueError):
        clock.parse_day(value)


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("保育園\x00の申込\x07は？", "保育園 の申込 は?"),
        ("一時預かり\r\n\tどこ？\u200b", "一時預かり どこ?"),
        ("連絡は 090-1234-5678 まで", f"連絡は {unanswered.MASK_PHONE} まで"),
        ("０４５‐１２３‐４５６７に電話", f"{unanswered.MASK_PHONE}に電話"),
        ("電話 0312345678 です", f"電話 {unanswered.MASK_PHONE} です"),
        ("+81 90 1234 5678", unanswered.MASK_PHONE),
        ("mama.taro+kid@example.co.jp に返事を", f"{unanswered.MASK_EMAIL} に返事を"),
        ("連絡はtaro@example.comまで", f"連絡は{unanswered.MASK_EMAIL}まで"),  # not the words around it
        ("090.1234.5678", unanswered.MASK_PHONE),
        ("2026年12月20日の10時から", "2026年12月20日の10時から"),  # dates and times are not phone numbers
        ("子どもは3人、1歳と4歳と6歳", "子どもは3人、1歳と4歳と6歳"),
    ],
)
def test_clean_strips_controls_and_masks_contacts(raw, kept):
    assert unanswered.clean(raw) == kept


def test_clean_caps_the_length():
    kept = unanswered.clean("あ" * 5000)
    assert len(kept) == unanswered.MAX_CHARS and kept.endswith("…")


def test_one_asker_is_rate_limited_others_are_not(demo_db):
    policy = unanswered.Policy(per_hour=3)
    stored = [
        unanswered.record(demo_db, f"質問{i}", area=None, best_score=0.1, asker="line:U1", policy=policy)
        for i in range(5)
    ]
    assert stored == [True, True, True, False, False]
    assert unanswered.record(demo_db, "別の人", area=None, best_score=0.1, asker="line:U2", policy=policy)
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert unanswered.record(demo_db, "一時間後", area=None, best_score=0.1, asker="line:U1", now=later, policy=policy)
    texts = [r["text"] for r in demo_db.query("SELECT text FROM unanswered")]
    assert texts[-5:] == ["質問0", "質問1", "質問2", "別の人", "一時間後"]
    assert all("U1" not in (r["asker"] or "") for r in demo_db.query("SELECT asker FROM unanswered"))


def test_rows_older_than_the_retention_are_deleted(demo_db):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    unanswered.record(demo_db, "古い質問", area=None, best_score=0.1, now=now - timedelta(days=91))
    unanswered.record(demo_db, "最近の質問", area=None, best_score=0.1, now=now - timedelta(days=89))
    unanswered.record(demo_db, "今日の質問", area=None, best_score=0.1, now=now)
    texts = {r["text"] for r in demo_db.query("SELECT text FROM unanswered")}
    assert "古い質問" not in texts and {"最近の質問", "今日の質問"} <= texts


def test_staff_writes_and_the_slack_digest_take_the_deploys_day(demo_db, monkeypatch):
    """At 18:00 UTC on Monday 2 March it is Monday in Los Angeles and Tuesday in Tokyo: a deploy
    in Los Angeles passes its own day down, and staff's event and digest follow it."""
    from handlers.slack.listeners.commands import digest_args
    from knowledge.staff import events

    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    la = clock.Clock.named("America/Los_Angeles").today()
    assert (la, clock.today()) == (date(2026, 3, 2), date(2026, 3, 3))
    assert not events.is_past(date(2026, 3, 2), la) and events.is_past(date(2026, 3, 2))
    assert digest_args([], la)[1] == date(2026, 3, 2)  # this Monday's week, not the next
    weekly = events.EventInput(title="月曜のひろば", recurrence="毎週月曜日")
    row = events.add(demo_db, "横浜市旭区", weekly, actor="slack:U1", today=la)
    assert row["recurrence_start"] == "2026-03-02"  # starts on the deploy's Monday, not Tokyo's Tuesday


def test_a_parents_date_pickers_end_on_the_deploys_day(demo_db, monkeypatch):
    """The setup's birth-month picker is bounded by the parent's day on the deploy's clock,
    passed down from the conversation (Tokyo is already on Tuesday)."""
    from handlers.line import conversation
    from knowledge.parents import profiles

    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    la = Settings(clock=clock.Clock.named("America/Los_Angeles"))
    profiles.follow(demo_db, "U1", step="area")
    reply = conversation.on_postback(demo_db, "U1", "a=area&v=横浜市旭区", None, None, settings=la)
    pickers = [
        i.action for m in reply if m.quick_reply for i in m.quick_reply.items if i.action.type == "datetimepicker"
    ]
    assert pickers and pickers[0].max == "2026-03-02"
