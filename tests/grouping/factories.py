"""Builders for grouping problems with sensible defaults."""

from __future__ import annotations

from typing import Any

from companion.grouping import GroupSize, Person, ScheduleProblem


def make_people(n: int, *, facilitators: int = 0, attributes: bool = False) -> list[Person]:
    """n people p0..p(n-1); the first `facilitators` of them facilitate."""
    industries = ["retail", "it", "food"]
    regions = ["Turku", "Salo"]
    return [
        Person(
            f"p{i}",
            {"industry": industries[i % 3], "region": regions[i % 2], "years": i}
            if attributes
            else {},
            facilitator=i < facilitators,
        )
        for i in range(n)
    ]


def make_problem(n: int = 12, rounds: int = 3, **changes: Any) -> ScheduleProblem:
    """A schedule problem (groups of 3-4 by default) with a small fixed search budget."""
    options: dict[str, Any] = {
        "people": make_people(n),
        "rounds": rounds,
        "group_size": GroupSize(3, 4),
        "time_limit": 30.0,
        "iterations": 200,
    }
    options.update(changes)
    if "groups" in changes:
        options["group_size"] = None
    return ScheduleProblem(**options)
