"""Shared pieces of the digest tests: a ward's week of events, parents, and delivery counts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from knowledge.lang import clock
from knowledge.parents import profiles as parents

WEEK = date(2026, 12, 7)  # a Monday
TOKEN = "digest-test-token"
SECRET = "digest-test-secret"
MESSAGE_PATHS = ("/v2/bot/message/multicast", "/v2/bot/message/push")


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
