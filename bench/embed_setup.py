"""What the meaning stage's benches (``embed_compare.py``, ``embed_latency.py``) set before
anything else is imported: the index built lexical (the benches attach the engines themselves),
one thread for the engines and numpy (a bench measures one core), and the project on the path.

Import it first: the thread settings only count before numpy and the engines load.

``knowledge`` reads no environment: ``SETTINGS`` (the environment's, read as the CLI reads it,
with the meaning stage ``embed.LEXICAL``) is what these benches pass to every base build, index
and question.
"""

import dataclasses
import os
import pathlib
import sys

os.environ["KOSODATE_EMBED"] = "none"  # the choice, stated; SETTINGS below carries it
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
for _path in (str(ROOT), str(ROOT / "bench")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from bot.config import Config  # noqa: E402
from knowledge.search import embed  # noqa: E402

SETTINGS = dataclasses.replace(Config.from_env().settings(), meaning=embed.LEXICAL)
