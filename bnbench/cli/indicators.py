"""``bnbench indicators``: list the registered indicators."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("indicators", help="list the available indicators")
    p.set_defaults(func=run)


def run(args) -> int:
    from bnbench.api import list_indicators

    frame = list_indicators()
    width = max(map(len, frame["name"]))
    for row in frame.itertuples():
        print(f"{row.name:{width}s} {row.direction:>6s} is better   needs {row.needs:15s} {row.summary}")
    return 0
