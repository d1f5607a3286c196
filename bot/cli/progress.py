"""Progress bars on the terminal for the command line's long work (issue 26): an import's
vectors, the demo's build, an index build.

``knowledge`` counts and never draws: its import and index functions take a ``progress``
callback (``knowledge.search.embed.Progress``: ``progress(stage, done, total)``). ``Bars`` is
that callback for the CLI: one ``click.progressbar`` per stage, on stderr (stdout stays the
command's answer, e.g. ``ask --json``), and only

- on a terminal: nothing at all when stderr is a file, a pipe or a log (a deploy's import run by
  a script, a test's captured output);
- for work that lasts: a stage's bar appears once it has run ``DELAY_S`` seconds, so a
  re-import whose vectors are all stored, or a small file, prints nothing more than before.
"""

from __future__ import annotations

import os
import sys
import time

import click

DELAY_S = 2.0  # a stage shorter than this shows no bar
LABELS = {"vectors": "sentence vectors", "records": "reading records"}  # knowledge's stages, as shown


def on_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal a person watches."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def cores() -> int:
    """The cores this process may use: an offline import's engine processes (``kb import``,
    ``kb init``); serving keeps one engine a process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


class Bars:
    """A ``progress`` callback drawing one bar per stage; use it as a context manager so the
    last bar is closed (and the cursor given back) even when the work fails."""

    def __init__(self, label: str = "", stream=None, delay: float | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.shown = on_terminal(self.stream)
        self.delay = DELAY_S if delay is None else delay
        self._stage: str | None = None
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._bar = None

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.shown:
            return
        if stage != self._stage or total != self._total or done < self._done:  # a new stage, or the next file's
            self.close()
            self._stage, self._total, self._done, self._started = stage, total, 0, time.monotonic()
        if self._bar is None and done < total and total > 0 and time.monotonic() - self._started >= self.delay:
            name = LABELS.get(stage, stage)
            self._bar = click.progressbar(
                length=total,
                label=f"{self.label}: {name}" if self.label else name,
                file=self.stream,
                show_pos=True,
                show_eta=True,
            )
            self._bar.__enter__()
            self._bar.update(done)  # what was done before the bar showed
        elif self._bar is not None:
            self._bar.update(done - self._done)
        self._done = done
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        self._stage = None
