"""Proven bounds: a lower bound on repeats R and an upper bound on distinct pairs.

Both depend only on who is present in each planned round, the group sizes of each round, the
history, the pairs that may never share a group (keep-apart, two facilitators under "at most
one") and the keep-together pairs, so they hold for every schedule that keeps the rules with
those sizes.

Notation. m_pq meetings of a pair, h_pq of them in the history;
R = sum over pairs of C(m, 2). Adding one meeting to a pair at level m costs C(m+1, 2) - C(m, 2)
= m, so the cheapest way to add A meetings to a set of pairs is to take the A smallest of the
"marginals" h_q, h_q + 1, ..., h_q + cap_q - 1 (pair q can meet at most cap_q more times):
a separable convex minimisation, solved greedily ("water-filling", `_Marginals`).

- cap_pq is the number of planned rounds in which both are present and a group holds two
  people; pairs kept apart get 0.
- In each round, people linked by a chain of keep-together pairs through people present
  share a group: f_pq such "forced" meetings. So m_pq = h_pq + f_pq + y_pq with
  0 <= y_pq <= cap_pq - f_pq; pairs with f = 0 are "free".

The lower bound on R is the largest of three relaxations, each a minimum over a set of
(m_pq) that contains the meeting counts of every rule-keeping schedule:

1. *Pairs, capped.* The planned rounds hold M = sum of C(s, 2) over their groups meetings;
   minus the forced ones, they are the y: water-filling from h + f, at most cap - f each.
2. *Pairs that never meet.* Person p has e_p free partners but at most
   D_p = sum over rounds present of (largest size - 1 - forced partners that round) distinct
   free partners, so at least u_p = e_p - D_p free pairs at p get y = 0. A graph in which p has
   degree >= u_p has at least sum(u) - nu edges, nu = edges counted at both ends, and
   nu <= floor(1/2 sum_p min(u_p, #{q: u_q > 0, pq free})). With at least k such pairs at 0,
   the cheapest spread (caps dropped and the k chosen among all pairs with room, which only
   lowers it) leaves out the k pairs of highest h + f: exchanging an excluded pair of lower
   h + f with an included one never raises the cost, since marginals grow with h + f.
3. *People.* R = 1/2 sum_p C_p with C_p = sum_q C(m_pq, 2). Person p spends
   d_p = sum over rounds of (own group size - 1) partner slots: sum_q f_pq of them forced, the
   rest are p's y (at most cap - f per partner), so C_p >= g_p(d_p), the water-filled row
   (convex and non-decreasing in d_p). In round r everyone present has at
   least (smallest size - 1) slots, at most (largest - smallest) more, and the extras add up
   to sum s(s-1) - present * (smallest - 1). Relaxing to "each extra <= its rounds' spread, and
   the total over people and rounds fixed" leaves a separable convex problem over people,
   solved by taking the cheapest marginal increments of the g_p. Halve, round up.

Every relaxation is a minimum over a superset of the real meeting counts, so it is <= R of
every schedule; their maximum, rounded up (R is an integer), is the bound. Tests check it
against exhaustive optima of tiny problems.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Layout = tuple[Sequence[int], Sequence[int]]  # (present person indices, group sizes)


class _Marginals:
    """The sorted marginals h_q + j (0 <= j < cap_q) of a set of pairs, as a histogram.

    `total(a)` is the sum of the a smallest (None when fewer than a exist): the least extra R
    of adding a meetings to these pairs.
    """

    def __init__(self, h: IntArray, cap: IntArray) -> None:
        keep = cap > 0
        h, cap = h[keep], cap[keep]
        self.size = int(cap.sum())
        top = int((h + cap).max(initial=0))
        diff = np.zeros(top + 2, dtype=np.int64)
        np.add.at(diff, h, 1)
        np.add.at(diff, h + cap, -1)
        count = np.cumsum(diff)[: top + 1]
        values = np.arange(top + 1, dtype=np.int64)
        self.values = values
        self.cum_count = np.cumsum(count)
        self.cum_sum = np.cumsum(count * values)

    def total(self, a: int) -> int | None:
        if a <= 0:
            return 0
        if a > self.size:
            return None
        i = int(np.searchsorted(self.cum_count, a))  # first level where the count reaches a
        before_count = int(self.cum_count[i - 1]) if i else 0
        before_sum = int(self.cum_sum[i - 1]) if i else 0
        return before_sum + (a - before_count) * int(self.values[i])


def _choose2(x: IntArray) -> int:
    return int((x * (x - 1) // 2).sum())


def meeting_caps(n: int, layouts: Sequence[Layout], apart: BoolMatrix) -> IntArray:
    """How many planned rounds each pair could share a group in (0 when kept apart)."""
    cap = np.zeros((n, n), dtype=np.int64)
    for present, sizes in layouts:
        if len(sizes) and max(sizes) > 1:
            here = np.zeros(n, dtype=np.int64)
            here[np.asarray(present, dtype=np.int64)] = 1
            cap += np.outer(here, here)
    np.fill_diagonal(cap, 0)
    cap[apart] = 0
    return cap


def eligible_pairs(n: int, layouts: Sequence[Layout], apart: BoolMatrix) -> BoolMatrix:
    """Pairs that can meet in some planned round: both present then, and not kept apart."""
    eligible: BoolMatrix = meeting_caps(n, layouts, apart) > 0
    return eligible


def _planned_meetings(layouts: Sequence[Layout]) -> int:
    return sum(sum(s * (s - 1) // 2 for s in sizes) for _, sizes in layouts)


def _components(linked: BoolMatrix, here: BoolMatrix) -> BoolMatrix:
    """Pairs of present people joined by a chain of `linked` pairs through present people."""
    n = linked.shape[0]
    root = np.arange(n)

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = int(root[x])
        return x

    for a, b in np.argwhere(np.triu(linked & np.outer(here, here), 1)):
        root[find(int(a))] = find(int(b))
    label = np.array([find(x) for x in range(n)])
    out: BoolMatrix = (label[:, None] == label[None, :]) & np.outer(here, here)
    np.fill_diagonal(out, False)
    return out


def repeats_lower_bound(
    history: FloatMatrix,
    layouts: Sequence[Layout],
    apart: BoolMatrix,
    together: BoolMatrix | None = None,
) -> int:
    """A proven lower bound on R = sum over pairs of C(m, 2), history and planned meetings.

    `apart` holds every pair that may never share a group (keep-apart rules, and two
    facilitators when at most one is allowed per group); `together` the pairs of a common
    keep-together list: in each round, people linked by a chain of such pairs through people
    present share a group. See the module docstring for the argument.
    """
    n = history.shape[0]
    if n < 2:
        return 0
    h = np.rint(history).astype(np.int64)
    np.fill_diagonal(h, 0)
    cap = meeting_caps(n, layouts, apart)
    linked = np.zeros((n, n), dtype=bool) if together is None else together.astype(bool)
    # forced[p, q]: rounds in which p and q must share a group (linked through people present).
    forced = np.zeros((n, n), dtype=np.int64)
    slots_max = np.zeros(n, dtype=np.int64)
    slots_min = np.zeros(n, dtype=np.int64)
    spread = np.zeros(n, dtype=np.int64)
    extra_total = 0
    for present, sizes in layouts:
        if not len(sizes):
            continue
        idx = np.asarray(present, dtype=np.int64)
        here = np.zeros(n, dtype=bool)
        here[idx] = True
        block = _components(linked, here) if linked.any() else np.zeros((n, n), dtype=bool)
        forced += block
        partners = block.sum(axis=1)
        small, large = min(sizes), max(sizes)
        slots_max[idx] += np.maximum(large - 1 - partners[idx], 0)
        slots_min[idx] += small - 1
        spread[idx] += large - small
        extra_total += sum(s * (s - 1) for s in sizes) - len(idx) * (small - 1)
    forced = np.minimum(forced, cap)
    # Each pair ends at base + y with 0 <= y <= room: base = history + forced meetings.
    base = h + forced
    room = cap - forced
    iu = np.triu_indices(n, 1)
    base_u, room_u = base[iu], room[iu]
    add = _planned_meetings(layouts) - int(forced[iu].sum())
    fixed_cost = _choose2(base_u)

    bounds = [float(fixed_cost)]
    # 1. Pairs, capped.
    extra = _Marginals(base_u, room_u).total(add)
    if extra is not None:  # (None: more meetings than the caps allow, no schedule fits)
        bounds.append(fixed_cost + extra)

    # 2. Pairs that never meet: free pairs (no forced meeting) with room.
    free = (forced == 0) & (room > 0)
    e = free.sum(axis=1)
    u = np.maximum(e - slots_max, 0)
    if u.any():
        demanding = u > 0
        neighbours = (free & demanding[None, :]).sum(axis=1)
        nu = int(np.minimum(u, neighbours)[demanding].sum()) // 2
        unmet = max(int(u.sum()) - nu, int(u.max()))
        open_u = room_u > 0
        h_open = np.sort(base_u[open_u])
        if unmet <= h_open.size:
            kept = h_open[: h_open.size - unmet]
            spread_out = _Marginals(kept, np.full_like(kept, max(add, 0))).total(add)
            if spread_out is not None:
                bounds.append(fixed_cost + spread_out)

    # 3. People.
    person = _person_bound(base, room, slots_min, spread, forced.sum(axis=1), extra_total)
    if person is not None:
        bounds.append(person)
    return int(np.ceil(max(bounds) - 1e-9))


def _person_bound(
    base: IntArray,
    room: IntArray,
    slots_min: IntArray,
    spread: IntArray,
    forced_slots: IntArray,
    extra_total: int,
) -> float | None:
    """Relaxation 3 of the module docstring, or None when the layouts allow no schedule."""
    n = base.shape[0]
    total = 0
    increments: list[IntArray] = []
    for p in range(n):
        row_base = base[p].copy()
        row_base[p] = 0
        total += _choose2(row_base)
        open_q = room[p] > 0
        open_q[p] = False
        row = _Marginals(row_base[open_q], room[p][open_q])
        costs = []
        low = int(slots_min[p])
        for d in range(low, low + int(spread[p]) + 1):
            cost = row.total(max(d - int(forced_slots[p]), 0))
            if cost is None:
                break
            costs.append(cost)
        if not costs:
            return None
        total += costs[0]
        steps = np.asarray(costs[1:], dtype=np.int64) - np.asarray(costs[:-1], dtype=np.int64)
        increments.append(steps)
    pool = np.concatenate(increments) if increments else np.zeros(0, dtype=np.int64)
    if extra_total > pool.size:
        return None
    if extra_total > 0:
        total += int(np.partition(pool, extra_total - 1)[:extra_total].sum())
    return total / 2


def pair_upper_bound(history: FloatMatrix, layouts: Sequence[Layout], apart: BoolMatrix) -> int:
    """An upper bound on the pairs that have met at least once after the planned rounds."""
    n = history.shape[0]
    if n < 2:
        return 0
    eligible = eligible_pairs(n, layouts, apart)
    met = history > 0
    fresh = eligible & ~met
    meetings = _planned_meetings(layouts)
    global_bound = int(np.triu(met, 1).sum()) + min(meetings, int(np.triu(fresh, 1).sum()))
    partners = np.zeros(n, dtype=np.int64)
    for present, sizes in layouts:
        if len(sizes):
            partners[np.asarray(present, dtype=np.int64)] += max(sizes) - 1
    per_person = met.sum(axis=1) + np.minimum(partners, fresh.sum(axis=1))
    return int(min(global_bound, int(per_person.sum()) // 2))
