"""Shared pieces of the digest tests: a ward's week of events, parents, delivery counts, the
``digest send`` command; and, loaded as a plugin (``pytest_plugins`` in tests/conftest.py), their
fixtures: ``west`` (a base with the ward's week, today fixed), ``waits`` (the back-off's waits) and
``staff_report`` (a fake Slack API that records the staff report)."""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.lang import clock
from knowledge.parents import digest
from knowledge.parents import profiles as parents

WEEK = date(2026, 12, 7)  # a Monday
TOKEN = "digest-test-token"
SECRET = "digest-test-secret"
MULTICAST = "/v2/bot/message/multicast"
PUSH = "/v2/bot/message/push"
MESSAGE_PATHS = (MULTICAST, PUSH)


class Killed(Exception):
    """The run dies here (as a process killed at that point would)."""


def event(eid, title, day, who="", status="", start="10:00", end="11:00", place="西区子育て支援センター"):
    return {
        "ID": eid,
        "イベント名": title,
        "開始日": day,
        "終了日": day,
        "開始時間": start,
        "終了時間": end,
        "対象者": who,
        "状態": status,
        "場所名称": place,
        "説明": f"{title}です。",
    }


WEST_EVENTS = [
    event("WX001", "おやこ英語あそび", "2026/12/10", "1歳から3歳の親子", start="10:30"),
    event("WX002", "ベビーヨガ", "2026/12/10", "生後3か月から1歳未満の赤ちゃんと保護者", start="13:30"),
    event("WX003", "もちつき大会", "2026/12/12", "どなたでも"),
    event("WX004", "プレママ教室", "2026/12/13", "妊娠中の方とパートナー"),
    event("WX005", "クリスマス会", "2026/12/12", "0歳から就学前", status="中止", start="13:30"),
    event("WX007", "なわとび教室", "2026/12/11", "年中～小3"),
    event("WX008", "来週のひろば", "2026/12/14", ""),  # the day after the week: not in it
]
MIHARA_EVENTS = [event("MX001", "親子クッキング", "2026/12/10", "4歳以上の子どもと保護者", place="美原区役所")]


def uid(n: int) -> str:
    return f"U{n:032x}"


def add_parent(
    db, n: int, area: str | None = "堺市西区", month: str | None = None, due: bool = False, off: bool = False
) -> str:
    user = uid(n)
    parents.update(db, user, area=area, child_month=month, child_due=due, child_asked=True, digest_off=off)
    return user


def many(db, count: int, start: int = 0, **fields) -> list[str]:
    """``count`` parents of one group, in one transaction (faster than one update each)."""
    users = [uid(start + i) for i in range(count)]
    with digest.writing(db):
        for user in users:
            parents.update(db, user, area="堺市西区", child_asked=True, **fields)
    return users


def set_today(monkeypatch, day: date = date(2026, 12, 3)) -> None:
    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))


def deliveries(fake) -> Counter:
    """Messages each user would have received: accepted push and multicast calls only."""
    got: Counter = Counter()
    for r in fake.requests:
        if r.method == "POST" and r.path in MESSAGE_PATHS and r.accepted:
            to = r.json["to"]
            got.update([to] if isinstance(to, str) else to)
    return got


def message_calls(fake) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path in MESSAGE_PATHS]


# --- the send command ---------------------------------------------------------------------------


def db_path(db) -> str:
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def env(db, fake, **extra) -> dict:
    return {
        "KOSODATE_DB": db_path(db),
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake.url,
        "KOSODATE_LOG_LEVEL": "INFO",
        **extra,
    }


def send(db, fake, *args, **extra):
    return CliRunner().invoke(cli, ["digest", "send", "--week", WEEK.isoformat(), *args], env=env(db, fake, **extra))


def accepted_then_killed(monkeypatch):
    """The next run's calls reach LINE, then the run dies before recording them."""
    from handlers.line import push as line_push  # here: the plugin is loaded by every test session

    real = line_push.send

    def dying(api, user_ids, messages, key):
        real(api, user_ids, messages, key)
        raise Killed()

    monkeypatch.setattr(line_push, "send", dying)
    return real


# --- the staff report on Slack ------------------------------------------------------------------


def slack_texts(server) -> list[str]:
    """The texts posted to the fake Slack API (``staff_report``), in order."""
    out = []
    for request, _ in server.log:
        body = request.get_data(as_text=True)
        data = json.loads(body) if body.startswith("{") else dict(urllib.parse.parse_qsl(body))
        out.append(data["text"])
    return out


def slack_env(server) -> dict:
    """The settings that send the staff report to the fake Slack API ``server``."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_REPORT_CHANNEL": "C0STAFF",
        "SLACK_API_BASE_URL": server.url_for("/"),
    }


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def west(events_db, monkeypatch):
    events_db.add("堺市西区", WEST_EVENTS)
    set_today(monkeypatch)
    return events_db


@pytest.fixture
def waits(monkeypatch):
    """The back-off's waits, recorded instead of slept."""
    from handlers.line import push as line_push  # here: the plugin is loaded by every test session

    recorded: list[float] = []
    monkeypatch.setattr(line_push, "sleep", recorded.append)
    return recorded


@pytest.fixture
def staff_report(httpserver):
    """A fake Slack API that accepts ``chat.postMessage``: where a run's staff report goes
    (``slack_env(staff_report)``), read back with ``slack_texts(staff_report)``."""
    httpserver.expect_request("/chat.postMessage", method="POST").respond_with_json({"ok": True, "ts": "1.0"})
    return httpserver
