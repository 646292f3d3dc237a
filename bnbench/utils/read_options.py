"""A read-only options mapping that records which options were read, and with which values.

The score cache keys each indicator's scores on the options that indicator actually read, so that changing
an option one indicator depends on (e.g. ``--zc-batch``) does not throw away the cached scores of the others.
A read of an absent option is recorded as ``None`` (its default was used); iterating or pickling the mapping
counts as reading every option (conservative: the key can only be too strict, never too loose).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def normalised(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, unknown objects their ``str``)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


class ReadOptions(Mapping):
    """Wraps ``options``; ``read`` maps every option looked up so far to its (JSON-normalised) value."""

    def __init__(self, options: Mapping[str, Any], ignore: frozenset[str] = frozenset()):
        self._options = dict(options)
        self._ignore = ignore
        self.read: dict[str, Any] = {}

    def _note(self, key: str) -> None:
        if key not in self._ignore:
            self.read[key] = normalised(self._options.get(key))

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return self._options[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return self._options.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._note(key)
        return key in self._options

    def __iter__(self) -> Iterator[str]:
        for key in self._options:
            self._note(key)
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def __reduce__(self):
        for key in self._options:  # a copy read elsewhere (another process) is not tracked: count it all as read
            self._note(key)
        return dict, (self._options,)


def still_valid(recorded: Mapping[str, Any], options: Mapping[str, Any]) -> bool:
    """True when every option in ``recorded`` (from :attr:`ReadOptions.read`) has the same value in ``options``."""
    return all(normalised(options.get(k)) == v for k, v in recorded.items())
