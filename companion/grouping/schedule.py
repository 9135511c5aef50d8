"""Breakout groups for several rounds: exact, geometric or greedy starts, then tabu search.

Each start keeps the best of a few randomised constructions: round by round, an exact search
(`construct.py`) looks for a round in which nobody meets anyone again; after the first round
where it fails, rounds are built greedily (each person where they add least cost). Where the
shape has one (everyone present, k equal groups, k a prime power), a resolvable transversal
design (`designs.py`) gives every round repeat-free at once.

The state is one group per (round, person). A move swaps two people of the same round, or
(`RELOCATE`, where a round's groups differ in size) moves one person from a larger group to
one a person smaller; both keep the round's group sizes. The iterations run compiled
(`kernel.py`), in the manner of Dotu & Van Hentenryck's tabu search for the social golfer
problem: while some pair meets too often (or a hard rule is broken) only moves of the people
concerned are considered, each evaluated incrementally from the meeting counts; for a random
tenure the swapped pair may not be swapped back (or, where group sizes differ, neither of the
two may move again in that round); a move that beats the best schedule found so far is always
allowed; after a stall the search goes on from the best schedule with a few random swaps
(`PERTURB`).

Two phases (`phase_weights`): the first minimises repeats (with new pairs as a guide), the
second starts from its best schedule and improves new pairs and diversity without giving up a
repeat.

Hard rules are penalties too large to trade against any soft goal, so the search can walk
through an infeasible schedule but never returns one; the greedy start already satisfies them
whenever it can.

Two searches run side by side (`PORTFOLIO`, threads: the compiled iterations release the GIL),
each with its own seed, and the better answer is kept (`solve_schedule` says which, and why the
choice does not depend on which thread is faster).

Determinism: each search stops after a work budget (candidate moves evaluated, plus fixed costs
for iterations and constructions) derived from the time limit, or `problem.iterations`; the
wall clock is only a safety cap. With the same problem and seed the answer is the same unless
that cap cuts the search short on a slow machine.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from companion.grouping import kernel
from companion.grouping.arrays import bitset, product
from companion.grouping.bounds import pair_upper_bound, repeats_lower_bound
from companion.grouping.construct import Unit, repeat_free_round
from companion.grouping.designs import design, design_rounds
from companion.grouping.metrics import evaluate_schedule, schedule_violations
from companion.grouping.model import Model, compile_problem
from companion.grouping.problem import (
    Infeasible,
    ScheduleProblem,
    ScheduleSolution,
    Weights,
)

IntArray = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float64]

#: Work units per second of time limit: a unit is one candidate move evaluated by the compiled
#: iterations (about 60 million a second on the 2-core CI machine when idle); the budget is set
#: at two thirds of that, so a run ends by its budget, with the same answer, unless the machine
#: is more than half as slow again.
WORK_PER_SECOND = 40_000_000
#: Work between returns from the compiled iterations to look at the clock.
CHUNK_WORK = 2_000_000
#: Iterations without a new best before the search goes on from a perturbed best schedule.
STALL_ITERATIONS = 5_000
#: Random swaps applied to the best schedule at a stall (0: build fresh ones instead).
PERTURB = 6
#: Constructions tried at the start; the best one is kept.
CONSTRUCTIONS = 3
#: Node limit of the exact search for one repeat-free round, and its cost in work units.
ROUND_NODES = 1_000
NODE_WORK = 400
#: Work units per person and group when a round is built greedily.
GREEDY_WORK = 80
#: After this many failures (and no success) a round is built greedily without trying.
ROUND_GIVE_UP = 40
#: Share of the work budget for the first phase (repeats alone); see `phase_weights`.
FIRST_PHASE = 0.8
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
#: Independent searches run side by side, each with its own seed (threads: the compiled
#: iterations release the GIL, so two cores do twice the search); the best schedule wins. A
#: fixed number, not the machine's core count, so that the answer does not depend on it.
PORTFOLIO = 2
#: Seed offset between the searches of the portfolio (the first uses the problem's seed).
PORTFOLIO_SEED_STEP = 7_919
EPS = 1e-9


@dataclass
class _Groups:
    """The group lists of the compiled iterations (see `kernel.tabu_steps`)."""

    members: IntArray
    counts: IntArray
    places: IntArray
    chairs: IntArray


@dataclass
class _Best:
    cost: float
    idx: IntArray
    iteration: int
    seconds: float


class _Race:
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


@dataclass
class _Outcome:
    """One search of the portfolio: its final state, best schedule and when it proved it optimal."""

    search: _Search
    best: _Best
    iterations: int
    optimal_work: int | None


class _Search:
    """Mutable search state over index arrays (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        weights: Weights,
        seed: int,
        history_rounds: Sequence[Sequence[Sequence[str]]] = (),
        runner: int = 0,
    ) -> None:
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
        self.units = [self._units(w) for w in range(self.W)]
        index = {p: i for i, p in enumerate(model.ids)}
        self.past_groups = [
            np.array([index[p] for p in group], dtype=np.int64)
            for past in history_rounds
            for group in past
            if len(group) > 1
        ]
        self.hard_bits = [bitset(self.hard[p]) for p in range(n)]
        self.round_wins = [0] * self.W
        self.round_fails = [0] * self.W
        self.design = self._design()
        uniform = all(len(set(p.sizes)) <= 1 for p in plans)
        ranges = TENURES_UNIFORM if uniform else TENURES_MIXED
        self.tenure = ranges[runner % len(ranges)]

    def _design(self) -> list[list[list[int]]] | None:
        """A repeat-free schedule from finite geometry when the shape has one (`designs.py`):
        everyone present every round, k equal groups of s with k a prime power, no history
        and no rules that tie particular people."""
        plans = self.model.rounds
        if not plans or self.model.history.any() or self.hard.any() or self.has_tog:
            return None
        if self.need_one or any(len(p.present) != self.n or p.fixed for p in plans):
            return None
        sizes = list(plans[0].sizes)
        if not sizes or any(list(p.sizes) != sizes for p in plans) or len(set(sizes)) != 1:
            return None
        k, size = len(sizes), sizes[0]
        if k * size != self.n or len(plans) > design_rounds(k, size):
            return None
        return design(k, size, len(plans))

    # --- construction ------------------------------------------------------------------

    def build(self) -> None:
        """A fresh schedule, round by round: repeat-free rounds by exact search while they can be
        found, then greedy rounds (each person where they add least cost)."""
        self.idx[:] = self.dummy
        self.onehot[:] = 0.0
        self.members = [[] for _ in range(self.K + 1)]
        self.m = self.history.copy()
        if self.design is not None:
            self._place_design(self.design)
            self.tabu[:] = 0
            self.cost = self.exact_cost()
            return
        exact = True
        for w in range(self.W):
            canonical = self.symmetric and w == 0
            # After the first round that cannot be repeat-free, later ones rarely are: greedy.
            if canonical or not exact or not self._exact_round(w):
                exact = exact and canonical
                self._build_round(w, canonical=canonical)
        self.tabu[:] = 0
        self.cost = self.exact_cost()

    def _place_design(self, rounds: list[list[list[int]]]) -> None:
        """The design's rounds with its points given to people in a random order."""
        people = list(range(self.n))
        self.rng.shuffle(people)
        self.work += GREEDY_WORK * self.n * self.W
        for w, groups in enumerate(rounds):
            off = int(self.offset[w])
            for g, points in enumerate(groups):
                for point in points:
                    p = people[point]
                    self.idx[w, p] = off + g
                    self.onehot[p, off + g] = 1.0
                    self.members[off + g].append(p)
            self._commit_round(w)

    def _units(self, w: int) -> list[Unit] | None:
        """The units of round w (blocks and same-label fixed people merged), or None."""
        plan = self.model.rounds[w]
        present = set(plan.present.tolist())
        owner = {p: p for p in present}

        def find(p: int) -> int:
            while owner[p] != p:
                p = owner[p]
            return p

        for block in self.model.blocks:
            here = [p for p in block if p in present]
            for p in here[1:]:
                owner[find(p)] = find(here[0])
        by_label: dict[int, int] = {}
        for p, g in plan.fixed.items():
            if g in by_label:
                owner[find(p)] = find(by_label[g])
            by_label[g] = p
        groups: dict[int, list[int]] = {}
        for p in sorted(present):
            groups.setdefault(find(p), []).append(p)
        units = []
        for members in groups.values():
            labels = {plan.fixed[p] for p in members if p in plan.fixed}
            if len(labels) > 1:
                return None
            mask = 0
            for p in members:
                mask |= 1 << p
            units.append(
                Unit(
                    members=tuple(members),
                    mask=mask,
                    label=labels.pop() if labels else None,
                    chair=bool(self.fac[members].any()),
                )
            )
        return units

    def _exact_round(self, w: int) -> bool:
        """Try to build round w with no pair meeting again (exact search); True on success."""
        units = self.units[w]
        plan = self.model.rounds[w]
        if (
            units is None
            or not plan.sizes
            or (self.round_fails[w] >= ROUND_GIVE_UP and not self.round_wins[w])
        ):
            return False
        met = self.m > 0
        forbidden = [self.hard_bits[p] | bitset(met[p]) for p in range(self.n)]
        groups, nodes = repeat_free_round(
            units, forbidden, plan.sizes, self.need_one, self.rng, ROUND_NODES
        )
        self.work += nodes * NODE_WORK
        if groups is None:
            self.round_fails[w] += 1
            return False
        self.round_wins[w] += 1
        off = int(self.offset[w])
        for g, people in enumerate(groups):
            for p in people:
                self.idx[w, p] = off + g
                self.onehot[p, off + g] = 1.0
                self.members[off + g].append(p)
        self._commit_round(w)
        return True

    def _spreadable(self, w: int) -> bool:
        """Pigeonhole: a repeat-free round w needs every earlier group spread over its groups."""
        k = len(self.model.rounds[w].sizes)
        here = self.present[w]
        for group in self.past_groups:
            if int(here[group].sum()) > k:
                return False
        for v in range(w):
            off = int(self.offset[v])
            for g in range(len(self.model.rounds[v].sizes)):
                if int(here[self.members[off + g]].sum()) > k:
                    return False
        return True

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

    def restart(self, deadline: float) -> None:
        """The best of a few fresh constructions becomes the current schedule."""
        best_cost, best_idx = np.inf, self.idx
        for attempt in range(CONSTRUCTIONS):
            if attempt and time.perf_counter() > deadline:
                break
            self.build()
            if self.cost < best_cost - EPS:
                best_cost, best_idx = self.cost, self.idx.copy()
            if self._optimal():
                return
        self.load(best_idx)

    def _build_round(self, w: int, canonical: bool) -> None:
        plan = self.model.rounds[w]
        k = len(plan.sizes)
        self.work += GREEDY_WORK * len(plan.present) * (k + 4)
        if k == 0:
            return
        off = int(self.offset[w])
        room = list(plan.sizes)
        add = self.add_level[self.m] + self.pair_cost
        load = np.zeros((self.n, k))  # cost of each person joining each group so far
        chairs = [0] * k
        placed: set[int] = set()
        rng = self.rng

        def put(p: int, g: int) -> None:
            self.idx[w, p] = off + g
            self.onehot[p, off + g] = 1.0
            self.members[off + g].append(p)
            room[g] -= 1
            load[:, g] += add[:, p]
            chairs[g] += int(self.fac[p])
            placed.add(p)

        def best_group(people: list[int], allowed: list[int]) -> int | None:
            fits = [g for g in allowed if room[g] >= len(people)]
            if not fits:
                return None
            score = [float(load[people, g].sum()) for g in fits]
            low = min(score)
            ties = [g for g, s in zip(fits, score, strict=True) if s <= low + EPS]
            return ties[rng.randrange(len(ties))] if len(ties) > 1 else ties[0]

        if canonical:
            start = 0
            order = plan.present.tolist()
            for g, size in enumerate(plan.sizes):
                for p in order[start : start + size]:
                    put(p, g)
                start += size
            self._commit_round(w)
            return

        for p, g in sorted(plan.fixed.items()):
            put(p, g)
        block_of = {i: block for block in self.model.blocks for i in block}
        present = set(plan.present.tolist())

        def unit(p: int) -> list[int]:
            block = block_of.get(p)
            if block is None:
                return [p]
            return [i for i in block if i in present and i not in placed]

        # Facilitators first when the rule counts them: one per group while groups lack one.
        if self.rule != "any":
            chairs_left = [p for p in plan.present.tolist() if self.fac[p] and p not in placed]
            rng.shuffle(chairs_left)
            for p in chairs_left:
                if p in placed:
                    continue
                people = unit(p)
                empty = [g for g in range(k) if chairs[g] == 0]
                target = best_group(people, empty) if empty else None
                if target is None and not self.limit_one:
                    target = best_group(people, list(range(k)))
                if target is None:
                    # The block does not fit whole: place the facilitator, let the search mend.
                    people = [p]
                    target = best_group(people, empty or list(range(k)))
                if target is not None:
                    for q in people:
                        put(q, target)
        # Keep-together blocks, largest first, whole.
        for block in sorted(self.model.blocks, key=len, reverse=True):
            people = [i for i in block if i in present and i not in placed]
            target = best_group(people, list(range(k))) if people else None
            if target is not None:
                for q in people:
                    put(q, target)
        # Everyone else: people with keep-apart rules first, then in random order.
        rest = [p for p in plan.present.tolist() if p not in placed]
        rng.shuffle(rest)
        rest.sort(key=lambda p: -int(self.hard[p].any()))
        for p in rest:
            target = best_group([p], list(range(k)))
            assert target is not None  # the sizes add up to the people present
            put(p, target)
        self._commit_round(w)

    def _commit_round(self, w: int) -> None:
        off = int(self.offset[w])
        for g in range(len(self.model.rounds[w].sizes)):
            group = self.members[off + g]
            for a in group:
                for b in group:
                    if a != b:
                        self.m[a, b] += 1

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
        return cost + self.big * self.penalty_count()

    def repeats(self) -> int:
        """R = sum over pairs of C(m, 2), history included."""
        m = self.m
        return int((m * (m - 1)).sum() // 4)

    def distinct_pairs(self) -> int:
        """Pairs that met at least once."""
        return int(np.count_nonzero(self.m)) // 2

    # --- search --------------------------------------------------------------------------

    def run(
        self,
        max_work: int,
        max_iterations: int,
        deadline: float,
        start: float,
        begin: IntArray | None = None,
        race: _Race | None = None,
        runner: int = 0,
        prior_work: int = 0,
        proved_before: int | None = None,
    ) -> tuple[_Best, int]:
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
        best = _Best(self.cost, self.idx.copy(), 0, time.perf_counter() - start)
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
                best = _Best(self._cost_of(best_idx), best_idx.copy(), int(state[1]), found)
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
                    best = _Best(
                        self.cost, self.idx.copy(), int(state[0]), time.perf_counter() - start
                    )
                    best_idx[:] = self.idx
                    costs[1] = best.cost
                    if self._optimal():
                        self._proved(prior_work + int(state[2]), race, runner)
                        break
        self.work_done = int(state[2])
        return best, int(state[0])

    def _proved(self, work: int, race: _Race | None, runner: int) -> None:
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

    def _kernel_arrays(self) -> _Groups:
        """Members per group, each person's place in their group and facilitators per group,
        as `kernel.tabu_steps` keeps them, from the current schedule (and a clear tabu list)."""
        capacity = max(1, max((len(g) for g in self.members), default=1))
        groups = _Groups(
            members=np.zeros((self.K + 1, capacity), dtype=np.int64),
            counts=np.zeros(self.K + 1, dtype=np.int64),
            places=np.zeros((self.W, self.n), dtype=np.int64),
            chairs=np.zeros(self.K + 1, dtype=np.int64),
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

    def _sync_from_idx(self) -> None:
        """Rebuild the group lists and one-hot matrix from `idx` after compiled iterations."""
        self.onehot[:] = 0.0
        self.members = [[] for _ in range(self.K + 1)]
        for w in range(self.W):
            for p in self.model.rounds[w].present.tolist():
                col = int(self.idx[w, p])
                self.onehot[p, col] = 1.0
                self.members[col].append(p)

    def _optimal(self) -> bool:
        """Proven optimal: no penalty, R at its lower bound, pairs at their upper bound (when
        they count)."""
        if self.diversity_active or self.penalty_count():
            return False
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


def search_limits(problem: ScheduleProblem) -> tuple[int, int]:
    """The deterministic limits of a run: (work units, iterations); see WORK_PER_SECOND."""
    if problem.iterations is not None:
        return 2**62, problem.iterations
    return int(problem.time_limit * WORK_PER_SECOND), 2**62


def phase_weights(model: Model, weights: Weights) -> tuple[Weights, Weights] | None:
    """The weights of the two phases, or None for one phase with `weights` as given.

    Repeats come first. Phase one searches on repeats and new pairs only (new pairs guide the
    search towards spreading meetings; diversity is left out); phase two starts from its best
    schedule with R weighted above all that new pairs and diversity can add up to, so that it
    never gives up a repeat and improves new pairs and diversity among schedules with that R.
    """
    n = model.n
    rest = weights.new_pair > 0 or (weights.diversity > 0 and bool(model.distance.any()))
    if weights.repeat <= 0 or not rest:
        return None
    pairs = n * (n - 1) / 2
    top = weights.new_pair * pairs + weights.diversity * pairs * len(model.rounds)
    first = Weights(repeat=weights.repeat, new_pair=weights.new_pair, diversity=0.0)
    second = Weights(repeat=top + 1.0, new_pair=weights.new_pair, diversity=weights.diversity)
    return first, second


def solve_schedule(problem: ScheduleProblem) -> ScheduleSolution:
    """Plan groups for every round of `problem`; raise `Infeasible` naming the rule that fails.

    `PORTFOLIO` searches run side by side with different seeds; the answer is the optimum that
    one of them proved with the least work (ties: the first search), otherwise the schedule
    with the lowest cost (ties: the first search). Both choices depend only on each search's
    own deterministic course, so the same problem and seed give the same answer.
    """
    start = time.perf_counter()
    model = compile_problem(problem)
    race = _Race()
    seeds = [problem.seed + PORTFOLIO_SEED_STEP * i for i in range(PORTFOLIO)]
    outcomes: list[_Outcome | None] = [None] * len(seeds)
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            outcomes[i] = _search_once(problem, model, seeds[i], start, race, i)
        except BaseException as error:  # re-raised below, in the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(seeds))]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    done = [outcome for outcome in outcomes if outcome is not None]
    proved = [(o.optimal_work, i) for i, o in enumerate(done) if o.optimal_work is not None]
    if proved:
        chosen = done[min(proved)[1]]
    else:
        chosen = done[min(range(len(done)), key=lambda i: (done[i].best.cost, i))]
    search, best = chosen.search, chosen.best
    rounds = search.rounds_of(best.idx)
    broken = schedule_violations(problem, rounds)
    if broken:
        raise Infeasible(
            "no grouping found that keeps every rule; still broken: " + "; ".join(broken[:3]),
            constraint="search",
        )
    metrics = evaluate_schedule(problem, rounds, time.perf_counter() - start)
    return ScheduleSolution(
        rounds=rounds,
        metrics=metrics,
        iterations=chosen.iterations,
        seconds_to_best=round(best.seconds, 4),
    )


def _search_once(
    problem: ScheduleProblem, model: Model, seed: int, start: float, race: _Race, runner: int
) -> _Outcome:
    """One search of the portfolio (both phases, see `phase_weights`) with its own seed."""
    max_work, max_iterations = search_limits(problem)
    deadline = start + problem.time_limit
    phases = phase_weights(model, problem.weights)
    if phases is None:
        search = _Search(model, problem.weights, seed, problem.history, runner)
        best, iterations = search.run(
            max_work, max_iterations, deadline, start, race=race, runner=runner
        )
        return _Outcome(search, best, iterations, search.optimal_work)
    first = _Search(model, phases[0], seed, problem.history, runner)
    share_work = int(max_work * FIRST_PHASE)
    share_iterations = max(1, int(max_iterations * FIRST_PHASE))
    found, iterations = first.run(
        share_work, share_iterations, deadline, start, race=race, runner=runner
    )
    search = _Search(model, phases[1], seed + 1, problem.history, runner)
    best, more = search.run(
        max_work - first.work_done,
        max(1, max_iterations - iterations),
        deadline,
        start,
        begin=found.idx,
        race=race,
        runner=runner,
        prior_work=first.work_done,
        proved_before=first.optimal_work,
    )
    iterations += more
    if best.iteration == 0:
        best.seconds = found.seconds
    optimal = search.optimal_work
    if first.optimal_work is not None:
        optimal = first.optimal_work
    return _Outcome(search, best, iterations, optimal)
