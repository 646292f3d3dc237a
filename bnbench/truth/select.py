"""Which ground-truth quantity a run uses when the user names only part of it: the training budget.

Benchmark APIs default to their short schedules (NB201's 12 epochs), and a truth at 12 epochs ranks cells
quite differently from one at 200. bnbench therefore never falls back silently to a lower-fidelity budget:

* ``--truth-epochs E`` given: exactly that budget (absent = an error listing what the source has).
* otherwise, the space's full budget (``default_epochs``: 200 for NB201) when the source has it;
* otherwise, for a table bnbench built itself (``bnbench truth build``: its header records the protocol and
  it holds one budget by construction), that table's own budget;
* otherwise (a benchmark source with only other budgets) a one-line error that names the budgets the source
  holds and asks for ``--truth-epochs``.
"""

from __future__ import annotations

import os

from bnbench.truth.fail import fail
from bnbench.truth.spec import TruthSpec
from bnbench.truth.table import TruthTable

BUILT_SOURCE = "bnbench truth build"  # the ``source`` a table built by bnbench records in its header


def is_built(meta: dict) -> bool:
    """True for a table made by ``bnbench truth build`` (it records its own training protocol)."""
    return meta.get("source") == BUILT_SOURCE and "config" in meta


def resolve_spec(table: TruthTable, dataset: str, split: str, metric: str, epochs: int | None,
                 source: str | os.PathLike, default_epochs: int = 200) -> TruthSpec:
    """The :class:`TruthSpec` to read from ``table`` under the rules of the module docstring.

    Raises BenchmarkError (naming ``source``) for a split the setting lacks or a missing full-budget value.
    """
    if epochs is not None:
        return TruthSpec(dataset, split, metric, int(epochs))
    spec = TruthSpec(dataset, split, metric, default_epochs)
    budgets = sorted({s.epochs for s in table.specs() if (s.dataset, s.split, s.metric) == (dataset, split, metric)})
    if default_epochs in budgets or not budgets:
        return spec  # not there at all: TruthTable.truth names what the source has
    if is_built(table.meta) and len(budgets) == 1:
        return TruthSpec(dataset, split, metric, budgets[0])
    shown = ", ".join(str(b) for b in budgets)
    raise fail(source, f"has no {default_epochs}-epoch value of {spec.describe().rsplit(' / ', 2)[0]} (budgets in "
                       f"this source: {shown} epochs); pass --truth-epochs {budgets[-1]} to rank against the "
                       f"{budgets[-1]}-epoch values knowingly")
