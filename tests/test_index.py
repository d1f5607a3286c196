"""The index cache: which base an index belongs to, and when it is rebuilt."""

import gc

from knowledge import ask, open_db
from knowledge.db import bump_version


def _faq_base(path, question: str, answer: str, faq_id: str = "1"):
    db = open_db(path)
    with db.atomic():
        db["faqs"].insert({"id": f"f{faq_id}", "faq_id": faq_id, "question": question, "answer": answer})
        bump_version(db)
    return db


def test_a_closed_in_memory_base_never_lends_its_index_to_another():
    first = _faq_base(":memory:", "図書館の開館時間を教えてください", "9時から17時です。")
    assert ask(first, "図書館の開館時間", log=False).answered
    old = id(first.conn)
    first.close()
    del first
    gc.collect()
    # a new connection often takes the closed one's address: try until it does (or give up)
    others = []
    for _ in range(50):
        second = _faq_base(":memory:", "予防接種の受け方を教えてください", "かかりつけ医で受けられます。")
        if id(second.conn) == old:
            break
        others.append(second)
    answer = ask(second, "予防接種", log=False)
    assert answer.answered and answer.items[0].title == "予防接種の受け方を教えてください"


def test_two_in_memory_bases_at_one_version_keep_their_own_indexes():
    a = _faq_base(":memory:", "図書館の開館時間を教えてください", "9時から17時です。")
    b = _faq_base(":memory:", "予防接種の受け方を教えてください", "かかりつけ医で受けられます。")
    assert ask(a, "図書館の開館時間", log=False).items[0].title.startswith("図書館")
    assert ask(b, "予防接種", log=False).items[0].title.startswith("予防接種")
    assert ask(a, "図書館の開館時間", log=False).items[0].title.startswith("図書館")


def test_a_file_replaced_at_the_same_path_gets_its_own_index(tmp_path):
    import os

    path, new = tmp_path / "kb.db", tmp_path / "new.db"
    first = _faq_base(path, "図書館の開館時間を教えてください", "9時から17時です。")
    assert ask(first, "図書館の開館時間", log=False).answered
    first.close()
    _faq_base(new, "予防接種の受け方を教えてください", "かかりつけ医で受けられます。").close()
    os.replace(new, path)  # a deploy swaps in a rebuilt base: same path, same version number
    second = open_db(path)
    answer = ask(second, "予防接種", log=False)
    assert answer.answered and answer.items[0].title == "予防接種の受け方を教えてください"
