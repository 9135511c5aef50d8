"""Evaluation of groupings given as person ids: metrics, broken rules, who has met whom.

Independent of the search, so that tests and facilitators' manual edits are judged by the same
plain rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from companion.grouping.bounds import pair_upper_bound, repeats_lower_bound
from companion.grouping.model import (
    FloatMatrix,
    attribute_distance,
    check_schedule_problem,
    history_counts,
)
from companion.grouping.needs import helpers_met, match_matrix
from companion.grouping.problem import (
    Person,
    ProblemError,
    ScheduleMetrics,
    ScheduleProblem,
)

Grouping = Sequence[Sequence[str]]


@dataclass(frozen=True)
class PairMeeting:
    """Two people of a proposed group and how often they met before."""

    a: str
    b: str
    count: int


@dataclass(frozen=True)
class GroupReport:
    """One proposed group: pairs that met before (with counts) and its diversity in [0, 1]."""

    members: tuple[str, ...]
    met_before: tuple[PairMeeting, ...]
    diversity: float


def _check_grouping(index: dict[str, int], grouping: Grouping, path: str) -> None:
    seen: set[str] = set()
    for g, group in enumerate(grouping):
        for k, person_id in enumerate(group):
            if person_id not in index:
                raise ProblemError(f"{path}[{g}][{k}]", f"unknown person {person_id!r}")
            if person_id in seen:
                raise ProblemError(f"{path}[{g}][{k}]", f"{person_id!r} is placed twice")
            seen.add(person_id)


def evaluate_groups(
    people: Sequence[Person], history: Sequence[Grouping], groups: Grouping
) -> list[GroupReport]:
    """For one proposed round: per group, the pairs that met before (with counts) and diversity.

    Diversity is the mean attribute distance of the group's pairs (0 for a group of one).
    """
    index = {p.id: i for i, p in enumerate(people)}
    for r, past in enumerate(history):
        _check_grouping(index, past, f"history[{r}]")
    _check_grouping(index, groups, "groups")
    counts = history_counts(index, history)
    distance = attribute_distance(people)
    reports = []
    for group in groups:
        idx = [index[p] for p in group]
        met = [
            PairMeeting(group[x], group[y], int(counts[idx[x], idx[y]]))
            for x in range(len(idx))
            for y in range(x + 1, len(idx))
            if counts[idx[x], idx[y]] > 0
        ]
        reports.append(
            GroupReport(
                members=tuple(group), met_before=tuple(met), diversity=_mean_distance(distance, idx)
            )
        )
    return reports


def _mean_distance(distance: FloatMatrix, idx: Sequence[int]) -> float:
    if len(idx) < 2:
        return 0.0
    sub = distance[np.ix_(idx, idx)]
    return float(sub.sum() / (len(idx) * (len(idx) - 1)))


def _layouts(
    index: dict[str, int], rounds: Sequence[Grouping]
) -> list[tuple[list[int], list[int]]]:
    return [
        ([index[p] for group in grouping for p in group], [len(group) for group in grouping])
        for grouping in rounds
    ]


def schedule_violations(problem: ScheduleProblem, rounds: Sequence[Grouping]) -> list[str]:
    """Every hard rule the schedule breaks, as readable sentences (empty when all hold)."""
    index = check_schedule_problem(problem)
    facilitator = {p.id for p in problem.people if p.facilitator}
    out: list[str] = []
    if len(rounds) != problem.rounds:
        out.append(f"{len(rounds)} rounds given but {problem.rounds} planned")
    for r, grouping in enumerate(rounds):
        _check_grouping(index, grouping, f"rounds[{r}]")
        absent = set(problem.absent.get(r, ()))
        placed = {p for group in grouping for p in group}
        for person_id in sorted(placed & absent):
            out.append(f"round {r}: {person_id!r} is absent but placed")
        for person_id in sorted(set(index) - absent - placed):
            out.append(f"round {r}: {person_id!r} is present but not placed")
        sizes = [len(group) for group in grouping]
        if any(s == 0 for s in sizes):
            out.append(f"round {r}: an empty group")
        if sizes and max(sizes) - min(sizes) > 1:
            out.append(f"round {r}: group sizes {sizes} differ by more than one")
        if problem.group_size is not None and sizes:
            low, high = problem.group_size.min, problem.group_size.max
            if min(sizes) < low or max(sizes) > high:
                out.append(f"round {r}: group sizes {sizes} outside {low}–{high}")
            if len(sizes) != -(-len(placed) // high):
                out.append(f"round {r}: {len(sizes)} groups, not the fewest that respect {high}")
        if problem.groups is not None and placed and len(sizes) != problem.groups:
            out.append(f"round {r}: {len(sizes)} groups instead of {problem.groups}")
        where = {p: g for g, group in enumerate(grouping) for p in group}
        for ids in problem.apart:
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    a, b = ids[x], ids[y]
                    if a in where and b in where and where[a] == where[b]:
                        out.append(f"round {r}: keep-apart {a!r} and {b!r} share group {where[a]}")
        for ids in problem.together:
            groups_here = {where[p] for p in ids if p in where}
            if len(groups_here) > 1:
                out.append(f"round {r}: keep-together {list(ids)!r} split over groups")
        for g, group in enumerate(grouping):
            chairs = sum(1 for p in group if p in facilitator)
            rule = problem.facilitators
            if rule in ("at_most_one", "exactly_one") and chairs > 1:
                out.append(f"round {r}: group {g} has {chairs} facilitators")
            if rule in ("at_least_one", "exactly_one") and chairs < 1:
                out.append(f"round {r}: group {g} has no facilitator")
        for person_id, g in problem.fixed.get(r, {}).items():
            if where.get(person_id) != g:
                out.append(f"round {r}: {person_id!r} is fixed to group {g}")
    return out


def evaluate_schedule(
    problem: ScheduleProblem, rounds: Sequence[Grouping], seconds: float = 0.0
) -> ScheduleMetrics:
    """Metrics of a schedule for a problem (R, its lower bound, pairs, diversity, violations,
    needs covered)."""
    index = check_schedule_problem(problem)
    violations = schedule_violations(problem, rounds)
    n = len(index)
    history = history_counts(index, problem.history)
    planned = history_counts(index, rounds)
    m = history + planned
    iu = np.triu_indices(n, 1)
    pairs = m[iu]
    apart = np.zeros((n, n), dtype=bool)
    for ids in problem.apart:
        for a in ids:
            for b in ids:
                if a != b:
                    apart[index[a], index[b]] = True
    together = np.zeros((n, n), dtype=bool)
    for ids in problem.together:
        for a in ids:
            for b in ids:
                if a != b:
                    together[index[a], index[b]] = True
    if problem.facilitators in ("at_most_one", "exactly_one"):
        # Two facilitators never share a group: for the bounds they are kept apart.
        chairs = np.array([p.facilitator for p in problem.people], dtype=bool)
        apart |= np.outer(chairs, chairs)
        np.fill_diagonal(apart, False)
    layouts = _layouts(index, rounds)
    distance = attribute_distance(problem.people)
    same = planned[iu]
    together_pairs = float(same.sum())
    diversity = float((distance[iu] * same).sum() / together_pairs) if together_pairs else 0.0
    match = match_matrix(problem.people)
    return ScheduleMetrics(
        repeats=int((pairs * (pairs - 1) / 2).sum()),
        repeats_lower_bound=repeats_lower_bound(history, layouts, apart, together),
        repeat_pairs=int((pairs >= 2).sum()),
        distinct_pairs=int((pairs >= 1).sum()),
        pair_upper_bound=pair_upper_bound(history, layouts, apart),
        diversity=round(diversity, 6),
        violations=len(violations),
        seconds=round(seconds, 4),
        needs_covered=int((helpers_met(match, m) > 0).sum()),
        needs_coverable=int(match.any(axis=0).sum()),
    )
