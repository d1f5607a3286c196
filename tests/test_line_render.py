"""``handlers.line.render``: answers as LINE messages that LINE accepts, however long or many
the records (every reply body checked against LINE's OpenAPI spec, ``tests/line_spec.py``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from line_spec import validate_request
from linebot.v3.messaging import ApiClient, Configuration, ReplyMessageRequest

from handlers.line import render
from handlers.line import setup as line_setup
from knowledge import ask
from knowledge.answers.listings import Listed, Listing
from knowledge.answers.places import Place
from knowledge.answers.wording import ListingWords, listing_words
from knowledge.store.db import bump_version

TODAY = date(2026, 12, 1)


def wire(messages) -> dict:
    """The reply body as the SDK puts it on the wire."""
    request = ReplyMessageRequest(reply_token="t", messages=messages)
    with ApiClient(Configuration(access_token="t")) as client:
        return client.sanitize_for_serialization(request)


def assert_valid(messages) -> dict:
    body = wire(messages)
    errors = validate_request("POST", "/v2/bot/message/reply", body)
    assert errors == [], errors
    return body


def said(text: str) -> ListingWords:
    """A listing's words from a text of one's own: its first line the head, the rest notes."""
    head, *rest = text.split("\n")
    return ListingWords(head, tuple(rest))


def entry(i: int, *, long: bool = False) -> Listed:
    words = "とても長い説明の" * 40 if long else ""
    return Listed(
        day=TODAY + timedelta(days=i % 7),
        start_time="10:00",
        end_time="11:30",
        title=f"おやこひろば{i}{words}",
        place=f"地域子育て支援拠点{i}{words}",
        audience=f"0歳から3歳の親子{words}",
        activity_id=f"a{i}",
        area="横浜市旭区",
    )


@pytest.mark.parametrize("count", [1, 9, 10, 11, 25, 300])
def test_a_listing_of_any_size_is_one_valid_carousel_with_a_more_bubble_past_ten(count):
    entries = [entry(i) for i in range(count)]
    listing = Listing(label="今週", start=TODAY, end=TODAY + timedelta(days=6), area="横浜市旭区", entries=entries)
    text = "\n".join(f"・{e.title}" for e in entries) * 3
    body = assert_valid(render.finish(render.listing_messages(listing, said(text)), render.follow_ups()))
    [flex] = body["messages"]
    bubbles = flex["contents"]["contents"]
    assert len(bubbles) == min(count, 10)
    if count > 10:
        assert f"ほかに{count - 9}件" in json.dumps(bubbles[-1], ensure_ascii=False)
    assert len(flex["altText"]) <= 1500


def test_very_long_fields_are_cut_not_refused():
    listing = Listing(label="今週", start=TODAY, end=TODAY, area=None, entries=[entry(i, long=True) for i in range(10)])
    assert_valid(render.listing_messages(listing, said("あ" * 9000)))


def test_an_empty_window_with_next_events_says_so_then_shows_them():
    listing = Listing(label="明日", start=TODAY, end=TODAY, area="横浜市旭区", entries=[], offered=[entry(1), entry(2)])
    words = listing_words(listing)
    body = assert_valid(render.listing_messages(listing, words))
    assert [m["type"] for m in body["messages"]] == ["text", "flex"]
    assert body["messages"][0]["text"] == words.head == "明日12月1日（火）は、横浜市旭区に予定はありません。"
    assert words.text.startswith(words.head + "\n次の予定：\n・")


def test_places_with_and_without_coordinates():
    places = [
        Place(
            f"b{i}",
            f"拠点{i}",
            "横浜市旭区",
            "地域子育て支援拠点",
            "横浜市旭区二俣川1-1",
            "045-000-0000",
            "9:00〜16:00",
            "https://example.jp/" + "x" * 2000 if i == 1 else "https://example.jp/",
            35.46 + i / 100 if i % 2 else None,
            139.53 if i % 2 else None,
            0.42 * i if i % 2 else None,
        )
        for i in range(12)
    ]
    body = assert_valid(render.finish(render.place_carousel(places, "近くの拠点"), render.follow_ups()))
    flex = body["messages"][1]
    assert len(flex["contents"]["contents"]) == 10
    first = json.dumps(flex["contents"]["contents"][1], ensure_ascii=False)
    assert "約420m" in first and "google.com/maps" in first
    assert "x" * 2000 not in first  # a link LINE would refuse (over 1,000 characters) is left out


@pytest.mark.parametrize(
    "question",
    [
        "旭区の子育て支援拠点",
        "赤ちゃんサロン",
        "赤ちゃんサロンはいつ？",
        "児童手当",
        "宝くじ",
        "今週のイベント",
        "来週の土曜に行けるイベント",
        "パパと参加できるイベント",
        "",
    ],
)
def test_answers_of_every_kind_are_valid_messages(demo_db, question):
    answer = ask(demo_db, question, area="横浜市旭区", today=TODAY, log=False)
    body = assert_valid(render.answer_messages(answer))
    assert 1 <= len(body["messages"]) <= 5
    assert body["messages"][-1]["quickReply"]["items"]


def test_a_base_question_gets_cards_with_a_map_button(demo_db):
    answer = ask(demo_db, "旭区の子育て支援拠点", area="横浜市旭区", today=TODAY, log=False)
    assert answer.answered and answer.items[0].kind == "base"
    body = assert_valid(render.answer_messages(answer))
    [flex] = body["messages"]
    first = json.dumps(flex["contents"]["contents"][0], ensure_ascii=False)
    assert "地図を見る" not in first  # the demo's bases have no address: no map to show
    with demo_db.conn:
        demo_db["bases"].update(answer.items[0].id, {"address": "横浜市旭区鶴ケ峰1-4-12"})
        bump_version(demo_db)
    answer = ask(demo_db, "旭区の子育て支援拠点", area="横浜市旭区", today=TODAY, log=False)
    body = assert_valid(render.answer_messages(answer))
    first = json.dumps(body["messages"][0]["contents"]["contents"][0], ensure_ascii=False)
    assert "住所：横浜市旭区鶴ケ峰1-4-12" in first and "地図を見る" in first


def test_cards_are_drawn_from_the_answer_alone_with_its_base_closed(demo_db):
    """A card's lines, link and map come with the answer (``Item.lines``, ``url``, ``address``,
    ``lat``/``lon``): the renderer reads no base and takes no text apart."""
    with demo_db.conn:
        demo_db["bases"].update(
            "base-f493b019798e",
            {"address": "横浜市旭区鶴ケ峰1-4-12", "lat": 35.47, "lon": 139.54, "url": "https://example.jp/hiroba"},
        )
        bump_version(demo_db)
    answers = {
        q: ask(demo_db, q, area="横浜市旭区", today=TODAY, log=False)
        for q in ("旭区の子育て支援拠点", "ちょこっとお預かり", "来週のイベント", "来週水曜の沐浴の練習", "宝くじ")
    }
    base = answers["旭区の子育て支援拠点"].items[0]
    assert base.id == "base-f493b019798e" and base.url == "https://example.jp/hiroba"
    assert base.lines and not any(line.startswith(("「", "https://")) for line in base.lines)
    demo_db.close()  # any read from here on raises
    for answer in answers.values():
        assert_valid(render.answer_messages(answer))
    [flex] = render.answer_messages(answers["旭区の子育て支援拠点"])
    bubble = flex.contents.contents[0].to_dict()
    assert [line["text"] for line in bubble["body"]["contents"]] == list(base.lines)
    assert [b["action"]["uri"] for b in bubble["footer"]["contents"]] == [
        "https://example.jp/hiroba",
        "https://www.google.com/maps/search/?api=1&query=35.470000,139.540000",
    ]


def test_a_single_fact_is_text(demo_db):
    answer = ask(demo_db, "赤ちゃんサロンはいつ？", area="横浜市旭区", today=TODAY, log=False)
    body = assert_valid(render.answer_messages(answer))
    assert body["messages"][0]["type"] == "text" and body["messages"][0]["text"] == answer.text


def test_setup_messages_are_valid(demo_db):
    assert_valid(line_setup.area_question(demo_db))
    assert_valid(line_setup.child_question())
    with demo_db.conn:
        for i in range(40):
            demo_db["areas"].insert(
                {
                    "name": f"長い名前の政令指定都市{i % 3}市第{i}区",
                    "city": f"長い名前の政令指定都市{i % 3}市",
                    "ward": f"第{i}区",
                }
            )
    for messages in (
        line_setup.area_question(demo_db),
        line_setup.area_question(demo_db, cities=True),
        line_setup.area_question(demo_db, "長い名前の政令指定都市1市", page=1),
    ):
        body = assert_valid(messages)
        assert len(body["messages"][-1]["quickReply"]["items"]) <= 13


def test_emoji_are_counted_as_line_counts_them():
    """LINE counts texts in UTF-16 units: 🎄 is two. A listing of emoji titles stays within altText."""
    entries = [
        Listed(
            day=TODAY,
            start_time=None,
            end_time=None,
            title="🎄" * 30,
            place=None,
            audience=None,
            activity_id=f"e{i}",
            area=None,
        )
        for i in range(60)
    ]
    listing = Listing(label="今週", start=TODAY, end=TODAY, area=None, entries=entries)
    text = "\n".join("・" + e.title for e in entries)
    body = assert_valid(render.listing_messages(listing, said(text)))
    assert render.units(body["messages"][0]["altText"]) <= 1500
    assert_valid([render.text_message("😀" * 5000)])


@pytest.mark.parametrize(
    "url",
    [
        "https://example.jp/子育て ひろば",
        "https://a.example.jp/ https://b.example.jp/",
        "（https://example.jp/hiroba）",
        "ftp://example.jp",
        "なし",
        "",
    ],
)
def test_links_from_open_data_cells_are_made_safe_or_left_out(url):
    place = Place("b", "拠点", "横浜市旭区", None, None, None, None, url, None, None)
    body = assert_valid(render.place_carousel([place], "拠点"))
    for action in [
        c["action"] for c in body["messages"][1]["contents"]["contents"][0].get("footer", {}).get("contents", [])
    ]:
        assert " " not in action["uri"] and action["uri"].startswith("https://")
