"""The tabu search over schedules: `ScheduleSearch.run` drives the compiled iterations.

A move swaps two people of the same round, or (`RELOCATE`, where a round's groups differ in size)
moves one person from a larger group to one a person smaller; both keep the round's group sizes.
The iterations run compiled (`kernel.tabu_steps`, which describes one), in the manner of Dotu & Van
Hentenryck's tabu search for the social golfer problem: while some pair meets too often (or a hard
rule is broken) only moves of the people concerned are considered, each evaluated incrementally
from the meeting counts; for a random tenure the swapped pair may not be swapped back (or, where
group sizes differ, neither of the two may move again in that round); a move that beats the best
schedule found so far is always allowed; after a stall the search goes on from the best schedule
with a few random swaps (`PERTURB`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from companion.grouping import kernel
from companion.grouping.model import Model
from companion.grouping.problem import Weights
from companion.grouping.schedule_starts import ScheduleStarts
from companion.grouping.schedule_state import EPS, IntArray

#: Work between returns from the compiled iterations to look at the clock.
CHUNK_WORK = 2_000_000
#: Iterations without a new best before the search goes on from a perturbed best schedule.
STALL_ITERATIONS = 5_000
#: Random swaps applied to the best schedule at a stall (0: build fresh ones instead).
PERTURB = 6
#: Tabu tenure (iterations, drawn uniformly from [low, high)) and what it forbids (see
#: `kernel.TABU_PAIR`, `kernel.TABU_PERSON`); one entry per search of the portfolio. When every
#: round has groups of one size (pure social-golfer shapes): the swapped pair may not be
#: swapped back for 1-9 iterations (24 in 6x4 for 6 sessions reaches R = 0 on 17 of 20 seeds
#: with it, 13 with person tabu). Otherwise (absences, uneven rounds, rules): neither swapped
#: person may move again in that round for 1-5 iterations, which makes the search move others
#: where the schedule is tight (the seed scenario, swaps only: mean R 11.7 against 12.5 with
#: pair tabu over 30 seeds; with `RELOCATE` the two are about even, 10.55 and 10.6 over 20)
#: and still keeps 23 in 5,5,5,4,4 for 5 sessions at R = 0 on every seed. Chosen by
#: measurement (benchmarks/README.md).
TENURES_UNIFORM = ((1, 10, kernel.TABU_PAIR), (1, 10, kernel.TABU_PAIR))
TENURES_MIXED = ((1, 6, kernel.TABU_PERSON), (1, 6, kernel.TABU_PERSON))
#: Also move single people from a larger group to a smaller one (`kernel.tabu_steps`). Where
#: a round's groups differ in size this is the move that matters most: the seed scenario
#: (benchmarks/README.md) reaches R <= 11 against its bound 10 on 30 of 30 seeds with it
#: (mean R 10.6), 11 of 30 without (mean 11.7); shapes with one group size never use it.
RELOCATE = True


@dataclass
class KernelGroups:
    """The group lists of the compiled iterations (see `kernel.tabu_steps`), and each
    person's count of helpers met (empty without needs)."""

    members: IntArray
    counts: IntArray
    places: IntArray
    chairs: IntArray
    helped: IntArray


@dataclass
class Best:
    """The best schedule a run has found, and when."""

    cost: float
    idx: IntArray
    iteration: int
    seconds: float


class Race:
    """What the searches of a portfolio share: the work after which each proved its schedule
    optimal (if it did). `solve_schedule` chooses the proven optimum with the least work (ties:
    the lowest index), so a search stops once another one is sure to be chosen over it; the
    answer never depends on which thread got there first in time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proofs: dict[int, int] = {}

    def optimal(self, runner: int, work: int) -> None:
        """Search `runner` proved its schedule optimal after `work` units."""
        with self._lock:
            self._proofs.setdefault(runner, work)

    def beaten(self, runner: int, work: int, own: int | None) -> bool:
        """Can search `runner` (at `work` units, its own proof at `own` if any) no longer be
        the one chosen?"""
        with self._lock:
            proofs = list(self._proofs.items())
        for other, done in proofs:
            if other == runner:
                continue
            if own is None and done < work:
                return True
            if own is not None and (done, other) < (own, runner):
                return True
        return False


class ScheduleSearch(ScheduleStarts):
    """A schedule state with its tabu search (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        weights: Weights,
        seed: int,
        history_rounds: Sequence[Sequence[Sequence[str]]] = (),
        runner: int = 0,
    ) -> None:
        super().__init__(model, weights, seed, history_rounds)
        plans = model.rounds
        uniform = all(len(set(p.sizes)) <= 1 for p in plans)
        ranges = TENURES_UNIFORM if uniform else TENURES_MIXED
        self.tenure = ranges[runner % len(ranges)]

    def run(
        self,
        max_work: int,
        max_iterations: int,
        deadline: float,
        start: float,
        begin: IntArray | None = None,
        race: Race | None = None,
        runner: int = 0,
        prior_work: int = 0,
        proved_before: int | None = None,
    ) -> tuple[Best, int]:
        """Tabu search until a limit, the deadline or a proven optimum; the best schedule.

        From fresh constructions, or from `begin`; after a stall, from the best schedule with
        `PERTURB` random swaps. The iterations run compiled (`kernel.tabu_steps`); they come
        back here at a new best that may be optimal (R at its bound), at a stall, and after
        every `CHUNK_WORK` units of work, for the clock. With a `race` (search `runner` of a
        portfolio), a proven optimum is reported to it (at `prior_work` plus this run's work;
        `proved_before`: the proof of an earlier phase), and the run stops once another search
        is sure to be chosen instead.
        """
        self.work = 0
        self.optimal_work = None
        if begin is None:
            self.restart(deadline)
        else:
            self.load(begin)
        best = Best(self.cost, self.idx.copy(), 0, time.perf_counter() - start)
        if self._optimal():
            self._proved(prior_work + self.work, race, runner)
        if self.optimal_work is not None or not self.movable.any():
            self.work_done = self.work
            return best, 0
        groups = self._kernel_arrays()
        # [iteration, iteration of the last best, work done, R now, work at the last best];
        # [current cost, best cost]; the best schedule the compiled loop has seen.
        state = np.array([0, 0, self.work, self.repeats(), self.work], dtype=np.int64)
        costs = np.array([self.cost, best.cost])
        best_idx = best.idx.copy()
        rng = np.array([self.rng.getrandbits(64) | 1], dtype=np.uint64)
        tenure = self.tenure
        while state[2] < max_work and state[0] < max_iterations:
            now = time.perf_counter()
            if now > deadline:
                break
            own = self.optimal_work if self.optimal_work is not None else proved_before
            if race is not None and race.beaten(runner, prior_work + int(state[2]), own):
                break
            allowed = min(CHUNK_WORK, max_work - int(state[2]))
            work_before, best_work_before = int(state[2]), int(state[4])
            status = kernel.tabu_steps(
                self.idx,
                groups.members,
                groups.counts,
                groups.places,
                self.m,
                self.tabu,
                self.movable,
                self.offset,
                self.ncols,
                self.pair_cost,
                self.add_level,
                self.rem_level,
                self.hard,
                self.tog,
                self.tog_need,
                self.fac_int,
                self.need_one,
                groups.chairs,
                self.big,
                tenure[0],
                tenure[1],
                tenure[2],
                RELOCATE,
                (self.match, groups.helped, self.need_weights),
                rng,
                state,
                costs,
                best_idx,
                self.r_lower,
                STALL_ITERATIONS,
                allowed,
                max_iterations,
            )
            if int(state[4]) != best_work_before:
                # A new best: its exact cost (no drift in what we keep) and, by the share of
                # this call's work done before it, about when it was found.
                share = (int(state[4]) - work_before) / max(1, int(state[2]) - work_before)
                found = now + share * (time.perf_counter() - now) - start
                best = Best(self._cost_of(best_idx), best_idx.copy(), int(state[1]), found)
                costs[1] = best.cost
            self._sync_from_idx()
            self.cost = self.exact_cost()
            costs[0] = self.cost
            if status == kernel.IMPROVED and self._optimal():
                self._proved(prior_work + int(state[2]), race, runner)
                break
            if status == kernel.STALLED:
                self.work = int(state[2])
                if PERTURB:
                    self.load(self._perturbed(best.idx, PERTURB))
                elif begin is None:
                    self.restart(deadline)
                else:
                    self.load(best.idx)
                state[2] = self.work
                state[1] = state[0]
                state[3] = self.repeats()
                groups = self._kernel_arrays()
                costs[0] = self.cost
                if self.cost < best.cost - EPS:
                    best = Best(
                        self.cost, self.idx.copy(), int(state[0]), time.perf_counter() - start
                    )
                    best_idx[:] = self.idx
                    costs[1] = best.cost
                    if self._optimal():
                        self._proved(prior_work + int(state[2]), race, runner)
                        break
        self.work_done = int(state[2])
        return best, int(state[0])

    def _proved(self, work: int, race: Race | None, runner: int) -> None:
        """The current schedule is a proven optimum, reached after `work` units."""
        self.optimal_work = work
        if race is not None:
            race.optimal(runner, work)

    def _cost_of(self, idx: IntArray) -> float:
        """The exact cost of another schedule, leaving the current one as it is."""
        saved = (self.idx, self.m, self.onehot, self.members)
        self.onehot = np.zeros_like(self.onehot)
        self._adopt(idx)
        cost = self.exact_cost()
        self.idx, self.m, self.onehot, self.members = saved
        return cost

    def _perturbed(self, idx: IntArray, swaps: int) -> IntArray:
        """`idx` with `swaps` random swaps of movable people in different groups of a round."""
        out = idx.copy()
        rounds = [w for w in range(self.W) if int(self.movable[w].sum()) >= 2]
        if not rounds:
            return out
        for _ in range(swaps):
            w = rounds[self.rng.randrange(len(rounds))]
            people = np.flatnonzero(self.movable[w])
            a = int(people[self.rng.randrange(people.size)])
            b = int(people[self.rng.randrange(people.size)])
            if out[w, a] != out[w, b]:
                out[w, a], out[w, b] = out[w, b], out[w, a]
        return out

    def _kernel_arrays(self) -> KernelGroups:
        """Members per group, each person's place in their group and facilitators per group,
        as `kernel.tabu_steps` keeps them, from the current schedule (and a clear tabu list)."""
        capacity = max(1, max((len(g) for g in self.members), default=1))
        groups = KernelGroups(
            members=np.zeros((self.K + 1, capacity), dtype=np.int64),
            counts=np.zeros(self.K + 1, dtype=np.int64),
            places=np.zeros((self.W, self.n), dtype=np.int64),
            chairs=np.zeros(self.K + 1, dtype=np.int64),
            helped=self.helpers_met() if self.needs_active else np.zeros(0, dtype=np.int64),
        )
        fac = self.fac_int
        for col, group in enumerate(self.members[: self.K]):
            groups.counts[col] = len(group)
            groups.members[col, : len(group)] = group
            groups.chairs[col] = int(fac[group].sum()) if group else 0
        for w in range(self.W):
            for p in self.model.rounds[w].present.tolist():
                groups.places[w, p] = self.members[int(self.idx[w, p])].index(p)
        self.tabu[:] = 0
        return groups
