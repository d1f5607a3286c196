"""``/kosodate digest``: staff see the weekly digest a parent of their ward would get, before it goes out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from slack_fake import ASAHI_CHANNEL

from knowledge.lang import clock
from knowledge.lang.audience import Ages
from knowledge.parents import digest as digest_mod

MONDAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def on_tuesday(monkeypatch):
    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC))


def replied(fake) -> str:
    [reply] = fake.wait_for("/respond")
    return " ".join(b["text"]["text"] for b in reply["blocks"])


@pytest.mark.parametrize(
    "args, ages, week, who",
    [
        ("", Ages(), MONDAY, "お子さんの月齢を登録していない"),
        ("4", Ages(4, 4), MONDAY, "生後4か月"),
        ("１８か月 2026-12-14", Ages(18, 18), date(2026, 12, 14), "生後18か月"),
        ("妊娠中", Ages(None, None, True), MONDAY, "出産を控えた"),
    ],
)
def test_the_preview_is_what_the_digest_would_send(slack, fake, base, args, ages, week, who):
    assert slack.command(f"digest {args}", channel=ASAHI_CHANNEL).status_code == 200
    shown = replied(fake)
    expected = digest_mod.digest_for(base, "横浜市旭区", week, ages)
    if not args:
        assert expected.events, "the demo's 旭区 has events that week"
    assert who in shown
    assert digest_mod.headline(expected) in shown
    for event in expected.events[:10]:
        assert event.title in shown


@pytest.mark.parametrize("args", ["2026-12-08", "そのうち", "4 2026-13-01"])
def test_an_unreadable_preview_gets_its_usage(slack, fake, args):
    slack.command(f"digest {args}")
    assert "使い方" in replied(fake)
