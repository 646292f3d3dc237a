"""Evolutionary search driven by any indicator: the algorithm of SPOS (Guo et al., "Single Path One-Shot Neural
Architecture Search with Uniform Sampling", ECCV 2020; megvii-model/SinglePathOneShot ``search.py``), which BN-NAS
(Chen et al., "BN-NAS: Neural Architecture Search with Batch Normalization", ICCV 2021) runs with its BN score as
the fitness, on every registered search space through its ``mutate`` / ``crossover`` / ``sample`` / ``canonical``.

Algorithm (BN-NAS's settings are the defaults of :class:`EvolutionConfig`):

1. the population: ``population`` random architectures (uniform, meeting the constraint), all scored;
2. for each of ``generations`` generations: the ``parents`` best architectures scored so far are the parents
   (elitist: the top-k of everything evaluated, as SPOS's ``update_top_k``); ``mutations`` children, each a
   random parent with every gene redrawn with probability ``mutation_prob``; ``crossovers`` children, each two
   random parents with every gene from either; then random architectures until the generation has
   ``population`` new ones. A child is kept only if it meets the constraint and its canonical form (NB201:
   isomorphism class; NB101: module hash; DARTS: pair order) was never proposed before, so no architecture is
   scored twice; each kind of child gets ``10 x`` its count attempts (SPOS's ``max_iters``), so a small or
   exhausted space yields fewer;
3. the result is the best-scored architecture of all evaluated.

With ``within`` (:class:`bnbench.search.within.Candidates`) the search is restricted to a fixed set of cells (a
benchmark table's): random architectures are drawn from it and every child is projected onto its nearest cell not
yet proposed (:mod:`bnbench.search.within`).

Each generation's new architectures are scored in one call of the fitness, so vectorised indicators (``bn``,
``params``) score a generation at once. The fitness must be *higher is better* (see
:func:`bnbench.search.fitness.indicator_fitness`); NaN (undefined) ranks below every number.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from bnbench.errors import BnbenchError

Fitness = Callable[[np.ndarray], np.ndarray]  # (n, width) encodings -> (n,) scores, higher is better
Constraint = Callable[[np.ndarray], np.ndarray]  # (n, width) encodings -> (n,) bool: admissible


@dataclass(frozen=True)
class EvolutionConfig:
    """Evolution settings; the defaults are BN-NAS's (population 50, 20 generations, top 10 as parents, 25
    mutations with gene probability 0.1, 25 crossovers per generation)."""

    population: int = 50
    generations: int = 20
    parents: int = 10
    mutations: int = 25
    mutation_prob: float = 0.1
    crossovers: int = 25
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("population", "parents"):
            if getattr(self, name) < 1:
                raise BnbenchError(f"evolution --{name}: expected a positive number, got {getattr(self, name)}")
        for name in ("generations", "mutations", "crossovers"):
            if getattr(self, name) < 0:
                raise BnbenchError(f"evolution --{name}: expected 0 or more, got {getattr(self, name)}")
        if not 0.0 <= self.mutation_prob <= 1.0:
            raise BnbenchError(f"evolution --mutation-prob {self.mutation_prob}: expected a probability in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    """What a search evaluated, in order: ``archs`` ``(n, width)``, their ``scores`` (the fitness, higher is
    better), the ``generation`` each was proposed in (0 = the initial population) and how (``origin``:
    random / mutation / crossover); ``seconds`` of wall time, of which ``fitness_seconds`` scoring."""

    archs: np.ndarray
    scores: np.ndarray
    generation: np.ndarray
    origin: list[str]
    seconds: float = 0.0
    fitness_seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluations(self) -> int:
        """Distinct architectures (canonical forms) scored."""
        return len(self.archs)

    def best(self, upto: int | None = None) -> int:
        """Index of the best-scored architecture among the first ``upto`` evaluated (all by default); ties go to
        the earliest; NaN ranks last."""
        scores = self.scores[:upto]
        return int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))

    def best_so_far(self) -> np.ndarray:
        """``(n,)``: index of the best-scored architecture after each evaluation (what the search returns if
        stopped there)."""
        scores = np.where(np.isnan(self.scores), -np.inf, self.scores)
        out = np.zeros(len(scores), dtype=np.int64)
        for i in range(1, len(scores)):
            out[i] = i if scores[i] > scores[out[i - 1]] else out[i - 1]
        return out


class _Pool:
    """Proposed architectures, unique by canonical form, with their scores once evaluated."""

    def __init__(self, space: Any, constraint: Constraint | None):
        self.space, self.constraint = space, constraint
        self.seen: set[str] = set()
        self.archs: list[np.ndarray] = []
        self.scores: list[float] = []
        self.generation: list[int] = []
        self.origin: list[str] = []

    def admit(self, row: np.ndarray) -> bool:
        key = self.space.canonical(row)
        if key in self.seen:
            return False
        if self.constraint is not None and not bool(self.constraint(row[None])[0]):
            return False
        self.seen.add(key)
        return True


def evolve(space: Any, fitness: Fitness, cfg: EvolutionConfig = EvolutionConfig(),
           constraint: Constraint | None = None, progress: Callable[[str], None] | None = None,
           within: Any = None) -> SearchResult:
    """Run the evolutionary search of the module docstring on ``space`` and return every evaluation.

    ``fitness``: ``(n, width)`` encodings -> ``(n,)`` scores, higher is better (NaN: undefined, ranked last);
    ``constraint``: ``(n, width)`` -> ``(n,)`` bool, True where admissible (None: everything); ``progress`` gets
    one line per generation; ``within``: a :class:`~bnbench.search.within.Candidates` set the search is restricted
    to (None: the whole space). Raises BnbenchError when no admissible architecture can be drawn."""
    rng = np.random.default_rng(cfg.seed)
    pool = _Pool(space, constraint)
    start = time.perf_counter()
    fitness_seconds = 0.0

    def score(rows: list[np.ndarray], generation: int, origins: list[str]) -> None:
        nonlocal fitness_seconds
        if not rows:
            return
        t0 = time.perf_counter()
        values = np.asarray(fitness(np.stack(rows)), dtype=np.float64).reshape(-1)
        fitness_seconds += time.perf_counter() - t0
        if len(values) != len(rows):
            raise RuntimeError(f"fitness returned {len(values)} scores for {len(rows)} architectures")
        pool.archs += rows
        pool.scores += values.tolist()
        pool.generation += [generation] * len(rows)
        pool.origin += origins

    def randoms(count: int) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for _ in range(10 * max(count, 1)):
            if len(out) >= count:
                break
            _take(out, _draw(space, within, rng, max(count - len(out), 1) * 2, pool), count, pool)
        return out

    first = randoms(cfg.population)
    if not first:
        raise BnbenchError(f"evolution on {space.name}: no admissible architecture in {10 * cfg.population} random "
                           "draws (is the constraint satisfiable?)")
    score(first, 0, ["random"] * len(first))
    _line(progress, pool, 0, cfg)
    for generation in range(1, cfg.generations + 1):
        order = np.argsort(-np.where(np.isnan(pool.scores), -np.inf, pool.scores), kind="stable")
        parents = [pool.archs[i] for i in order[:cfg.parents]]
        children: list[np.ndarray] = []
        origins: list[str] = []
        for kind, count in (("mutation", cfg.mutations), ("crossover", cfg.crossovers)):
            made = 0
            for _ in range(10 * count):
                if made >= count:
                    break
                if kind == "mutation":
                    child = space.mutate(parents[rng.integers(len(parents))], cfg.mutation_prob, rng)
                else:
                    a, b = rng.integers(len(parents), size=2)
                    child = space.crossover(parents[a], parents[b], rng)
                if within is not None:
                    child = within.project(child, rng, pool.seen)
                    if child is None:
                        break
                if pool.admit(child):
                    children.append(child)
                    origins.append(kind)
                    made += 1
        fill = randoms(cfg.population - len(children))
        score(children + fill, generation, origins + ["random"] * len(fill))
        _line(progress, pool, generation, cfg)
    return SearchResult(np.stack(pool.archs), np.asarray(pool.scores, dtype=np.float64),
                        np.asarray(pool.generation, dtype=np.int64), pool.origin, time.perf_counter() - start,
                        fitness_seconds, cfg.to_dict())


def random_search(space: Any, fitness: Fitness, evaluations: int, seed: int = 0,
                  constraint: Constraint | None = None, within: Any = None) -> SearchResult:
    """The baseline at equal cost: ``evaluations`` distinct admissible architectures drawn uniformly (from
    ``within``'s cells where given), scored by the same fitness in one call; the best-scored one is the result."""
    rng = np.random.default_rng(seed)
    pool = _Pool(space, constraint)
    start = time.perf_counter()
    rows: list[np.ndarray] = []
    for _ in range(10 * max(evaluations, 1)):
        if len(rows) >= evaluations:
            break
        _take(rows, _draw(space, within, rng, 2 * (evaluations - len(rows)), pool), evaluations, pool)
    if not rows:
        raise BnbenchError(f"random search on {space.name}: no admissible architecture drawn")
    t0 = time.perf_counter()
    scores = np.asarray(fitness(np.stack(rows)), dtype=np.float64).reshape(-1)
    seconds = time.perf_counter() - start
    return SearchResult(np.stack(rows), scores, np.zeros(len(rows), dtype=np.int64), ["random"] * len(rows),
                        seconds, time.perf_counter() - t0, {"evaluations": evaluations, "seed": seed})


def _draw(space: Any, within: Any, rng: np.random.Generator, n: int, pool: _Pool) -> list[np.ndarray] | np.ndarray:
    """``n`` random architectures: of the space, or of ``within``'s cells not yet proposed."""
    return space.random_paths(rng, n) if within is None else within.draw(rng, n, pool.seen)


def _take(out: list[np.ndarray], draws: np.ndarray, count: int, pool: _Pool) -> None:
    """Append the admissible ``draws`` to ``out`` until it holds ``count``."""
    for row in draws:
        if len(out) >= count:
            return
        if pool.admit(row):
            out.append(row)


def _line(progress: Callable[[str], None] | None, pool: _Pool, generation: int, cfg: EvolutionConfig) -> None:
    if progress is None:
        return
    scores = np.where(np.isnan(pool.scores), -np.inf, pool.scores)
    progress(f"evolution generation {generation}/{cfg.generations}: {len(pool.archs)} architectures evaluated, "
             f"best fitness {scores.max():.4g}")
