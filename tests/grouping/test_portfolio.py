"""Two searches side by side: the choice between them never depends on which thread is faster."""

from __future__ import annotations

import pytest

from companion.grouping import GroupSize, solve_schedule
from companion.grouping import schedule as schedule_module
from companion.grouping.schedule_search import Race
from tests.grouping.factories import make_people, make_problem


def test_race_stops_only_searches_that_can_no_longer_be_chosen() -> None:
    race = Race()
    assert not race.beaten(0, 10**9, None)
    race.optimal(1, 500)
    # Search 0 has not proved anything: it can still win only with less work than 500.
    assert not race.beaten(0, 400, None)
    assert not race.beaten(0, 500, None)
    assert race.beaten(0, 501, None)
    # A search is never beaten by its own proof.
    assert not race.beaten(1, 10**9, 500)
    # Proved with less work, or as much and a lower index: it wins and goes on.
    assert not race.beaten(0, 10**9, 500)
    assert not race.beaten(0, 10**9, 499)
    race.optimal(0, 500)
    assert race.beaten(1, 10**9, 500)
    # Only a search's first proof counts.
    race.optimal(1, 100)
    assert race.beaten(1, 10**9, 500)


def twelve_in_fours(seed: int) -> object:
    # 12 people in groups of 4 for 6 rounds: repeats are forced (R* = 45, the bound is 42),
    # so neither search can stop early at a proven optimum and both use their whole budget.
    return make_problem(
        12,
        6,
        group_size=GroupSize(4, 4),
        people=make_people(12),
        iterations=3_000,
        seed=seed,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_searches_are_never_worse_than_the_first_alone(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = solve_schedule(twelve_in_fours(seed))  # type: ignore[arg-type]
    monkeypatch.setattr(schedule_module, "PORTFOLIO", 1)
    alone = solve_schedule(twelve_in_fours(seed))  # type: ignore[arg-type]
    assert both.metrics.repeats <= alone.metrics.repeats
    assert (both.metrics.repeats, -both.metrics.distinct_pairs) <= (
        alone.metrics.repeats,
        -alone.metrics.distinct_pairs,
    )


def test_portfolio_answer_is_one_of_its_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    # The answer with two searches equals what one of them gives alone; the second search runs
    # with the seed offset by PORTFOLIO_SEED_STEP.
    problem = make_problem(14, 4, iterations=400, seed=3)
    both = solve_schedule(problem)
    monkeypatch.setattr(schedule_module, "PORTFOLIO", 1)
    first = solve_schedule(problem)
    second = solve_schedule(
        make_problem(14, 4, iterations=400, seed=3 + schedule_module.PORTFOLIO_SEED_STEP)
    )
    assert both.rounds in (first.rounds, second.rounds)
