"""The LINE channel end to end: signed webhook bodies through Flask's test client, replies sent
by the SDK's own ``MessagingApi`` to a fake LINE API on localhost that validates every request
against LINE's OpenAPI spec (``tests/line_fake.py``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import pathlib
import shutil
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.app import create_app
from bot.config import Config
from handlers.line import words
from knowledge import open_db
from knowledge.lang import clock
from knowledge.parents import profiles as parents
from knowledge.store import inbox

PAYLOADS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "payloads"
SECRET = "test-channel-secret"
TOKEN = "test-access-token"
REPLY = "/v2/bot/message/reply"
USER = "U206d25c2ea6bd87c17655609a1c37cb8"  # the user of LINE's own payloads


def payload(name: str) -> bytes:
    path = PAYLOADS / name
    if not path.exists():
        pytest.skip("../shared/payloads is not present")
    return path.read_bytes()


def fresh(name: str) -> bytes:
    """A payload of LINE's with its events' timestamps set to now: an event older than its reply
    token is applied but not answered (``handlers.line.transport.REPLY_TOKEN_S``)."""
    body = json.loads(payload(name))
    for event in body.get("events", []):
        event["timestamp"] = int(time.time() * 1000)
    return json.dumps(body, ensure_ascii=False).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Line:
    """The app with LINE configured, a private base, and ways to send it what LINE sends."""

    def __init__(self, app, db_path, fake):
        self.app, self.client, self.db_path, self.fake = app, app.test_client(), db_path, fake
        self._n = 0

    def post(self, body: bytes, signature: str | None = "sign") -> object:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = sign(body)
        if signature is not None:
            headers["X-Line-Signature"] = signature
        response = self.client.post("/callback", data=body, headers=headers)
        assert self.app.extensions["kosodate_line"].drain(10)
        return response

    def event(self, kind: str, user: str = USER, **fields) -> dict:
        """One event shaped as LINE sends it, with a fresh ULID-like id and reply token."""
        self._n += 1
        event = {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000) + self._n,  # now: fresh reply tokens, in order
            "source": {"type": "user", "userId": user},
            "webhookEventId": f"01JTESTEVENT{self._n:014d}",
            "deliveryContext": {"isRedelivery": False},
        }
        if kind not in ("unfollow", "leave", "memberLeft"):
            event["replyToken"] = f"replytoken{self._n:06d}"
        if kind == "follow":
            event["follow"] = {"isUnblocked": False}
        event.update(fields)
        return event

    def text(self, text: str, user: str = USER) -> dict:
        return self.event(
            "message", user, message={"id": str(self._n), "type": "text", "text": text, "quoteToken": "q"}
        )

    def postback(self, data: str, params: dict | None = None, user: str = USER) -> dict:
        return self.event("postback", user, postback={"data": data, **({"params": params} if params else {})})

    def send(self, *events: dict) -> list[dict]:
        """Deliver events in one signed body; the messages of the replies they caused."""
        before = len(self.fake.sent(REPLY))
        body = json.dumps({"destination": "Ubot", "events": list(events)}, ensure_ascii=False).encode()
        response = self.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [m for r in self.fake.sent(REPLY)[before:] for m in r["messages"]]

    def db(self):
        return open_db(self.db_path, create=False)

    def parent(self, user: str = USER):
        db = self.db()
        try:
            return parents.get(db, user)
        finally:
            db.close()


@pytest.fixture
def line(demo_db_path, tmp_path, fake_line):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    app = create_app(
        Config(
            db_path=str(path),
            line_channel_secret=SECRET,
            line_channel_access_token=TOKEN,
            line_api_base_url=fake_line.url,
        )
    )
    yield Line(app, path, fake_line)
    app.extensions["kosodate_queue"].stop()


@pytest.fixture
def on_tuesday(monkeypatch):
    """Japan's today is Tuesday 2026-12-01 (the demo's weekly events fall in this week)."""
    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC))


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("altText") or "" for m in messages)


def quick_labels(messages: list[dict]) -> list[str]:
    return [i["action"]["label"] for i in (messages[-1].get("quickReply") or {}).get("items", [])]


# --- the webhook's edge ----------------------------------------------------------------------


def test_signature_test_vector_is_how_the_route_checks(line):
    """LINE's own vector: its signature of its body passes (the body then is not a webhook: 400, not 500);
    the same body with another secret's signature is refused before it is read."""
    vector = json.loads(payload("line_signature_test_vector.json"))
    app = create_app(
        Config(
            db_path=str(line.db_path),
            line_channel_secret=vector["channel_secret"],
            line_channel_access_token=TOKEN,
            line_api_base_url=line.fake.url,
        )
    )
    client = app.test_client()
    ok = client.post("/callback", data=vector["body"], headers={"X-Line-Signature": vector["x_line_signature"]})
    assert ok.status_code == 400 and "not a LINE webhook" in ok.get_json()["error"]
    bad = client.post("/callback", data=vector["body"], headers={"X-Line-Signature": sign(vector["body"].encode())})
    assert bad.status_code == 400 and "does not match" in bad.get_json()["error"]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", sign(b"another body"), "not base64 !!"])
def test_bad_or_missing_signature_is_400_and_nothing_is_processed(line, signature, caplog):
    body = payload("line_message_text.json")
    response = line.post(body, signature=signature)
    assert response.status_code == 400
    assert line.fake.requests == []
    db = line.db()
    assert db["inbox"].count == 0 and db["parents"].count == 0
    db.close()
    assert any("line webhook refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"{}",
        b'{"events": 5}',
        b'{"events": [1]}',
        b'{"events": [null]}',
        b'{"events": "x"}',
        b'{"events": [{"type": "message"}]',
        b"\xff\xfe\x00",
    ],
)
def test_malformed_body_is_400_with_one_log_line(line, body, caplog):
    caplog.set_level(logging.WARNING)
    response = line.post(body)
    assert response.status_code == 400
    assert response.is_json
    assert [r for r in caplog.records if "line webhook refused" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_verify_body_gets_200_and_sends_nothing(line):
    response = line.post(payload("line_webhook_verify_empty.json"))
    assert response.status_code == 200 and response.get_json()["queued"] == 0
    assert line.fake.requests == []


def test_without_a_secret_the_route_is_503_and_the_app_runs(demo_db_path):
    app = create_app(Config(db_path=str(demo_db_path)))
    client = app.test_client()
    response = client.post("/callback", data=b"{}", headers={"X-Line-Signature": "x"})
    assert response.status_code == 503 and "LINE is not configured" in response.get_json()["error"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/ask", query_string={"q": "赤ちゃんサロン"}).status_code == 200


# --- each payload LINE sends ---------------------------------------------------------------


def test_text_payload_is_answered_by_reply(line):
    response = line.post(fresh("line_message_text.json"))
    assert response.status_code == 200
    line.fake.wait_for(REPLY, 1)
    reply = line.fake.sent(REPLY)[0]
    assert reply["replyToken"] == "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"
    assert 1 <= len(reply["messages"]) <= 5
    assert quick_labels(reply["messages"])  # follow-ups on the last message
    [request] = line.fake.requests
    assert request.header("Authorization") == f"Bearer {TOKEN}"


def test_redelivered_event_is_never_answered_twice(line, caplog):
    caplog.set_level(logging.INFO)
    line.post(fresh("line_message_text.json"))
    line.post(fresh("line_message_text.json"))  # the same delivery again
    line.post(fresh("line_redelivery_true.json"))  # LINE's redelivery of that event id
    assert len(line.fake.sent(REPLY)) == 1
    assert any("redelivery skipped" in r.getMessage() for r in caplog.records)
    db = line.db()
    assert inbox.status(db, "line", "testwebhookeventid") == "received"  # handled: only failures are written back
    db.close()


def test_the_same_event_posted_at_once_by_two_threads_is_answered_once(line):
    body = json.dumps({"destination": "Ubot", "events": [line.text("今週のイベント")]}, ensure_ascii=False).encode()
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                line.client.post("/callback", data=body, headers={"X-Line-Signature": sign(body)}).status_code
            )
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert line.app.extensions["kosodate_line"].drain(10)
    assert results == [200] * 4
    assert len(line.fake.sent(REPLY)) == 1


def test_follow_payload_welcomes_and_asks_the_ward(line):
    line.post(fresh("line_follow.json"))
    [reply] = line.fake.sent(REPLY)
    assert reply["messages"][0]["text"].startswith("友だち追加ありがとうございます")
    assert set(quick_labels(reply["messages"])) == {"堺市美原区", "堺市西区", "横浜市旭区", "横浜市鶴見区"}
    assert line.parent().step == "area"


def test_unfollow_payload_deletes_the_profile_and_keeps_a_count(line):
    line.send(line.event("follow", follow={"isUnblocked": False}), line.postback("a=area&v=横浜市旭区"))
    assert line.parent().area == "横浜市旭区"
    line.post(fresh("line_unfollow.json"))
    assert line.parent() is None
    db = line.db()
    assert parents.counts(db) == {"follows": 1, "unfollows": 1}
    assert db.execute("SELECT count(*) FROM parents").fetchone()[0] == 0
    db.close()
    assert len(line.fake.sent(REPLY)) == 2  # no reply to an unfollow (there is no reply token)


def test_postback_payload_of_another_app_gets_help_not_an_error(line):
    line.post(fresh("line_postback.json"))
    [reply] = line.fake.sent(REPLY)
    assert "子育て" in reply["messages"][0]["text"]


def test_location_payload_without_coordinates_in_the_base_says_so_and_lists_the_wards_bases(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"))
    line.post(fresh("line_message_location.json"))
    messages = line.fake.sent(REPLY)[-1]["messages"]
    assert words.NO_COORDINATES in messages[0]["text"]
    assert messages[1]["type"] == "flex"
    names = [b["header"]["contents"][0]["text"] for b in messages[1]["contents"]["contents"]]
    assert names and all("旭区" in n for n in names)


def test_location_lists_the_nearest_bases_with_distance_and_map(line):
    db = line.db()
    with db.conn:
        db.execute("UPDATE bases SET lat = 35.4660, lon = 139.5300 WHERE name = '旭区地域子育て支援拠点'")
        db.execute("UPDATE bases SET lat = 35.5080, lon = 139.6760 WHERE name LIKE '鶴見区%' AND kind LIKE '%拠点%'")
    db.close()
    messages = line.send(
        line.event(
            "message",
            message={
                "id": "9",
                "type": "location",
                "latitude": 35.4700,
                "longitude": 139.5330,
                "address": "横浜市旭区",
            },
        )
    )
    assert messages[0]["text"] == words.NEAREST_HEAD
    bubbles = messages[1]["contents"]["contents"]
    assert bubbles[0]["header"]["contents"][0]["text"] == "旭区地域子育て支援拠点"
    body = json.dumps(bubbles[0], ensure_ascii=False)
    assert "約520m" in body or "約510m" in body or "約530m" in body
    assert "https://www.google.com/maps/search/?api=1&query=35.466000,139.530000" in body
    assert len(bubbles) == 2  # the Tsurumi base is about 14 km away: still near; none other has coordinates


def test_every_event_type_of_the_sdk_fixture_is_handled_without_error(line, caplog):
    """LINE's own 28 events (every type, user, group and room sources, an unknown type). The fixture
    reuses one id and one reply token for all; real ones are unique, so each gets its own here."""
    body = json.loads(payload("line_webhook_sdk_fixture.json"))
    for i, event in enumerate(body["events"]):
        event["webhookEventId"] = f"01JFIXTURE{i:016d}"
        if "replyToken" in event:
            event["replyToken"] = f"fixture-reply-token-{i}"
        event["timestamp"] = int(time.time() * 1000) + i
    raw = json.dumps(body).encode()
    caplog.set_level(logging.INFO)
    response = line.post(raw)
    assert response.status_code == 200 and response.get_json()["queued"] == 28
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    replied = {r["replyToken"] for r in line.fake.sent(REPLY)}
    assert replied  # texts, media and postbacks answered; joins, leaves, beacons and the like need none


@pytest.mark.parametrize(
    "content",
    [
        {
            "type": "sticker",
            "packageId": "446",
            "stickerId": "1988",
            "stickerResourceType": "STATIC",
            "quoteToken": "q",
        },
        {"type": "image", "contentProvider": {"type": "line"}, "quoteToken": "q"},
        {"type": "video", "duration": 1000, "contentProvider": {"type": "line"}, "quoteToken": "q"},
        {"type": "audio", "duration": 1000, "contentProvider": {"type": "line"}},
        {"type": "file", "fileName": "a.pdf", "fileSize": 10},
    ],
)
def test_stickers_and_media_get_a_friendly_text(line, content):
    messages = line.send(line.event("message", message={"id": "5", **content}))
    assert messages[0]["text"] == words.UNSUPPORTED
    assert "今週のイベント" in quick_labels(messages)


# --- setup ----------------------------------------------------------------------------------


def test_setup_ward_then_birth_month_then_nothing_asked_again(line, on_tuesday):
    first = line.send(line.event("follow", follow={"isUnblocked": False}))
    assert "横浜市旭区" in quick_labels(first)
    area_items = first[-1]["quickReply"]["items"]
    chosen = next(i["action"] for i in area_items if i["action"]["label"] == "横浜市旭区")
    second = line.send(line.postback(chosen["data"]))
    assert "横浜市旭区" in second[0]["text"]
    pickers = [i["action"] for i in second[-1]["quickReply"]["items"]]
    assert [p["type"] for p in pickers] == ["datetimepicker", "datetimepicker", "postback"]
    assert pickers[0]["max"] == "2026-12-01" and pickers[1]["min"] == "2026-12-01"
    third = line.send(line.postback(pickers[0]["data"], {"date": "2025-08-17"}))
    assert "2025年8月" in third[0]["text"] and words.SETUP_DONE in texts(third)
    parent = line.parent()
    assert (parent.area, parent.child_month, parent.child_due, parent.step) == ("横浜市旭区", "2025-08", False, None)
    assert parent.age_months(clock.today()) == 16
    # a question now: answered for 旭区, no setup question tacked on
    answer = line.send(line.text("赤ちゃんサロン"))
    assert words.ASK_AREA not in texts(answer) and words.ASK_CHILD not in texts(answer)


def test_due_month_and_skip(line, on_tuesday):
    line.send(line.event("follow"), line.postback("a=area&v=堺市西区"))
    line.send(line.postback("a=due", {"date": "2027-03-02"}))
    assert (line.parent().child_month, line.parent().child_due) == ("2027-03", True)
    line.send(line.text("設定"))
    line.send(line.postback("a=area&v=堺市美原区"))
    messages = line.send(line.postback("a=skip"))
    assert words.CHILD_SKIPPED in texts(messages)
    parent = line.parent()
    assert (parent.area, parent.child_month, parent.child_asked) == ("堺市美原区", "2027-03", True)


@pytest.mark.parametrize("params", [{"date": "1990-01-01"}, {"date": "2031-01-01"}, {"date": "not a date"}, {}])
def test_an_impossible_child_date_is_asked_again(line, on_tuesday, params):
    line.send(line.event("follow"), line.postback("a=area&v=堺市西区"))
    messages = line.send(line.postback("a=birth", params or None))
    assert messages[0]["text"] == words.CHILD_BAD_DATE
    assert quick_labels(messages) == [words.QR_BIRTH, words.QR_DUE, words.QR_SKIP]
    assert line.parent().child_month is None


def test_typing_the_ward_during_setup_sets_it(line):
    line.send(line.event("follow"))
    messages = line.send(line.text("鶴見区"))
    assert line.parent().area == "横浜市鶴見区"
    assert "横浜市鶴見区" in messages[0]["text"]


def test_a_question_before_setup_is_answered_and_the_ward_asked_on_the_last_message(line):
    line.send(line.event("follow"))
    messages = line.send(line.text("赤ちゃんサロンはいつ？"))
    assert "赤ちゃんサロン" in texts(messages)
    assert messages[-1]["text"] == words.ASK_AREA and "横浜市旭区" in quick_labels(messages)


def test_settings_show_what_is_kept_and_start_again(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"), line.postback("a=skip"))
    messages = line.send(line.text("設定"))
    assert messages[0]["text"] == "いまの設定：地域 横浜市旭区／お子さん 未登録／週1回のお知らせ 受け取る"
    assert "横浜市鶴見区" in quick_labels(messages)


def test_many_wards_are_asked_city_first_then_a_page_at_a_time(line):
    db = line.db()
    with db.conn:
        for i in range(18):
            db["areas"].insert({"name": f"大阪市第{i + 1}区", "city": "大阪市", "ward": f"第{i + 1}区"})
    db.close()
    first = line.send(line.event("follow"))
    assert first[-1]["text"] == words.ASK_CITY
    assert quick_labels(first) == ["堺市", "大阪市", "横浜市"]
    osaka = line.send(line.postback("a=city&v=大阪市"))
    labels = quick_labels(osaka)
    assert len(labels) == 13 and labels[-1] == words.QR_OTHER_CITY and labels[-2] == words.QR_MORE_AREAS
    more = next(
        i["action"]["data"] for i in osaka[-1]["quickReply"]["items"] if i["action"]["label"] == words.QR_MORE_AREAS
    )
    page2 = line.send(line.postback(more))
    assert len(quick_labels(page2)) == 7 + 2 and not set(quick_labels(page2)[:7]) & set(labels)
    every = set(quick_labels(osaka)) | set(quick_labels(page2))
    assert {f"第{i}区" for i in range(1, 19)} <= every
    line.send(line.postback("a=area&v=大阪市第18区"))
    assert line.parent().area == "大阪市第18区"


# --- commands -------------------------------------------------------------------------------


def test_digest_stop_and_resume(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"))
    stopped = line.send(line.text("配信停止"))
    assert stopped[0]["text"] == words.DIGEST_STOPPED and line.parent().digest_off
    resumed = line.send(line.text("配信再開"))
    assert resumed[0]["text"] == words.DIGEST_RESUMED and not line.parent().digest_off


def test_resume_without_a_ward_asks_for_it(line):
    messages = line.send(line.text("配信再開"))  # a friend from before the webhook: no follow event seen
    assert words.DIGEST_NEEDS_AREA in texts(messages) and "横浜市旭区" in quick_labels(messages)


def test_help_and_near_and_faq_commands(line):
    assert line.send(line.text("ヘルプ"))[0]["text"] == words.HELP
    near = line.send(line.text("近くの拠点"))
    assert near[0]["quickReply"]["items"][0]["action"]["type"] == "location"
    faq = line.send(line.text("よくある質問"))
    assert faq[0]["text"] in (words.FAQ_HEAD, words.FAQ_NONE)


# --- answers --------------------------------------------------------------------------------


def test_this_weeks_events_come_as_a_carousel_of_dated_bubbles(line, on_tuesday):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"), line.postback("a=skip"))
    messages = line.send(line.text("今週のイベント"))
    [flex] = messages
    assert flex["type"] == "flex" and flex["altText"].startswith("横浜市旭区の、今週")
    bubbles = flex["contents"]["contents"]
    assert 1 <= len(bubbles) <= 10
    first = json.dumps(bubbles[0], ensure_ascii=False)
    assert "12月" in first and "日時" in first and "場所" in first
    assert "今週のイベント" in quick_labels(messages)


def test_an_unanswerable_question_is_declined_logged_and_suggests(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"), line.postback("a=skip"))
    messages = line.send(line.text("宝くじの当選番号"))
    assert messages[0]["text"].startswith("ごめんなさい")
    db = line.db()
    rows = list(db.query("SELECT text, area, asker FROM unanswered"))
    db.close()
    assert [(r["text"], r["area"]) for r in rows] == [("宝くじの当選番号", "横浜市旭区")]
    assert rows[0]["asker"] and USER not in rows[0]["asker"]  # kept as a pseudonym only


def test_a_5000_character_message_is_answered_within_limits(line):
    messages = line.send(line.text("赤ちゃんサロン" + "あ" * 4993))
    assert messages and all(len(m.get("text", "")) <= 5000 for m in messages)


def test_a_failed_reply_is_logged_with_the_event_id_and_the_question_kept(line, caplog):
    caplog.set_level(logging.INFO)
    line.fake.fail(REPLY, status=500, times=1)
    event = line.text("宝くじの当選番号")
    response = line.post(json.dumps({"destination": "U", "events": [event]}, ensure_ascii=False).encode())
    assert response.status_code == 200
    failures = [r for r in caplog.records if "reply failed" in r.getMessage()]
    assert failures and event["webhookEventId"] in failures[0].getMessage()
    db = line.db()
    assert inbox.status(db, "line", event["webhookEventId"]) == "reply_failed"
    assert db["unanswered"].count == 1
    db.close()


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_every_kind_of_api_error_leaves_the_worker_serving(line, status):
    line.fake.fail(REPLY, status=status, times=1)
    line.send(line.text("ヘルプ"))
    assert line.send(line.text("ヘルプ"))[0]["text"] == words.HELP  # the next event is answered


def test_a_reply_timeout_is_logged_and_the_next_event_answered(line, caplog, monkeypatch):
    import handlers.line.transport as line_module

    monkeypatch.setattr(line_module, "REQUEST_TIMEOUT_S", 0.5)
    line.fake.delay(REPLY, 2.0, times=1)
    event = line.text("ヘルプ")
    line.post(json.dumps({"destination": "U", "events": [event]}, ensure_ascii=False).encode())
    db = line.db()
    assert inbox.status(db, "line", event["webhookEventId"]) == "reply_failed"
    db.close()
    assert any("reply failed" in r.getMessage() and event["webhookEventId"] in r.getMessage() for r in caplog.records)
    assert line.send(line.text("ヘルプ"))[0]["text"] == words.HELP


# --- the rich menu --------------------------------------------------------------------------


def test_rich_menu_installed_twice_against_the_spec_checking_fake_leaves_one_default(fake_line):
    """The menu the command makes passes LINE's spec (validate, create, image, default), and a
    second install replaces it."""
    from handlers.line import richmenu as line_richmenu

    image = line_richmenu.load_image()
    first = line_richmenu.install(TOKEN, fake_line.url, image)
    second = line_richmenu.install(TOKEN, fake_line.url, image)
    assert second.deleted == [first.rich_menu_id]
    assert list(fake_line.rich_menus) == [second.rich_menu_id] == [fake_line.default_rich_menu]
    assert fake_line.rich_menu_images[second.rich_menu_id] == ("image/png", image.data)


@pytest.mark.parametrize("text", __import__("handlers.line.richmenu", fromlist=["MENU_TEXTS"]).MENU_TEXTS)
def test_every_rich_menu_button_gets_an_answer_not_a_refusal(line, on_tuesday, text):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"), line.postback("a=skip"))
    messages = line.send(line.text(text))
    assert messages and "ごめんなさい" not in texts(messages)


# --- what a review found ---------------------------------------------------------------------


def test_a_secret_without_a_token_is_not_configured_rather_than_failing_each_event(demo_db_path):
    app = create_app(Config(db_path=str(demo_db_path), line_channel_secret=SECRET))
    body = payload("line_message_text.json")
    response = app.test_client().post("/callback", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 503


def test_verify_answers_200_even_when_the_base_is_missing(tmp_path, fake_line):
    app = create_app(
        Config(
            db_path=str(tmp_path / "nowhere.db"),
            line_channel_secret=SECRET,
            line_channel_access_token=TOKEN,
            line_api_base_url=fake_line.url,
        )
    )
    body = payload("line_webhook_verify_empty.json")
    assert app.test_client().post("/callback", data=body, headers={"X-Line-Signature": sign(body)}).status_code == 200


def test_while_an_import_holds_the_lock_events_are_answered_once_from_memory(line):
    import sqlite3

    holder = sqlite3.connect(line.db_path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # a long import, say
    try:
        events = [line.text("ヘルプ", user=f"U{i:032d}") for i in range(3)]
        body = json.dumps({"destination": "U", "events": events}, ensure_ascii=False).encode()
        headers = {"X-Line-Signature": sign(body)}
        first = line.client.post("/callback", data=body, headers=headers)
        again = line.client.post("/callback", data=body, headers=headers)  # LINE's redelivery meanwhile
    finally:
        holder.rollback()
        holder.close()
    assert line.app.extensions["kosodate_line"].drain(20)
    assert first.status_code == again.status_code == 200
    assert len(line.fake.sent(REPLY)) == 3  # each event answered once, the redelivery not again


def test_an_area_name_too_long_for_a_postback_is_left_out_not_fatal(line):
    db = line.db()
    with db.conn:
        db["areas"].insert({"name": "あ" * 120 + "市", "city": "あ" * 120 + "市", "ward": None})
    db.close()
    messages = line.send(line.event("follow"))
    assert quick_labels(messages) == ["堺市美原区", "堺市西区", "横浜市旭区", "横浜市鶴見区"]


def test_a_stored_area_the_base_no_longer_knows_still_gets_an_answer(line):
    line.send(line.event("follow"))
    db = line.db()
    parents.update(db, USER, area="消えた区", step=None)
    db.close()
    messages = line.send(line.text("赤ちゃんサロン"))
    assert "赤ちゃんサロン" in texts(messages)


def test_groups_get_a_hint_on_join_and_nothing_else(line):
    group = {"type": "group", "groupId": "Cgroup0123456789abcdef0123456789ab", "userId": USER}
    join = line.event("join")
    join["source"] = {"type": "group", "groupId": group["groupId"]}
    chat = line.text("設定")
    chat["source"] = group
    messages = line.send(join, chat)
    assert [m["text"] for m in messages] == [words.GROUP_HINT]
    assert line.parent() is None


def test_unfollow_unlinks_the_parents_declined_questions(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"), line.text("宝くじの当選番号"))
    line.send(line.event("unfollow"))
    db = line.db()
    rows = list(db.query("SELECT text, asker FROM unanswered"))
    db.close()
    assert [(r["text"], r["asker"]) for r in rows] == [("宝くじの当選番号", None)]


def test_the_more_bubble_lists_every_event_as_text(line, monkeypatch):
    monkeypatch.setattr(clock, "_utcnow", lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    messages = line.send(line.text("来月のイベント"))
    flex = messages[0]
    bubbles = flex["contents"]["contents"]
    assert len(bubbles) == 10, "the demo holds more than ten events next month"
    button = bubbles[-1]["footer"]["contents"][0]["action"]
    assert button["type"] == "postback"
    listed = line.send(line.postback(button["data"]))
    text = listed[0]["text"]
    count = int(text.split("全")[1].split("件")[0])
    assert count > 10 and text.count("\n・") == count


def test_a_city_without_wards_is_chosen_directly(line):
    db = line.db()
    with db.conn:
        for i in range(14):
            db["areas"].insert({"name": f"市川{i}市", "city": f"市川{i}市", "ward": None})
    db.close()
    first = line.send(line.event("follow"))
    assert first[-1]["text"] == words.ASK_CITY
    item = next(i["action"] for i in first[-1]["quickReply"]["items"] if i["action"]["label"] == "市川0市")
    assert "a=area" in item["data"]
    line.send(line.postback(item["data"]))
    assert line.parent().area == "市川0市"


def test_a_friend_from_before_the_webhook_is_asked_the_ward_after_an_answer(line):
    messages = line.send(line.text("赤ちゃんサロン"))  # no follow event was ever seen
    assert messages[-1]["text"] == words.ASK_AREA
    assert line.parent().step == "area"


def test_typing_skip_at_the_child_step_skips(line):
    line.send(line.event("follow"), line.postback("a=area&v=横浜市旭区"))
    messages = line.send(line.text("スキップ"))
    assert words.CHILD_SKIPPED in texts(messages) and line.parent().child_asked
    db = line.db()
    assert db["unanswered"].count == 0
    db.close()


def test_a_failed_reply_records_what_line_said(line):
    line.fake.fail(
        REPLY,
        status=401,
        times=1,
        body={"message": "Authentication failed. Confirm that the access token in the authorization header is valid."},
    )
    event = line.text("ヘルプ")
    line.post(json.dumps({"destination": "U", "events": [event]}, ensure_ascii=False).encode())
    db = line.db()
    row = db.execute("SELECT status, detail FROM inbox WHERE event_id = ?", [event["webhookEventId"]]).fetchone()
    db.close()
    assert row[0] == "reply_failed" and row[1].startswith("401") and "Authentication failed" in row[1]
