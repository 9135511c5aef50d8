"""Exact construction of one round in which nobody meets anyone they may not meet.

A depth-first search over bitsets (Python ints) with a node limit: each group starts with the
unit that has the fewest compatible partners left (fail first), then grows by compatible units
in random order until it has a size still to be filled. Units are people, or keep-together
blocks that move as one. For social-golfer shapes this finds a repeat-free round far faster
than swaps do, so the search builds its starts round by round with it (a repeat-free
continuation often exists) and falls back to the greedy where it fails.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """People who must share a group this round (one person, or a keep-together block)."""

    members: tuple[int, ...]
    #: Bitset of the members.
    mask: int
    #: Fixed group index, if any member is fixed.
    label: int | None
    #: Does the unit hold a facilitator?
    chair: bool


def bits(mask: int) -> list[int]:
    """The positions of the set bits, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class NodeLimit(Exception):
    """The search used its node budget."""


def repeat_free_round(
    units: Sequence[Unit],
    forbidden: Sequence[int],
    sizes: Sequence[int],
    need_chair: bool,
    rng: random.Random,
    node_limit: int,
) -> tuple[list[list[int]] | None, int]:
    """Groups (lists of people, index = group label) with no forbidden pair, or None; nodes used.

    `forbidden[p]` is the bitset of people p may not share a group with. Every group holds a
    facilitator when `need_chair`. Fixed labels are honoured; the sizes are a multiset that the
    groups take in any order.
    """
    count = len(units)
    unit_forbid = [0] * count
    for u, unit in enumerate(units):
        f = 0
        for p in unit.members:
            f |= forbidden[p]
        unit_forbid[u] = f
    # compatible[u]: bitset over units that may share a group with u.
    compatible = [0] * count
    for u in range(count):
        c = 0
        for v in range(count):
            if v != u and not (unit_forbid[u] & units[v].mask):
                lu, lv = units[u].label, units[v].label
                if lu is None or lv is None or lu == lv:
                    c |= 1 << v
        compatible[u] = c
    size_of = [len(unit.members) for unit in units]
    chair_units = 0
    for u, unit in enumerate(units):
        if unit.chair:
            chair_units |= 1 << u
    remaining_sizes = sorted(sizes, reverse=True)
    groups: list[list[int]] = []
    nodes = 0

    def tick() -> None:
        nonlocal nodes
        nodes += 1
        if nodes > node_limit:
            raise NodeLimit

    def fill(left: int, open_sizes: list[int]) -> bool:
        if not left:
            return not open_sizes
        tick()
        pool = left & chair_units if need_chair else left
        if not pool:
            return False
        # Fail first: the unit with the fewest compatible units still unplaced.
        leader = min(bits(pool), key=lambda u: ((compatible[u] & left).bit_count(), u))
        rest = left & ~(1 << leader)
        tried: set[int] = set()
        for k, size in enumerate(open_sizes):
            if size in tried or size < size_of[leader]:
                continue
            tried.add(size)
            others = open_sizes[:k] + open_sizes[k + 1 :]
            if grow([leader], size - size_of[leader], compatible[leader] & rest, rest, others):
                return True
        return False

    def grow(group: list[int], need: int, cand: int, left: int, open_sizes: list[int]) -> bool:
        if need == 0:
            groups.append(group.copy())
            if fill(left, open_sizes):
                return True
            groups.pop()
            return False
        options = [u for u in bits(cand) if size_of[u] <= need]
        rng.shuffle(options)
        for i, u in enumerate(options):
            tick()
            # Later options only, so that each set of units is tried once.
            later = 0
            for v in options[i + 1 :]:
                later |= 1 << v
            group.append(u)
            if grow(group, need - size_of[u], later & compatible[u], left & ~(1 << u), open_sizes):
                return True
            group.pop()
        return False

    try:
        found = fill((1 << count) - 1, remaining_sizes)
    except NodeLimit:
        found = False
    if not found:
        return None, nodes
    return _label(groups, units, len(sizes)), nodes


def _label(groups: list[list[int]], units: Sequence[Unit], k: int) -> list[list[int]]:
    """Put each group at its fixed label if it has one, the others in the free slots."""
    out: list[list[int] | None] = [None] * k
    free: list[list[int]] = []
    for group in groups:
        people = sorted(p for u in group for p in units[u].members)
        labels = {units[u].label for u in group} - {None}
        if labels:
            (label,) = labels  # compatible units never carry two labels
            assert label is not None
            out[label] = people
        else:
            free.append(people)
    for g in range(k):
        if out[g] is None:
            out[g] = free.pop()
    return [group for group in out if group is not None]
