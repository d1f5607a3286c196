"""POST /slack/events: signatures, staleness, configuration, staff only, retries, help."""

from __future__ import annotations

import pathlib
import time
import urllib.parse

import pytest
from slack_fake import OUTSIDER, PUBLIC_CHANNEL, STAFF_CHANNEL, STAFF_USER, Slack, app_with, slack_config
from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.config import Config, ConfigError
from handlers.slack import words

PAYLOADS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "payloads"


def written(db) -> dict[str, int]:
    """What staff writes leave behind: audit rows, staff progress, staff FAQs, staff events."""
    return {
        "audit": db["audit"].count,
        "progress": db.execute("SELECT count(*) FROM progress WHERE origin = 'slack'").fetchone()[0],
        "faqs": db.execute("SELECT count(*) FROM faqs WHERE source = 'staff'").fetchone()[0],
        "events": db.execute("SELECT count(*) FROM activities WHERE source = 'staff'").fetchone()[0],
    }


NOTHING = {"audit": 0, "progress": 0, "faqs": 0, "events": 0}


def test_unconfigured_slack_answers_503_and_the_rest_runs(base_path):
    app = create_app(Config(db_path=str(base_path)))
    client = app.test_client()
    response = client.post("/slack/events", data="text=help")
    assert response.status_code == 503
    assert response.get_json() == {"error": "Slack is not configured"}
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("case", ["bad_signature", "other_secret", "stale", "future", "no_headers"])
def test_unsigned_or_stale_requests_get_401_and_nothing_happens(slack, fake, base, case):
    body = slack.command_body("progress 居場所 後期 研究会を開いた")
    now = int(time.time())
    if case == "bad_signature":
        response = slack.client.post(
            "/slack/events",
            data=body,
            headers={
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": "v0=" + "0" * 64,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    elif case == "other_secret":
        response = slack.post(body, secret="not-the-secret")
    elif case == "stale":
        response = slack.post(body, timestamp=now - 301)
    elif case == "future":
        response = slack.post(body, timestamp=now + 301)
    else:
        response = slack.client.post("/slack/events", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert written(base) == NOTHING
    assert base["inbox"].count == 0
    assert [p for p in fake.paths() if p != "/auth.test"] == []


def test_the_shared_signature_vector_verifies_as_slack_says():
    if not PAYLOADS.is_dir():
        pytest.skip("../shared/payloads is not present")
    import json

    vector = json.loads((PAYLOADS / "slack_signature_test_vector.json").read_text())
    body = (PAYLOADS / vector["body_file"]).read_text().strip()
    ts = vector["headers"]["X-Slack-Request-Timestamp"]
    assert (
        SignatureVerifier(vector["signing_secret"]).generate_signature(timestamp=ts, body=body)
        == vector["headers"]["X-Slack-Signature"]
    )


@pytest.mark.parametrize("name", ["slack_slash_command_body_bolt.txt", "slack_slash_command_body_signed.txt"])
def test_real_slash_command_bodies_from_strangers_are_refused_in_japanese(slack, base, name):
    if not PAYLOADS.is_dir():
        pytest.skip("../shared/payloads is not present")
    fields = dict(urllib.parse.parse_qsl((PAYLOADS / name).read_text().strip(), keep_blank_values=True))
    fields |= {"command": "/kosodate", "text": "progress 居場所 後期 研究会を開いた"}
    response = slack.post(urllib.parse.urlencode(fields))
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral"
    assert "担当職員だけ" in reply["text"]
    assert written(base) == NOTHING


@pytest.mark.parametrize(
    "text",
    [
        "progress 居場所 後期 研究会を開いた",
        "event",
        "unanswered",
        "audit",
        "ask 赤ちゃんサロンはいつ？",
        "sheet 居場所 export",
    ],
)
@pytest.mark.parametrize(
    "staff,user,channel",
    [
        ("users_and_channels", OUTSIDER, PUBLIC_CHANNEL),  # a parent in a public channel
        ("channels_only", STAFF_USER, PUBLIC_CHANNEL),  # only channels are staff: not this one
        ("users_only", OUTSIDER, STAFF_CHANNEL),  # only users are staff: not this one
    ],
)
def test_non_staff_get_an_ephemeral_refusal_and_nothing_is_written(base_path, fake, base, text, staff, user, channel):
    changes = {
        "users_and_channels": {},
        "channels_only": {"slack_staff_users": ()},
        "users_only": {"slack_staff_channels": ()},
    }[staff]
    slack = Slack(create_app(slack_config(base_path, fake, **changes)).test_client(), fake)
    response = slack.command(text, user=user, channel=channel)
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["response_type"] == "ephemeral" and "担当職員だけ" in reply["text"]
    assert written(base) == NOTHING and base["inbox"].count == 0
    assert not fake.received("/views.open") and not fake.received("/files.completeUploadExternal")


@pytest.mark.parametrize("text", ["", "help", "HELP", "ｈｅｌｐ"])
def test_help_lists_every_subcommand_with_an_example(slack, text):
    reply = slack.command(text).get_json()
    shown = " ".join(b["text"]["text"] for b in reply["blocks"])
    for sub in ("progress", "event", "sheet", "ask", "unanswered", "audit", "help"):
        assert f"/kosodate {sub}" in shown
    assert "例：" in shown


@pytest.mark.parametrize("text", ["hello", "progres 居場所", "削除 すべて", "export"])
def test_an_unknown_subcommand_gets_help(slack, base, text):
    reply = slack.command(text).get_json()
    shown = " ".join(b["text"]["text"] for b in reply["blocks"])
    assert "という使い方はありません" in shown and "/kosodate progress" in shown
    assert written(base) == NOTHING


@pytest.mark.parametrize("retry_header", [{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}, {}])
def test_a_request_delivered_again_is_not_done_twice(slack, fake, base, retry_header):
    body = slack.command_body("progress 居場所 後期 第3回研究会を2月に開催、12団体が参加")
    assert slack.post(body).status_code == 200
    fake.wait_for("/respond")
    again = slack.post(body, headers=retry_header)
    assert again.status_code == 200
    assert written(base)["progress"] == 1 and written(base)["audit"] == 1
    assert len(fake.received("/respond")) == 1  # no second reply either
    assert base.execute("SELECT count(*) FROM inbox WHERE channel = 'slack'").fetchone()[0] == 1


def test_a_mistyped_ward_is_a_config_error(base_path, fake):
    with pytest.raises(ConfigError, match="SLACK_STAFF_CHANNELS"):
        create_app(slack_config(base_path, fake, slack_staff_channels=(("CX0001", "存在しない区"),)))


@pytest.mark.parametrize(
    "env,message",
    [
        ({"SLACK_STAFF_CHANNELS": "C0123"}, "CHANNEL_ID=ward"),
        ({"SLACK_STAFF_CHANNELS": "C0123="}, "CHANNEL_ID=ward"),
        ({"SLACK_STAFF_CHANNELS": "c0123=西区"}, "CHANNEL_ID=ward"),
        ({"SLACK_STAFF_USERS": "alice"}, "user id"),
    ],
)
def test_staff_settings_are_checked(env, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(env)


def test_staff_settings_are_read_from_the_environment():
    config = Config.from_env(
        {
            "SLACK_STAFF_USERS": "U0123, W0456",
            "SLACK_STAFF_CHANNELS": "C0123=堺市西区,C0456=横浜市旭区",
            "SLACK_REPORT_CHANNEL": "C0999",
            "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/",
        }
    )
    assert config.slack_staff_users == ("U0123", "W0456")
    assert config.slack_staff_channels == (("C0123", "堺市西区"), ("C0456", "横浜市旭区"))
    assert config.slack_report_channel == "C0999"
    assert config.slack_api_base_url == "http://127.0.0.1:9/api/"


def test_an_unreachable_slack_at_start_up_answers_503_not_a_dead_app(base_path):
    config = slack_config(base_path, type("F", (), {"base_url": "http://127.0.0.1:9/"})())
    client = create_app(config).test_client()
    assert client.post("/slack/events", data="x").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_the_manifest_declares_the_command_scopes_and_urls_the_app_serves():
    from bot.slack_routes import PATH
    from handlers.slack.words import COMMAND

    text = (pathlib.Path(__file__).resolve().parents[1] / "slack-manifest.yml").read_text(encoding="utf-8")
    assert f"- command: {COMMAND}\n" in text
    urls = [
        line.split("url:")[1].split("#")[0].strip()
        for line in text.splitlines()
        if line.strip().startswith(("url:", "request_url:"))
    ]
    assert urls == [f"https://YOUR-HOST{PATH}"] * 2  # the command and interactivity
    for scope in ("commands", "chat:write", "files:write"):
        assert f"- {scope}" in text
    assert "socket_mode_enabled: false" in text and "is_enabled: true" in text


def test_a_modal_submission_delivered_twice_is_written_once(slack, fake, base):
    import json

    slack.command("progress")
    view = fake.wait_for("/views.open")[0]["view"]
    state = {
        "program": {"value": {"type": "static_select", "selected_option": {"value": "program-c94dfbac4026"}}},
        "period": {"value": {"type": "static_select", "selected_option": {"value": "後期"}}},
        "text": {"value": {"type": "plain_text_input", "value": "研究会を開いた"}},
    }
    payload = {
        "type": "view_submission",
        "user": {"id": STAFF_USER, "username": "staff"},
        "trigger_id": "T-once",
        "view": view | {"id": "V1", "state": {"values": state}},
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
    assert slack.post(body).status_code == 200
    fake.wait_for("/respond")
    assert slack.post(body, headers={"X-Slack-Retry-Num": "1"}).status_code == 200
    assert written(base)["progress"] == 1 and written(base)["audit"] == 1
    assert len(fake.received("/respond")) == 1


def test_a_failure_after_the_ack_is_logged_and_told_in_japanese(slack, fake, base, monkeypatch, caplog):
    import sqlite3

    import knowledge.staff.progress

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(knowledge.staff.progress, "add", locked)
    assert slack.command("progress 居場所 後期 研究会を開いた").status_code == 200
    reply = fake.wait_for("/respond")[0]
    assert "エラーが起きました" in reply["text"] and reply["response_type"] == "ephemeral"
    assert written(base) == NOTHING
    assert any(r.exc_info and "on_command failed" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_a_missing_base_is_answered_in_japanese(tmp_path, fake):
    slack = app_with(tmp_path / "none.db", fake)
    response = slack.command("help")
    assert response.status_code == 200 and response.get_json()["text"] == words.NO_BASE
