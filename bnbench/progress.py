"""Progress reporting: tqdm bars on a terminal, plain lines in a log.

A run's stderr is either a terminal (a person watching: a tqdm bar per stage) or a log file, a CI job or a
notebook (no TTY: thousands of carriage-return frames would bury what happened). Without a terminal every
stage writes plain lines instead: one when it ends (items, elapsed seconds, items/s) and, for stages longer
than :data:`HEARTBEAT_S`, one every :data:`HEARTBEAT_S` seconds with the count so far. Supernet training writes
one line per epoch either way (:func:`epoch_line`).

``BNBENCH_PROGRESS=bars|lines|off`` overrides the choice (e.g. ``lines`` on a terminal that records a session).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

#: Seconds between the "still running" lines of a long stage in a log.
HEARTBEAT_S = 60.0


def mode() -> str:
    """``bars`` (stderr is a terminal), ``lines`` (it is not) or ``off``, unless ``BNBENCH_PROGRESS`` says otherwise."""
    forced = os.environ.get("BNBENCH_PROGRESS", "").strip().lower()
    if forced in ("bars", "lines", "off"):
        return forced
    try:
        return "bars" if sys.stderr.isatty() else "lines"
    except (AttributeError, ValueError):  # a closed or replaced stderr
        return "lines"


def line(text: str) -> None:
    """Write one line to stderr (unless progress is ``off``), flushed so a log shows it at once."""
    if mode() != "off":
        print(text, file=sys.stderr, flush=True)


def track(items: Iterable[T], total: int | None = None, desc: str = "", enabled: bool = True,
          unit: str = "arch") -> Iterator[T]:
    """Yield ``items``, showing progress as the terminal allows.

    On a terminal a transient tqdm bar; otherwise, or with ``enabled`` false (the caller's ``--no-progress``:
    no bars), a line every :data:`HEARTBEAT_S` seconds and a closing line
    ``"<desc>: <n> <unit>s in <s> s (<rate> <unit>/s)"``. An empty stage writes nothing.
    """
    how = mode()
    if how == "bars" and not enabled:
        how = "lines"
    if how == "bars":
        yield from tqdm(items, total=total, desc=desc, leave=False)
        return
    if how == "off":
        yield from items
        return
    start = last = time.perf_counter()
    n = 0
    for item in items:
        yield item
        n += 1
        now = time.perf_counter()
        if now - last >= HEARTBEAT_S:
            last = now
            of = f"/{total}" if total else ""
            line(f"{desc}: {n}{of} {unit}s, {now - start:.0f} s elapsed")
    if n:
        elapsed = time.perf_counter() - start
        line(f"{desc}: {n} {unit}s in {elapsed:.1f} s ({n / max(elapsed, 1e-9):.1f} {unit}/s)")


def epoch_line(desc: str, epoch: int, epochs: int, loss: float, images_per_s: float, elapsed_s: float) -> str:
    """E.g. ``supernet bn epoch 3/20: loss 2.1843, 1520 img/s, 41.2 s elapsed``."""
    return f"{desc} epoch {epoch}/{epochs}: loss {loss:.4f}, {images_per_s:.0f} img/s, {elapsed_s:.1f} s elapsed"
