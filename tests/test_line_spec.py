"""The LINE spec validator (tests/line_spec.py) and the fake LINE API (tests/line_fake.py).

Known-good bodies are built with line-bot-sdk's own models and serialized as the SDK puts them
on the wire; each LINE limit is then broken once and must be refused with a message that names
the property. The fake is driven end to end through the SDK's MessagingApi/MessagingApiBlob.
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.request
import uuid
from urllib.error import HTTPError

import line_spec
import pytest
import urllib3
from line_fake import FakeLine
from line_spec import EXTRA_RULES, check_response, grapheme_length, load_spec, utf16_length, validate_request
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    LocationAction,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TextMessage,
    URIAction,
)

REPLY, PUSH, MULTICAST = "/v2/bot/message/reply", "/v2/bot/message/push", "/v2/bot/message/multicast"
RICHMENU, RICHMENU_VALIDATE = "/v2/bot/richmenu", "/v2/bot/richmenu/validate"
USER = "U" + "a" * 32
SERIALIZER = ApiClient(Configuration(access_token="unused"))  # sends nothing: serializes only
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # enough of a PNG for a fake that checks the type header


def wire(model) -> dict:
    """What the SDK sends for ``model``: ApiClient.sanitize_for_serialization (to_dict(),
    None fields dropped, aliases) then json.dumps in rest.py."""
    return json.loads(json.dumps(SERIALIZER.sanitize_for_serialization(model)))


# --- known-good bodies, from the SDK's models -----------------------------------------------


def quick_reply(n: int = 4, label: str = "えらぶ") -> QuickReply:
    actions = [
        MessageAction(label=label, text="保育園の空き"),
        PostbackAction(label=label, data="topic=nursery", display_text="保育園"),
        DatetimePickerAction(label=label, data="pick=date", mode="date"),
        LocationAction(label=label),
    ]
    return QuickReply(items=[QuickReplyItem(action=actions[i % len(actions)]) for i in range(n)])


def bubble(title: str = "子育てひろば") -> FlexBubble:
    return FlexBubble(
        body=FlexBox(layout="vertical", contents=[FlexText(text=title, wrap=True), FlexText(text="10:00-12:00")]),
        footer=FlexBox(
            layout="vertical",
            contents=[
                FlexButton(action=URIAction(label="詳しく見る", uri="https://www.city.example.lg.jp/kosodate/")),
                FlexButton(action=PostbackAction(label="予約", data="event=42", display_text="予約したい")),
            ],
        ),
    )


def text_reply(text: str = "こんにちは", **kwargs) -> dict:
    return wire(ReplyMessageRequest(reply_token="rt", messages=[TextMessage(text=text, **kwargs)]))


def flex_push(contents, alt_text: str = "今週のイベント") -> dict:
    return wire(PushMessageRequest(to=USER, messages=[FlexMessage(alt_text=alt_text, contents=contents)]))


def rich_menu(areas: int = 2, chat_bar_text: str = "メニュー") -> dict:
    width = 2500 // areas
    return wire(
        RichMenuRequest(
            size=RichMenuSize(width=2500, height=843),
            selected=True,
            name="kosodate main",
            chat_bar_text=chat_bar_text,
            areas=[
                RichMenuArea(
                    bounds=RichMenuBounds(x=i * width, y=0, width=width, height=843),
                    action=PostbackAction(label="メニュー", data=f"menu={i}", display_text="メニュー"),
                )
                for i in range(areas)
            ],
        )
    )


GOOD = {
    "text reply": (REPLY, text_reply()),
    "text of 5,000 characters": (REPLY, text_reply("あ" * 5000)),
    "5,000 UTF-16 units of emoji": (REPLY, text_reply("🍎" * 2500)),
    "quick reply of every action kind": (REPLY, text_reply(quick_reply=quick_reply(4))),
    "13 quick reply items": (REPLY, text_reply(quick_reply=quick_reply(13))),
    "20-character label": (REPLY, text_reply(quick_reply=quick_reply(4, "あ" * 20))),
    "20 emoji in a label (graphemes)": (REPLY, text_reply(quick_reply=quick_reply(4, "👨‍👩‍👧" * 20))),
    "flex bubble": (PUSH, flex_push(bubble())),
    "flex carousel of 12": (PUSH, flex_push(FlexCarousel(contents=[bubble() for _ in range(12)]))),
    "altText of 1,500": (PUSH, flex_push(bubble(), alt_text="あ" * 1500)),
    "postback data of 300": (
        REPLY,
        wire(
            ReplyMessageRequest(
                reply_token="rt",
                messages=[
                    TextMessage(
                        text="t",
                        quick_reply=QuickReply(
                            items=[
                                QuickReplyItem(
                                    action=PostbackAction(label="l", data="d" * 300, display_text="あ" * 300)
                                )
                            ]
                        ),
                    )
                ],
            )
        ),
    ),
    "five messages": (REPLY, wire(ReplyMessageRequest(reply_token="rt", messages=[TextMessage(text="t")] * 5))),
    "multicast to 500": (MULTICAST, wire(MulticastRequest(to=[USER] * 500, messages=[TextMessage(text="t")]))),
    "rich menu": (RICHMENU, rich_menu()),
    "rich menu of 20 areas": (RICHMENU, rich_menu(areas=20)),
    "rich menu validate": (RICHMENU_VALIDATE, rich_menu()),
}


@pytest.mark.parametrize("path, body", GOOD.values(), ids=GOOD.keys())
def test_what_the_sdk_sends_for_good_messages_is_valid(path, body):
    assert validate_request("POST", path, body) == []


def test_the_sdk_drops_none_fields_and_keeps_defaults():
    """What goes on the wire: no nulls (to_dict(exclude_none=True)), camelCase aliases, and the
    defaults the SDK fills in (notificationDisabled, quick reply item type)."""
    body = text_reply(quick_reply=quick_reply(1))
    assert "null" not in json.dumps(body)
    assert body["notificationDisabled"] is False
    assert body["messages"][0]["quickReply"]["items"][0] == {
        "type": "action",
        "action": {"type": "message", "label": "えらぶ", "text": "保育園の空き"},
    }


# --- each rule broken once ------------------------------------------------------------------


def changed(body: dict, change) -> dict:
    body = copy.deepcopy(body)
    change(body)
    return body


def first_message(body: dict) -> dict:
    return body["messages"][0]


def qr_items(body: dict) -> list:
    return first_message(body)["quickReply"]["items"]


def qr_action(body: dict) -> dict:
    return qr_items(body)[0]["action"]


def flex_button(body: dict, i: int = 0) -> dict:
    return first_message(body)["contents"]["footer"]["contents"][i]["action"]


REPLY_QR = text_reply(quick_reply=quick_reply(4))
PUSH_BUBBLE = flex_push(bubble())

BAD = {
    # (path, body, property LINE would name, words the message must contain)
    "6 messages": (
        REPLY,
        changed(text_reply(), lambda b: b["messages"].extend([first_message(b)] * 5)),
        "messages",
        "at most 5",
    ),
    "no messages": (REPLY, changed(text_reply(), lambda b: b["messages"].clear()), "messages", "at least 1"),
    "5,001-character text": (REPLY, text_reply("あ" * 5001), "messages[0].text", "at most 5000"),
    "5,002 UTF-16 units of emoji": (REPLY, text_reply("🍎" * 2501), "messages[0].text", "it is 5002"),
    "empty text": (REPLY, text_reply(""), "messages[0].text", "May not be empty"),
    "1,501-character altText": (PUSH, flex_push(bubble(), alt_text="あ" * 1501), "messages[0].altText", "at most 1500"),
    "13 bubbles": (
        PUSH,
        flex_push(FlexCarousel(contents=[bubble() for _ in range(13)])),
        "messages[0].contents.contents",
        "at most 12",
    ),
    "14 quick reply items": (
        REPLY,
        changed(text_reply(quick_reply=quick_reply(13)), lambda b: qr_items(b).append(copy.deepcopy(qr_items(b)[0]))),
        "messages[0].quickReply.items",
        "at most 13",
    ),
    "21-character quick reply label": (
        REPLY,
        text_reply(quick_reply=quick_reply(1, "あ" * 21)),
        "messages[0].quickReply.items[0].action.label",
        "at most 20",
    ),
    "41-character flex button label": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: flex_button(b).update(label="x" * 41)),
        "messages[0].contents.footer.contents[0].action.label",
        "at most 40",
    ),
    "301-character postback data": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: flex_button(b, 1).update(data="d" * 301)),
        "messages[0].contents.footer.contents[1].action.data",
        "at most 300",
    ),
    "301-character displayText": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: flex_button(b, 1).update(displayText="あ" * 301)),
        "messages[0].contents.footer.contents[1].action.displayText",
        "at most 300",
    ),
    "301-character message action text": (
        REPLY,
        changed(REPLY_QR, lambda b: qr_action(b).update(text="あ" * 301)),
        "messages[0].quickReply.items[0].action.text",
        "at most 300",
    ),
    "1,001-character uri": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: flex_button(b).update(uri="https://example.jp/" + "a" * 982)),
        "messages[0].contents.footer.contents[0].action.uri",
        "at most 1000",
    ),
    "relative uri": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: flex_button(b).update(uri="/kosodate")),
        "messages[0].contents.footer.contents[0].action.uri",
        "valid uri",
    ),
    "unknown message type": (
        REPLY,
        changed(text_reply(), lambda b: first_message(b).update(type="txt")),
        "messages[0].type",
        "Must be one of the following values",
    ),
    "unknown flex component type": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: first_message(b)["contents"]["body"]["contents"][0].update(type="paragraph")),
        "messages[0].contents.body.contents[0].type",
        "[box, button",
    ),
    "unknown action type": (
        REPLY,
        changed(REPLY_QR, lambda b: qr_action(b).update(type="call")),
        "messages[0].quickReply.items[0].action.type",
        "postback",
    ),
    "carousel in a carousel": (
        PUSH,
        changed(
            flex_push(FlexCarousel(contents=[bubble()])),
            lambda b: first_message(b)["contents"]["contents"][0].update(type="carousel"),
        ),
        "messages[0].contents.contents[0].type",
        "[bubble]",
    ),
    "text message without text": (
        REPLY,
        changed(text_reply(), lambda b: first_message(b).pop("text")),
        "messages[0].text",
        "Must be specified",
    ),
    "reply without replyToken": (
        REPLY,
        changed(text_reply(), lambda b: b.pop("replyToken")),
        "replyToken",
        "Must be specified",
    ),
    "flex without altText": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: first_message(b).pop("altText")),
        "messages[0].altText",
        "Must be specified",
    ),
    "message without type": (
        REPLY,
        changed(text_reply(), lambda b: first_message(b).pop("type")),
        "messages[0].type",
        "Must be specified",
    ),
    "text of the wrong type": (
        REPLY,
        changed(text_reply(), lambda b: first_message(b).update(text=42)),
        "messages[0].text",
        "type string",
    ),
    "box layout not in the enum": (
        PUSH,
        changed(PUSH_BUBBLE, lambda b: first_message(b)["contents"]["body"].update(layout="diagonal")),
        "messages[0].contents.body.layout",
        "horizontal, vertical, baseline",
    ),
    "multicast to 501": (
        MULTICAST,
        changed(
            wire(MulticastRequest(to=[USER] * 500, messages=[TextMessage(text="t")])), lambda b: b["to"].append(USER)
        ),
        "to",
        "at most 500",
    ),
    "flex bubble over 30 KB": (PUSH, flex_push(bubble("あ" * 10_100)), "messages[0].contents", "30,000 bytes"),
    "rich menu chatBarText of 15": (
        RICHMENU,
        changed(rich_menu(), lambda b: b.update(chatBarText="メ" * 15)),
        "chatBarText",
        "at most 14",
    ),
    "rich menu of 21 areas": (RICHMENU, rich_menu(areas=21), "areas", "at most 20"),
    "rich menu without size": (
        RICHMENU_VALIDATE,
        changed(rich_menu(), lambda b: b.pop("size")),
        "size",
        "Must be specified",
    ),
    "rich menu area label of 21": (
        RICHMENU,
        changed(rich_menu(), lambda b: b["areas"][0]["action"].update(label="あ" * 21)),
        "areas[0].action.label",
        "at most 20",
    ),
}


@pytest.mark.parametrize("path, body, prop, words", BAD.values(), ids=BAD.keys())
def test_each_broken_rule_is_refused_naming_the_property(path, body, prop, words):
    errors = validate_request("POST", path, body)
    assert any(e.startswith(prop + ": ") and words in e for e in errors), errors


def test_a_broken_rule_is_reported_once():
    errors = validate_request("POST", REPLY, text_reply("あ" * 5001))
    assert errors == ["messages[0].text: Length must be at most 5000 UTF-16 code units (it is 5001)"]


def test_requests_outside_the_spec_are_refused():
    assert validate_request("POST", "/v2/bot/message/replies", text_reply()) == [
        "(body): POST /v2/bot/message/replies is not an operation of the Messaging API spec"
    ]
    assert validate_request("GET", "/v2/bot/info", None) == []
    assert validate_request("GET", "/v2/bot/info", {"a": 1}) == ["(body): GET /v2/bot/info takes no JSON body"]
    assert validate_request("POST", PUSH, None) == [
        "(body): POST /v2/bot/message/push needs a JSON body (PushMessageRequest)"
    ]


def test_literal_path_segments_win_over_parameters():
    assert line_spec.find_operation("GET", "/v2/bot/richmenu/list").operation_id == "getRichMenuList"
    assert line_spec.find_operation("GET", "/v2/bot/richmenu/richmenu-1").operation_id == "getRichMenu"
    assert line_spec.find_operation("POST", RICHMENU_VALIDATE).operation_id == "validateRichMenuObject"


def test_line_counts_utf16_units_and_graphemes():
    """docs/messaging-api/text-character-count: UTF-16 code units, graphemes for labels etc."""
    assert (utf16_length("あ"), utf16_length("🍎"), utf16_length("👨‍👩‍👧")) == (1, 2, 8)
    assert (grapheme_length("あ"), grapheme_length("🍎"), grapheme_length("👨‍👩‍👧"), grapheme_length("が")) == (
        1,
        1,
        1,
        1,
    )


# --- the spec transformation itself ---------------------------------------------------------


def test_the_transformed_spec_is_valid_json_schema():
    line_spec.Draft202012Validator.check_schema(line_spec.schema_document())


def spec_schemas() -> dict:
    return load_spec()["components"]["schemas"]


def test_every_discriminator_value_dispatches_to_its_schema():
    """For each mapping value, a bare object of that type is judged by the mapped schema: it
    fails only for the mapped schema's own required properties, never on its type."""
    for name, schema in spec_schemas().items():
        disc = schema.get("discriminator")
        if not disc:
            continue
        for value in disc["mapping"]:
            problems = line_spec.check_body(name, {disc["propertyName"]: value})
            assert all(p.message == "Must be specified" or "type" not in p.property for p in problems), (
                name,
                value,
                problems,
            )


def test_extra_rules_name_real_schemas_and_limits_the_spec_does_not_state():
    """When a refreshed spec states one of these limits itself, drop the rule (README)."""
    schemas = spec_schemas()

    def stated(schema: dict, prop: str, keyword: str) -> bool:
        holders = (schema, *schema.get("allOf", []))
        return any(keyword in h.get("properties", {}).get(prop, {}) for h in holders)

    for rule in EXTRA_RULES:
        assert rule.schema in schemas, rule
        assert rule.source.startswith("https://developers.line.biz/"), rule
        for prop, constraint in rule.constraint.get("properties", {}).items():
            for keyword in {"maxLength", "minLength", "maxItems", "minItems"} & constraint.keys():
                assert not stated(schemas[rule.schema], prop, keyword), (
                    f"the spec now states {rule.schema}.{prop} {keyword}: drop it from EXTRA_RULES"
                )
        for required in rule.constraint.get("required", []):
            assert required not in schemas[rule.schema].get("required", []), rule


# --- the fake, end to end through the SDK ---------------------------------------------------


@pytest.fixture
def api_client(fake_line):
    with ApiClient(Configuration(access_token="t", host=fake_line.url)) as client:
        yield client


@pytest.fixture
def line_api(api_client):
    return MessagingApi(api_client)


def assert_answers_match_the_spec(fake_line):
    for r in fake_line.requests:
        if r.accepted and r.response is not None:
            assert check_response(r.method, r.path, r.status, r.response) == [], (r.method, r.path, r.response)


def test_a_valid_reply_is_accepted_and_recorded(fake_line, line_api):
    response = line_api.reply_message(
        ReplyMessageRequest(
            reply_token="rt",
            messages=[TextMessage(text="こんにちは"), FlexMessage(alt_text="イベント", contents=bubble())],
        )
    )
    assert [bool(m.quote_token) for m in response.sent_messages] == [True, False]
    (request,) = fake_line.requests
    assert request.header("authorization") == "Bearer t"
    assert fake_line.sent(REPLY) == [text_reply() | {"messages": fake_line.messages()}]
    assert [m["type"] for m in fake_line.messages()] == ["text", "flex"]
    assert_answers_match_the_spec(fake_line)


def test_an_invalid_reply_raises_400_with_line_details(fake_line, line_api):
    fake_line.expect_violations(1)
    with pytest.raises(ApiException) as raised:
        line_api.reply_message(ReplyMessageRequest(reply_token="rt", messages=[TextMessage(text="あ" * 5001)]))
    assert raised.value.status == 400
    assert json.loads(raised.value.body) == {
        "message": "The request body has 1 error(s)",
        "details": [
            {"message": "Length must be at most 5000 UTF-16 code units (it is 5001)", "property": "messages[0].text"}
        ],
    }
    assert fake_line.sent(REPLY) == [] and fake_line.messages() == []
    assert [str(v) for v in fake_line.violations] == [
        "POST /v2/bot/message/reply: messages[0].text: Length must be at most 5000 UTF-16 code units (it is 5001)"
    ]


def test_an_unexpected_violation_fails_the_test_at_teardown(line_api_server):
    """What the fixture's teardown does, seen from outside: verify() fails the test."""
    line_api_server.clear()
    fake = FakeLine(line_api_server)
    try:
        with ApiClient(Configuration(access_token="t", host=fake.url)) as client:
            with pytest.raises(ApiException):
                MessagingApi(client).push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="")]))
        with pytest.raises(pytest.fail.Exception, match="messages\\[0\\].text: May not be empty"):
            fake.verify()
    finally:
        fake.close()
        line_api_server.clear()


def test_an_expected_violation_that_never_happens_fails_too(line_api_server):
    line_api_server.clear()
    fake = FakeLine(line_api_server)
    fake.expect_violations()
    with pytest.raises(pytest.fail.Exception, match="none happened"):
        fake.verify()
    line_api_server.clear()


def raw_post(fake_line, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        fake_line.url + path,
        json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_request_without_a_token_is_refused_401(fake_line):
    fake_line.expect_violations(1)
    status, body = raw_post(fake_line, PUSH, flex_push(bubble()))
    assert status == 401 and "Authorization" in body["message"]


def test_an_unknown_endpoint_is_a_violation(fake_line):
    fake_line.expect_violations(1)
    status, body = raw_post(fake_line, "/v2/bot/message/replies", text_reply(), {"Authorization": "Bearer t"})
    assert (status, body) == (404, {"message": "Not found"})


def test_an_endpoint_the_fake_does_not_emulate_says_how_to_script_it(fake_line):
    body = {"messages": [{"type": "text", "text": "t"}]}
    fake_line.expect_violations(1)
    status, answer = raw_post(fake_line, "/v2/bot/message/narrowcast", body, {"Authorization": "Bearer t"})
    assert status == 501 and "fake_line.respond()" in answer["message"]
    fake_line.respond("POST", "/v2/bot/message/narrowcast", status=202)
    assert raw_post(fake_line, "/v2/bot/message/narrowcast", body, {"Authorization": "Bearer t"}) == (202, {})


def test_a_reply_token_works_once(fake_line, line_api):
    line_api.reply_message(ReplyMessageRequest(reply_token="once", messages=[TextMessage(text="1")]))
    fake_line.expect_violations(1)
    with pytest.raises(ApiException) as raised:
        line_api.reply_message(ReplyMessageRequest(reply_token="once", messages=[TextMessage(text="2")]))
    assert json.loads(raised.value.body) == {"message": "Invalid reply token"}


def test_a_reused_retry_key_gets_409_with_the_accepted_request_id(fake_line, line_api):
    key = str(uuid.uuid4())
    push = PushMessageRequest(to=USER, messages=[TextMessage(text="お知らせ")])
    first = line_api.push_message_with_http_info(push, x_line_retry_key=key)
    with pytest.raises(ApiException) as raised:
        line_api.push_message_with_http_info(push, x_line_retry_key=key)
    assert raised.value.status == 409
    assert raised.value.headers["x-line-accepted-request-id"] == first.headers["X-Line-Request-Id"]
    assert json.loads(raised.value.body)["sentMessages"] == [m.to_dict() for m in first.data.sent_messages]
    assert [r.retry_key for r in fake_line.requests] == [key, key]
    assert len(fake_line.sent(PUSH)) == 1 and fake_line.violations == []


def test_a_retry_after_a_500_with_the_same_key_goes_through(fake_line, line_api):
    key = str(uuid.uuid4())
    fake_line.fail(MULTICAST, status=500)
    request = MulticastRequest(to=[USER], messages=[TextMessage(text="t")])
    with pytest.raises(ApiException):
        line_api.multicast(request, x_line_retry_key=key)
    line_api.multicast(request, x_line_retry_key=key)
    assert [r.status for r in fake_line.requests] == [500, 200]


def test_a_retry_key_where_line_takes_none_or_not_a_uuid_is_refused(fake_line):
    fake_line.expect_violations(2)
    headers = {"Authorization": "Bearer t", "X-Line-Retry-Key": str(uuid.uuid4())}
    assert raw_post(fake_line, REPLY, text_reply(), headers)[0] == 400
    headers["X-Line-Retry-Key"] = "retry-1"
    assert raw_post(fake_line, PUSH, flex_push(bubble()), headers)[0] == 400


def test_scripted_failures_answer_the_next_requests_then_stop(fake_line, line_api):
    fake_line.fail(PUSH, status=429, headers={"Retry-After": "1"})
    fake_line.fail(PUSH, status=401)
    push = PushMessageRequest(to=USER, messages=[TextMessage(text="t")])
    statuses = []
    for _ in range(3):
        try:
            line_api.push_message(push)
            statuses.append(200)
        except ApiException as error:
            statuses.append(error.status)
            if error.status == 429:
                assert error.headers["Retry-After"] == "1"
    assert statuses == [429, 401, 200]
    assert fake_line.violations == []


def test_a_scripted_409_carries_an_accepted_request_id(fake_line, line_api):
    fake_line.fail(PUSH, status=409)
    with pytest.raises(ApiException) as raised:
        line_api.push_message(
            PushMessageRequest(to=USER, messages=[TextMessage(text="t")]), x_line_retry_key=str(uuid.uuid4())
        )
    assert raised.value.status == 409 and raised.value.headers["x-line-accepted-request-id"]


def test_a_delay_times_the_client_out(fake_line, line_api):
    fake_line.delay(PUSH, seconds=2, times=1)
    push = PushMessageRequest(to=USER, messages=[TextMessage(text="t")])
    with pytest.raises((urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.MaxRetryError)):
        line_api.push_message(push, _request_timeout=0.3)
    line_api.push_message(push, _request_timeout=2)  # served meanwhile: the server is threaded


def test_pushes_from_many_threads_are_all_recorded(fake_line, api_client):
    def push(i: int) -> None:
        MessagingApi(api_client).push_message(PushMessageRequest(to=USER, messages=[TextMessage(text=f"#{i}")]))

    threads = [threading.Thread(target=push, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    answered = fake_line.wait_for(PUSH, 8)
    for thread in threads:
        thread.join()
    assert sorted(m["text"] for m in fake_line.messages()) == sorted(f"#{i}" for i in range(8))
    ids = [m["id"] for r in answered for m in r.response["sentMessages"]]
    assert len(set(ids)) == 8


def test_wait_for_fails_the_test_when_nothing_comes(fake_line):
    with pytest.raises(pytest.fail.Exception, match="0 of 1 requests"):
        fake_line.wait_for(PUSH, 1, timeout=0.1)


def test_the_monthly_quota_counts_recipients_and_refuses_past_it(fake_line, line_api):
    fake_line.set_quota(3)
    line_api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="t")] * 5))
    line_api.multicast(MulticastRequest(to=[USER, USER], messages=[TextMessage(text="t")]))
    with pytest.raises(ApiException) as raised:
        line_api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="t")]))
    assert raised.value.status == 429
    assert line_api.get_message_quota().to_dict() == {"type": "limited", "value": 3}
    assert line_api.get_message_quota_consumption().total_usage == 3
    assert fake_line.violations == []
    assert_answers_match_the_spec(fake_line)


def test_bot_info_and_profile(fake_line, line_api):
    assert line_api.get_bot_info().chat_mode == "bot"
    assert line_api.get_profile(USER).user_id == USER
    assert_answers_match_the_spec(fake_line)


def test_rich_menu_lifecycle_through_both_sdk_apis(fake_line, api_client):
    """MessagingApiBlob's operations name https://api-data.line.me, but a Configuration host
    sends them to the same fake (see tests/line_fake.py)."""
    api, blob = MessagingApi(api_client), MessagingApiBlob(api_client)
    menu = RichMenuRequest.from_dict(rich_menu())
    api.validate_rich_menu_object(menu)
    rich_menu_id = api.create_rich_menu(menu).rich_menu_id
    assert rich_menu_id.startswith("richmenu-")
    blob.set_rich_menu_image(rich_menu_id, body=PNG, _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(rich_menu_id)
    assert api.get_default_rich_menu_id().rich_menu_id == rich_menu_id
    assert [m.rich_menu_id for m in api.get_rich_menu_list().richmenus] == [rich_menu_id]
    assert bytes(blob.get_rich_menu_image(rich_menu_id)) == PNG
    api.delete_rich_menu(rich_menu_id)
    assert api.get_rich_menu_list().richmenus == []
    assert fake_line.default_rich_menu is None
    upload = next(r for r in fake_line.requests if r.path.endswith("/content") and r.method == "POST")
    assert upload.header("Content-Type") == "image/png" and upload.json is None
    assert_answers_match_the_spec(fake_line)


def test_a_rich_menu_needs_its_image_before_it_is_shown(fake_line, line_api):
    rich_menu_id = line_api.create_rich_menu(RichMenuRequest.from_dict(rich_menu())).rich_menu_id
    fake_line.expect_violations(1)
    with pytest.raises(ApiException) as raised:
        line_api.set_default_rich_menu(rich_menu_id)
    assert raised.value.status == 400


def test_a_rich_menu_image_must_be_png_or_jpeg(fake_line, api_client):
    rich_menu_id = MessagingApi(api_client).create_rich_menu(RichMenuRequest.from_dict(rich_menu())).rich_menu_id
    fake_line.expect_violations(1)
    with pytest.raises(ApiException):
        MessagingApiBlob(api_client).set_rich_menu_image(
            rich_menu_id, body=b"GIF89a", _headers={"Content-Type": "image/gif"}
        )
