"""Starting schedules for the tabu search: a design, exact rounds, or greedy rounds.

A start keeps the best of a few randomised constructions (`CONSTRUCTIONS`): round by round, an
exact search (`construct.py`) looks for a round in which nobody meets anyone again; after the
first round where it fails, rounds are built greedily (each person where they add least cost;
facilitators, keep-together blocks and people with keep-apart rules first, so the start keeps
the hard rules whenever it can). Where the shape has one (everyone present, k equal groups,
k a prime power), a resolvable transversal design (`designs.py`) gives every round repeat-free
at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from companion.grouping.arrays import bitset
from companion.grouping.construct import Unit, repeat_free_round
from companion.grouping.designs import design, design_rounds
from companion.grouping.model import Model
from companion.grouping.problem import Weights
from companion.grouping.schedule_state import EPS, ScheduleState

#: Constructions tried at the start; the best one is kept.
CONSTRUCTIONS = 3
#: Node limit of the exact search for one repeat-free round, and its cost in work units.
ROUND_NODES = 1_000
NODE_WORK = 400
#: Work units per person and group when a round is built greedily.
GREEDY_WORK = 80
#: After this many failures (and no success) a round is built greedily without trying.
ROUND_GIVE_UP = 40


class ScheduleStarts(ScheduleState):
    """A schedule state that can build fresh schedules (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        weights: Weights,
        seed: int,
        history_rounds: Sequence[Sequence[Sequence[str]]] = (),
    ) -> None:
        super().__init__(model, weights, seed)
        n = self.n
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
