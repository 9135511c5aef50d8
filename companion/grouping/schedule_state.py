"""The state of a schedule search: one group per (round, person), meeting counts, cost tables.

A schedule is kept as index arrays: `idx` holds each person's column in each round (the
columns are the groups of every round side by side, plus one always-empty column for the
absent), with the meeting counts `m` (history included), the group lists and a one-hot matrix
kept in step. `ScheduleState` builds the cost tables the compiled iterations read, adopts a
schedule, and evaluates one from scratch. The starts are in `schedule_starts.py`, the tabu
search in `schedule_search.py`, the portfolio in `schedule.py`.

Hard rules are penalties too large to trade against any soft goal (`big`), so the search can
walk through an infeasible schedule but never returns one.
"""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from companion.grouping.arrays import product
from companion.grouping.bounds import pair_upper_bound, repeats_lower_bound
from companion.grouping.model import Model
from companion.grouping.needs import helpers_met, need_weights, weighted_needs
from companion.grouping.problem import Weights

IntArray = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float64]

#: Costs closer than this are equal.
EPS = 1e-9


class ScheduleState:
    """Mutable schedule state over index arrays (see the module docstring)."""

    def __init__(self, model: Model, weights: Weights, seed: int) -> None:
        self.model = model
        self.weights = weights
        # A seeded PRNG for tie-breaks and tenures: cheaper per call than numpy's.
        self.rng = random.Random(seed)  # noqa: S311 - reproducible search, not security
        n = self.n = model.n
        plans = model.rounds
        self.W = len(plans)
        offsets = np.cumsum([0] + [len(p.sizes) for p in plans])
        self.offset = offsets[:-1].astype(np.int64)
        self.ncols = np.array([len(p.sizes) for p in plans], dtype=np.int64)
        self.K = int(offsets[-1])
        self.dummy = self.K  # the column of absent people: always empty

        self.present = np.zeros((self.W, n), dtype=bool)
        self.movable = np.zeros((self.W, n), dtype=bool)
        for w, plan in enumerate(plans):
            self.present[w, plan.present] = True
            self.movable[w, plan.present] = True
            for i in plan.fixed:
                self.movable[w, i] = False
        self.symmetric = model.is_symmetric() and self.W > 1
        if self.symmetric:
            # Relabelling people maps any first round onto any other: fix it.
            self.movable[0, :] = False
        for w, plan in enumerate(plans):
            if len(plan.sizes) < 2:
                self.movable[w, :] = False

        # Cost tables: f(m) per pair = repeat*C(m,2) - new_pair*[m>=1] + pair penalties.
        self.rule = model.rule
        self.limit_one = model.rule in ("at_most_one", "exactly_one")
        self.need_one = model.rule in ("at_least_one", "exactly_one")
        tog = model.together_matrix()
        fac = model.facilitator
        facpair = np.outer(fac, fac) if self.limit_one else np.zeros((n, n), dtype=bool)
        np.fill_diagonal(facpair, False)
        self.hard = model.apart | facpair
        self.tog = tog
        self.has_tog = bool(tog.any())
        self.fac = fac.astype(np.float64)
        self.fac_int = fac.astype(np.int64)
        top = int(model.history.max(initial=0)) + self.W + 2
        pairs = n * (n - 1) / 2
        soft_range = pairs * (
            weights.repeat * top * (top - 1) / 2 + weights.new_pair + weights.diversity * self.W
        )
        # Needs (`needs.py`): only when someone can help someone and they count; otherwise
        # the kernel gets empty arrays and the search is exactly the one without needs.
        pair_w, cover_w = need_weights(weights)
        self.needs_active = (pair_w > 0 or cover_w > 0) and bool(model.match.any())
        if self.needs_active:
            self.match = model.match
            self.need_weights = np.array([pair_w, cover_w])
            soft_range += n * (cover_w + pair_w * n)
        else:
            self.match = np.zeros((0, 0), dtype=bool)
            self.need_weights = np.zeros(2)
        self.big = max(1e6, 10.0 * soft_range)
        levels = np.arange(top + 1, dtype=np.float64)
        self.add_level = weights.repeat * levels - weights.new_pair * (levels == 0)
        rem = -weights.repeat * (levels - 1) + weights.new_pair * (levels == 1)
        rem[0] = 0.0  # only the diagonal has m = 0 inside a group; it must not count
        self.rem_level = rem
        self.pair_cost = (
            -weights.diversity * model.distance
            + self.big * self.hard.astype(np.float64)
            - self.big * tog.astype(np.float64)
        )
        self.diversity_active = weights.diversity > 0 and bool(model.distance.any())
        # Block partners present per (round, person), to see a split keep-together block.
        self.tog_need = product(self.present.astype(np.float64), tog.T.astype(np.float64))
        self.tog_need *= self.present
        self.history = model.history.astype(np.int64)

        layouts = [(p.present.tolist(), p.sizes) for p in plans]
        self.r_lower = repeats_lower_bound(model.history, layouts, self.hard, tog)
        self.pair_upper = pair_upper_bound(model.history, layouts, self.hard)

        self.idx = np.full((self.W, n), self.dummy, dtype=np.int64)
        self.onehot = np.zeros((n, self.K + 1))
        self.members: list[list[int]] = [[] for _ in range(self.K + 1)]
        self.m = self.history.copy()
        self.tabu = np.zeros((self.W, n, n), dtype=np.int64)
        self.cost = 0.0
        self.work_done = 0
        #: Work after which the last run proved its schedule optimal, if it did.
        self.optimal_work: int | None = None
        self.work = 0

    def load(self, idx: IntArray) -> None:
        """Adopt a schedule (column index per round and person) and recompute the state."""
        self._adopt(idx)
        self.tabu[:] = 0
        self.cost = self.exact_cost()

    def _adopt(self, idx: IntArray) -> None:
        """Take `idx` (a copy) and rebuild the groups, one-hot matrix and meeting counts."""
        self.idx = idx.copy()
        self._sync_from_idx()
        self.m = self.history.copy()
        for w in range(self.W):
            self._commit_round(w)

    def _commit_round(self, w: int) -> None:
        off = int(self.offset[w])
        for g in range(len(self.model.rounds[w].sizes)):
            group = self.members[off + g]
            for a in group:
                for b in group:
                    if a != b:
                        self.m[a, b] += 1

    def _sync_from_idx(self) -> None:
        """Rebuild the group lists and one-hot matrix from `idx` after compiled iterations."""
        self.onehot[:] = 0.0
        self.members = [[] for _ in range(self.K + 1)]
        for w in range(self.W):
            for p in self.model.rounds[w].present.tolist():
                col = int(self.idx[w, p])
                self.onehot[p, col] = 1.0
                self.members[col].append(p)

    # --- evaluation ----------------------------------------------------------------------

    def same_group_counts(self) -> FloatMatrix:
        """How often each pair shares a group in the planned rounds."""
        planned = self.onehot[:, : self.K]
        same = product(planned, np.ascontiguousarray(planned.T))
        np.fill_diagonal(same, 0.0)
        return same

    def penalty_count(self) -> int:
        """Broken hard rules, counted the way the penalties count them."""
        same = self.same_group_counts()
        count = float((same * self.hard).sum() / 2)
        if self.has_tog:
            here = self.present.astype(np.float64)
            both = product(np.ascontiguousarray(here.T), here)
            count += float((self.tog * (both - same)).sum() / 2)
        if self.need_one:
            chairs = self.fac @ self.onehot[:, : self.K]
            count += int((chairs == 0).sum())
        return round(count)

    def exact_cost(self) -> float:
        """The objective with penalties, recomputed from scratch."""
        m = self.m.astype(np.float64)
        iu = np.triu_indices(self.n, 1)
        pairs = m[iu]
        same = self.same_group_counts()[iu]
        cost = self.weights.repeat * float((pairs * (pairs - 1) / 2).sum())
        cost -= self.weights.new_pair * float((pairs >= 1).sum())
        cost -= self.weights.diversity * float((self.model.distance[iu] * same).sum())
        if self.needs_active:
            cost -= weighted_needs(self.helpers_met(), self.weights)
        return cost + self.big * self.penalty_count()

    def helpers_met(self) -> IntArray:
        """Per person, how many of the people who can help them they met (history included)."""
        return helpers_met(self.model.match, self.m)

    def repeats(self) -> int:
        """R = sum over pairs of C(m, 2), history included."""
        m = self.m
        return int((m * (m - 1)).sum() // 4)

    def distinct_pairs(self) -> int:
        """Pairs that met at least once."""
        return int(np.count_nonzero(self.m)) // 2

    def _optimal(self) -> bool:
        """Proven optimal: no penalty, R at its lower bound, pairs at their upper bound (when
        they count), every possible helper met (when needs count)."""
        if self.diversity_active or self.penalty_count():
            return False
        if self.needs_active and not np.array_equal(
            self.helpers_met(), self.model.match.sum(axis=0)
        ):
            return False  # proven only when everyone met every possible helper
        if self.repeats() > self.r_lower:
            return False
        return self.weights.new_pair == 0 or self.distinct_pairs() >= self.pair_upper

    def rounds_of(self, idx: IntArray) -> list[list[list[str]]]:
        """Groups (lists of ids, in input order) per round from a column-index array."""
        ids = self.model.ids
        out: list[list[list[str]]] = []
        for w, plan in enumerate(self.model.rounds):
            off = int(self.offset[w])
            groups: list[list[str]] = [[] for _ in plan.sizes]
            for p in plan.present.tolist():
                groups[int(idx[w, p]) - off].append(ids[p])
            out.append(groups)
        return out
