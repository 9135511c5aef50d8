"""Same problem and seed, same answer; the budget is counted in work, not in seconds."""

from __future__ import annotations

from typing import Any

import numpy as np

from companion.grouping import (
    GroupSize,
    WeightedProblem,
    Weights,
    solve_json,
    solve_schedule,
    solve_weighted,
)
from companion.grouping.model import compile_problem
from companion.grouping.schedule import FIRST_PHASE, phase_weights, search_limits
from companion.grouping.schedule_search import ScheduleSearch
from tests.grouping.factories import make_people, make_problem


def seed_like_problem(seed: int) -> Any:
    return make_problem(
        14,
        4,
        people=make_people(14, facilitators=2, attributes=True),
        group_size=GroupSize(3, 4),
        absent={1: ["p5"], 3: ["p6", "p7"]},
        apart=[["p1", "p9"]],
        together=[["p2", "p3"]],
        facilitators="at_most_one",
        history=[[["p0", "p4", "p8"], ["p1", "p5", "p9", "p13"]]],
        iterations=150,
        # A generous cap: the iteration budget, not the clock, must end the run.
        time_limit=60.0,
        seed=seed,
    )


def test_same_seed_same_schedule() -> None:
    first = solve_schedule(seed_like_problem(3))
    second = solve_schedule(seed_like_problem(3))
    assert first.rounds == second.rounds
    assert first.iterations == second.iterations == 150
    assert first.metrics.repeats == second.metrics.repeats


def test_seeds_explore_differently() -> None:
    answers = {str(solve_schedule(seed_like_problem(seed)).rounds) for seed in range(4)}
    assert len(answers) > 1


def test_same_seed_same_weighted_solution() -> None:
    rng = np.random.default_rng(5)
    upper = rng.uniform(0, 100, (30, 30))
    weights = np.triu(upper, 1) + np.triu(upper, 1).T
    problem = WeightedProblem(weights, [(8, 12)] * 3, iterations=200, time_limit=60.0, seed=9)
    assert solve_weighted(problem).groups == solve_weighted(problem).groups


def test_json_runs_are_reproducible() -> None:
    data = {
        "kind": "schedule",
        "people": [{"id": f"p{i}"} for i in range(10)],
        "rounds": 3,
        "groups": 3,
        "iterations": 80,
        "time_limit": 60,
    }
    first = solve_json(data, seed=4)
    second = solve_json(data, seed=4)
    assert first["rounds"] == second["rounds"]
    assert set(first) == {"rounds", "metrics"}
    assert set(first["metrics"]) == {
        "repeats",
        "repeats_lower_bound",
        "repeat_pairs",
        "distinct_pairs",
        "pair_upper_bound",
        "diversity",
        "violations",
        "seconds",
        "needs_covered",
        "needs_coverable",
    }


def test_second_phase_never_gives_up_a_repeat() -> None:
    # Replay the first phase alone: the answer (after the second phase, which adds diversity)
    # has at most its repeats.
    problem = seed_like_problem(1)
    model = compile_problem(problem)
    phases = phase_weights(model, problem.weights)
    assert phases is not None
    first = ScheduleSearch(model, phases[0], problem.seed, problem.history)
    work, iterations = search_limits(problem)
    found, _ = first.run(int(work * FIRST_PHASE), max(1, int(iterations * FIRST_PHASE)), 1e18, 0)
    first.load(found.idx)
    solution = solve_schedule(problem)
    assert solution.metrics.repeats <= first.repeats()
    assert solution.metrics.violations == 0
    # With no new pairs or diversity to gain there is one phase only.
    assert phase_weights(model, Weights(repeat=1.0, new_pair=0.0, diversity=0.0)) is None
