"""Cheap proven bounds: a lower bound on repeats R and an upper bound on distinct pairs.

Both depend only on the group sizes of each round, who is present, and the history, so they
hold for every schedule with those sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]
Layout = tuple[Sequence[int], Sequence[int]]  # (present person indices, group sizes)


def _level(start: npt.NDArray[np.float64], add: int) -> float:
    """min sum C(start_i + x_i, 2) over integers x >= 0 with sum x = add (water-filling).

    Adding a meeting to a pair that met c times costs c, so meetings go to the least-met
    pairs first; by convexity the levelled spread is optimal.
    """
    base = float((start * (start - 1) / 2).sum())
    if add <= 0 or start.size == 0:
        return base
    s = np.sort(start)
    # Largest level L such that lifting every pair below L up to L needs at most `add`.
    low, high = int(s[0]), int(s[0]) + add + 1
    while high - low > 1:
        mid = (low + high) // 2
        need = float(np.maximum(mid - s, 0).sum())
        if need <= add:
            low = mid
        else:
            high = mid
    lifted = np.maximum(s, low)
    rest = add - int(np.maximum(low - s, 0).sum())
    # The remaining meetings each lift a pair at exactly `low` (cost `low` apiece).
    return float((lifted * (lifted - 1) / 2).sum()) + rest * low


def eligible_pairs(n: int, layouts: Sequence[Layout], apart: BoolMatrix) -> BoolMatrix:
    """Pairs that can meet in some planned round: both present then, and not kept apart."""
    together = np.zeros((n, n), dtype=bool)
    for present, sizes in layouts:
        if len(sizes) and max(sizes) > 1:
            idx = np.asarray(present, dtype=np.int64)
            together[np.ix_(idx, idx)] = True
    np.fill_diagonal(together, False)
    return together & ~apart


def forced_meetings(n: int, layouts: Sequence[Layout], together: BoolMatrix) -> FloatMatrix:
    """Meetings that keep-together rules force: one per round in which both are present."""
    forced = np.zeros((n, n))
    for present, sizes in layouts:
        if len(sizes):
            here = np.zeros(n, dtype=bool)
            here[np.asarray(present, dtype=np.int64)] = True
            forced += together & np.outer(here, here)
    np.fill_diagonal(forced, 0.0)
    return forced


def repeats_lower_bound(
    history: FloatMatrix,
    layouts: Sequence[Layout],
    apart: BoolMatrix,
    together: BoolMatrix | None = None,
) -> int:
    """A lower bound on R = sum over pairs of C(m, 2), m counting history and planned meetings.

    The max of two relaxations: all planned pair-meetings spread evenly over the eligible
    pairs, and per person their planned partners spread evenly over the others (halved).
    Meetings forced by keep-together rules are counted first.
    """
    n = history.shape[0]
    if n < 2:
        return 0
    eligible = eligible_pairs(n, layouts, apart)
    iu = np.triu_indices(n, 1)
    forced = forced_meetings(n, layouts, together) if together is not None else np.zeros((n, n))
    history = history + forced
    h = history[iu]
    can = eligible[iu]
    meetings = sum(sum(s * (s - 1) // 2 for s in sizes) for _, sizes in layouts)
    meetings -= int(forced[iu].sum())
    fixed_part = float((h[~can] * (h[~can] - 1) / 2).sum())
    global_bound = fixed_part + _level(h[can], meetings)

    partners = np.zeros(n, dtype=np.int64)
    for present, sizes in layouts:
        if len(sizes):
            # Each present person meets at least (smallest group size - 1) others.
            partners[np.asarray(present, dtype=np.int64)] += min(sizes) - 1
    partners -= forced.sum(axis=1).astype(np.int64)
    partners = np.maximum(partners, 0)
    per_person = 0.0
    for p in range(n):
        row = history[p].copy()
        row[p] = 0
        mask = eligible[p]
        fixed_row = np.delete(row, p)[~np.delete(mask, p)]
        per_person += float((fixed_row * (fixed_row - 1) / 2).sum())
        per_person += _level(row[mask], int(partners[p]))
    person_bound = per_person / 2
    return int(np.ceil(max(global_bound, person_bound) - 1e-9))


def pair_upper_bound(history: FloatMatrix, layouts: Sequence[Layout], apart: BoolMatrix) -> int:
    """An upper bound on the pairs that have met at least once after the planned rounds."""
    n = history.shape[0]
    if n < 2:
        return 0
    eligible = eligible_pairs(n, layouts, apart)
    met = history > 0
    fresh = eligible & ~met
    meetings = sum(sum(s * (s - 1) // 2 for s in sizes) for _, sizes in layouts)
    global_bound = int(np.triu(met, 1).sum()) + min(meetings, int(np.triu(fresh, 1).sum()))
    partners = np.zeros(n, dtype=np.int64)
    for present, sizes in layouts:
        if len(sizes):
            partners[np.asarray(present, dtype=np.int64)] += max(sizes) - 1
    per_person = met.sum(axis=1) + np.minimum(partners, fresh.sum(axis=1))
    return int(min(global_bound, int(per_person.sum()) // 2))
