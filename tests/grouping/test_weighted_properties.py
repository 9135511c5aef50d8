"""Property tests for Maximally Diverse Grouping and for the per-group report."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.grouping import (
    Infeasible,
    Person,
    WeightedProblem,
    evaluate_groups,
    solve_weighted,
)


@st.composite
def weighted_problems(draw: st.DrawFn) -> WeightedProblem:
    n = draw(st.integers(2, 24))
    groups = draw(st.integers(1, max(1, n // 2)))
    sizes = []
    for _ in range(groups):
        low = draw(st.integers(1, max(1, n // groups)))
        sizes.append((low, low + draw(st.integers(0, 3))))
    seed = draw(st.integers(0, 2**16))
    upper = np.random.default_rng(seed).uniform(-5, 100, (n, n))
    weights = np.triu(upper, 1) + np.triu(upper, 1).T
    return WeightedProblem(weights, sizes, iterations=draw(st.integers(1, 30)), seed=seed % 7)


@settings(max_examples=60, deadline=None)
@given(weighted_problems())
def test_weighted_solutions_respect_the_sizes(problem: WeightedProblem) -> None:
    low = sum(a for a, _ in problem.sizes)
    high = sum(b for _, b in problem.sizes)
    if not low <= problem.n <= high:
        with pytest.raises(Infeasible):
            solve_weighted(problem)
        return
    solution = solve_weighted(problem)
    assert len(solution.groups) == len(problem.sizes)
    for group, (a, b) in zip(solution.groups, problem.sizes, strict=True):
        assert a <= len(group) <= b
    assert sorted(p for g in solution.groups for p in g) == list(range(problem.n))
    inside = sum(
        problem.weights[i, j] for g in solution.groups for i, j in itertools.combinations(g, 2)
    )
    assert solution.objective == pytest.approx(inside)


def test_report_names_pairs_that_met_and_the_mix() -> None:
    people = [
        Person("a", {"industry": "retail", "years": 1}),
        Person("b", {"industry": "retail", "years": 11}),
        Person("c", {"industry": "it", "years": 1}),
        Person("d", {"industry": "it", "years": 21}),
    ]
    history = [[["a", "b"], ["c", "d"]], [["a", "b", "c"], ["d"]]]
    reports = evaluate_groups(people, history, [["a", "b"], ["c", "d"]])
    first, second = reports
    assert first.members == ("a", "b")
    assert [(m.a, m.b, m.count) for m in first.met_before] == [("a", "b", 2)]
    assert [(m.a, m.b, m.count) for m in second.met_before] == [("c", "d", 1)]
    # Same industry; years differ by 10 of a 20-year spread: (0 + 0.5) / 2.
    assert first.diversity == pytest.approx(0.25)
    assert second.diversity == pytest.approx(0.5)
    assert 0.0 <= first.diversity <= 1.0
