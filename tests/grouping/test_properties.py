"""Property tests: for random problems every returned schedule keeps every rule."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from companion.grouping import (
    FACILITATOR_RULES,
    GroupSize,
    Infeasible,
    ScheduleProblem,
    schedule_violations,
    solve_schedule,
)
from tests.grouping.factories import make_people


@st.composite
def problems(draw: st.DrawFn, hard_rules: bool = True) -> ScheduleProblem:
    n = draw(st.integers(2, 14))
    rounds = draw(st.integers(1, 4))
    ids = [f"p{i}" for i in range(n)]
    people = make_people(n, facilitators=draw(st.integers(0, 3)), attributes=draw(st.booleans()))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        low = draw(st.integers(1, 4))
        options["group_size"] = GroupSize(low, draw(st.integers(low, low + 2)))
    else:
        options["groups"] = draw(st.integers(1, max(1, n // 2)))
    absent = {
        r: draw(st.lists(st.sampled_from(ids), max_size=n // 3, unique=True))
        for r in range(rounds)
        if draw(st.booleans())
    }
    history = draw(
        st.lists(
            st.permutations(ids).map(lambda p: [p[: len(p) // 2], p[len(p) // 2 :]]), max_size=2
        )
    )
    pair = st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True)
    if hard_rules:
        options["apart"] = draw(st.lists(pair, max_size=2))
        options["together"] = draw(st.lists(pair, max_size=1))
        options["facilitators"] = draw(st.sampled_from(FACILITATOR_RULES))
        fixed: dict[int, dict[str, int]] = {}
        for r in range(rounds):
            if draw(st.booleans()):
                person = draw(st.sampled_from(ids))
                if person not in absent.get(r, []):
                    fixed[r] = {person: draw(st.integers(0, 2))}
        options["fixed"] = fixed
    return ScheduleProblem(
        people=people,
        rounds=rounds,
        history=history,
        absent=absent,
        time_limit=30.0,
        iterations=draw(st.integers(1, 40)),
        seed=draw(st.integers(0, 3)),
        **options,
    )


def check_sizes(problem: ScheduleProblem, rounds: list[list[list[str]]]) -> None:
    for r, groups in enumerate(rounds):
        sizes = [len(g) for g in groups]
        if sizes:
            assert max(sizes) - min(sizes) <= 1
            if problem.group_size is not None:
                assert problem.group_size.min <= min(sizes)
                assert max(sizes) <= problem.group_size.max
            else:
                assert len(sizes) == problem.groups
        placed = [p for g in groups for p in g]
        assert len(placed) == len(set(placed))
        assert set(placed) == {p.id for p in problem.people} - set(problem.absent.get(r, []))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_schedule_keeps_sizes_and_hard_rules(problem: ScheduleProblem) -> None:
    try:
        solution = solve_schedule(problem)
    except Infeasible as exc:
        event(f"infeasible: {exc.constraint}")
        assert str(exc)
        assert exc.constraint in {
            "group_size",
            "together",
            "apart",
            "facilitators",
            "fixed",
            "search",
        }
        return
    event("solved")
    check_sizes(problem, solution.rounds)
    assert schedule_violations(problem, solution.rounds) == []
    assert solution.metrics.violations == 0
    assert solution.metrics.repeats >= solution.metrics.repeats_lower_bound
    assert solution.metrics.distinct_pairs <= solution.metrics.pair_upper_bound
    assert 0.0 <= solution.metrics.diversity <= 1.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(hard_rules=False))
def test_size_rules_alone_never_fail_when_sizes_fit(problem: ScheduleProblem) -> None:
    try:
        solution = solve_schedule(problem)
    except Infeasible as exc:
        # Only the sizes can be at fault: too few people present for the groups asked for.
        assert exc.constraint == "group_size"
        assert exc.round is not None
        return
    check_sizes(problem, solution.rounds)
    assert solution.metrics.violations == 0
