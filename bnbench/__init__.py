"""bnbench: how well does a cheap NAS indicator rank architectures compared with the truth?

The Python API (:mod:`bnbench.api`), imported on first use so that ``import bnbench`` stays light::

    import bnbench
    result = bnbench.correlate(space="nb201")   # the embedded default; result.table, result.plot_taus(), ...
    bnbench.list_spaces(), bnbench.list_indicators()
    bnbench.score("nb201", 10, ["params", "synflow"])
    bnbench.load_truth()                         # a pandas Series indexed by architecture
    bnbench.train_supernet("nb201", epochs=5)
"""

__version__ = "0.1.0"

_API = ("correlate", "score", "load_truth", "train_supernet", "list_spaces", "list_indicators", "CorrelateResult")
__all__ = [*_API, "BnbenchError", "__version__"]


def __getattr__(name: str):
    if name in _API:
        from bnbench import api

        return getattr(api, name)
    if name == "BnbenchError":
        from bnbench.errors import BnbenchError

        return BnbenchError
    raise AttributeError(f"module 'bnbench' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
