"""Compile the search loops of `kernel.py` ahead of the first real search.

numba compiles a function on its first call (seconds), or loads it from its cache; calling
each loop once on a tiny problem moves that cost to start-up (`companion serve`) or before
the timed runs (`benchmarks/grouping.py`).
"""

from __future__ import annotations

import numpy as np

from companion.grouping.kernel import TABU_PAIR, mdgp_steps, tabu_steps


def warm_up(weighted: bool = True) -> None:
    """Compile `tabu_steps` and (`weighted`) `mdgp_steps` now, or load them from numba's cache,
    on tiny problems, so that the first real search does not pay for it (seconds, once per
    install). The web app plans schedules only, so it leaves `mdgp_steps` out."""
    idx = np.zeros((1, 2), dtype=np.int64)
    idx[0, 1] = 1
    members = np.array([[0], [1], [0]], dtype=np.int64)
    counts = np.array([1, 1, 0], dtype=np.int64)
    zeros2 = np.zeros((2, 2))
    tabu_steps(
        idx,
        members,
        counts,
        np.zeros((1, 2), dtype=np.int64),
        np.zeros((2, 2), dtype=np.int64),
        np.zeros((1, 2, 2), dtype=np.int64),
        np.ones((1, 2), dtype=np.bool_),
        np.zeros(1, dtype=np.int64),
        np.array([2], dtype=np.int64),
        zeros2,
        np.zeros(3),
        np.zeros(3),
        np.zeros((2, 2), dtype=np.bool_),
        np.zeros((2, 2), dtype=np.bool_),
        np.zeros((1, 2)),
        np.zeros(2, dtype=np.int64),
        False,
        np.zeros(3, dtype=np.int64),
        1e6,
        4,
        10,
        TABU_PAIR,
        True,
        (np.zeros((0, 0), dtype=np.bool_), np.zeros(0, dtype=np.int64), np.zeros(2)),
        np.array([1], dtype=np.uint64),
        np.zeros(5, dtype=np.int64),
        np.zeros(2),
        idx.copy(),
        0,
        1,
        1,
        1,
    )
    if not weighted:
        return
    weights = np.ones((3, 3))
    mdgp_steps(
        weights,
        np.array([0, 0, 1], dtype=np.int64),
        np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 0.0]]),
        np.array([2, 1], dtype=np.int64),
        np.array([1, 1], dtype=np.int64),
        np.array([2, 2], dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        2,
        4,
        np.array([1], dtype=np.uint64),
        np.zeros(3, dtype=np.int64),
        np.zeros(2),
        np.zeros(3, dtype=np.int64),
        1,
        1,
        1,
        1,
    )
