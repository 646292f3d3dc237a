"""One-line :class:`BenchmarkError` messages that name the offending input."""

from __future__ import annotations

import os

from bnbench.errors import BenchmarkError


def fail(path: str | os.PathLike, what: str) -> BenchmarkError:
    """``BenchmarkError("<path>: <what>")`` with any line breaks in ``what`` collapsed."""
    return BenchmarkError(" ".join(f"{os.fspath(path)}: {what}".split()))


def short(err: BaseException, limit: int = 160) -> str:
    """``Type: first line of the message``, clipped, for wrapping a library error."""
    text = " ".join(str(err).split()) or "no message"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(err).__name__}: {text}"
