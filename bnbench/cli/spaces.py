"""``bnbench spaces``: the registered search spaces, their size, options and string form."""

from __future__ import annotations

import dataclasses


def register(sub) -> None:
    p = sub.add_parser("spaces", help="list the search spaces, their build options and architecture strings")
    p.set_defaults(func=run)


def run(args) -> int:
    from bnbench.spaces import list_spaces

    for space in list_spaces():
        size = f"{space.size:,} architectures" if space.size else "too large to enumerate"
        print(f"{space.name}: {space.summary} ({size}; {len(space.decisions)} decisions)")
        if space.aliases:
            print(f"  aliases: {', '.join(space.aliases)}")
        common = {v: k for k, v in space.Options.COMMON.items()}
        notes = getattr(space.Options, "DEFAULT_NOTES", {})
        opts = [f"{f.name}={notes.get(f.name, repr(f.default))}" + (f" (--{common[f.name]})" if f.name in common else "")
                for f in dataclasses.fields(space.Options)]
        print(f"  options: {', '.join(opts)}")
        print(f"  network variants: {', '.join(space.variants)}; full truth budget: {space.default_truth_epochs} epochs")
        print(f"  architecture: {space.arch_help}")
    return 0
