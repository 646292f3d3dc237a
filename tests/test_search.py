"""Evolutionary search (SPOS / BN-NAS) on every space: operators, the algorithm, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bnbench.cli import main
from bnbench.errors import BnbenchError
from bnbench.indicators import NetSpec, ScoringContext
from bnbench.search import EvolutionConfig, evolve, random_search
from bnbench.search.fitness import indicator_fitness, parse_constraint
from bnbench.spaces import SPACES, get_space

SMALL = EvolutionConfig(population=10, generations=3, parents=4, mutations=5, crossovers=5, seed=0)


@pytest.mark.parametrize("name", list(SPACES))
def test_mutants_and_children_are_valid_architectures_of_the_space(name):
    space = get_space(name)
    rng = np.random.default_rng(0)
    parents = space.sample(8, 0)
    kids = np.array([space.mutate(parents[i % 8], 0.3, rng) for i in range(40)]
                    + [space.crossover(parents[i % 8], parents[(i + 3) % 8], rng) for i in range(40)])
    space.choices(kids)  # raises on an invalid row
    for kid in kids[::7]:
        assert (space.parse(space.to_str(kid)) == kid).all()
    assert len({space.canonical(k) for k in kids}) > 10  # they vary
    assert (space.mutate(parents[0], 0.0, rng) == parents[0]).all()
    assert (space.crossover(parents[0], parents[0], rng) == parents[0]).all()


def test_evolution_climbs_a_known_fitness_and_beats_random_search_at_equal_cost():
    space = get_space("nb201")
    conv3 = 3  # NB201 op index of nor_conv_3x3: fitness = how many edges hold it (the optimum: all 6)
    assert space.decisions[0].choices[conv3] == "nor_conv_3x3"
    fitness = lambda archs: (np.asarray(archs) == conv3).sum(axis=1).astype(float)  # noqa: E731
    found = evolve(space, fitness, EvolutionConfig(seed=1))
    assert found.evaluations == 50 + 20 * 50  # BN-NAS's settings: every generation 50 new architectures
    assert found.scores[found.best()] == 6
    assert len({space.canonical(a) for a in found.archs}) == found.evaluations  # nothing scored twice
    curve = found.scores[found.best_so_far()]
    assert (np.diff(curve) >= 0).all() and curve[-1] == 6
    baseline = random_search(space, fitness, found.evaluations, seed=1)
    assert baseline.evaluations == found.evaluations
    # random search's best after 1,050 uniform draws: all-six cells are 1 in 15,625
    assert baseline.scores[baseline.best()] <= found.scores[found.best()]
    again = evolve(space, fitness, EvolutionConfig(seed=1))
    assert (again.archs == found.archs).all()  # reproducible from its seed


def test_nan_fitness_ranks_last():
    space = get_space("nb201")
    fitness = lambda archs: np.where(np.asarray(archs)[:, 0] == 0, np.nan, np.asarray(archs).sum(axis=1))  # noqa: E731
    found = evolve(space, fitness, SMALL)
    assert not np.isnan(found.scores[found.best()])


@pytest.mark.parametrize("name", ["nb201", "nb101", "darts", "mobilenet"])
def test_constraint_holds_for_every_evaluated_architecture(name):
    space = get_space(name)
    ctx = ScoringContext(space=space, network=NetSpec(8, 1, 10, 3, 16), progress=False)
    params = indicator_fitness("params", ctx)
    limit = float(np.median(params(space.sample(40, 0))))
    admissible = parse_constraint(f"params<={limit}", ctx)
    found = evolve(space, params, SMALL, admissible)
    assert (params(found.archs) <= limit + 1e-12).all()
    assert found.scores[found.best()] <= limit + 1e-12


def test_lower_is_better_indicators_are_negated():
    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec(8, 1, 10, 3, 16), progress=False)
    archs = get_space("nb201").sample(5, 0)
    from bnbench.indicators import get

    assert np.allclose(indicator_fitness("params", ctx)(archs), get("params")(archs, ctx))


@pytest.mark.parametrize("text, message", [("params<1", "expected params<=X"), ("size<=3", "expected params<=X")])
def test_bad_constraints_are_one_line_errors(text, message):
    ctx = ScoringContext(space=get_space("nb201"), progress=False)
    with pytest.raises(BnbenchError, match=message):
        parse_constraint(text, ctx)


def test_constraint_units():
    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec(16, 5, 10, 3, 32), progress=False)
    archs = get_space("nb201").sample(30, 0)
    from bnbench.indicators import get

    params = get("params")(archs, ctx)
    assert (parse_constraint("params<=500K", ctx)(archs) == (params <= 0.5)).all()
    assert (parse_constraint("params<=0.5M", ctx)(archs) == (params <= 0.5)).all()


def test_search_command_writes_the_evaluations_and_the_found_architecture(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["search", "evolution", "--space", "nb201", "--indicator", "params", "--population", "10",
                 "--generations", "2", "--parents", "3", "--mutations", "4", "--crossovers", "4", "--random-baseline",
                 "--no-progress", "--out", str(out)])
    assert code == 0
    doc = json.loads((out / "search.json").read_text())
    assert doc["evolution"]["evaluations"] == len(doc["evolution"]["evaluated"]) == 30
    assert doc["random_search"]["evaluations"] == 30
    assert doc["config"]["evolution"]["population"] == 10 and doc["seeds"]["evolution"] == 0
    assert "bnbench" in doc["versions"] and doc["ground_truth"]["description"]
    assert len(doc["evolution"]["best_so_far_truth"]) == 30
    assert "found" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--indicator", "nope"], "unknown"),
    (["--indicator", "params", "--constraint", "params<=0"], "no admissible architecture"),
    (["--indicator", "params", "--mutation-prob", "2"], "probability"),
])
def test_search_command_bad_input_is_one_line(tmp_path, capsys, argv, message):
    code = main(["search", "evolution", "--space", "nb201", "--no-progress", "--out", str(tmp_path / "x"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_fitness_scores_each_architecture_once(monkeypatch):
    from dataclasses import replace

    import bnbench.search.fitness as module
    from bnbench.indicators import get

    space = get_space("nb201")
    ctx = ScoringContext(space=space, network=NetSpec(8, 1, 10, 3, 16), progress=False)
    params = get("params")
    calls = []
    counting = replace(params, fn=lambda a, c: calls.append(len(a)) or params.fn(a, c))
    monkeypatch.setattr(module, "get", lambda name: counting)
    fitness = indicator_fitness("params", ctx)
    archs = space.sample(6, 0)
    fitness(archs[:4])
    again = fitness(np.concatenate([archs, archs[:2]]))
    assert calls == [4, 2]  # the first four and the repeats are not scored again
    np.testing.assert_array_equal(again[:6], params(archs, ctx))


@pytest.mark.parametrize("name", ["nb101", "darts", "nb201"])
def test_search_within_a_set_proposes_only_its_cells_once_each(name):
    from bnbench.search.within import Candidates

    space = get_space(name)
    cells = space.sample(60, 3)
    within = Candidates(space, np.concatenate([cells, cells[:5]]))  # duplicates collapse to one cell each
    assert len(within) == len({space.canonical(c) for c in cells})
    keys = set(within.keys)
    fitness = lambda archs: space.choices(np.asarray(archs)).clip(min=0).sum(axis=1).astype(float)  # noqa: E731
    found = evolve(space, fitness, SMALL, within=within)
    proposed = [space.canonical(a) for a in found.archs]
    assert set(proposed) <= keys and len(set(proposed)) == len(proposed) == min(40, len(within))  # 10 + 3 x 10
    whole = evolve(space, fitness, EvolutionConfig(population=10, generations=6, parents=4, mutations=5,
                                                   crossovers=5), within=within)
    assert whole.evaluations == len(within)  # the set exhausted: fewer children, no repeats, no failure
    assert whole.scores[whole.best()] == fitness(within.archs).max()
    baseline = random_search(space, fitness, 25, seed=2, within=within)
    assert baseline.evaluations == 25 and {space.canonical(a) for a in baseline.archs} <= keys


def test_projection_keeps_set_members_and_takes_the_nearest_unproposed_cell():
    from bnbench.search.within import Candidates

    space = get_space("nb201")
    pool = "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|"
    cells = space.parse_many([pool.format(*["avg_pool_3x3"] * 6), pool.format("nor_conv_3x3", *["avg_pool_3x3"] * 5),
                              pool.format(*["nor_conv_3x3"] * 6)])
    within = Candidates(space, cells)
    rng = np.random.default_rng(0)
    assert (within.project(cells[2], rng, set()) == cells[2]).all()
    child = space.parse(pool.format("nor_conv_3x3", "nor_conv_3x3", *["avg_pool_3x3"] * 4))  # not in the set
    assert (within.project(child, rng, set()) == cells[1]).all()  # 1 decision away (the others: 2, 4)
    assert (within.project(child, rng, {within.keys[1]}) == cells[0]).all()  # next nearest not yet proposed
    assert within.project(child, rng, set(within.keys)) is None
    with pytest.raises(BnbenchError, match="no architecture"):
        Candidates(space, np.zeros((0, 6), dtype=np.int64))


def test_search_command_within_truth_evaluates_only_cells_with_a_known_truth(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "evolution", "--space", "nb101", "--indicator", "params", "--within-truth",
                 "--population", "6", "--generations", "2", "--parents", "3", "--mutations", "3", "--crossovers",
                 "3", "--random-baseline", "--no-progress", "--out", str(out)]) == 0
    doc = json.loads((out / "search.json").read_text())
    assert doc["config"]["within"]["set"] == "ground truth" and doc["config"]["within"]["cells"] > 18
    for label in ("evolution", "random_search"):
        assert all(e["truth"] is not None for e in doc[label]["evaluated"])
        assert doc[label]["found_truth"] is not None
    assert doc["truth_best"]["truth"] >= doc["evolution"]["found_truth"]


def test_search_within_a_set_respects_the_constraint():
    from bnbench.search.within import Candidates

    space = get_space("nb201")
    within = Candidates(space, space.sample(80, 5))
    ok = lambda archs: (np.asarray(archs) == 3).sum(axis=1) <= 2  # noqa: E731 - at most two 3x3 convolutions
    fitness = lambda archs: (np.asarray(archs) == 3).sum(axis=1).astype(float)  # noqa: E731 - wants many
    found = evolve(space, fitness, SMALL, constraint=ok, within=within)
    assert ok(found.archs).all() and found.scores.max() == fitness(within.archs[ok(within.archs)]).max()
    baseline = random_search(space, fitness, 20, seed=1, constraint=ok, within=within)
    assert ok(baseline.archs).all()
