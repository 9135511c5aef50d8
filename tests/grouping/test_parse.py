"""Invalid problems give `ProblemError` naming the path of the bad field."""

from __future__ import annotations

from typing import Any

import pytest

from companion.grouping import ProblemError, solve_json


def schedule(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "schedule",
        "people": [{"id": f"p{i}", "attributes": {"years": i}} for i in range(6)],
        "rounds": 2,
        "group_size": {"min": 2, "max": 3},
        "iterations": 20,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def weighted(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "weighted",
        "n": 3,
        "weights": [[0, 1, 2], [1, 0, 3], [2, 3, 0]],
        "groups": 1,
        "group_size": {"min": 3, "max": 3},
        "iterations": 10,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ([], ""),
        ({"kind": "tables"}, "kind"),
        (schedule(people=[{"id": "a"}, {"id": 5}]), "people[1].id"),
        (schedule(people=[{"id": "a"}, {"id": "a"}]), "people[1].id"),
        (schedule(people=[{"id": "a", "facilitator": "yes"}]), "people[0].facilitator"),
        (
            schedule(people=[{"id": "a", "attributes": {"years": [1]}}]),
            "people[0].attributes.years",
        ),
        (schedule(rounds=0), "rounds"),
        (schedule(rounds="3"), "rounds"),
        (schedule(group_size={"min": 0, "max": 3}), "group_size.min"),
        (schedule(group_size={"min": 3, "max": 2}), "group_size.max"),
        (schedule(group_size=None), "group_size"),
        (schedule(groups=2), "group_size"),
        (schedule(history=[[["p0", "p9"]]]), "history[0][0][1]"),
        (schedule(history=[[["p0", "p1"], ["p1"]]]), "history[0][1][0]"),
        (schedule(absent={"x": ["p0"]}), "absent.x"),
        (schedule(absent={"5": ["p0"]}), "absent.5"),
        (schedule(absent={"1": ["nobody"]}), "absent.1[0]"),
        (schedule(apart=[["p0"]]), "apart[0]"),
        (schedule(together=[["p0", 3]]), "together[0][1]"),
        (schedule(facilitators="some"), "facilitators"),
        (schedule(fixed={"0": {"p1": -1}}), "fixed.0.p1"),
        (schedule(fixed={"1": {"p1": 0}}, absent={"1": ["p1"]}), "fixed.1.p1"),
        (schedule(weights={"repeat": -1}), "weights.repeat"),
        (schedule(weights={"novelty": 1}), "weights.novelty"),
        (schedule(time_limit=0), "time_limit"),
        (schedule(seed=-1), "seed"),
        (schedule(group_sizes={"min": 2}), "group_sizes"),
        (weighted(weights=[[0, 1], [1, 0]]), "weights"),
        (weighted(weights=[[0, 1, 2], [1, 0, "x"], [2, 3, 0]]), "weights[1][2]"),
        (weighted(weights=[[0, 1, 2], [1, 0, 3], [2, 4, 0]]), "weights[1][2]"),
        (weighted(sizes=[[1, 3]]), "group_size"),
        (weighted(group_size=None, sizes=[[2, 1]]), "sizes[0][1]"),
        (weighted(group_size=None, sizes=[[1, 3], [1, 3]]), "sizes"),
        (weighted(n=True), "n"),
    ],
)
def test_bad_fields_are_named(data: Any, path: str) -> None:
    with pytest.raises(ProblemError) as caught:
        solve_json(data)
    assert caught.value.path == path
    assert caught.value.message
    assert str(caught.value).startswith(f"{path}: " if path else caught.value.message)


def test_overrides_are_checked_too() -> None:
    with pytest.raises(ProblemError) as caught:
        solve_json(schedule(), time_limit=-1)
    assert caught.value.path == "time_limit"


def test_a_valid_weighted_problem_solves() -> None:
    result = solve_json(weighted())
    assert result["groups"] == [[0, 1, 2]]
    assert result["objective"] == 6.0
    assert set(result) == {"groups", "objective", "seconds"}
