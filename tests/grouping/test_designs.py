"""Finite fields and the transversal designs built on them; the search starts from one where
the shape has it."""

from __future__ import annotations

import itertools

import pytest

from companion.grouping import (
    GroupSize,
    Person,
    ScheduleProblem,
    schedule_violations,
    solve_schedule,
)
from companion.grouping.designs import GaloisField, design, design_rounds, prime_power
from tests.grouping.factories import make_problem


@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 9, 16, 25, 27])
def test_galois_fields_are_fields(q: int) -> None:
    field = GaloisField(q)
    elements = range(q)
    for a, b, c in itertools.product(elements, repeat=3):
        assert field.mul[a][field.add[b][c]] == field.add[field.mul[a][b]][field.mul[a][c]]
        assert field.add[field.add[a][b]][c] == field.add[a][field.add[b][c]]
        assert field.mul[field.mul[a][b]][c] == field.mul[a][field.mul[b][c]]
    for a in elements:
        assert field.add[a][0] == a and field.mul[a][1] == a
        assert sum(field.add[a][b] == 0 for b in elements) == 1  # one additive inverse
        if a:
            assert sum(field.mul[a][b] == 1 for b in elements) == 1  # one multiplicative inverse


def test_prime_powers() -> None:
    assert [q for q in range(2, 30) if prime_power(q)] == [
        2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 19, 23, 25, 27, 29
    ]  # fmt: skip
    assert prime_power(8) == (2, 3) and prime_power(6) is None and prime_power(1) is None


@pytest.mark.parametrize(("groups", "size"), [(3, 2), (4, 4), (5, 3), (7, 5), (8, 4), (9, 9)])
def test_designs_meet_nobody_twice(groups: int, size: int) -> None:
    rounds = design_rounds(groups, size)
    assert rounds == groups + (size == groups)
    met: set[tuple[int, int]] = set()
    for groups_of_round in design(groups, size, rounds):
        assert sorted(p for g in groups_of_round for p in g) == list(range(groups * size))
        assert all(len(g) == size for g in groups_of_round)
        for group in groups_of_round:
            for pair in itertools.combinations(sorted(group), 2):
                assert pair not in met
                met.add(pair)


def test_shapes_without_a_design_are_refused() -> None:
    assert design_rounds(6, 4) == 0  # 6 is no prime power
    assert design_rounds(4, 5) == 0  # groups larger than the field
    with pytest.raises(ValueError):
        design(8, 4, 9)


def test_32_in_8_groups_of_4_for_8_sessions_start_repeat_free() -> None:
    solution = solve_schedule(make_problem(32, 8, groups=8, iterations=None, time_limit=2.0))
    assert solution.metrics.repeats == 0
    assert solution.iterations == 0, "the design is optimal as built: no search needed"


def test_a_design_start_still_mixes_attributes_and_differs_by_seed() -> None:
    people = [
        Person(f"p{i}", {"industry": ["retail", "it", "food", "crafts"][i % 4]}) for i in range(16)
    ]
    runs = [
        solve_schedule(
            ScheduleProblem(
                people=people, rounds=5, group_size=GroupSize(4, 4), time_limit=1.0, seed=seed
            )
        )
        for seed in (0, 1)
    ]
    for run in runs:
        assert run.metrics.repeats == 0 and run.metrics.violations == 0
        assert run.metrics.diversity > 0
    assert runs[0].rounds != runs[1].rounds
    assert not schedule_violations(
        ScheduleProblem(people=people, rounds=5, group_size=GroupSize(4, 4)), runs[0].rounds
    )
