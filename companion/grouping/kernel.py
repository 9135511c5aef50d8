"""The compiled inner loops of the searches (numba): `tabu_steps` for schedules (swaps and moves
within a round), `mdgp_steps` for Maximally Diverse Grouping (swaps and moves between groups).

`ScheduleSearch` (`schedule_search.py`) keeps the state in arrays (group per round and person,
meeting counts, members per group) and calls `tabu_steps`, which runs iterations, keeping a copy
of the best schedule it meets, until one may be optimal (R at its bound), a stall, or the end of
its work allowance, and says which. Everything that is not per-iteration (constructions,
restarts, exact costs, optimality) stays in Python; `solve_weighted` uses `mdgp_steps` the same
way. `warmup.py` compiles both ahead of the first search.

Long because the compiled functions stay together in this one file on purpose: numba caches
each one next to the file that defines it and checks only that file for changes, so a helper
such as `_below` moved to another module could change without its callers being recompiled
(numba's documented cache limitation), and stale machine code would run.

One iteration, as Dotu & Van Hentenryck's tabu search for the social golfer problem:
- focus: the people whose group holds a repeated pair, a pair kept apart, a split keep-together
  block or (with "at least one facilitator") no facilitator; everyone movable when none do;
- evaluate every swap of a focus person with someone in another group of the same round,
  incrementally: the cost of a leaving their group and joining the other one from the meeting
  counts (`add_level`, `rem_level`) and the fixed pair terms (`pair_cost`: diversity and the
  penalties of hard rules), plus the facilitator-count penalty;
- with `relocate`, also every move of a focus person alone to a group of the round that is one
  smaller than theirs. The round keeps its group sizes (one group of each size before and
  after); only which group is the larger changes. Swaps alone cannot do that in one step: with
  groups of 5 and 4, handing one person of the 5 to the 4 takes four swaps;
- take the best move that is not tabu (or that beats the best schedule: aspiration), ties
  broken at random; then, for a random tenure, forbid swapping the two back (`TABU_PAIR`) or
  moving either of them again in that round (`TABU_PERSON`); a relocated person may not be
  relocated again in that round (nor, with `TABU_PERSON`, swapped) for the tenure; unless the
  move beats the best.

The leaving costs and conflict flags are kept up to date rather than recomputed: a swap changes
only pairs that hold one of the two people, so only the groups holding one of them, in each
round, are refreshed (`_refresh`). The cost of someone joining a focus person's group is
computed once per group and iteration (`joiners`), however many of its members are in focus,
so each candidate swap costs a constant number of lookups.

Offers and needs (`needs.py`), when a problem has them: each person's count of helpers met
(`helped`, kept in step with the meeting counts) and, per iteration and as needed, what each
person's leaving (`_needs_round`) and joining (per group, like `joiners`) does to those
counts. A candidate's change of the needs term then costs a few lookups and is exact:
the one case where leaving and joining interact (someone's only helper leaves their group
while a new helper joins it) is counted from the people who depend on a single helper, who are
few. Without needs (`needs` holds empty arrays) none of this runs.

Work is counted in candidate moves evaluated plus a fixed cost per iteration, so the same
problem and seed give the same answer whatever the machine's speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit as numba_njit

Array = npt.NDArray[Any]
F = TypeVar("F", bound=Callable[..., Any])


def njit(function: F) -> F:
    """numba's `njit(cache=True)` (compiled once, then loaded from the cache), keeping the
    function's own type for mypy."""
    return cast(F, numba_njit(cache=True, nogil=True)(function))


#: Work units per iteration besides the candidates evaluated (the focus scan, the swap).
ITERATION_WORK = 60
#: Extra work units per candidate evaluated when the needs term is on (it is slower).
NEEDS_WORK = 1
EPS = 1e-9

#: `tabu_steps` results.
IMPROVED, STALLED, OUT_OF_WORK = 1, 2, 3

#: What a swap of a and b in round w makes tabu for its tenure: swapping the two back, or
#: moving either of them again in that round (stronger: the search must move others).
TABU_PAIR, TABU_PERSON = 0, 1


@njit
def _next(rng: Array) -> int:
    """xorshift64*: the next pseudo-random 64-bit number (state in rng[0])."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return x * np.uint64(2685821657736338717)  # type: ignore[no-any-return]


@njit
def _below(rng: Array, n: int) -> int:
    """A pseudo-random integer in [0, n)."""
    return int((_next(rng) >> np.uint64(11)) % np.uint64(n))


@njit
def _refresh(w: int, c: int, need_one: bool, arrays: tuple[Array, ...]) -> None:
    """Leaving cost and conflict flag of every member of column c (round w); `arrays` holds
    (gmem, gcnt, m, rem_level, pair_cost, tog, hard, tog_need, chairs, leave, bad) as
    `tabu_steps` names them, leave and bad being written."""
    gmem, gcnt, m, rem_level, pair_cost, tog, hard, tog_need, chairs, leave, bad = arrays
    size = gcnt[c]
    for i in range(size):
        a = gmem[c, i]
        total = 0.0
        conflict = False
        partners = 0
        for j in range(size):
            x = gmem[c, j]
            if x == a:
                continue
            total += rem_level[m[a, x]] - pair_cost[a, x]
            if tog[a, x]:
                partners += 1
            elif m[a, x] >= 2:
                conflict = True
            if hard[a, x]:
                conflict = True
        leave[w, a] = total
        if partners < tog_need[w, a]:
            conflict = True
        if need_one and chairs[c] == 0:
            conflict = True
        bad[w, a] = conflict


@njit
def _meet(a: int, x: int, step: int, m: Array, match: Array, helped: Array) -> None:
    """a and x meet once more (step 1) or once less (-1); the helper counts follow."""
    m[a, x] += step
    m[x, a] += step
    if match.shape[0] > 0 and m[a, x] == (1 if step > 0 else 0):
        if match[x, a]:
            helped[a] += step
        if match[a, x]:
            helped[x] += step


@njit
def _relocate(
    w: int,
    a: int,
    c: int,
    idx: Array,
    pos: Array,
    fac: Array,
    need_one: bool,
    state: Array,
    arrays: tuple[Array, ...],
    match: Array,
    helped: Array,
) -> None:
    """Move a (round w) to column c, updating meeting counts (and helper counts), R
    (state[3]), the group lists and the leaving costs and conflict flags of every group that
    holds a, and a's old one (`arrays` as for `_refresh`)."""
    gmem, gcnt, m, chairs = arrays[0], arrays[1], arrays[2], arrays[8]
    ca = idx[w, a]
    repeats = 0
    for i in range(gcnt[ca]):
        x = gmem[ca, i]
        if x != a:
            repeats -= m[a, x] - 1
            _meet(a, x, -1, m, match, helped)
    for j in range(gcnt[c]):
        y = gmem[c, j]
        repeats += m[a, y]
        _meet(a, y, 1, m, match, helped)
    state[3] += repeats
    place = pos[w, a]
    last = gmem[ca, gcnt[ca] - 1]
    gmem[ca, place] = last
    pos[w, last] = place
    gcnt[ca] -= 1
    gmem[c, gcnt[c]] = a
    pos[w, a] = gcnt[c]
    gcnt[c] += 1
    idx[w, a] = c
    if need_one:
        chairs[ca] -= fac[a]
        chairs[c] += fac[a]
    _refresh(w, ca, need_one, arrays)
    for v in range(idx.shape[0]):
        _refresh(v, idx[v, a], need_one, arrays)


@njit
def _needs_round(
    w: int,
    offset: Array,
    ncols: Array,
    gmem: Array,
    gcnt: Array,
    m: Array,
    match: Array,
    helped: Array,
    weights: Array,
    lost: Array,
    out: Array,
    single: Array,
) -> None:
    """What each person of round w leaving their group does to the needs term: the helpers
    they stop meeting (`lost`), the value the others lose by it (`out`, negative), and how many
    of the others lose their only helper (`single`)."""
    pair_w, cover_w = weights[0], weights[1]
    for c in range(offset[w], offset[w] + ncols[w]):
        size = gcnt[c]
        for i in range(size):
            a = gmem[c, i]
            n_lost = 0
            value = 0.0
            n_single = 0
            for j in range(size):
                x = gmem[c, j]
                if x == a or m[a, x] != 1:
                    continue
                if match[x, a]:
                    n_lost += 1
                if match[a, x]:
                    value -= pair_w
                    if helped[x] == 1:
                        value -= cover_w
                        n_single += 1
            lost[w, a] = n_lost
            out[w, a] = value
            single[w, a] = n_single


@njit
def _needs_wanted(match: Array, helped: Array, wanted: Array) -> None:
    """wanted[p]: p looks for something someone offers and has met none of them, or p can
    help such a person."""
    n = match.shape[0]
    wanted[:] = False
    for p in range(n):
        if helped[p] > 0:
            continue
        for h in range(n):
            if match[h, p]:
                wanted[p] = True
                wanted[h] = True


@njit
def _needs_gain(count: int, change: int, pair_w: float, cover_w: float) -> float:
    """How much the needs term gains when someone with `count` helpers met gets `change` more
    (scalars only: a compiled call that passes arrays costs more than this work)."""
    after = count + change
    gain = pair_w * change
    if count == 0 and after > 0:
        gain += cover_w
    elif count > 0 and after == 0:
        gain -= cover_w
    return gain


@njit
def tabu_steps(
    idx: Array,
    gmem: Array,
    gcnt: Array,
    pos: Array,
    m: Array,
    tabu: Array,
    movable: Array,
    offset: Array,
    ncols: Array,
    pair_cost: Array,
    add_level: Array,
    rem_level: Array,
    hard: Array,
    tog: Array,
    tog_need: Array,
    fac: Array,
    need_one: bool,
    chairs: Array,
    big: float,
    tenure_low: int,
    tenure_high: int,
    tabu_kind: int,
    relocate: bool,
    needs: tuple[Array, Array, Array],
    rng: Array,
    state: Array,
    costs: Array,
    best_idx: Array,
    repeats_bound: int,
    stall: int,
    work_allowed: int,
    iteration_limit: int,
) -> int:
    """Run iterations in place; returns IMPROVED, STALLED or OUT_OF_WORK.

    state = [iteration, iteration of the last best, work done, R now, work done at the last
    best] (int64, updated); costs = [current cost, best cost] (float64, updated). A schedule
    better than the best is copied to `best_idx`; the call returns IMPROVED only when its R
    meets `repeats_bound` (it may then be optimal, which the caller decides). `needs` =
    (match, helped, weights): match[h, p] when h offers what p looks for, each person's count
    of helpers met (updated) and the weights [per helper met, per person with one]; empty
    arrays when the problem has no needs.
    """
    n_rounds, n = idx.shape
    n_cols = gcnt.shape[0]
    leave = np.zeros((n_rounds, n))
    bad = np.zeros((n_rounds, n), dtype=np.bool_)
    focus_w = np.empty(n_rounds * n, dtype=np.int64)
    focus_a = np.empty(n_rounds * n, dtype=np.int64)
    join_cols = np.zeros(n_cols)
    # joiners[c, b]: the cost of b joining column c as it is; valid when stamp[c] == iteration.
    joiners = np.zeros((n_cols, n))
    stamp = np.zeros(n_cols, dtype=np.int64)
    columns = (gmem, gcnt, m, rem_level, pair_cost, tog, hard, tog_need, chairs, leave, bad)
    match, helped, need_weights = needs
    needs_on = match.shape[0] > 0
    # The needs caches (see the module docstring), sized 0 when there are none.
    nw = n_rounds if needs_on else 0
    nn = n if needs_on else 0
    nc = n_cols if needs_on else 0
    need_lost = np.zeros((nw, nn), dtype=np.int64)
    need_out = np.zeros((nw, nn))
    need_single = np.zeros((nw, nn), dtype=np.int64)
    need_stamp = np.zeros(nw, dtype=np.int64)
    gain_cols = np.zeros(nc, dtype=np.int64)
    value_cols = np.zeros(nc)
    gain_joiners = np.zeros((nc, nn), dtype=np.int64)
    value_joiners = np.zeros((nc, nn))
    wanted = np.zeros(nn, dtype=np.bool_)
    pair_w = need_weights[0] if needs_on else 0.0
    cover_w = need_weights[1] if needs_on else 0.0
    for w in range(n_rounds):
        for c in range(offset[w], offset[w] + ncols[w]):
            _refresh(w, c, need_one, columns)
    work_start = state[2]
    while state[2] - work_start < work_allowed and state[0] < iteration_limit:
        state[0] += 1
        it = state[0]
        state[2] += ITERATION_WORK
        # The focus: people in conflict (see the module docstring), else everyone movable.
        nf = 0
        for w in range(n_rounds):
            for a in range(n):
                if bad[w, a] and movable[w, a]:
                    focus_w[nf] = w
                    focus_a[nf] = a
                    nf += 1
        if nf == 0:
            for w in range(n_rounds):
                for c in range(offset[w], offset[w] + ncols[w]):
                    for i in range(gcnt[c]):
                        a = gmem[c, i]
                        if movable[w, a]:
                            focus_w[nf] = w
                            focus_a[nf] = a
                            nf += 1
        elif needs_on:
            # Also the people whose need no helper met yet, and their possible helpers: the
            # moves that can cover a need are theirs.
            _needs_wanted(match, helped, wanted)
            for w in range(n_rounds):
                for a in range(n):
                    if wanted[a] and movable[w, a] and not bad[w, a]:
                        focus_w[nf] = w
                        focus_a[nf] = a
                        nf += 1
        aspire = costs[1] - costs[0] - EPS
        best_delta = np.inf
        ties = 0
        pick_w = -1
        pick_a = -1
        pick_b = -1
        pick_c = -1
        evaluated = 0
        for f in range(nf):
            w = focus_w[f]
            a = focus_a[f]
            ca = idx[w, a]
            # The cost of a joining each other group of the round (all of it).
            for c in range(offset[w], offset[w] + ncols[w]):
                total = 0.0
                if c != ca:
                    for j in range(gcnt[c]):
                        y = gmem[c, j]
                        total += add_level[m[a, y]] + pair_cost[a, y]
                join_cols[c] = total
            if needs_on:
                if need_stamp[w] != it:
                    need_stamp[w] = it
                    _needs_round(
                        w, offset, ncols, gmem, gcnt, m, match, helped, need_weights,
                        need_lost, need_out, need_single,
                    )  # fmt: skip
                # What a joining each other group does to the needs: helpers a gains, and
                # the value the group's members gain.
                for c in range(offset[w], offset[w] + ncols[w]):
                    gained = 0
                    value = 0.0
                    if c != ca:
                        for j in range(gcnt[c]):
                            y = gmem[c, j]
                            if m[a, y] == 0:
                                if match[y, a]:
                                    gained += 1
                                if match[a, y]:
                                    value += pair_w
                                    if helped[y] == 0:
                                        value += cover_w
                    gain_cols[c] = gained
                    value_cols[c] = value
            if stamp[ca] != it:
                # The cost of each person of the round joining a's group (a included).
                stamp[ca] = it
                for c in range(offset[w], offset[w] + ncols[w]):
                    if c == ca:
                        continue
                    for j in range(gcnt[c]):
                        b = gmem[c, j]
                        total = 0.0
                        for i in range(gcnt[ca]):
                            x = gmem[ca, i]
                            total += add_level[m[b, x]] + pair_cost[b, x]
                        joiners[ca, b] = total
                if needs_on:  # the same for the needs
                    for c in range(offset[w], offset[w] + ncols[w]):
                        if c == ca:
                            continue
                        for j in range(gcnt[c]):
                            b = gmem[c, j]
                            gained = 0
                            value = 0.0
                            for i in range(gcnt[ca]):
                                x = gmem[ca, i]
                                if m[b, x] == 0:
                                    if match[x, b]:
                                        gained += 1
                                    if match[b, x]:
                                        value += pair_w
                                        if helped[x] == 0:
                                            value += cover_w
                            gain_joiners[ca, b] = gained
                            value_joiners[ca, b] = value
            fa = chairs[ca]
            size_a = gcnt[ca]
            for c in range(offset[w], offset[w] + ncols[w]):
                if c == ca:
                    continue
                fb = chairs[c]
                # j = -1: move a alone to c, when c is one smaller (the round keeps its group
                # sizes, only which group has which size changes); then swaps with c's members.
                for j in range(-1, gcnt[c]):
                    if j < 0:
                        if not (relocate and gcnt[c] + 1 == size_a):
                            continue
                        b = -1
                        delta = leave[w, a] + join_cols[c]
                        d = -fac[a]
                        forbidden = tabu[w, a, a] > it
                    else:
                        b = gmem[c, j]
                        if not movable[w, b]:
                            continue
                        delta = leave[w, a] + leave[w, b] + join_cols[c] + joiners[ca, b]
                        delta -= 2.0 * (add_level[m[a, b]] + pair_cost[a, b])
                        d = fac[b] - fac[a]
                        if tabu_kind == TABU_PERSON:
                            forbidden = tabu[w, a, a] > it or tabu[w, b, b] > it
                        else:
                            forbidden = tabu[w, a, b] > it
                    if needs_on:
                        # The exact gain of the needs term (see the module docstring), written
                        # out here: as a compiled helper taking the caches, the call alone
                        # (numba passes each array with its reference count) made the search
                        # with needs several times slower per candidate.
                        ha = helped[a]
                        if b < 0:
                            gain = need_out[w, a] + value_cols[c]
                            gain += _needs_gain(ha, gain_cols[c] - need_lost[w, a], pair_w, cover_w)
                        else:
                            hb = helped[b]
                            gained_a = gain_cols[c]
                            gained_b = gain_joiners[ca, b]
                            gain = need_out[w, a] + need_out[w, b] + value_cols[c]
                            gain += value_joiners[ca, b]
                            if m[a, b] == 0:
                                # The joining caches counted a and b meeting; a swap does not.
                                if match[b, a]:
                                    gained_a -= 1
                                    gain -= pair_w + (cover_w if ha == 0 else 0.0)
                                if match[a, b]:
                                    gained_b -= 1
                                    gain -= pair_w + (cover_w if hb == 0 else 0.0)
                            gain += _needs_gain(ha, gained_a - need_lost[w, a], pair_w, cover_w)
                            gain += _needs_gain(hb, gained_b - need_lost[w, b], pair_w, cover_w)
                            # Someone whose only helper leaves keeps one if the newcomer helps.
                            if need_single[w, a] > 0:
                                for i in range(size_a):
                                    x = gmem[ca, i]
                                    alone = x != a and helped[x] == 1 and m[a, x] == 1
                                    if alone and match[a, x] and match[b, x] and m[b, x] == 0:
                                        gain += cover_w
                            if need_single[w, b] > 0:
                                for i in range(gcnt[c]):
                                    y = gmem[c, i]
                                    alone = y != b and helped[y] == 1 and m[b, y] == 1
                                    if alone and match[b, y] and match[a, y] and m[a, y] == 0:
                                        gain += cover_w
                        delta -= gain
                    evaluated += 1
                    if need_one:  # a's group gains d facilitators, c's loses them
                        change = 0
                        if fa + d == 0:
                            change += 1
                        if fa == 0:
                            change -= 1
                        if fb - d == 0:
                            change += 1
                        if fb == 0:
                            change -= 1
                        delta += big * change
                    if forbidden and not delta < aspire:
                        continue
                    if delta < best_delta - EPS:
                        best_delta = delta
                        ties = 1
                        pick_w, pick_a, pick_b, pick_c = w, a, b, c
                    elif delta <= best_delta + EPS:
                        ties += 1
                        if _below(rng, ties) == 0:
                            pick_w, pick_a, pick_b, pick_c = w, a, b, c
        state[2] += evaluated
        if needs_on:
            state[2] += NEEDS_WORK * evaluated
        if pick_w < 0:
            continue
        if pick_b < 0:
            _relocate(
                pick_w, pick_a, pick_c, idx, pos, fac, need_one, state, columns, match, helped
            )
            tabu[pick_w, pick_a, pick_a] = it + tenure_low + _below(rng, tenure_high - tenure_low)
        else:
            # Apply the swap.
            w, a, b = pick_w, pick_a, pick_b
            ca = idx[w, a]
            cb = idx[w, b]
            # The two loops mirror each other; written out rather than as a compiled helper, which
            # made the whole search about a third slower (numba passes the arrays on each call).
            repeats = 0
            for i in range(gcnt[ca]):
                x = gmem[ca, i]
                if x != a:
                    repeats += m[b, x] - (m[a, x] - 1)
                    m[a, x] -= 1
                    m[x, a] -= 1
                    m[b, x] += 1
                    m[x, b] += 1
                    if needs_on:
                        if m[a, x] == 0:
                            if match[x, a]:
                                helped[a] -= 1
                            if match[a, x]:
                                helped[x] -= 1
                        if m[b, x] == 1:
                            if match[x, b]:
                                helped[b] += 1
                            if match[b, x]:
                                helped[x] += 1
            for j in range(gcnt[cb]):
                y = gmem[cb, j]
                if y != b:
                    repeats += m[a, y] - (m[b, y] - 1)
                    m[b, y] -= 1
                    m[y, b] -= 1
                    m[a, y] += 1
                    m[y, a] += 1
                    if needs_on:
                        if m[b, y] == 0:
                            if match[y, b]:
                                helped[b] -= 1
                            if match[b, y]:
                                helped[y] -= 1
                        if m[a, y] == 1:
                            if match[y, a]:
                                helped[a] += 1
                            if match[a, y]:
                                helped[y] += 1
            state[3] += repeats
            pa = pos[w, a]
            pb = pos[w, b]
            gmem[ca, pa] = b
            gmem[cb, pb] = a
            pos[w, a] = pb
            pos[w, b] = pa
            idx[w, a] = cb
            idx[w, b] = ca
            if need_one:
                chairs[ca] += fac[b] - fac[a]
                chairs[cb] += fac[a] - fac[b]
            # Leaving costs and conflicts change only in the groups that hold a or b.
            for v in range(n_rounds):
                for k in range(2):
                    c = idx[v, a] if k == 0 else idx[v, b]
                    if k == 1 and c == idx[v, a]:
                        continue
                    _refresh(v, c, need_one, columns)
            until = it + tenure_low + _below(rng, tenure_high - tenure_low)
            if tabu_kind == TABU_PERSON:  # kept on the diagonal: tabu[w, p, p]
                tabu[w, a, a] = until
                tabu[w, b, b] = until
            else:
                tabu[w, a, b] = until
                tabu[w, b, a] = until
        costs[0] += best_delta
        if costs[0] < costs[1] - EPS:
            costs[1] = costs[0]
            best_idx[:, :] = idx
            state[1] = it
            state[4] = state[2]
            if state[3] <= repeats_bound:
                return IMPROVED
        elif it - state[1] > stall:
            return STALLED
    return OUT_OF_WORK


@njit
def mdgp_steps(
    weights: Array,
    group: Array,
    sums: Array,
    sizes: Array,
    low: Array,
    high: Array,
    tabu_until: Array,
    tenure_low: int,
    tenure_high: int,
    rng: Array,
    state: Array,
    values: Array,
    best_group: Array,
    stall: int,
    iteration_work: int,
    work_allowed: int,
    iteration_limit: int,
) -> int:
    """Tabu search iterations for Maximally Diverse Grouping, in place (see `mdgp.py`).

    Each iteration takes the best swap (two elements of different groups exchange them) or
    move (one element to another group, where the size bounds allow) whose elements are not
    tabu, or any that beats the best assignment (aspiration), and makes its elements tabu for
    a random tenure. `sums[i, g]` is the weight between i and group g. state = [iteration,
    iteration of the last best, work done] and values = [value now, best value] are updated;
    a better assignment is copied to `best_group`. Returns STALLED or OUT_OF_WORK.
    """
    n = group.shape[0]
    m = sizes.shape[0]
    work_start = state[2]
    while state[2] - work_start < work_allowed and state[0] < iteration_limit:
        state[0] += 1
        it = state[0]
        state[2] += iteration_work
        aspire = values[1] - values[0] + EPS
        best_gain = -np.inf
        pick_i = -1
        pick_j = -1
        pick_b = -1
        for i in range(n):
            gi = group[i]
            free_i = tabu_until[i] <= it
            for j in range(i + 1, n):
                gj = group[j]
                if gi == gj:
                    continue
                gain = sums[i, gj] - sums[i, gi] + sums[j, gi] - sums[j, gj] - 2.0 * weights[i, j]
                if gain > best_gain and ((free_i and tabu_until[j] <= it) or gain > aspire):
                    best_gain = gain
                    pick_i, pick_j, pick_b = i, j, -1
            if sizes[gi] > low[gi]:
                for b in range(m):
                    if b == gi or sizes[b] >= high[b]:
                        continue
                    gain = sums[i, b] - sums[i, gi]
                    if gain > best_gain and (free_i or gain > aspire):
                        best_gain = gain
                        pick_i, pick_j, pick_b = i, -1, b
        if pick_i < 0:
            continue
        i = pick_i
        a = group[i]
        if pick_j >= 0:
            j = pick_j
            b = group[j]
            for k in range(n):
                change = weights[k, j] - weights[k, i]
                sums[k, a] += change
                sums[k, b] -= change
            group[i] = b
            group[j] = a
            tabu_until[j] = it + tenure_low + _below(rng, tenure_high - tenure_low)
        else:
            b = pick_b
            for k in range(n):
                sums[k, a] -= weights[k, i]
                sums[k, b] += weights[k, i]
            group[i] = b
            sizes[a] -= 1
            sizes[b] += 1
        tabu_until[i] = it + tenure_low + _below(rng, tenure_high - tenure_low)
        values[0] += best_gain
        if values[0] > values[1] + EPS:
            values[1] = values[0]
            best_group[:] = group
            state[1] = it
        elif it - state[1] > stall:
            return STALLED
    return OUT_OF_WORK
