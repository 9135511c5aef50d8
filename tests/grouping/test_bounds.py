"""The lower bound on repeats never exceeds a true optimum (exhaustive search on tiny problems)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from companion.grouping import (
    FACILITATOR_RULES,
    GroupSize,
    Infeasible,
    ScheduleProblem,
    evaluate_schedule,
    schedule_violations,
    solve_schedule,
)
from companion.grouping.bounds import repeats_lower_bound
from companion.grouping.model import compile_problem
from tests.grouping.factories import make_people

Partition = list[list[int]]


def partitions(people: Sequence[int], sizes: Sequence[int]) -> Iterator[Partition]:
    """Every split of `people` into unordered groups with the multiset of sizes `sizes`."""
    if not people:
        if not sizes:
            yield []
        return
    leader, rest = people[0], list(people[1:])
    for size in sorted(set(sizes)):
        left = list(sizes)
        left.remove(size)
        for mates in itertools.combinations(rest, size - 1):
            others = [p for p in rest if p not in mates]
            for tail in partitions(others, left):
                yield [[leader, *mates], *tail]


def count_partitions(people: int, sizes: Sequence[int]) -> int:
    ways = math.factorial(people)
    for s in sizes:
        ways //= math.factorial(s)
    for s in set(sizes):
        ways //= math.factorial(list(sizes).count(s))
    return ways


def round_ok(problem: ScheduleProblem, index: dict[str, int], groups: Partition) -> bool:
    where = {p: g for g, group in enumerate(groups) for p in group}
    for ids in problem.apart:
        placed = [where[index[p]] for p in ids if index[p] in where]
        if len(placed) != len(set(placed)):
            return False
    for ids in problem.together:
        if len({where[index[p]] for p in ids if index[p] in where}) > 1:
            return False
    chairs = {index[p.id] for p in problem.people if p.facilitator}
    for group in groups:
        count = sum(1 for p in group if p in chairs)
        if problem.facilitators in ("at_most_one", "exactly_one") and count > 1:
            return False
        if problem.facilitators in ("at_least_one", "exactly_one") and count < 1:
            return False
    return True


def optimum(problem: ScheduleProblem) -> tuple[int, list[Partition]] | None:
    """The least R over every schedule that keeps the rules (branch and bound), or None."""
    model = compile_problem(problem)
    index = {p: i for i, p in enumerate(model.ids)}
    options = [
        [g for g in partitions(plan.present.tolist(), plan.sizes) if round_ok(problem, index, g)]
        for plan in model.rounds
    ]
    if any(not rounds for rounds in options):
        return None
    m = model.history.astype(np.int64)
    base = int((m * (m - 1)).sum() // 4)
    best: list[Any] = [None, None]
    chosen: list[Partition] = []

    def walk(w: int, r: int) -> None:
        if best[0] is not None and r >= best[0]:
            return
        if w == len(options):
            best[0], best[1] = r, [list(map(list, g)) for g in chosen]
            return
        for groups in options[w]:
            added = 0
            for group in groups:
                for a, b in itertools.combinations(group, 2):
                    added += int(m[a, b])
                    m[a, b] += 1
                    m[b, a] += 1
            chosen.append(groups)
            walk(w + 1, r + added)
            chosen.pop()
            for group in groups:
                for a, b in itertools.combinations(group, 2):
                    m[a, b] -= 1
                    m[b, a] -= 1

    walk(0, base)
    if best[0] is None:
        return None
    return int(best[0]), best[1]


@st.composite
def tiny_problems(draw: st.DrawFn) -> ScheduleProblem:
    n = draw(st.integers(3, 7))
    rounds = draw(st.integers(1, 3))
    ids = [f"p{i}" for i in range(n)]
    people = make_people(n, facilitators=draw(st.integers(0, 3)))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        low = draw(st.integers(1, 3))
        options["group_size"] = GroupSize(low, draw(st.integers(low, low + 1)))
    else:
        options["groups"] = draw(st.integers(1, max(1, n // 2)))
    absent = {
        r: draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
        for r in range(rounds)
        if draw(st.booleans())
    }
    history = draw(
        st.lists(
            st.permutations(ids).map(lambda p: [p[: len(p) // 2], p[len(p) // 2 :]]), max_size=2
        )
    )
    pair = st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True)
    return ScheduleProblem(
        people=people,
        rounds=rounds,
        history=history,
        absent=absent,
        apart=draw(st.lists(pair, max_size=2)),
        together=draw(st.lists(pair, max_size=2)),
        facilitators=draw(st.sampled_from(FACILITATOR_RULES)),
        iterations=30,
        **options,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_bound_never_exceeds_the_optimum(problem: ScheduleProblem) -> None:
    try:
        model = compile_problem(problem)
    except Infeasible:
        assume(False)
        return
    work = 1
    for plan in model.rounds:
        work *= count_partitions(len(plan.present), plan.sizes)
    assume(work <= 20_000)
    found = optimum(problem)
    assume(found is not None)
    assert found is not None
    best, rounds = found
    assert (
        schedule_violations(problem, [[[model.ids[p] for p in g] for g in r] for r in rounds]) == []
    )
    metrics = evaluate_schedule(problem, [[[model.ids[p] for p in g] for g in r] for r in rounds])
    assert metrics.repeats == best
    assert metrics.repeats_lower_bound <= best
    # The search uses the same bound to stop early: its answer can never beat the optimum.
    solution = solve_schedule(problem)
    assert solution.metrics.repeats >= best
    assert solution.metrics.repeats_lower_bound == metrics.repeats_lower_bound


@given(tiny_problems())
@settings(max_examples=30, deadline=None)
def test_bound_is_deterministic(problem: ScheduleProblem) -> None:
    try:
        first = solve_schedule(problem)
    except Infeasible:
        return
    again = solve_schedule(problem)
    assert first.metrics.repeats_lower_bound == again.metrics.repeats_lower_bound
    assert first.rounds == again.rounds


def layouts(n: int, sizes: list[int], rounds: int) -> list[tuple[list[int], list[int]]]:
    return [(list(range(n)), sizes)] * rounds


def test_exact_values_on_small_shapes() -> None:
    none = np.zeros((4, 4), dtype=bool)
    # Two groups of two, three rounds: 3 perfect matchings of 4 people, so no repeat is forced.
    assert repeats_lower_bound(np.zeros((4, 4)), layouts(4, [2, 2], 3), none) == 0
    # A fourth round must repeat one matching: two pairs meet twice.
    assert repeats_lower_bound(np.zeros((4, 4)), layouts(4, [2, 2], 4), none) == 2
    # Keep-together p0, p1 in 3 rounds: they meet 3 times (3); p2, p3 then meet 3 times too.
    together = np.zeros((4, 4), dtype=bool)
    together[0, 1] = together[1, 0] = True
    assert repeats_lower_bound(np.zeros((4, 4)), layouts(4, [2, 2], 3), none, together) == 6


def test_a_together_pair_forces_repeats_on_the_others() -> None:
    # 25 people in five groups of five for six sessions: the affine plane has no repeat. Kept
    # together, p0 and p1 meet six times (15) and fill two places of their group, so they meet
    # at most 18 others: at least 10 pairs (5 at p0, 5 at p1) never meet, and 294 free
    # meetings on at most 289 pairs repeat at least 5 times: R >= 20.
    n = 25
    together = np.zeros((n, n), dtype=bool)
    together[0, 1] = together[1, 0] = True
    apart = np.zeros((n, n), dtype=bool)
    bound = repeats_lower_bound(np.zeros((n, n)), layouts(n, [5] * 5, 6), apart, together)
    assert bound == 20


def test_facilitators_under_at_most_one_count_as_kept_apart() -> None:
    # 4 people, two facilitators who may not meet, groups of two, three rounds: p0 and p1 can
    # only meet p2 or p3, so over 3 rounds each meets one of them twice (R = 2); the bound sees
    # the facilitators' rows (1 each, halved) but not that p2 and p3 never meet.
    people = make_people(4, facilitators=2)
    problem = ScheduleProblem(
        people=people, rounds=3, groups=2, facilitators="at_most_one", iterations=50
    )
    found = optimum(problem)
    assert found is not None
    solution = solve_schedule(problem)
    assert solution.metrics.repeats == found[0] == 2
    assert solution.metrics.repeats_lower_bound == 1
