"""The compiled iterations keep their bookkeeping exact: meeting counts, group lists, R and
the cost agree with a recomputation from the schedule after thousands of moves."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from companion.grouping import kernel
from companion.grouping.mdgp import objective
from companion.grouping.model import compile_problem
from companion.grouping.problem import GroupSize, Person, ScheduleProblem
from companion.grouping.schedule_search import TENURES_MIXED, ScheduleSearch

THEMES = ("sales", "pricing", "legal", "IT")


def _problem(seed: int, needs: bool = False) -> ScheduleProblem:
    people = [
        Person(
            f"p{i}",
            {"industry": "abc"[i % 3], "years": i % 7},
            facilitator=i < 6,
            offers=(THEMES[i % 4],) if needs and i % 3 else (),
            needs=(THEMES[(i * 7) % 4],) if needs and i % 2 else (),
        )
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


@pytest.mark.parametrize("needs", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_after_compiled_iterations_matches_a_recomputation(seed: int, needs: bool) -> None:
    """With offers and needs the helper counts and the needs term are kept exact too."""
    problem = _problem(seed, needs)
    search = ScheduleSearch(compile_problem(problem), problem.weights, seed)
    assert search.needs_active == needs
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
        search.need_one, groups.chairs, search.big, *TENURES_MIXED[0], True,
        (search.match, groups.helped, search.need_weights), rng, state, costs,
        best_idx, search.r_lower, 10**9, 10**12, 3000,
    )  # fmt: skip
    assert status == kernel.OUT_OF_WORK and state[0] == 3000
    for w, plan in enumerate(search.model.rounds):  # moves keep each round's group sizes
        here = groups.counts[search.offset[w] : search.offset[w] + search.ncols[w]]
        assert sorted(here.tolist()) == sorted(plan.sizes)
    kept_m, kept_cost, kept_repeats = search.m.copy(), float(costs[0]), int(state[3])
    members = groups.members.copy()
    kept_helped = groups.helped.copy()
    search.load(search.idx)  # recompute everything from the schedule alone
    assert np.array_equal(kept_m, search.m)
    if needs:
        assert kept_helped.sum() > 0
        assert np.array_equal(kept_helped, search.helpers_met())
    assert kept_repeats == search.repeats()
    assert kept_cost == pytest.approx(search.cost, abs=1e-6)
    for col, group in enumerate(search.members[: search.K]):
        assert sorted(members[col, : groups.counts[col]].tolist()) == sorted(group)
        assert groups.chairs[col] == int(search.fac_int[group].sum())


@pytest.mark.parametrize("relocate", [False, True])
@pytest.mark.parametrize("kind", [kernel.TABU_PERSON, kernel.TABU_PAIR])
def test_person_tabu_holds_a_moved_person_for_its_tenure(kind: int, relocate: bool) -> None:
    """One iteration at a time, aspiration off: with person tabu nobody moves again in a round
    within the tenure (3 iterations); with pair tabu people do (the test can tell them apart).
    With relocations some iterations move one person to a group one smaller, keeping the
    round's group sizes; without, every iteration is a swap."""
    search = ScheduleSearch(compile_problem(_problem(0)), _problem(0).weights, 0)
    search.restart(float("inf"))
    groups = search._kernel_arrays()
    state = np.array([0, 0, 0, search.repeats(), 0], dtype=np.int64)
    costs = np.array([search.cost, -np.inf])
    best_idx = search.idx.copy()
    rng = np.array([99], dtype=np.uint64)
    last_move: dict[tuple[int, int], int] = {}
    soon_again = relocations = 0
    sizes = [sorted(plan.sizes) for plan in search.model.rounds]
    for it in range(1, 400):
        before = search.idx.copy()
        kernel.tabu_steps(
            search.idx, groups.members, groups.counts, groups.places, search.m, search.tabu,
            search.movable, search.offset, search.ncols, search.pair_cost, search.add_level,
            search.rem_level, search.hard, search.tog, search.tog_need, search.fac_int,
            search.need_one, groups.chairs, search.big, 3, 4, kind, relocate,
            (search.match, groups.helped, search.need_weights), rng, state,
            costs, best_idx, search.r_lower, 10**9, 10**12, it,
        )  # fmt: skip
        moved = np.argwhere(before != search.idx)
        assert len(moved) == 2 or (relocate and len(moved) == 1)  # one move an iteration
        relocations += len(moved) == 1
        for w, want in enumerate(sizes):
            here = groups.counts[search.offset[w] : search.offset[w] + search.ncols[w]]
            assert sorted(here.tolist()) == want
        for w, p in moved.tolist():
            if it - last_move.get((w, p), -10) < 3:
                soon_again += 1
            last_move[(w, p)] = it
    if kind == kernel.TABU_PERSON:
        assert soon_again == 0
    else:
        assert soon_again > 0
    assert (relocations > 0) == relocate


@pytest.mark.parametrize("seed", [0, 1])
def test_mdgp_iterations_keep_sums_sizes_and_value_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, low, high = 30, np.array([4, 5, 6, 7], dtype=np.int64), np.array([9, 9, 9, 9], np.int64)
    weights = rng.uniform(0, 10, (n, n))
    weights = (weights + weights.T) / 2
    np.fill_diagonal(weights, 0.0)
    group = np.repeat(np.arange(4), [7, 8, 7, 8]).astype(np.int64)
    rng.shuffle(group)
    onehot = np.eye(4)[group]
    sums = weights @ onehot
    sizes = np.bincount(group, minlength=4).astype(np.int64)
    counters = np.zeros(3, dtype=np.int64)
    value = objective(weights, group)
    values = np.array([value, value])
    best = group.copy()
    status = kernel.mdgp_steps(
        weights, group, sums, sizes, low, high, np.zeros(n, dtype=np.int64), 2, 6,
        np.array([99 + seed], dtype=np.uint64), counters, values, best, 10**9, 1, 10**9, 2000,
    )  # fmt: skip
    assert status == kernel.OUT_OF_WORK and counters[0] == 2000
    assert np.allclose(sums, weights @ np.eye(4)[group])
    assert np.array_equal(sizes, np.bincount(group, minlength=4))
    assert ((low <= sizes) & (sizes <= high)).all(), "moves keep the size bounds"
    assert values[0] == pytest.approx(objective(weights, group))
    assert values[1] == pytest.approx(objective(weights, best)) and values[1] >= value


def test_warm_up_prepares_both_compiled_searches() -> None:
    """The benchmark calls `warm_up` so that no timed run pays for compiling, `companion serve`
    `warm_up(weighted=False)` (it plans schedules only); in a fresh interpreter each must leave
    the loops it names compiled (or loaded), and only those."""
    for call, expected in (("warm_up()", ["1", "1"]), ("warm_up(False)", ["1", "0"])):
        script = (
            "from companion.grouping import kernel\n"
            "from companion.grouping.warmup import warm_up\n"
            f"{call}\n"
            "print(len(kernel.tabu_steps.signatures), len(kernel.mdgp_steps.signatures))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
        )
        assert done.stdout.split() == expected, call
