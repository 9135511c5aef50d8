"""The Teams app package's icons, drawn from Kollega's logo (`static/img/icon.svg`).

Teams wants a 192×192 full-colour PNG and a 32×32 outline PNG that is white on transparent
(NOTES §4.1). The logo is two heads and two shoulder lines; it is drawn here with signed
distance functions (antialiased by the pixel's distance to each shape's edge) in numpy and
written as PNG with zlib, so building a package needs no imaging library.
"""

from __future__ import annotations

import itertools
import struct
import zlib

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: The logo in its own 64×64 units (icon.svg): head centres, head radius.
HEADS = ((24.0, 27.0), (42.0, 27.0))
HEAD_RADIUS = 9.0
#: The two shoulder strokes of icon.svg as cubic Béziers ("c" and the mirrored "s" part).
SHOULDERS = (
    ((10.0, 52.0), (12.0, 43.0), (18.0, 38.0), (24.0, 38.0)),
    ((24.0, 38.0), (30.0, 38.0), (36.0, 43.0), (38.0, 52.0)),
    ((26.0, 52.0), (28.0, 43.0), (34.0, 38.0), (42.0, 38.0)),
    ((42.0, 38.0), (50.0, 38.0), (54.0, 43.0), (56.0, 52.0)),
)
STROKE_WIDTH = 4.0
#: The logo's bounding box (units), including the strokes' round caps.
LOGO_BOX = (8.0, 18.0, 58.0, 54.0)
#: The second head's colour in the full-colour icon (icon.svg).
SECOND_HEAD = (0xCF, 0xEE, 0xE4)


def _grid(size: int, scale: float, offset: tuple[float, float]) -> tuple[Array, Array]:
    """Logo-unit coordinates of every pixel centre."""
    centres = np.arange(size, dtype=np.float64) + 0.5
    xs, ys = np.meshgrid(centres, centres)
    return (xs - offset[0]) / scale, (ys - offset[1]) / scale


def _bezier(points: tuple[tuple[float, float], ...], steps: int = 32) -> Array:
    t = np.linspace(0.0, 1.0, steps)[:, None]
    p0, p1, p2, p3 = (np.array(p, dtype=np.float64) for p in points)
    curve: Array = (
        (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    )
    return curve


def _polyline_distance(xs: Array, ys: Array, line: Array) -> Array:
    """Distance of every point to a polyline."""
    best = np.full(xs.shape, np.inf)
    for (ax, ay), (bx, by) in itertools.pairwise(line):
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy or 1.0
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length, 0.0, 1.0)
        best = np.minimum(best, np.hypot(xs - (ax + t * dx), ys - (ay + t * dy)))
    return best


def _coverage(distance_units: Array, scale: float) -> Array:
    """How much of each pixel a shape covers, from the signed distance to its edge."""
    return np.clip(0.5 - distance_units * scale, 0.0, 1.0)


def _shapes(size: int, margin: float) -> tuple[float, Array, Array, Array]:
    """Coverage of the first head, the second head and the shoulders at this size."""
    left, top, right, bottom = LOGO_BOX
    scale = (size - 2 * margin) / max(right - left, bottom - top)
    offset = (
        (size - (right - left) * scale) / 2 - left * scale,
        (size - (bottom - top) * scale) / 2 - top * scale,
    )
    xs, ys = _grid(size, scale, offset)
    heads = [np.hypot(xs - cx, ys - cy) - HEAD_RADIUS for cx, cy in HEADS]
    shoulders = np.min([_polyline_distance(xs, ys, _bezier(curve)) for curve in SHOULDERS], axis=0)
    return (
        scale,
        heads[0],
        heads[1],
        shoulders - STROKE_WIDTH / 2,
    )


def colour_icon(colour: str, size: int = 192) -> bytes:
    """The full-colour icon: the logo in white on the organisation's colour (PNG)."""
    background = _hex(colour)
    scale, first, second, shoulders = _shapes(size, margin=size / 4)
    image = np.empty((size, size, 3))
    image[:] = background
    for distance, rgb in ((second, SECOND_HEAD), (first, (255, 255, 255))):
        alpha = _coverage(distance, scale)[..., None]
        image = image * (1 - alpha) + np.array(rgb, dtype=np.float64) * alpha
    alpha = _coverage(shoulders, scale)[..., None]
    image = image * (1 - alpha) + 255.0 * alpha
    opaque = np.full((size, size, 1), 255.0)
    return png(np.concatenate([image, opaque], axis=2))


def outline_icon(size: int = 32) -> bytes:
    """The outline icon: the logo in white on transparent, heads drawn as rings (PNG)."""
    scale, first, second, shoulders = _shapes(size, margin=2)
    ring = STROKE_WIDTH / 2
    distances = [np.abs(first) - ring / 2, np.abs(second) - ring / 2, shoulders]
    alpha = np.max([_coverage(d, scale) for d in distances], axis=0) * 255.0
    white = np.full((size, size, 3), 255.0)
    return png(np.concatenate([white, alpha[..., None]], axis=2))


def _hex(colour: str) -> tuple[int, int, int]:
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def png(rgba: Array) -> bytes:
    """An 8-bit RGBA PNG of an array of shape (height, width, 4) with values 0-255."""
    height, width, _channels = rgba.shape
    pixels = np.clip(np.rint(rgba), 0, 255).astype(np.uint8)
    # Filter type 0 (none) before every row.
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
