"""/kosodate progress and ask: fuzzy program names, the modal, audit rows, answers at once."""

from __future__ import annotations

import threading

import pytest
from slack_fake import (
    ASAHI_CHANNEL,
    BLOCKS_MAX,
    MIHARA_CHANNEL,
    REPORT_CHANNEL,
    STAFF_CHANNEL,
    STAFF_USER,
    Slack,
    fill_progress,
)

from handlers.slack import modals, words
from knowledge import ask, open_db

NISHI = "program-c94dfbac4026"  # 西区こどもの居場所等支援事業 (FY2025)
NEWS = "第3回研究会を2月に開催、12団体が参加"
MIHARA = "program-520c8b3eb980"  # やってみたいが実現できる環境整備 (FY2023)
# (a question naming 居場所 reads as どこ？ in knowledge.answers.ask — 場所 is a where-word — so the
# progress a parent sees is asked of 美原区's program)
MIHARA_Q = "やってみたいが実現できる環境整備の進捗は？"
TATAI = "program-43baa9e9b776"  # 多胎家庭支援事業, 堺市 (the city of 西区)
CIRCLE = "program-03ab91332f25"  # 子育てサークル支援事業, 堺市


def staff_progress(db) -> list[dict]:
    return list(db.query("SELECT * FROM progress WHERE origin = 'slack' ORDER BY rowid"))


def initial_program(view: dict) -> str | None:
    select = {b.get("block_id"): b for b in view["blocks"]}["program"]["element"]
    return (select.get("initial_option") or {}).get("value")


def test_progress_by_short_name_is_written_audited_reported_and_answered_at_once(slack, fake, base, base_path):
    assert slack.command(f"progress 居場所 後期 {NEWS}").status_code == 200
    reply = fake.wait_for("/respond")[0]
    shown = " ".join(b["text"]["text"] for b in reply["blocks"])
    assert "西区こどもの居場所等支援事業" in shown and "後期の進捗を登録しました" in shown
    assert "こどもの居場所研究会の開催（10月、2月）" in shown  # the period's schedule
    assert NEWS in shown and reply["response_type"] == "ephemeral"
    [row] = staff_progress(base)
    assert (row["program_id"], row["period"], row["text"], row["posted_by"]) == (
        NISHI,
        "後期",
        NEWS,
        f"name-{STAFF_USER}",
    )
    [entry] = base["audit"].rows
    assert entry["actor"] == f"slack:{STAFF_USER}" and entry["action"] == "progress.add"
    assert entry["area"] == "堺市西区" and entry["before"] is None and NEWS in entry["after"]
    report = fake.wait_for("/chat.postMessage")[0]
    assert report["channel"] == REPORT_CHANNEL and NEWS in report["text"]


def test_a_parent_sees_new_progress_at_once(slack, fake, base_path):
    parent = open_db(base_path)  # another connection, as a parent's request has
    try:
        assert "おもちゃ祭り" not in ask(parent, MIHARA_Q, area="堺市美原区").text  # the index is built
        slack.command("progress やってみたい 後期 おもちゃ祭りを2月に開き、30組が参加", channel=MIHARA_CHANNEL)
        assert "後期の進捗を登録しました" in fake.wait_for("/respond")[0]["text"]
        answer = ask(parent, MIHARA_Q, area="堺市美原区")
    finally:
        parent.close()
    assert "進捗（後期・" in answer.text and "おもちゃ祭りを2月に開き、30組が参加" in answer.text


@pytest.mark.parametrize("question", ["西区こどもの居場所の進捗は？", "こどもの居場所の支援はどうなりましたか"])
def test_a_parent_asking_for_progress_gets_the_programs_latest_entries(slack, fake, base_path, question):
    """Staff's update reaches the parent who asks for it, newest first; not an activity's card."""
    for done, news in enumerate(("第1回研究会を10月に開催", NEWS), start=1):
        slack.command(f"progress 居場所 後期 {news}")
        assert "後期の進捗を登録しました" in str(fake.wait_for("/respond", done)[-1])
    parent = open_db(base_path)
    try:
        answer = ask(parent, question, area="堺市西区", log=False)
    finally:
        parent.close()
    assert answer.answered and answer.items[0].kind == "program" and answer.items[0].id == NISHI
    assert answer.text.index(NEWS) < answer.text.index("第1回研究会を10月に開催")  # the latest first


@pytest.mark.parametrize(
    "text,program,period,note",
    [
        ("progress", None, None, None),
        ("progress 居場所", NISHI, None, None),
        (f"progress 居場所 {NEWS}", NISHI, None, None),
        ("progress 子育て 後期 報告", None, "後期", "複数あります"),
        ("progress 存在しない事業 前期 報告", None, "前期", "見つかりませんでした"),
    ],
)
def test_missing_or_ambiguous_arguments_open_the_modal_and_write_nothing(
    slack, fake, base, text, program, period, note
):
    slack.command(text, trigger_id="T-modal")
    opened = fake.wait_for("/views.open")[0]
    assert opened["trigger_id"] == "T-modal"
    view = opened["view"]
    assert view["callback_id"] == "kb_progress"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    options = [o["value"] for o in blocks["program"]["element"]["options"]]
    assert len(options) >= 1 and len(options) <= 100
    assert blocks["program"]["element"].get("initial_option", {}).get("value") == program
    assert blocks["period"]["element"].get("initial_option", {}).get("value") == period
    if note:
        assert note in view["blocks"][0]["text"]["text"]
    if "子育て" in text:
        assert NISHI not in options and len(options) > 1  # the candidates only
    assert staff_progress(base) == [] and base["audit"].count == 0


def _progress_view(slack, fake):
    slack.command("progress")
    return fake.wait_for("/views.open")[0]["view"]


@pytest.mark.parametrize(
    "values,block,message",
    [
        ({"program": "", "period": "後期", "text": NEWS}, "program", "事業を選んでください"),
        ({"program": NISHI, "period": "", "text": NEWS}, "period", "期を選んでください"),
        ({"program": "program-gone", "period": "後期", "text": NEWS}, "program", "見つかりません"),
        ({"program": NISHI, "period": "後期", "text": "   "}, "text", "入力してください"),
        ({"program": NISHI, "period": "後期", "text": "あ" * 2001}, "text", "2,000文字まで"),
    ],
)
def test_an_invalid_progress_modal_answers_field_errors_and_writes_nothing(slack, fake, base, values, block, message):
    response = slack.submit(_progress_view(slack, fake), values)
    body = response.get_json()
    assert body["response_action"] == "errors"
    assert message in body["errors"][block]
    assert staff_progress(base) == [] and base["audit"].count == 0


def test_a_valid_progress_modal_writes_and_tells_the_staff_member(slack, fake, base):
    response = slack.submit(_progress_view(slack, fake), {"program": NISHI, "period": "前期", "text": NEWS})
    assert response.status_code == 200 and not response.get_data()
    told = fake.wait_for("/respond")[0]  # at the command's response URL, carried in the modal
    assert told["response_type"] == "ephemeral" and "前期の進捗を登録しました" in told["text"]
    assert [(r["program_id"], r["period"]) for r in staff_progress(base)] == [(NISHI, "前期")]
    assert base["audit"].count == 1


def test_two_staff_writing_to_one_program_at_once_keep_both_entries(slack, fake, base, base_path):
    second = Slack(slack.client.application.test_client(), fake)
    start = threading.Barrier(2)
    results = []

    def write(client, text):
        start.wait()
        results.append(client.command(f"progress 居場所 後期 {text}").status_code)

    threads = [threading.Thread(target=write, args=(c, t)) for c, t in ((slack, "研究会A"), (second, "研究会B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200]
    fake.wait_for("/respond", count=2)
    assert sorted(r["text"] for r in staff_progress(base)) == ["研究会A", "研究会B"]
    assert base["audit"].count == 2


def test_a_staff_write_during_parents_questions_never_breaks_an_answer(slack, fake, base):
    web = slack.client.application.test_client()
    answers, stop = [], threading.Event()

    def parent():
        while not stop.is_set():
            response = web.get("/api/ask", query_string={"q": MIHARA_Q, "area": "堺市美原区"})
            answers.append((response.status_code, response.get_json()))

    thread = threading.Thread(target=parent)
    thread.start()
    try:
        while not answers:
            pass
        for n in range(3):
            slack.command(f"progress やってみたい 後期 報告{n}", channel=MIHARA_CHANNEL)
            fake.wait_for("/respond", count=n + 1)
    finally:
        stop.set()
        thread.join()
    assert answers and all(status == 200 for status, _ in answers)
    for _status, body in answers:
        assert body["answered"] and "やってみたいが実現できる環境整備" in body["text"]
        shown = [n for n in range(3) if f"報告{n}" in body["text"]]
        assert shown == list(range(len(shown)))  # old or new, in order: never a broken half
    assert len(staff_progress(base)) == 3
    last = web.get("/api/ask", query_string={"q": MIHARA_Q, "area": "堺市美原区"}).get_json()
    assert all(f"報告{n}" in last["text"] for n in range(3))


# --- ask ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel,ward,question",
    [
        (ASAHI_CHANNEL, "横浜市旭区", "赤ちゃんサロンはいつ？"),
        (STAFF_CHANNEL, "堺市西区", "西区こどもの居場所等支援事業の運営は？"),
        (STAFF_CHANNEL, "堺市西区", "宝くじの当選番号は？"),
    ],
)
def test_ask_returns_what_a_parent_of_the_channels_ward_gets(slack, fake, base, channel, ward, question):
    slack.command(f"ask {question}", channel=channel)
    reply = fake.wait_for("/respond")[0]
    expected = ask(base, question, area=ward, log=False)
    assert reply["text"] == expected.text[:2900]
    shown = "\n".join(
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in reply["blocks"]
    )
    for line in expected.text.splitlines()[:5]:
        assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in shown
    assert base["unanswered"].count == 0  # staff trying questions do not fill the parents' gaps


def test_ask_about_whats_on_renders_the_listing_line_by_line(slack, fake, base):
    slack.command("ask 今週のイベントは？", channel=ASAHI_CHANNEL)
    reply = fake.wait_for("/respond")[0]
    expected = ask(base, "今週のイベントは？", area="横浜市旭区", log=False)
    assert expected.listing is not None and expected.listing.visible
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    from knowledge.answers.wording import listing_line

    for entry in expected.listing.visible:
        assert listing_line(entry, False) in sections


def test_ask_without_a_question_says_how(slack, fake):
    slack.command("ask")
    assert "質問を入れてください" in fake.wait_for("/respond")[0]["text"]


# --- program lookup: certain only within the ward and its city -----------------------------------


def test_another_citys_program_is_proposed_not_written(slack, fake, base):
    slack.command("progress 多胎 後期 旭区で多胎の集いを開催", channel=ASAHI_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    assert initial_program(view) == TATAI and "多胎家庭支援事業" in view["blocks"][0]["text"]["text"]
    assert staff_progress(base) == [] and not fake.received("/respond")


def test_a_fuzzy_name_opens_the_modal_and_writes_nothing(slack, fake, base):
    slack.command("progress 子育てサロン 後期 サロンを3回開催")
    view = fake.wait_for("/views.open")[0]["view"]
    assert initial_program(view) in (CIRCLE, None)
    assert staff_progress(base) == []


def test_the_citys_program_is_written_from_a_ward_channel(slack, fake, base):
    slack.command("progress 多胎 後期 多胎の集いを開催")  # 西区's channel: 堺市's program is its city's
    fake.wait_for("/respond")
    assert [(r["program_id"], r["text"]) for r in staff_progress(base)] == [(TATAI, "多胎の集いを開催")]


def test_the_program_select_holds_its_initial_option():
    programs = [{"id": f"program-{i:03d}", "title": f"事業{i:03d}", "area": "堺市"} for i in range(150)]
    select = modals.progress_view(programs, {}, program_id="program-120")["blocks"][0]["element"]
    assert len(select["options"]) == 100 and select["initial_option"] in select["options"]


# --- long lists and long texts -------------------------------------------------------------------


def test_the_progress_reply_shows_the_new_entry_and_counts_the_rest(slack, fake, base):
    fill_progress(base, NISHI)
    slack.command("progress 居場所 後期 これが新しい報告です")
    reply = fake.wait_for("/respond")[0]
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in reply["blocks"]]
    entries = "\n".join(texts)
    assert len(reply["blocks"]) <= BLOCKS_MAX and all(len(t) <= 3000 for t in texts)
    assert entries.index("これが新しい報告です") < entries.index("第199回")  # new first, then newest
    shown = entries.count("運営会議")
    assert shown == 200 or f"ほかに{200 - shown}件" in entries


def test_an_over_long_progress_text_is_said_and_nothing_saved(slack, fake, base):
    slack.command("progress 居場所 後期 " + "あ" * 2001)
    text = fake.wait_for("/respond")[0]["text"]
    assert "保存できませんでした" in text and "2,000文字まで" in text and "記録は残っています" not in text
    assert staff_progress(base) == [] and "入力内容は保存されていません" in words.FAILED
