"""The interface every search space provides: decisions and choices, op slots, options, encodings.

A space is a list of D **decisions**, each with a few named **choices** (NB201: 6 edges x 5 ops; NB101: 5
vertex ops x 3 ops plus the 21 adjacency bits of a 7-vertex DAG; DARTS: per cell type, 14 edges holding an op
or unused; MBConv: one block choice per layer). Architectures travel through bnbench as rows of a fixed-width
int64 **encoding** (``(n, width)`` arrays: hashable, vectorisable, cacheable); ``choices(archs)`` maps them to
the ``(n, D)`` **choice matrix**, -1 where a decision is unused (a pruned NB101 vertex, an unselected edge).

A supernet lists its candidate-op modules as **slots** ``(module name, decision, choice)``; a slot runs for
an architecture iff ``choices[a, slot.decision] == slot.choice`` (a choice whose op runs no module, such as
NB201's ``none``, has no slot). That single mapping gives every
supernet-reading indicator its structure without knowing the space:

* BN-NAS score: mean |gamma| of each slot's last BN, accumulated into a ``(D, max choices)`` table ``T``;
  ``score[a] = sum_d T[d, choices[a, d]]`` over used decisions (:func:`masked_gather`), so scoring all 15,625
  NB201 cells is one gather.
* BN-only ``last`` scope: the last BN of every slot; the composite's probe path: BNs outside all slots plus
  those under the slots an architecture activates.

Build options are a frozen dataclass per space (:class:`SpaceOptions`); an option the space does not have is a
one-line error naming the space and its options. ``--channels`` / ``--cells`` / ``--bn-every-op`` are the
common width / depth / fairness knobs, mapped by each space to its own option names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np
from torch import nn

from bnbench.errors import BnbenchError


@dataclass(frozen=True)
class Decision:
    """One architectural decision: its name (e.g. ``edge 2<-1``) and the names of its choices."""

    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Slot:
    """A candidate-op module of a supernet: it runs iff ``choices[:, decision] == choice``."""

    module: str
    decision: int
    choice: int


@dataclass(frozen=True)
class SpaceOptions:
    """Base of every space's build options (a frozen dataclass of typed fields with defaults).

    ``COMMON`` maps the common knobs (``channels``, ``cells``, ``bn_every_op``) to the space's field names.
    """

    COMMON: ClassVar[dict[str, str]] = {}

    @classmethod
    def make(cls, space: str, values: dict[str, Any] | None = None) -> "SpaceOptions":
        """Options from ``values`` (None entries ignored; common knob names accepted); one-line error for an
        option the space does not have or a value of the wrong type."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        given: dict[str, Any] = {}
        for key, value in (values or {}).items():
            if value is None:
                continue
            name = cls.COMMON.get(key, key)
            if name not in names:
                known = sorted(set(names) | set(cls.COMMON))
                raise BnbenchError(f"search space {space!r} has no option {key!r} (its options: {', '.join(known)})")
            given[name] = _coerce(space, name, value, names[name].type)
        return cls(**given)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(space: str, name: str, value: Any, kind: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return value.lower() in ("true", "1", "yes")
            return bool(value)
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        raise BnbenchError(f"search space {space!r}: option {name}={value!r} is not a valid {kind}") from None
    return value


def masked_gather(table: np.ndarray, choices: np.ndarray, base: float = 0.0) -> np.ndarray:
    """``base + sum_d table[d, choices[:, d]]`` over the entries with ``choices >= 0`` (-1 = unused decision).

    ``table``: ``(D, max choices)`` float; ``choices``: ``(n, D)`` int. Returns ``(n,)`` float64.
    """
    table = np.asarray(table, dtype=np.float64)
    choices = np.asarray(choices, dtype=np.int64)
    if choices.ndim != 2 or choices.shape[1] != table.shape[0]:
        raise BnbenchError(f"choice matrix of shape {choices.shape} does not fit a table of {table.shape[0]} decisions")
    used = choices >= 0
    values = table[np.arange(table.shape[0]), np.where(used, choices, 0)]
    return base + np.where(used, values, 0.0).sum(axis=1)


def choice_counts(space: "SearchSpace", archs: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Weighted count of every choice name over all used decisions of ``archs`` (e.g. op frequencies), in the
    order the names first appear in ``space.decisions``."""
    choices = space.choices(archs)
    weights = np.ones(len(choices)) if weights is None else np.asarray(weights, dtype=np.float64)
    names: dict[str, float] = {}
    for d, decision in enumerate(space.decisions):
        counts = np.bincount(np.where(choices[:, d] >= 0, choices[:, d], len(decision.choices)),
                             weights=weights, minlength=len(decision.choices) + 1)
        for c, name in enumerate(decision.choices):
            names[name] = names.get(name, 0.0) + float(counts[c])
    return names


def slots_of(model: nn.Module) -> list[Slot]:
    """The slots a supernet declares (``model.slots()``); BnbenchError for a model without them."""
    slots = getattr(model, "slots", None)
    if slots is None:
        raise BnbenchError(f"{type(model).__name__} is not a bnbench supernet (it declares no op slots)")
    return list(slots())


class PathNorms:
    """The tracked BatchNorms a subnet of a supernet may run: those outside every op slot and those of the slots
    the architecture activates (a superset where a space runs some modules outside slots only for some
    architectures, e.g. NB101's input projections). Lets per-subnet work touch a few dozen BNs instead of the
    thousands a weight-sharing supernet holds."""

    def __init__(self, model: nn.Module, space: "SearchSpace"):
        self.space = space
        self.norms = {name: m for name, m in model.named_modules()
                      if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats}
        slots = slots_of(model)
        self.slot_of = {name: slot for slot in slots for name in self.norms if name.startswith(f"{slot.module}.")}

    def names(self, arch: Sequence[int]) -> list[str]:
        """Names (in the supernet) of the BNs ``arch`` may run."""
        choices = self.space.choices(np.asarray(arch)[None])[0]
        return [n for n in self.norms if (slot := self.slot_of.get(n)) is None
                or choices[slot.decision] == slot.choice]

    def __call__(self, arch: Sequence[int]) -> list[nn.Module]:
        return [self.norms[n] for n in self.names(arch)]


def last_bn(module: nn.Module) -> nn.BatchNorm2d | None:
    """The last BatchNorm inside ``module`` in registration order (the one BN-NAS reads), or None."""
    found = None
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            found = m
    return found


class SearchSpace:
    """What bnbench needs of a search space; each space subclasses it in ``bnbench/spaces/<name>/``.

    Class attributes: ``name``, ``aliases``, ``summary``, ``decisions``, ``width`` (encoding columns),
    ``size`` (number of architectures, None where too large to enumerate), ``Options`` (a
    :class:`SpaceOptions` subclass), ``variants`` (stand-alone network variants, ``official`` first),
    ``default_truth_epochs`` (the benchmark's full training budget), ``arch_help`` (the string form),
    ``presets`` (supernet width/depth of bnbench's digits and default presets), ``truth_datasets`` (the
    label the space's ground truths give a training dataset, e.g. NB101's ``nb101-cifar10`` for ``cifar10``).
    """

    name: str = ""
    aliases: tuple[str, ...] = ()
    summary: str = ""
    decisions: tuple[Decision, ...] = ()
    width: int = 0
    size: int | None = None
    Options: type[SpaceOptions] = SpaceOptions
    variants: tuple[str, ...] = ("official",)
    default_truth_epochs: int = 200
    arch_help: str = ""
    presets: dict[str, dict[str, Any]] = {}  # supernet width/depth per preset ("digits", "default")
    truth_datasets: dict[str, str] = {}  # training dataset -> the label of the space's truth for it (default: same)
    record_columns: tuple[str, ...] = ("arch", "arch str", "architecture")  # table columns parse_record reads
    # (training dataset, truth split) -> the dataset split whose images the space's truth is measured on, where
    # they differ (NB101's "valid" images are 10k of CIFAR-10's training images; see bnbench.datasets.protocol)
    truth_image_splits: dict[tuple[str, str], str] = {}
    # Zero-cost proxies: images per architecture by default, that of the space's published per-architecture values
    # (NB201: zero-cost-nas, 64; NB101 and the DARTS space: NAS-Bench-Suite-Zero, 32). ``--zc-batch-size`` overrides.
    zc_batch_size: int = 64

    # --- options --------------------------------------------------------------------------------------------
    def options(self, values: dict[str, Any] | None = None, **kw: Any) -> SpaceOptions:
        """Typed build options; ``values``/``kw`` may use the common knob names (channels, cells, bn_every_op)."""
        return self.Options.make(self.name, {**(values or {}), **kw})

    # --- representations --------------------------------------------------------------------------------------
    def parse(self, text: str) -> np.ndarray:
        """One architecture from its string form (``width`` ints); ArchError naming the input."""
        raise NotImplementedError

    def parse_many(self, texts: Iterable[str]) -> np.ndarray:
        """``(n, width)`` encodings of ``texts``."""
        rows = [self.parse(t) for t in texts]
        return np.asarray(rows, dtype=np.int64).reshape(-1, self.width)

    def parse_record(self, record: dict[str, str]) -> np.ndarray:
        """One architecture from a table row (``score --archs table.csv``): the first of ``record_columns``
        present, parsed with :meth:`parse`; ArchError when the row has none of them."""
        for column in self.record_columns:
            if column in record and record[column] is not None:
                return self.parse(record[column].strip())
        from bnbench.errors import ArchError

        raise ArchError(f"table row {dict(record)!r}: no architecture column ({', '.join(self.record_columns)})")

    def to_str(self, arch: Sequence[int]) -> str:
        """The space's standard string of one encoded architecture."""
        raise NotImplementedError

    def canonical(self, arch: Sequence[int]) -> str:
        """Isomorphism class of an architecture (architectures that compute the same function share it)."""
        raise NotImplementedError

    def truth_key(self, arch: Sequence[int]) -> str:
        """What ground-truth tables of this space are keyed by (default: the string form)."""
        return self.to_str(arch)

    # --- populations --------------------------------------------------------------------------------------------
    def all_archs(self) -> np.ndarray:
        """Every architecture, ``(size, width)``; BnbenchError where the space is too large to enumerate."""
        raise BnbenchError(f"search space {self.name!r} is too large to enumerate; sample from it instead")

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` distinct architectures drawn uniformly from the valid ones, ``(n, width)``."""
        raise NotImplementedError

    def fair_paths(self, rng: np.random.Generator, steps: int) -> np.ndarray:
        """FairNAS strict-fair sampling: ``(steps, m, width)`` architectures, ``m`` per training step, in which
        every choice of every decision appears exactly once (:func:`bnbench.spaces.sampling.strict_fair_rows`).

        Default: spaces whose architecture row *is* its choice row, every decision with the same ``m`` choices and
        every combination valid (NB201, the MBConv space). A space with structural decisions overrides it."""
        from bnbench.spaces.sampling import strict_fair_rows

        try:
            return strict_fair_rows(rng, steps, [len(d.choices) for d in self.decisions])
        except BnbenchError as err:
            raise BnbenchError(f"--sampler fairnas on {self.name}: {err}") from None

    # --- variation (evolutionary search) ---------------------------------------------------------------------
    def mutate(self, arch: Sequence[int], prob: float, rng: np.random.Generator) -> np.ndarray:
        """A mutant of one encoded architecture: every gene redrawn uniformly with probability ``prob`` (the
        mutation of SPOS's and BN-NAS's evolutionary search, Guo et al. ECCV 2020, Chen et al. ICCV 2021); the
        result is a valid architecture (possibly the parent itself), ``(width,)`` int64.

        Default: spaces whose encoding *is* the choice row, every combination valid (NB201, the MBConv space): a
        gene is a decision, redrawn among its own choices. Spaces with structural genes override it."""
        row = np.array(arch, dtype=np.int64).reshape(self.width)
        limits = np.array([len(d.choices) for d in self.decisions], dtype=np.int64)
        hit = rng.random(self.width) < prob
        row[hit] = rng.integers(0, limits[hit])
        return row

    def crossover(self, a: Sequence[int], b: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """A child of two encoded architectures: every gene taken from ``a`` or ``b`` with probability 1/2 (SPOS's
        and BN-NAS's crossover); a valid architecture, ``(width,)`` int64. Default as :meth:`mutate`'s."""
        a, b = (np.asarray(x, dtype=np.int64).reshape(self.width) for x in (a, b))
        return np.where(rng.random(self.width) < 0.5, a, b)

    def strata(self, archs: np.ndarray) -> np.ndarray:
        """Stratum label of each architecture, for stratified evaluation samples (default: one stratum)."""
        return np.zeros(len(archs), dtype=np.int64)

    def conv_ops(self, archs: np.ndarray) -> np.ndarray:
        """Number of convolutional candidate ops each architecture chooses (the ``convs`` structural baseline)."""
        raise NotImplementedError

    def structure_strata(self, archs: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, str]:
        """(label per architecture, what the labels are) for the tau within structural strata
        (:mod:`bnbench.structural`): deciles of the parameter count ``params`` by default."""
        from bnbench.structural import params_deciles

        return params_deciles(params), "parameter-count decile"

    def choices(self, archs: np.ndarray) -> np.ndarray:
        """``(n, D)`` choice matrix, -1 where a decision is unused."""
        raise NotImplementedError

    # --- networks ------------------------------------------------------------------------------------------------
    def network(self, arch: Sequence[int], options: SpaceOptions, num_classes: int = 10, in_channels: int = 3,
                variant: str = "official", bn: bool = True) -> nn.Module:
        """The stand-alone network of ``arch`` (``variant``: see ``variants``; ``bn=False``: the BN-free copy
        synflow scores)."""
        raise NotImplementedError

    def supernet(self, options: SpaceOptions, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        """A weight-sharing supernet: ``forward(x, arch)``, ``features(x, arch)``, ``classifier``, ``slots()``."""
        raise NotImplementedError

    def relaxed_supernet(self, channels: int | None = None, cells: int | None = None, num_classes: int = 10,
                         in_channels: int = 3, partial: int = 1, edge_norm: bool = False,
                         affine: bool = False) -> nn.Module:
        """The continuous relaxation of the space for differentiable search (DARTS; BNAS-v2's partial channels K
        and edge normalisation): ``forward(x)``, ``arch_parameters()``, ``weight_parameters()``, ``op_weights()``
        (one softmax row per decision), ``derive()`` (an encoded architecture), ``parameter_free(row)``. ``affine``:
        candidate-op BNs with affine parameters (BN-only search). BnbenchError where the space has none."""
        raise BnbenchError(f"differentiable search is not available for the {self.name} space (it runs on nb201 "
                           "and darts)")

    def cost(self, archs: np.ndarray, options: SpaceOptions, num_classes: int = 10, in_channels: int = 3,
             resolution: int = 32) -> dict[str, np.ndarray]:
        """Exact ``params`` (count), ``flops`` and ``macs`` (per image forward pass) of the stand-alone networks."""
        raise NotImplementedError
