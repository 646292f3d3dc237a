"""``bnbench indicators``: list the registered indicators."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("indicators", help="list the available indicators")
    p.set_defaults(func=run)


def run(args) -> int:
    from bnbench.indicators import REGISTRY

    width = max(map(len, REGISTRY))
    for name, ind in sorted(REGISTRY.items()):
        needs = ", ".join(sorted(ind.needs)) or "nothing"
        print(f"{name:{width}s} {ind.direction:>6s} is better   needs {needs:15s} {ind.summary}")
    return 0
