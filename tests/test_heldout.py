"""Held-out question sets (tests/data/heldout): floors under the matcher's accuracy.

The sets were written by hand apart from the matcher's vocabulary (see their README); these
floors sit a little under today's figures, so a change that costs answers fails here first.
bench/calibrate.py shows the same sets threshold by threshold.
"""

from __future__ import annotations

import json
import pathlib
from datetime import date

import pytest

from knowledge import ask

HELDOUT = pathlib.Path(__file__).parent / "data" / "heldout"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (HELDOUT / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def right(item, case) -> bool:
    if case.get("expect_ids"):
        return item.id in case["expect_ids"]
    return any(e.replace(" ", "") in item.title.replace(" ", "") for e in case["expect_any"])


def score(db, cases) -> tuple[float, int, int]:
    """(accuracy as score.py counts it, out-of-scope declined, out-of-scope asked)."""
    good = declined = outside = 0
    for case in cases:
        answer = ask(
            db, case["q"], area=case.get("area"), today=date.fromisoformat(case.get("today", "2026-11-24")), log=False
        )
        if case.get("expect") == "none":
            outside += 1
            declined += not answer.answered
            good += not answer.answered
        else:
            good += answer.answered and bool(answer.items) and right(answer.items[0], case)
    return good / len(cases), declined, outside


def test_heldout_questions_on_the_demo_base(demo_db):
    accuracy, declined, outside = score(demo_db, load("kb.jsonl"))
    assert accuracy >= 0.68, accuracy
    assert declined >= outside - 2, (declined, outside)


def test_heldout_questions_on_the_faq_data(faq_db):
    accuracy, declined, outside = score(faq_db, load("faq.jsonl"))
    assert accuracy >= 0.62, accuracy
    assert declined >= outside - 3, (declined, outside)


@pytest.mark.parametrize("name", ["kb.jsonl", "faq.jsonl"])
def test_heldout_files_are_well_formed(name):
    for case in load(name):
        assert case["q"] and (case.get("expect") == "none" or case.get("expect_any") or case.get("expect_ids"))
