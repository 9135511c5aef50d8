"""Two small array helpers the searches share."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]


def product(a: FloatMatrix, b: FloatMatrix) -> FloatMatrix:
    """a @ b in column chunks small enough that OpenBLAS keeps each on one thread.

    OpenBLAS splits larger products over threads; on a busy 2-core machine that contention
    made the search ten times slower than single-threaded products.
    """
    rows, inner = a.shape
    step = max(1, (1 << 17) // max(1, rows * inner))
    if b.shape[1] <= step:
        return a @ b
    return np.concatenate([a @ b[:, i : i + step] for i in range(0, b.shape[1], step)], axis=1)


def bitset(row: npt.NDArray[np.bool_]) -> int:
    """A boolean row as a Python int bitset (bit p set when row[p])."""
    return int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")
