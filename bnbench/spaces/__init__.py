"""Search spaces behind one adapter interface, found by name."""

from __future__ import annotations

from bnbench.errors import BnbenchError

SPACES = ("nb201",)


def get_space(name: str):
    if name == "nb201":
        from bnbench.spaces.nb201 import NB201Space

        return NB201Space()
    raise BnbenchError(f"unknown search space {name!r} (available: {', '.join(SPACES)})")
