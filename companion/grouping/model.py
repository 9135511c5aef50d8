"""From a `ScheduleProblem` to index arrays the search works on, with every cheap proof of
infeasibility checked first so that the search never has to discover it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from companion.grouping.needs import match_matrix
from companion.grouping.problem import (
    FACILITATOR_RULES,
    Infeasible,
    Person,
    ProblemError,
    ScheduleProblem,
)

FloatMatrix = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass
class RoundPlan:
    """One planned round: who is present, the size of each group, who is fixed where."""

    index: int
    present: IntArray
    sizes: list[int]
    fixed: dict[int, int]


@dataclass
class Model:
    """A schedule problem in index form (person i is `ids[i]`)."""

    ids: list[str]
    facilitator: npt.NDArray[np.bool_]
    #: Attribute distance of each pair, 0..1.
    distance: FloatMatrix
    #: How often each pair met in the history.
    history: FloatMatrix
    apart: BoolMatrix
    #: Keep-together blocks (merged when they overlap), as person indices.
    blocks: list[list[int]]
    rounds: list[RoundPlan]
    rule: str
    #: match[h, p]: h offers something p looks for (`needs.py`).
    match: BoolMatrix

    @property
    def n(self) -> int:
        """Number of people."""
        return len(self.ids)

    def together_matrix(self) -> BoolMatrix:
        """Pairs that must share a group."""
        tog = np.zeros((self.n, self.n), dtype=bool)
        for block in self.blocks:
            idx = np.array(block)
            tog[np.ix_(idx, idx)] = True
        np.fill_diagonal(tog, False)
        return tog

    def is_symmetric(self) -> bool:
        """True when relabelling people cannot change the objective (pure social-golfer form).

        Then the first round may be fixed to any partition without loss of generality.
        """
        full = all(len(plan.present) == self.n for plan in self.rounds)
        return (
            full
            and not self.history.any()
            and not self.apart.any()
            and not self.blocks
            and not any(plan.fixed for plan in self.rounds)
            and (self.rule == "any" or not self.facilitator.any())
            and not self.distance.any()
            and not self.match.any()
        )


def _quote(ids: Sequence[str]) -> str:
    return "[" + ", ".join(repr(i) for i in ids) + "]"


def _finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_schedule_problem(problem: ScheduleProblem) -> dict[str, int]:
    """Raise `ProblemError` (with the path of the bad field) unless the problem is well formed.

    Returns the index of each person id.
    """
    index: dict[str, int] = {}
    for i, person in enumerate(problem.people):
        if not isinstance(person, Person):
            raise ProblemError(f"people[{i}]", "must be a person")
        if not isinstance(person.id, str) or not person.id:
            raise ProblemError(f"people[{i}].id", "must be a non-empty string")
        if person.id in index:
            raise ProblemError(
                f"people[{i}].id", f"duplicate id {person.id!r} (also people[{index[person.id]}])"
            )
        index[person.id] = i
        for name, value in person.attributes.items():
            if not isinstance(value, str | bool) and not _finite_number(value):
                raise ProblemError(
                    f"people[{i}].attributes.{name}", "must be a string, a number or a boolean"
                )
        for name in ("offers", "needs"):
            themes = getattr(person, name)
            if isinstance(themes, str) or not isinstance(themes, Collection):
                raise ProblemError(f"people[{i}].{name}", "must be a list of themes")
            for k, theme in enumerate(themes):
                if not isinstance(theme, str):
                    raise ProblemError(f"people[{i}].{name}[{k}]", "must be a string")
    if isinstance(problem.rounds, bool) or not isinstance(problem.rounds, int):
        raise ProblemError("rounds", "must be an integer")
    if not 1 <= problem.rounds <= 1000:
        raise ProblemError("rounds", "must be between 1 and 1000")
    if (problem.group_size is None) == (problem.groups is None):
        raise ProblemError("group_size", "give either group_size or groups (exactly one)")
    if problem.group_size is not None:
        low, high = problem.group_size.min, problem.group_size.max
        if isinstance(low, bool) or not isinstance(low, int) or low < 1:
            raise ProblemError("group_size.min", "must be an integer of at least 1")
        if isinstance(high, bool) or not isinstance(high, int) or high < low:
            raise ProblemError("group_size.max", f"must be an integer of at least min ({low})")
    if problem.groups is not None and (
        isinstance(problem.groups, bool)
        or not isinstance(problem.groups, int)
        or problem.groups < 1
    ):
        raise ProblemError("groups", "must be an integer of at least 1")

    def known(person_id: object, path: str) -> int:
        if not isinstance(person_id, str):
            raise ProblemError(path, "must be a person id (a string)")
        if person_id not in index:
            raise ProblemError(path, f"unknown person {person_id!r}")
        return index[person_id]

    for r, past in enumerate(problem.history):
        seen: dict[str, str] = {}
        for g, group in enumerate(past):
            for k, person_id in enumerate(group):
                path = f"history[{r}][{g}][{k}]"
                known(person_id, path)
                if person_id in seen:
                    raise ProblemError(path, f"{person_id!r} is already in {seen[person_id]}")
                seen[person_id] = path
    for r, absent in problem.absent.items():
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < problem.rounds:
            raise ProblemError(f"absent.{r}", f"round must be 0..{problem.rounds - 1}")
        for k, person_id in enumerate(absent):
            known(person_id, f"absent.{r}[{k}]")
    for name, lists in (("apart", problem.apart), ("together", problem.together)):
        for k, ids in enumerate(lists):
            for j, person_id in enumerate(ids):
                known(person_id, f"{name}[{k}][{j}]")
            if len(set(ids)) < 2:
                raise ProblemError(f"{name}[{k}]", "needs at least two different people")
    if problem.facilitators not in FACILITATOR_RULES:
        raise ProblemError("facilitators", f"must be one of {', '.join(FACILITATOR_RULES)}")
    for r, assignment in problem.fixed.items():
        if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < problem.rounds:
            raise ProblemError(f"fixed.{r}", f"round must be 0..{problem.rounds - 1}")
        absent_now = set(problem.absent.get(r, ()))
        for person_id, group_index in assignment.items():
            path = f"fixed.{r}.{person_id}"
            known(person_id, path)
            if isinstance(group_index, bool) or not isinstance(group_index, int) or group_index < 0:
                raise ProblemError(path, "must be a group index (an integer of at least 0)")
            if person_id in absent_now:
                raise ProblemError(path, f"{person_id!r} is absent in round {r}")
    for name in ("repeat", "new_pair", "diversity", "needs"):
        value = getattr(problem.weights, name)
        if not _finite_number(value) or value < 0:
            raise ProblemError(f"weights.{name}", "must be a number of at least 0")
    if not _finite_number(problem.time_limit) or not 0 < problem.time_limit <= 3600:
        raise ProblemError("time_limit", "must be a number of seconds in (0, 3600]")
    if isinstance(problem.seed, bool) or not isinstance(problem.seed, int) or problem.seed < 0:
        raise ProblemError("seed", "must be an integer of at least 0")
    if problem.iterations is not None and (
        isinstance(problem.iterations, bool)
        or not isinstance(problem.iterations, int)
        or problem.iterations < 1
    ):
        raise ProblemError("iterations", "must be an integer of at least 1")
    return index


def attribute_distance(people: Sequence[Person]) -> FloatMatrix:
    """Pairwise attribute distance in [0, 1]: the mean over attributes both people have.

    Text and booleans count 1 when they differ; numbers count |a - b| / (max - min).
    """
    n = len(people)
    names = sorted({name for person in people for name in person.attributes})
    total = np.zeros((n, n))
    count = np.zeros((n, n))
    for name in names:
        values = [person.attributes.get(name) for person in people]
        has = np.array([value is not None for value in values])
        both = np.outer(has, has)
        numeric = all(value is None or _finite_number(value) for value in values)
        if numeric:
            x = np.array([float(v) if v is not None else 0.0 for v in values])
            spread = float(x[has].max() - x[has].min()) if has.any() else 0.0
            diff = np.abs(x[:, None] - x[None, :]) / spread if spread > 0 else np.zeros((n, n))
        else:
            keys = [str(v).strip().casefold() if v is not None else "" for v in values]
            codes = np.unique(np.array(keys, dtype=object), return_inverse=True)[1]
            diff = (codes[:, None] != codes[None, :]).astype(float)
        total += np.where(both, diff, 0.0)
        count += both
    distance = np.divide(total, count, out=np.zeros((n, n)), where=count > 0)
    np.fill_diagonal(distance, 0.0)
    return distance


def history_counts(
    index: dict[str, int], history: Sequence[Sequence[Sequence[str]]]
) -> FloatMatrix:
    """How often each pair shared a group in the given rounds."""
    n = len(index)
    counts = np.zeros((n, n))
    for past in history:
        for group in past:
            idx = np.array([index[p] for p in group], dtype=np.int64)
            if len(idx) > 1:
                counts[np.ix_(idx, idx)] += 1
    np.fill_diagonal(counts, 0.0)
    return counts


def _blocks(n: int, together: Sequence[Sequence[int]]) -> list[list[int]]:
    """Merge overlapping keep-together lists (union-find)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for members in together:
        for other in members[1:]:
            parent[find(other)] = find(members[0])
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def round_sizes(present: int, problem: ScheduleProblem, r: int) -> list[int]:
    """Sizes of the groups of round r (larger first), or `Infeasible`."""
    if present == 0:
        return []
    if problem.group_size is not None:
        low, high = problem.group_size.min, problem.group_size.max
        # The fewest groups that respect max; more groups only shrink them further below min.
        k = -(-present // high)
        if present // k < low:
            raise Infeasible(
                f"round {r}: {present} people present cannot form groups of {low}–{high} "
                "whose sizes differ by at most one",
                constraint="group_size",
                round=r,
            )
    else:
        assert problem.groups is not None
        k = problem.groups
        if present < k:
            raise Infeasible(
                f"round {r}: {present} people present cannot fill {k} groups",
                constraint="group_size",
                round=r,
            )
    base, extra = divmod(present, k)
    return [base + 1] * extra + [base] * (k - extra)


def compile_problem(problem: ScheduleProblem) -> Model:
    """Validate, index and pre-check a schedule problem; raise `Infeasible` on a proven conflict."""
    index = check_schedule_problem(problem)
    people = list(problem.people)
    ids = [p.id for p in people]
    n = len(ids)
    facilitator = np.array([p.facilitator for p in people], dtype=bool)
    apart = np.zeros((n, n), dtype=bool)
    for ids_apart in problem.apart:
        idx = [index[p] for p in ids_apart]
        for a in idx:
            for b in idx:
                if a != b:
                    apart[a, b] = True
    blocks = _blocks(n, [[index[p] for p in ids_tog] for ids_tog in problem.together])
    block_of = np.full(n, -1, dtype=np.int64)
    for b, block in enumerate(blocks):
        block_of[block] = b
        sub = apart[np.ix_(block, block)]
        if sub.any():
            a, c = np.argwhere(sub)[0]
            raise Infeasible(
                f"{ids[block[a]]!r} and {ids[block[c]]!r} must be kept apart but keep-together "
                f"links them: {_quote([ids[i] for i in block])}",
                constraint="together",
            )
    rule = problem.facilitators
    limit_one = rule in ("at_most_one", "exactly_one")
    need_one = rule in ("at_least_one", "exactly_one")
    rule_text = {
        "at_most_one": "at most one facilitator per group",
        "at_least_one": "at least one facilitator per group",
        "exactly_one": "exactly one facilitator per group",
    }.get(rule, "")
    if limit_one:
        for block in blocks:
            if facilitator[block].sum() > 1:
                raise Infeasible(
                    f"keep-together group {_quote([ids[i] for i in block])} holds "
                    f"{int(facilitator[block].sum())} facilitators but '{rule_text}' allows one",
                    constraint="facilitators",
                )

    plans: list[RoundPlan] = []
    for r in range(problem.rounds):
        absent = {index[p] for p in problem.absent.get(r, ())}
        present = np.array([i for i in range(n) if i not in absent], dtype=np.int64)
        sizes = round_sizes(len(present), problem, r)
        k = len(sizes)
        largest = sizes[0] if sizes else 0
        for block in blocks:
            here = [i for i in block if i not in absent]
            if len(here) > largest:
                raise Infeasible(
                    f"round {r}: keep-together group {_quote([ids[i] for i in here])} "
                    f"(size {len(here)}) does not fit a group of at most {largest}",
                    constraint="together",
                    round=r,
                )
        chairs = int(facilitator[present].sum())
        if need_one and chairs < k:
            raise Infeasible(
                f"round {r}: {chairs} facilitator{'' if chairs == 1 else 's'} present but "
                f"'{rule_text}' needs {k} groups",
                constraint="facilitators",
                round=r,
            )
        if limit_one and chairs > k:
            raise Infeasible(
                f"round {r}: {chairs} facilitators present but '{rule_text}' allows only {k} "
                f"group{'' if k == 1 else 's'}",
                constraint="facilitators",
                round=r,
            )
        fixed = _round_fixed(problem, r, index, ids, blocks, block_of, absent, k, apart)
        _check_fixed_facilitators(fixed, facilitator, ids, r, k, limit_one, rule_text)
        sizes = _assign_sizes(sizes, fixed, r, ids)
        plans.append(RoundPlan(index=r, present=present, sizes=sizes, fixed=fixed))

    return Model(
        ids=ids,
        facilitator=facilitator,
        distance=attribute_distance(people),
        history=history_counts(index, problem.history),
        apart=apart,
        blocks=blocks,
        rounds=plans,
        rule=rule,
        match=match_matrix(people),
    )


def _round_fixed(
    problem: ScheduleProblem,
    r: int,
    index: dict[str, int],
    ids: list[str],
    blocks: list[list[int]],
    block_of: IntArray,
    absent: set[int],
    k: int,
    apart: BoolMatrix,
) -> dict[int, int]:
    """Fixed group per person in round r; a fixed person pulls the rest of their block along."""
    fixed: dict[int, int] = {}
    source: dict[int, int] = {}
    for person_id, group in problem.fixed.get(r, {}).items():
        i = index[person_id]
        if group >= k:
            raise Infeasible(
                f"round {r}: {person_id!r} is fixed to group {group} but the round has {k} groups",
                constraint="fixed",
                round=r,
            )
        members = blocks[block_of[i]] if block_of[i] >= 0 else [i]
        for j in members:
            if j in absent:
                continue
            if j in fixed and fixed[j] != group:
                raise Infeasible(
                    f"round {r}: {ids[source[j]]!r} and {person_id!r} are fixed to groups "
                    f"{fixed[j]} and {group} but must be kept together",
                    constraint="fixed",
                    round=r,
                )
            fixed[j] = group
            source[j] = i
    by_group: dict[int, list[int]] = {}
    for i, g in fixed.items():
        by_group.setdefault(g, []).append(i)
    for g, members in by_group.items():
        sub = apart[np.ix_(members, members)]
        if sub.any():
            a, c = np.argwhere(sub)[0]
            raise Infeasible(
                f"round {r}: {ids[members[a]]!r} and {ids[members[c]]!r} must be kept apart "
                f"but are fixed to group {g}",
                constraint="apart",
                round=r,
            )
    return fixed


def _check_fixed_facilitators(
    fixed: dict[int, int],
    facilitator: npt.NDArray[np.bool_],
    ids: list[str],
    r: int,
    k: int,
    limit_one: bool,
    rule_text: str,
) -> None:
    if not limit_one:
        return
    chairs: dict[int, list[str]] = {}
    for i, g in fixed.items():
        if facilitator[i]:
            chairs.setdefault(g, []).append(ids[i])
    for g, names in chairs.items():
        if len(names) > 1:
            raise Infeasible(
                f"round {r}: facilitators {_quote(sorted(names))} are fixed to group {g} "
                f"but '{rule_text}' allows one",
                constraint="facilitators",
                round=r,
            )


def _assign_sizes(sizes: list[int], fixed: dict[int, int], r: int, ids: list[str]) -> list[int]:
    """Give the larger sizes to the groups that need room for their fixed members."""
    if not sizes:
        return sizes
    k = len(sizes)
    load = [0] * k
    for g in fixed.values():
        load[g] += 1
    big, small = sizes[0], sizes[-1]
    n_big = sizes.count(big)
    order = sorted(range(k), key=lambda g: (-load[g], g))
    out = [small] * k
    for g in order[:n_big]:
        out[g] = big
    for g in range(k):
        if load[g] > out[g]:
            who = sorted(ids[i] for i, h in fixed.items() if h == g)
            raise Infeasible(
                f"round {r}: {load[g]} people {_quote(who)} are fixed to group {g} "
                f"but it holds at most {out[g]}",
                constraint="fixed",
                round=r,
            )
    return out
