"""/kosodate unanswered: declined questions grouped, a button, a modal, an FAQ answered at once; audit."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from slack_fake import MIHARA_CHANNEL, OUTSIDER, PUBLIC_CHANNEL, STAFF_USER, SlackFake, app_with

from handlers.slack import words
from knowledge import open_db
from knowledge.lang import clock
from knowledge.staff import faqs

GARBAGE = ["粗大ごみの出し方を知りたい", "粗大ごみの出し方は？", "粗大ごみの出し方を教えて"]
OTHER = "犬の散歩ができる公園"
ANSWER = "粗大ごみは西区の粗大ごみ受付センターに電話で申し込んでください。"


def parents_ask(client, questions, area="堺市西区"):
    for q in questions:
        body = client.get("/api/ask", query_string={"q": q, "area": area}).get_json()
        assert body["answered"] is False


def unanswered_buttons(reply) -> list[dict]:
    return [b for b in reply["blocks"] if b.get("accessory", {}).get("action_id") == "kb_unanswered_answer"]


def test_grouping_counts_alike_questions_once():
    db = open_db(":memory:")
    for i, text in enumerate(GARBAGE + [OTHER]):
        db["unanswered"].insert(
            {"id": i + 1, "text": text, "area": "堺市西区", "asked_at": "2026-01-01T00:00:00+00:00"}
        )
    groups = faqs.open_groups(db, "堺市西区")
    assert [g.count for g in groups] == [3, 1]
    assert set(groups[0].texts) == set(GARBAGE) and groups[1].text == OTHER


def test_an_faq_written_from_unanswered_answers_the_next_parent_at_once(slack, fake, base, base_path):
    web = slack.client.application.test_client()
    parents_ask(web, GARBAGE + [OTHER])
    parents_ask(web, ["粗大ごみの出し方は？"], area="横浜市旭区")  # another ward's: not listed for 西区
    slack.command("unanswered")
    listed = fake.wait_for("/respond")[0]
    buttons = unanswered_buttons(listed)
    assert len(buttons) == 2
    first = buttons[0]
    assert "（3件）" in first["text"]["text"] and "粗大ごみ" in first["text"]["text"]
    slack.click(first["accessory"] | {"action_id": "kb_unanswered_answer"})
    view = fake.wait_for("/views.open")[0]["view"]
    assert view["callback_id"] == "kb_faq"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["question"]["element"]["initial_value"] in GARBAGE
    assert json.loads(view["private_metadata"])["ward"] == "堺市西区"

    response = slack.submit(
        view, {"question": "粗大ごみの出し方を知りたい", "answer": ANSWER, "words": "そだいごみ、大きいごみ"}
    )
    assert response.status_code == 200 and not response.get_data()
    told = fake.wait_for("/respond", count=2)[1]  # at the response URL of the button's message
    assert told["response_type"] == "ephemeral" and "FAQ「粗大ごみの出し方を知りたい」" in told["text"]
    [row] = base.query("SELECT * FROM faqs WHERE source = 'staff'")
    assert (row["area"], row["answer"], row["service_name"]) == ("堺市西区", ANSWER, "そだいごみ、大きいごみ")
    open_left = [r["text"] for r in base.query("SELECT text FROM unanswered WHERE resolved_faq IS NULL ORDER BY id")]
    assert open_left == [OTHER, "粗大ごみの出し方は?"]  # 旭区's stays open (kept NFKC)
    [entry] = base["audit"].rows
    assert entry["action"] == "faq.add" and entry["actor"] == f"slack:{STAFF_USER}" and ANSWER in entry["after"]

    answer = web.get("/api/ask", query_string={"q": "粗大ごみの出し方は？", "area": "堺市西区"}).get_json()
    assert answer["answered"] and ANSWER in answer["text"]

    slack.command("unanswered")
    again = fake.wait_for("/respond", count=3)[2]
    assert [b["text"]["text"] for b in unanswered_buttons(again)] == [f"*{OTHER}*（1件）"]


@pytest.mark.parametrize(
    "values,block,message",
    [
        ({"question": "", "answer": ANSWER}, "question", "入力してください"),
        ({"question": "粗大ごみ", "answer": ""}, "answer", "入力してください"),
        ({"question": "粗大ごみ", "answer": "あ" * 3001}, "answer", "長すぎます"),
        ({"question": "粗大ごみ", "answer": ANSWER, "words": "あ" * 501}, "words", "長すぎます"),
    ],
)
def test_an_invalid_faq_modal_answers_field_errors_and_writes_nothing(slack, fake, base, values, block, message):
    parents_ask(slack.client.application.test_client(), GARBAGE[:1])
    slack.command("unanswered")
    button = unanswered_buttons(fake.wait_for("/respond")[0])[0]["accessory"]
    slack.click(button)
    view = fake.wait_for("/views.open")[0]["view"]
    body = slack.submit(view, values).get_json()
    assert body["response_action"] == "errors" and message in body["errors"][block]
    assert base.execute("SELECT count(*) FROM faqs WHERE source = 'staff'").fetchone()[0] == 0
    assert base["audit"].count == 0
    assert base.execute("SELECT count(*) FROM unanswered WHERE resolved_faq IS NOT NULL").fetchone()[0] == 0


def test_a_stranger_clicking_the_button_or_submitting_is_refused(slack, fake, base):
    parents_ask(slack.client.application.test_client(), GARBAGE[:1])
    slack.command("unanswered")
    button = unanswered_buttons(fake.wait_for("/respond")[0])[0]["accessory"]
    slack.click(button, user=OUTSIDER, channel=PUBLIC_CHANNEL)
    refusal = fake.wait_for("/chat.postEphemeral")[0]
    assert refusal["user"] == OUTSIDER and "担当職員だけ" in refusal["text"]
    assert not fake.received("/views.open")
    slack.click(button)
    view = fake.wait_for("/views.open")[0]["view"]
    view = view | {"private_metadata": json.dumps({"channel": PUBLIC_CHANNEL, "ward": "堺市西区", "ids": [1]})}
    body = slack.submit(view, {"question": "粗大ごみ", "answer": ANSWER}, user=OUTSIDER).get_json()
    assert body["response_action"] == "errors" and "担当職員だけ" in next(iter(body["errors"].values()))
    assert base.execute("SELECT count(*) FROM faqs WHERE source = 'staff'").fetchone()[0] == 0


def test_unanswered_with_nothing_open_says_so(slack, fake):
    slack.command("unanswered")
    assert "ありません" in fake.wait_for("/respond")[0]["text"]


def test_audit_reads_back_every_write_of_the_ward(slack, fake, base):
    slack.command("progress 居場所 後期 研究会を開いた")
    fake.wait_for("/respond")
    slack.command("progress やってみたい 前期 クラブを開いた", channel=MIHARA_CHANNEL)  # 美原区's program
    fake.wait_for("/respond", count=2)
    slack.command("audit")
    reply = fake.wait_for("/respond", count=3)[2]
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "進捗の登録" in text and f"<@{STAFF_USER}>" in text and "研究会を開いた" in text
    assert "クラブを開いた" not in text  # 美原区's write is not 西区's
    assert "変更前：—" in text and "変更後：" in text


# --- unanswered: grouped per ward, ids kept server-side, prefills within limits ---------------------


def test_an_faq_for_one_ward_closes_only_that_wards_questions(base_path, fake, base):
    slack = app_with(base_path, fake)
    base["unanswered"].insert(
        {"text": "粗大ごみの出し方を教えて", "area": "横浜市旭区", "asked_at": "2026-01-01T00:00:00+00:00"}
    )
    base["unanswered"].insert(
        {"text": "粗大ごみの出し方は？", "area": "堺市西区", "asked_at": "2026-01-01T00:00:01+00:00"}
    )
    slack.command("unanswered", channel=PUBLIC_CHANNEL)  # every ward
    buttons = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")]
    assert len(buttons) == 2
    nishi = next(b for b in buttons if json.loads(b["accessory"]["value"])["area"] == "堺市西区")
    slack.click(nishi["accessory"], channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    slack.submit(view, {"question": "粗大ごみの出し方", "answer": "西区の受付センターへ", "words": ""})
    fake.wait_for("/respond", count=2)
    closed = [r["area"] for r in base.query("SELECT area FROM unanswered WHERE resolved_faq IS NOT NULL")]
    assert closed == ["堺市西区"]


def test_a_large_group_is_closed_whole_and_its_modal_keeps_slacks_limits(slack, fake, base):
    for i in range(150):
        base["unanswered"].insert(
            {
                "text": f"夜間に子どもを預けられる場所はありますか（{i}番目の聞き方です）",
                "area": "堺市西区",
                "asked_at": "2026-01-01T00:00:00+00:00",
            }
        )
    slack.command("unanswered")
    button = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")][0]
    assert "ids" not in json.loads(button["accessory"]["value"]) and len(button["accessory"]["value"]) < 2000
    slack.click(button["accessory"])
    view = fake.wait_for("/views.open")[0]["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert len(fields["words"].get("initial_value", "")) <= faqs.MAX_WORDS == fields["words"]["max_length"]
    assert fields["question"]["max_length"] == faqs.MAX_QUESTION and fields["answer"]["max_length"] <= 3000
    assert len(view["private_metadata"]) <= 3000
    slack.submit(view, {"question": "夜間の預け先", "answer": "西区の子育て支援課へ", "words": ""})
    fake.wait_for("/respond", count=2)
    assert base.execute("SELECT count(*) FROM unanswered WHERE resolved_faq IS NULL").fetchone()[0] == 0


def test_a_modal_slack_refuses_to_open_from_a_button_is_told(base_path, httpserver, base):
    httpserver.expect_request("/views.open").respond_with_json({"ok": False, "error": "invalid_arguments"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    base["unanswered"].insert({"text": "夜間保育は？", "area": "堺市西区", "asked_at": "2026-01-01T00:00:00+00:00"})
    slack.command("unanswered")
    button = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")][0]
    slack.click(button["accessory"])
    told = fake.wait_for("/respond", count=2)[1]
    assert told["text"] == words.MODAL_FAILED and told["response_type"] == "ephemeral"


def test_the_audit_shows_japan_time_japanese_labels_and_the_citys_programs(slack, fake, base):
    slack.command("progress 多胎 後期 多胎の集いを開催")  # 堺市's program, from 西区's channel
    fake.wait_for("/respond")
    slack.command("audit")
    reply = fake.wait_for("/respond", count=2)[1]
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    [row] = base.query("SELECT at FROM audit")
    local = datetime.fromisoformat(row["at"]).astimezone(clock.now().tzinfo).strftime("%Y-%m-%d %H:%M")
    assert local in text and row["at"] not in text
    assert "多胎家庭支援事業" in text and "内容：多胎の集いを開催" in text and "program_id" not in text
