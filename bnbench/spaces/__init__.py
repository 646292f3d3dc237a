"""Search spaces behind one interface (:mod:`bnbench.spaces.base`), found by name in a lazy registry.

Each space lives in its own folder (``spaces/<name>/``) and is imported only when asked for; aliases map
the field's other spellings to it. ``bnbench spaces`` lists them.
"""

from __future__ import annotations

import importlib

from bnbench.errors import BnbenchError
from bnbench.spaces.base import SearchSpace

# name -> "module:attribute" of the space object (imported on first use)
REGISTRY: dict[str, str] = {
    "nb201": "bnbench.spaces.nb201.space:SPACE",
    "nb101": "bnbench.spaces.nb101.space:SPACE",
    "darts": "bnbench.spaces.darts.space:SPACE",
    "mobilenet": "bnbench.spaces.mobilenet.space:SPACE",
    "mobilenet-depth": "bnbench.spaces.mobilenet.space:SPACE_DEPTH",
}
_LOADED: dict[str, SearchSpace] = {}


def _aliases() -> dict[str, str]:
    out = {}
    for name in REGISTRY:
        out[name] = name
        for alias in getattr(get_space(name), "aliases", ()):
            out[alias.lower()] = name
    return out


def get_space(name: str) -> SearchSpace:
    """The space registered as ``name`` (or one of its aliases, any case); one-line BnbenchError otherwise."""
    key = str(name).strip().lower()
    if key in _LOADED:
        return _LOADED[key]
    if key in REGISTRY:
        module, _, attr = REGISTRY[key].partition(":")
        _LOADED[key] = getattr(importlib.import_module(module), attr)
        return _LOADED[key]
    target = _aliases().get(key)
    if target is None:
        raise BnbenchError(f"unknown search space {name!r} (available: {', '.join(REGISTRY)})")
    _LOADED[key] = get_space(target)
    return _LOADED[key]


def list_spaces() -> list[SearchSpace]:
    """Every registered space, in registration order."""
    return [get_space(n) for n in REGISTRY]


SPACES = tuple(REGISTRY)

__all__ = ["REGISTRY", "SPACES", "SearchSpace", "get_space", "list_spaces"]
