"""Rules that cannot all hold give `Infeasible` with a message naming the rule."""

from __future__ import annotations

from typing import Any

import pytest

from companion.grouping import GroupSize, Infeasible, solve_json, solve_schedule
from tests.grouping.factories import make_people, make_problem


@pytest.mark.parametrize(
    ("changes", "constraint", "words"),
    [
        (
            {"group_size": GroupSize(2, 2), "together": [["p2", "p3"], ["p3", "p5"]]},
            "together",
            "keep-together group ['p2', 'p3', 'p5'] (size 3) does not fit a group of at most 2",
        ),
        (
            {"people": make_people(12, facilitators=2), "facilitators": "at_least_one"},
            "facilitators",
            "round 0: 2 facilitators present but 'at least one facilitator per group' "
            "needs 3 groups",
        ),
        (
            {"people": make_people(12, facilitators=4), "facilitators": "at_most_one"},
            "facilitators",
            "round 0: 4 facilitators present but 'at most one facilitator per group' allows only 3",
        ),
        (
            {"apart": [["p1", "p2"]], "together": [["p1", "p3"], ["p3", "p2"]]},
            "together",
            "'p1' and 'p2' must be kept apart but keep-together links them",
        ),
        (
            {"group_size": GroupSize(4, 4), "absent": {1: ["p0", "p1"]}},
            "group_size",
            "round 1: 10 people present cannot form groups of 4–4",
        ),
        (
            {"fixed": {0: {"p0": 7}}},
            "fixed",
            "round 0: 'p0' is fixed to group 7 but the round has 3 groups",
        ),
        (
            {"fixed": {2: {"p0": 1, "p1": 1}}, "apart": [["p0", "p1"]]},
            "apart",
            "round 2: 'p0' and 'p1' must be kept apart but are fixed to group 1",
        ),
        (
            {"fixed": {0: {"p2": 0, "p3": 1}}, "together": [["p2", "p3"]]},
            "fixed",
            "are fixed to groups 0 and 1 but must be kept together",
        ),
    ],
)
def test_proven_conflicts_name_the_rule(
    changes: dict[str, Any], constraint: str, words: str
) -> None:
    with pytest.raises(Infeasible) as caught:
        solve_schedule(make_problem(12, 3, **changes))
    assert caught.value.constraint == constraint
    assert words in str(caught.value)


def test_a_conflict_the_search_cannot_resolve_is_reported_not_returned() -> None:
    # Three people who must all be apart, but only two groups: no schedule exists.
    problem = make_problem(6, 1, groups=2, apart=[["p0", "p1", "p2"]], iterations=30)
    with pytest.raises(Infeasible) as caught:
        solve_schedule(problem)
    assert caught.value.constraint == "search"
    assert "keep-apart" in str(caught.value)


def test_json_infeasible() -> None:
    data = {
        "kind": "weighted",
        "n": 3,
        "weights": [[0, 1, 1], [1, 0, 1], [1, 1, 0]],
        "groups": 2,
        "group_size": {"min": 2, "max": 2},
    }
    with pytest.raises(Infeasible, match="3 elements cannot fill 2 groups"):
        solve_json(data)
