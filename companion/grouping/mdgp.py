"""The Maximally Diverse Grouping Problem: split elements into groups of bounded sizes so that
the summed weight of the pairs inside groups is as large as possible.

The method follows the tabu searches of Gallego et al. (2013) and Lai & Hao (2016); the start
is numpy, the tabu iterations run compiled (`kernel.mdgp_steps`):
- sizes: with free sizes, more in-group pairs is the strongest lever, so the start uses the
  size profile that maximises sum C(size, 2) (a small dynamic programme);
- start: greedy, each element into the open group it is heaviest with (average weight);
- descent: all improving swaps/moves found in one evaluation are applied at once when they
  touch different groups (their gains do not interact), until none is left;
- tabu search: each iteration evaluates every swap (and every move between groups when
  the size bounds allow one) from the element-to-group sums G = weights @ onehot, takes the
  best one that is not tabu (or beats the best), and forbids moving the elements concerned for
  a random tenure; after a stall it restarts from the best solution, perturbed (more strongly
  each time a restart finds nothing better), with a descent.

The search stops after a work budget derived from the time limit (or `problem.iterations`);
the wall clock is only a safety cap, so the same seed gives the same answer.
"""

from __future__ import annotations

import random
import time

import numpy as np
import numpy.typing as npt

from companion.grouping import kernel
from companion.grouping.arrays import product
from companion.grouping.problem import Infeasible, ProblemError, WeightedProblem, WeightedSolution

FloatMatrix = npt.NDArray[np.float64]
Float32Matrix = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: Work units per second of time limit; one iteration costs n*n/2 + WORK_OVERHEAD units (the
#: swaps it evaluates, plus its fixed cost). The compiled iterations do about 390 million units
#: a second on the 2-core CI machine when idle; the budget is two thirds of that, so a run ends
#: by its budget, with the same answer, unless the machine is more than half as slow again.
WORK_PER_SECOND = 260_000_000
WORK_OVERHEAD = 4_000
#: Tabu tenure is drawn from [n / TENURE[0], n / TENURE[1]); after STALL * n iterations without
#: a new best the search restarts from the best, perturbed by n / STRENGTH random swaps.
TENURE = (30, 12)
STALL = 5
STRENGTH = 20
#: Work between returns from the compiled iterations to look at the clock.
CHUNK_WORK = 20_000_000
EPS = 1e-9


def check_weighted_problem(problem: WeightedProblem) -> tuple[IntArray, IntArray]:
    """Raise `ProblemError`/`Infeasible` unless the problem is solvable; (min sizes, max sizes)."""
    w = problem.weights
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ProblemError("weights", "must be a square matrix")
    n = w.shape[0]
    if n < 1:
        raise ProblemError("n", "must be at least 1")
    if not np.isfinite(w).all():
        i, j = np.argwhere(~np.isfinite(w))[0]
        raise ProblemError(f"weights[{i}][{j}]", "must be a finite number")
    asym = np.abs(w - w.T) > 1e-9 * max(1.0, float(np.abs(w).max()))
    if asym.any():
        i, j = np.argwhere(asym)[0]
        raise ProblemError(f"weights[{i}][{j}]", f"differs from weights[{j}][{i}]")
    if not problem.sizes:
        raise ProblemError("groups", "must be at least 1")
    low = np.array([s[0] for s in problem.sizes], dtype=np.int64)
    high = np.array([s[1] for s in problem.sizes], dtype=np.int64)
    for g in range(len(low)):
        if low[g] < 1:
            raise ProblemError(f"sizes[{g}][0]", "must be at least 1")
        if high[g] < low[g]:
            raise ProblemError(f"sizes[{g}][1]", f"must be at least the minimum ({low[g]})")
    if not low.sum() <= n <= high.sum():
        raise Infeasible(
            f"{n} elements cannot fill {len(low)} groups holding between {int(low.sum())} and "
            f"{int(high.sum())} elements",
            constraint="group_size",
        )
    if not 0 < problem.time_limit <= 3600:
        raise ProblemError("time_limit", "must be a number of seconds in (0, 3600]")
    if problem.seed < 0:
        raise ProblemError("seed", "must be an integer of at least 0")
    return low, high


def size_profile(low: IntArray, high: IntArray, n: int) -> IntArray:
    """Group sizes within the bounds, summing to n, with the most in-group pairs."""
    m = len(low)
    worst = -1
    best = [0] + [worst] * n
    choices: list[list[int]] = []
    for g in range(m):
        nxt = [worst] * (n + 1)
        pick = [0] * (n + 1)
        for total in range(n + 1):
            if best[total] == worst:
                continue
            for size in range(int(low[g]), int(high[g]) + 1):
                if total + size > n:
                    break
                value = best[total] + size * (size - 1) // 2
                if value > nxt[total + size]:
                    nxt[total + size] = value
                    pick[total + size] = size
        best = nxt
        choices.append(pick)
    sizes = np.zeros(m, dtype=np.int64)
    total = n
    for g in range(m - 1, -1, -1):
        sizes[g] = choices[g][total]
        total -= int(sizes[g])
    return sizes


class _State:
    """An assignment with its element-to-group weight sums and objective.

    `core[i, j]` is -2 w_ij, or -inf when i and j share a group (no swap), kept up to date row
    by row (for the descent; the tabu iterations keep `group`, `sums` and `sizes` themselves).
    """

    def __init__(self, weights: FloatMatrix, low: IntArray, high: IntArray, group: IntArray):
        self.w = weights
        self.w2 = (-2.0 * weights).astype(np.float32)
        self.low = low
        self.high = high
        self.n = weights.shape[0]
        self.m = len(low)
        self.ar = np.arange(self.n)
        self.reset(group)

    def reset(self, group: IntArray) -> None:
        """Adopt an assignment and recompute everything from it."""
        self.group = group.copy()
        onehot = np.zeros((self.n, self.m))
        onehot[self.ar, self.group] = 1.0
        self.sums = product(self.w, onehot)
        self.sizes = np.bincount(self.group, minlength=self.m).astype(np.int64)
        self.value = objective(self.w, self.group)
        self.core = self.w2.copy()
        self.core[self.group[:, None] == self.group[None, :]] = -np.inf

    def _refresh(self, i: int) -> None:
        """Recompute row and column i of `core` after i changed group."""
        row = self.w2[i].copy()
        row[self.group == self.group[i]] = -np.inf
        self.core[i, :] = row
        self.core[:, i] = row

    def swap(self, i: int, j: int) -> float:
        """Exchange the groups of i and j; return the gain."""
        a, b = int(self.group[i]), int(self.group[j])
        sums = self.sums
        gain = sums[i, b] - sums[i, a] + sums[j, a] - sums[j, b] - 2.0 * self.w[i, j]
        change = self.w[:, j] - self.w[:, i]
        sums[:, a] += change
        sums[:, b] -= change
        self.group[i] = b
        self.group[j] = a
        self.value += gain
        self._refresh(i)
        self._refresh(j)
        return float(gain)

    def move(self, i: int, b: int) -> float:
        """Move i to group b; return the gain."""
        a = int(self.group[i])
        gain = self.sums[i, b] - self.sums[i, a]
        self.sums[:, a] -= self.w[:, i]
        self.sums[:, b] += self.w[:, i]
        self.group[i] = b
        self.sizes[a] -= 1
        self.sizes[b] += 1
        self.value += gain
        self._refresh(i)
        return float(gain)

    def swap_gains(self) -> Float32Matrix:
        """Gain of every swap without the -2 w_ij term and the masks (float32, n x n)."""
        sums = self.sums.astype(np.float32)
        per = sums[:, self.group]
        own = sums[self.ar, self.group]
        gains = per + per.T
        gains -= own[:, None]
        gains -= own[None, :]
        return gains

    def move_gains(self) -> FloatMatrix | None:
        """Gain of every move between groups the size bounds allow (n x m), or None."""
        join = np.where(self.sizes < self.high, 0.0, -np.inf)
        leave = np.where(self.sizes > self.low, 0.0, -np.inf)
        if join.max() < 0 or leave.max() < 0:
            return None
        # Leaving costs one's own-group sum; moving within one's group is no move at all.
        own = self.sums[self.ar, self.group] - leave[self.group]
        moves = self.sums - own[:, None]
        moves += join
        moves[self.ar, self.group] = -np.inf
        return moves


def objective(weights: FloatMatrix, group: IntArray) -> float:
    """Sum of the weights of the pairs that share a group."""
    same = group[:, None] == group[None, :]
    np.fill_diagonal(same, False)
    return float((weights * same).sum() / 2)


def _greedy(weights: FloatMatrix, sizes: IntArray, rng: np.random.Generator) -> IntArray:
    n, m = weights.shape[0], len(sizes)
    order = rng.permutation(n)
    group = np.full(n, -1, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    sums = np.zeros((n, m))
    for k, i in enumerate(order):
        if k < m:
            b = k  # one seed element per group
        else:
            score = np.where(count < sizes, sums[i] / np.maximum(count, 1), -np.inf)
            b = int(np.argmax(score))
        group[i] = b
        count[b] += 1
        sums[:, b] += weights[:, i]
    return group


def _descent(state: _State) -> int:
    """Apply improving moves until none is left; several per round when groups are disjoint."""
    rounds = 0
    ar = state.ar
    while True:
        rounds += 1
        swaps = state.swap_gains()
        swaps += state.core
        moves = state.move_gains()
        best_j = np.argmax(swaps, axis=1)
        swap_gain = swaps[ar, best_j]
        if moves is not None:
            best_b = np.argmax(moves, axis=1)
            move_gain = moves[ar, best_b]
        else:
            best_b = best_j
            move_gain = np.full(state.n, -np.inf)
        use_move = move_gain > swap_gain
        gain = np.where(use_move, move_gain, swap_gain)
        used: set[int] = set()
        applied = 0
        for i in np.argsort(-gain, kind="stable").tolist():
            if gain[i] <= EPS or len(used) >= state.m - 1:
                break
            a = int(state.group[i])
            if use_move[i]:
                b = int(best_b[i])
                if a in used or b in used:
                    continue
                state.move(i, b)
            else:
                j = int(best_j[i])
                b = int(state.group[j])
                if a in used or b in used:
                    continue
                state.swap(i, j)
            used.update((a, b))
            applied += 1
        if not applied:
            return rounds


def solve_weighted(problem: WeightedProblem) -> WeightedSolution:
    """Solve a Maximally Diverse Grouping problem (see the module docstring)."""
    start = time.perf_counter()
    low, high = check_weighted_problem(problem)
    weights = np.array(problem.weights, dtype=np.float64)
    np.fill_diagonal(weights, 0.0)
    n, m = weights.shape[0], len(low)
    rng = np.random.default_rng(problem.seed)
    pick = random.Random(problem.seed)  # noqa: S311 - reproducible search, not security
    deadline = start + problem.time_limit
    if problem.iterations is not None:
        max_work, max_iterations = 2**62, problem.iterations
    else:
        max_work, max_iterations = int(problem.time_limit * WORK_PER_SECOND), 2**62
    per_iteration = n * n // 2 + WORK_OVERHEAD

    state = _State(weights, low, high, _greedy(weights, size_profile(low, high, n), rng))
    work = _descent(state) * per_iteration
    best_group, best_time = state.group.copy(), time.perf_counter()
    tenure = (max(2, n // TENURE[0]), max(4, n // TENURE[1]))
    strength = max(2, n // STRENGTH)
    kick = strength
    restarted_since_best = False
    tabu_until = np.zeros(n, dtype=np.int64)
    # [iteration, iteration of the last best, work done]; [value now, best value].
    counters = np.array([0, 0, work], dtype=np.int64)
    values = np.array([state.value, state.value])
    kernel_rng = np.array([pick.getrandbits(64) | 1], dtype=np.uint64)
    while counters[2] < max_work and counters[0] < max_iterations and m > 1:
        now = time.perf_counter()
        if now > deadline:
            break
        work_before, best_before, it_before = int(counters[2]), int(counters[1]), int(counters[0])
        status = kernel.mdgp_steps(
            weights,
            state.group,
            state.sums,
            state.sizes,
            low,
            high,
            tabu_until,
            tenure[0],
            tenure[1],
            kernel_rng,
            counters,
            values,
            best_group,
            STALL * n,
            per_iteration,
            min(CHUNK_WORK, max_work - work_before),
            max_iterations,
        )
        if int(counters[1]) != best_before:
            # About when the new best was found: by the share of this call's iterations.
            share = (int(counters[1]) - it_before) / max(1, int(counters[0]) - it_before)
            best_time = now + min(1.0, share) * (time.perf_counter() - now)
            restarted_since_best = False
        if status != kernel.STALLED:
            continue
        # Restart near the best: random swaps, then a descent. Each restart that finds
        # nothing better doubles the number of swaps, to leave a basin the search is stuck in.
        kick = min(kick * 2 if restarted_since_best else strength, n // 2)
        restarted_since_best = True
        group = best_group.copy()
        for _ in range(kick):
            i, j = (int(x) for x in rng.choice(n, 2, replace=False))
            group[i], group[j] = group[j], group[i]
        state.reset(group)
        counters[2] += _descent(state) * per_iteration
        tabu_until[:] = 0
        counters[1] = counters[0]
        values[0] = state.value
        if state.value > values[1] + EPS:
            values[1] = state.value
            best_group[:] = state.group
            best_time = time.perf_counter()
    it = int(counters[0])
    groups = [sorted(np.flatnonzero(best_group == g).tolist()) for g in range(m)]
    return WeightedSolution(
        groups=groups,
        objective=round(objective(weights, best_group), 6),
        seconds=round(time.perf_counter() - start, 4),
        iterations=it,
        seconds_to_best=round(best_time - start, 4),
    )
