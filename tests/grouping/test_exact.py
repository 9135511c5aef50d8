"""Small instances whose optimum is known: the search must reach it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from companion.grouping import (
    GroupSize,
    Person,
    ScheduleProblem,
    WeightedProblem,
    evaluate_schedule,
    solve_schedule,
    solve_weighted,
)
from tests.grouping.factories import make_people, make_problem


@pytest.mark.parametrize(
    ("n", "groups", "rounds"),
    [
        (6, 3, 5),  # a round robin in pairs: every pair exactly once
        (9, 3, 4),  # the affine plane of order 3
        (16, 4, 5),  # the affine plane of order 4
        (15, 5, 7),  # Kirkman's schoolgirls
    ],
)
def test_social_golfer_designs_reach_no_repeats(n: int, groups: int, rounds: int) -> None:
    problem = make_problem(n, rounds, groups=groups, iterations=None, time_limit=10.0)
    solution = solve_schedule(problem)
    assert solution.metrics.repeats == 0
    assert solution.metrics.repeats_lower_bound == 0
    # Every pair met at most once, so all meetings are distinct pairs.
    assert (
        solution.metrics.distinct_pairs == rounds * groups * (n // groups) * (n // groups - 1) // 2
    )


@pytest.mark.parametrize(
    ("n", "size", "rounds", "optimum"),
    [
        (12, GroupSize(4, 4), 6, 45),  # proven optimum, above the cheap bound (42)
        (11, GroupSize(3, 4), 6, 35),  # groups 4,4,3: the bound is the optimum
    ],
)
def test_forced_repeats_are_spread_as_evenly_as_possible(
    n: int, size: GroupSize, rounds: int, optimum: int
) -> None:
    # A fixed iteration budget: the optimum is above the cheap bound, so no early stop.
    problem = make_problem(n, rounds, group_size=size, iterations=2_000, time_limit=60.0)
    solution = solve_schedule(problem)
    assert solution.metrics.repeats == optimum
    assert solution.metrics.repeats_lower_bound <= optimum


def test_bounds_of_the_benchmark_shapes() -> None:
    # 12 in 4,4,4 for 6 sessions: 108 meetings over 66 pairs -> 42 (optimum 45).
    # 23 in 5,5,5,4,4 for 8 sessions: 336 meetings over 253 pairs -> 83 (the optimum).
    for n, size, rounds, bound in [(12, GroupSize(4, 4), 6, 42), (23, GroupSize(4, 5), 8, 83)]:
        problem = make_problem(n, rounds, group_size=size)
        solution = solve_schedule(problem)
        assert solution.metrics.repeats_lower_bound == bound


def test_history_is_avoided() -> None:
    people = make_people(4)
    problem = ScheduleProblem(
        people=people, rounds=1, groups=2, history=[[["p0", "p1"], ["p2", "p3"]]], iterations=50
    )
    groups = solve_schedule(problem).rounds[0]
    assert sorted(map(sorted, groups)) not in ([["p0", "p1"], ["p2", "p3"]],)
    assert solve_schedule(problem).metrics.repeats == 0


def test_groups_mix_attributes() -> None:
    people = [Person(f"r{i}", {"industry": "retail"}) for i in range(3)] + [
        Person(f"i{i}", {"industry": "it"}) for i in range(3)
    ]
    problem = ScheduleProblem(people=people, rounds=1, groups=3, iterations=100)
    solution = solve_schedule(problem)
    for group in solution.rounds[0]:
        assert {p[0] for p in group} == {"r", "i"}
    assert solution.metrics.diversity == 1.0


def test_metrics_of_a_given_schedule() -> None:
    problem = make_problem(4, 2, groups=2)
    metrics = evaluate_schedule(
        problem, [[["p0", "p1"], ["p2", "p3"]], [["p0", "p1"], ["p2", "p3"]]]
    )
    assert metrics.repeats == 2
    assert metrics.repeat_pairs == 2
    assert metrics.distinct_pairs == 2
    assert metrics.pair_upper_bound == 4
    assert metrics.repeats_lower_bound == 0
    assert metrics.violations == 0


def brute_force_two_groups(weights: np.ndarray, size: int) -> float:
    n = len(weights)

    def inside(group: tuple[int, ...]) -> float:
        return float(sum(weights[a, b] for a, b in itertools.combinations(group, 2)))

    return max(
        inside(first) + inside(tuple(sorted(set(range(n)) - set(first))))
        for first in itertools.combinations(range(n), size)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_reaches_the_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    upper = rng.uniform(0, 100, (8, 8))
    weights = np.triu(upper, 1) + np.triu(upper, 1).T
    optimum = brute_force_two_groups(weights, 4)
    solution = solve_weighted(WeightedProblem(weights, [(4, 4), (4, 4)], iterations=300))
    assert solution.objective == pytest.approx(optimum)
    assert sorted(len(g) for g in solution.groups) == [4, 4]
    assert sorted(p for g in solution.groups for p in g) == list(range(8))


def test_weighted_free_sizes_take_the_best_profile() -> None:
    # All weights equal: the most in-group pairs wins, i.e. one group as large as allowed.
    weights = np.ones((7, 7))
    solution = solve_weighted(WeightedProblem(weights, [(2, 5), (2, 5)], iterations=50))
    assert sorted(len(g) for g in solution.groups) == [2, 5]
    assert solution.objective == pytest.approx(11.0)
