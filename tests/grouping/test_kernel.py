"""The compiled iterations keep their bookkeeping exact: meeting counts, group lists, R and
the cost agree with a recomputation from the schedule after thousands of swaps."""

from __future__ import annotations

import numpy as np
import pytest

from companion.grouping import kernel
from companion.grouping.model import compile_problem
from companion.grouping.problem import GroupSize, Person, ScheduleProblem
from companion.grouping.schedule import TENURE, _Search


def _problem(seed: int) -> ScheduleProblem:
    people = [
        Person(f"p{i}", {"industry": "abc"[i % 3], "years": i % 7}, facilitator=i < 6)
        for i in range(19)
    ]
    return ScheduleProblem(
        people=people,
        rounds=4,
        group_size=GroupSize(3, 4),
        absent={1: ["p5"], 2: ["p6", "p7"]},
        apart=[["p8", "p9"]],
        together=[["p10", "p11"]],
        facilitators="at_least_one",
        seed=seed,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_after_compiled_iterations_matches_a_recomputation(seed: int) -> None:
    search = _Search(compile_problem(_problem(seed)), _problem(seed).weights, seed)
    search.restart(float("inf"))
    groups = search._kernel_arrays()
    state = np.array([0, 0, 0, search.repeats(), 0], dtype=np.int64)
    costs = np.array([search.cost, -np.inf])  # never "improved": run the whole allowance
    best_idx = search.idx.copy()
    rng = np.array([12345 + seed], dtype=np.uint64)
    status = kernel.tabu_steps(
        search.idx, groups.members, groups.counts, groups.places, search.m, search.tabu,
        search.movable, search.offset, search.ncols, search.pair_cost, search.add_level,
        search.rem_level, search.hard, search.tog, search.tog_need, search.fac_int,
        search.need_one, groups.chairs, search.big, TENURE[0], TENURE[1], rng, state, costs,
        best_idx, search.r_lower, 10**9, 10**12, 3000,
    )  # fmt: skip
    assert status == kernel.OUT_OF_WORK and state[0] == 3000
    kept_m, kept_cost, kept_repeats = search.m.copy(), float(costs[0]), int(state[3])
    members = groups.members.copy()
    search.load(search.idx)  # recompute everything from the schedule alone
    assert np.array_equal(kept_m, search.m)
    assert kept_repeats == search.repeats()
    assert kept_cost == pytest.approx(search.cost, abs=1e-6)
    for col, group in enumerate(search.members[: search.K]):
        assert sorted(members[col, : groups.counts[col]].tolist()) == sorted(group)
        assert groups.chairs[col] == int(search.fac_int[group].sum())
