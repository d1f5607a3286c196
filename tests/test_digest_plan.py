"""The weekly digest's planning (knowledge.parents.digest): who gets what, grouped by identical content."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from digest_helpers import MIHARA_EVENTS, WEEK, WEST_EVENTS, add_parent, event, set_today
from linebot.v3.messaging import ValidateMessageRequest

from bot.cli import cli
from bot.config import Config, ConfigError
from handlers.line import digest as line_digest
from handlers.line.client import messaging_api
from knowledge.lang.audience import Ages
from knowledge.parents import digest
from knowledge.parents import profiles as parents


@pytest.fixture
def wards(events_db):
    events_db.add("堺市西区", WEST_EVENTS)
    events_db.add("堺市美原区", MIHARA_EVENTS)
    return events_db


def titles(d) -> list[str]:
    return [e.title for e in d.events]


def group_of(plan, user: str):
    return next(g for g in plan.groups if user in [s.user_id for s in g.recipients])


def test_age_fit_a_baby_gets_baby_events_not_school_ones(wards):
    baby = add_parent(wards, 1, month="2026-08")  # 4 months old on 2026-12-07
    plan = digest.plan(wards, WEEK)
    got = titles(group_of(plan, baby).digest)
    assert "ベビーヨガ" in got and "もちつき大会" in got
    assert "なわとび教室" not in got and "おやこ英語あそび" not in got and "プレママ教室" not in got


def test_age_fit_pregnancy_and_a_school_child(wards):
    expecting = add_parent(wards, 1, month="2027-03", due=True)
    pupil = add_parent(wards, 2, month="2019-03")  # 7 years 9 months: 小2
    plan = digest.plan(wards, WEEK)
    assert "プレママ教室" in titles(group_of(plan, expecting).digest)
    assert "ベビーヨガ" not in titles(group_of(plan, expecting).digest)
    assert "なわとび教室" in titles(group_of(plan, pupil).digest)
    assert "ベビーヨガ" not in titles(group_of(plan, pupil).digest)


def test_a_passed_due_month_is_read_as_the_birth_month():
    assert digest.ages_for("2026-08", True, WEEK) == Ages(4, 4)
    assert digest.ages_for("2026-12", True, WEEK) == Ages(None, None, True)
    assert digest.ages_for(None, False, WEEK) == Ages()


def test_no_child_set_gets_every_event_of_the_week_but_cancelled_ones(wards):
    user = add_parent(wards, 1)
    got = titles(group_of(digest.plan(wards, WEEK), user).digest)
    assert got == ["おやこ英語あそび", "ベビーヨガ", "なわとび教室", "もちつき大会", "プレママ教室"]
    assert "クリスマス会" not in got and "来週のひろば" not in got


def test_identical_digests_are_one_group(wards):
    a = add_parent(wards, 1, month="2026-08")  # 4 months
    b = add_parent(wards, 2, month="2026-07")  # 5 months: the same events
    c = add_parent(wards, 3, month="2026-08")
    other = add_parent(wards, 4, area="堺市美原区")
    plan = digest.plan(wards, WEEK)
    assert group_of(plan, a) is group_of(plan, b) is group_of(plan, c)
    assert group_of(plan, other) is not group_of(plan, a)
    assert plan.recipients == 4


def test_opted_out_and_wardless_parents_are_not_planned(wards):
    add_parent(wards, 1, off=True)
    add_parent(wards, 2, area=None)
    kept = add_parent(wards, 3)
    plan = digest.plan(wards, WEEK)
    assert [s.user_id for g in plan.groups for s in g.recipients] == [kept]
    assert (plan.opted_out, plan.no_area) == (1, 1)


def test_an_unfollowed_parent_is_gone(wards):
    user = add_parent(wards, 1)
    parents.forget(wards, user)
    assert digest.plan(wards, WEEK).recipients == 0


def test_an_empty_week_plans_no_message_unless_a_note_is_set(wards):
    add_parent(wards, 1, area="横浜市旭区")
    plan = digest.plan(wards, WEEK)
    assert plan.groups == [] and plan.skipped_empty == 1
    plan = digest.plan(wards, WEEK, note="今週は予定がありません。")
    assert len(plan.groups) == 1 and plan.groups[0].digest.empty
    msgs = line_digest.messages(plan.groups[0].digest)
    assert msgs[0].type == "text" and "今週は予定がありません。" in msgs[0].text


def test_priority_puts_expecting_then_youngest_then_no_child(wards):
    none_ = add_parent(wards, 1)
    older = add_parent(wards, 2, month="2020-01")
    baby = add_parent(wards, 3, month="2026-10")
    expecting = add_parent(wards, 4, month="2027-02", due=True)
    kept, left = digest.limit(digest.plan(wards, WEEK).groups, 2)
    assert sorted(s.user_id for g in kept for s in g.recipients) == sorted([expecting, baby]) and left == 2
    assert none_ and older


def test_a_long_week_is_ten_bubbles_a_more_bubble_and_a_short_alt_text(events_db):
    long_title = "とても長い名前の子育てイベント" * 12
    events_db.add("堺市西区", [event(f"WL{i:03d}", f"{long_title}{i}", f"2026/12/{7 + i % 7:02d}") for i in range(23)])
    d = digest.digest_for(events_db, "堺市西区", WEEK)
    (message,) = line_digest.messages(d)
    bubbles = message.contents.contents
    assert len(bubbles) == 11 and "ほかに13件" in bubbles[-1].header.contents[0].text
    assert len(message.alt_text) <= 1500 and message.alt_text.startswith("堺市西区の12月7日（月）〜12月13日（日）")


def test_every_digest_passes_lines_validation(wards, fake_line):
    """Each kind of digest, sent to the fake's validate endpoint: LINE's spec accepts it."""
    add_parent(wards, 1)
    with messaging_api("t", fake_line.url) as api:
        for ages in (Ages(), Ages(4, 4), Ages(None, None, True)):
            d = digest.digest_for(wards, "堺市西区", WEEK, ages)
            api.validate_push(
                ValidateMessageRequest.from_dict(
                    {"messages": line_digest.from_payload(line_digest.payload(line_digest.messages(d)))}
                )
            )
        note = digest.digest_for(wards, "横浜市旭区", WEEK, note="今週は予定がありません。")
        api.validate_push(ValidateMessageRequest(messages=line_digest.messages(note)))
    assert len(fake_line.requests) == 4 and not fake_line.violations


def test_preview_prints_the_text_and_the_flex_json(wards, tmp_path, monkeypatch):
    set_today(monkeypatch)
    path = wards.conn.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(
        cli,
        ["digest", "preview", "--area", "西区", "--age-months", "4", "--week", "2026-12-07", "--db", path],
        env={"KOSODATE_DB": path},
    )
    assert result.exit_code == 0, result.output
    text, _, flex = result.output.partition("\n\n")
    assert text.startswith("堺市西区の12月7日（月）〜12月13日（日）の子育てイベント2件（お子さんに合うもの）")
    assert "ベビーヨガ" in text and "なわとび教室" not in text
    messages = json.loads(flex)
    assert messages[0]["type"] == "flex" and len(messages[0]["contents"]["contents"]) == 2


def test_preview_of_an_empty_week_says_nothing_is_sent(wards, monkeypatch):
    path = wards.conn.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(
        cli,
        ["digest", "preview", "--area", "横浜市旭区", "--week", "2026-12-07", "--db", path],
        env={"KOSODATE_DB": path},
    )
    assert result.exit_code == 0 and "この週は送りません" in result.output and result.output.rstrip().endswith("[]")


def test_the_default_week_is_the_coming_monday():
    assert digest.coming_monday(date(2026, 12, 7)) == date(2026, 12, 7)
    assert digest.coming_monday(date(2026, 12, 3)) == date(2026, 12, 7)
    assert digest.coming_monday(date(2026, 12, 13)) == date(2026, 12, 14)


@pytest.mark.parametrize("value", ["MONDAY 09:00", "MON 9", "MON 24:00", "XYZ 09:00", "MON 09:60"])
def test_a_bad_digest_time_is_a_clear_config_error(value):
    with pytest.raises(ConfigError, match="KOSODATE_DIGEST_TIME"):
        Config.from_env({"KOSODATE_DIGEST_TIME": value})


def test_digest_settings_are_read():
    config = Config.from_env(
        {
            "KOSODATE_DIGEST_TIME": "sun 18:30",
            "KOSODATE_DIGEST_EMPTY_NOTE": " 今週はお休みです ",
            "SLACK_REPORT_CHANNEL": "C1",
            "SLACK_API_BASE_URL": "http://127.0.0.1:9/api",
        }
    )
    assert digest.parse_time(config.digest_time) == (6, 18, 30)
    assert config.digest_empty_note == "今週はお休みです"
    assert (config.slack_report_channel, config.slack_api_base_url) == ("C1", "http://127.0.0.1:9/api")
    with pytest.raises(ConfigError, match="SLACK_API_BASE_URL"):
        Config.from_env({"SLACK_API_BASE_URL": "ftp://x"})
    with pytest.raises(ConfigError, match="KOSODATE_DIGEST_EMPTY_NOTE"):
        Config.from_env({"KOSODATE_DIGEST_EMPTY_NOTE": "あ" * 1001})


def test_the_plan_fits_ages_as_events_between_does(wards):
    """The planner lists a ward's week once and fits it per age; each result is what
    ``events_between`` gives for that age."""
    december = 2026 * 12 + 11  # months since year 0 of 2026-12
    months = [f"{(december - m) // 12}-{(december - m) % 12 + 1:02d}" for m in range(0, 160, 5)]
    users = {add_parent(wards, i, month=m): m for i, m in enumerate(months)}
    users[add_parent(wards, 500, month="2027-04", due=True)] = "due"
    users[add_parent(wards, 501, area="堺市美原区")] = None
    plan = digest.plan(wards, WEEK)
    for group in plan.groups:
        for sub in group.recipients:
            assert group.digest == digest.digest_for(wards, sub.area, WEEK, sub.ages), sub


def test_a_group_event_without_ages_is_kept_for_a_parent_with_a_child(events_db, monkeypatch):
    events_db.add("堺市西区", [event("WF1", "パパとあそぼう", "2026/12/12", "お父さんと子ども")])
    set_today(monkeypatch)
    baby = add_parent(events_db, 1, month="2026-08")
    none = add_parent(events_db, 2)
    plan = digest.plan(events_db, WEEK)
    got = {s.user_id: g.digest for g in plan.groups for s in g.recipients}
    assert set(got) == {baby, none} and plan.skipped_empty == 0
    assert [e.title for e in got[baby].events] == ["パパとあそぼう"]
    baby_ages = next(s.ages for g in plan.groups for s in g.recipients if s.user_id == baby)
    preview = digest.digest_for(events_db, "堺市西区", WEEK, baby_ages)
    assert [e.title for e in preview.events] == ["パパとあそぼう"]
