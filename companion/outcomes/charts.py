"""Charts as SVG made on the server: bars with a goal line, a matrix heatmap, a network.

Pure: figures in, markup out, the same markup for the same figures (the network's circular
layout follows the order given). Each chart is an `<svg role="img">` with a title and a
description for screen readers; the page puts a data table beside each. Colours come from
classes (the page's stylesheet themes them, light, dark and print) with presentation
attributes as the fallback, and the viewBoxes are narrow so text stays readable on a phone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Width of the bar chart's viewBox: about a phone's width, so 13-unit text is 13 px there.
BAR_WIDTH = 360
ACCENT = "#1f6f5c"
MUTED = "#55605c"
GOAL = "#a4262c"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length in the chart's units, and the text shown beside it."""

    label: str
    value: float
    text: str


def _n(value: float) -> str:
    """A coordinate with at most one decimal (stable output, small markup)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _open(chart_id: str, title: str, desc: str, width: float, height: float, kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
    )


def short_name(name: str) -> str:
    """ "Aino Aalto" -> "Aino A." (labels in small charts)."""
    parts = name.split()
    if len(parts) < 2:
        return name[:14]
    return f"{parts[0][:12]} {parts[-1][0]}."


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    *,
    maximum: float,
    goal: float | None = None,
    goal_label: str = "",
) -> Markup:
    """Horizontal bars, each labelled above, with an optional dashed goal line across them."""
    if not bars:
        return Markup("")
    left, right, top, row = 4.0, 4.0, 22.0 if goal is not None else 4.0, 46.0
    span = BAR_WIDTH - left - right
    scale = span / maximum if maximum > 0 else 0.0
    height = top + row * len(bars) + 4
    parts = [_open(chart_id, title, desc, BAR_WIDTH, height, "bars")]
    for index, bar in enumerate(bars):
        y = top + index * row
        length = max(0.0, min(bar.value, maximum)) * scale
        parts.append(
            f'<text class="chart-label" x="{_n(left)}" y="{_n(y + 14)}" font-size="13" '
            f'fill="currentColor">{escape(bar.label)}</text>'
            f'<text class="chart-value" x="{_n(BAR_WIDTH - right)}" y="{_n(y + 14)}" '
            f'font-size="13" text-anchor="end" fill="currentColor">{escape(bar.text)}</text>'
            f'<rect class="chart-track" x="{_n(left)}" y="{_n(y + 20)}" width="{_n(span)}" '
            f'height="18" rx="3" fill="#f0f0eb"/>'
            f'<rect class="chart-bar" x="{_n(left)}" y="{_n(y + 20)}" width="{_n(length)}" '
            f'height="18" rx="3" fill="{ACCENT}"/>'
        )
    if goal is not None:
        x = left + max(0.0, min(goal, maximum)) * scale
        anchor = "end" if x > BAR_WIDTH * 0.7 else "start"
        parts.append(
            f'<line class="chart-goal" x1="{_n(x)}" y1="{_n(top - 4)}" x2="{_n(x)}" '
            f'y2="{_n(height - 2)}" stroke="{GOAL}" stroke-width="2" stroke-dasharray="5 3"/>'
            f'<text class="chart-goal-label" x="{_n(x)}" y="13" font-size="12" '
            f'text-anchor="{anchor}" fill="{GOAL}">{escape(goal_label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape)


def heat_level(count: int) -> int:
    """The shade of a matrix cell: 0 (never met) to 3 (three times or more)."""
    return max(0, min(count, 3))


def heatmap(
    chart_id: str, title: str, desc: str, labels: Sequence[str], counts: Sequence[Sequence[int]]
) -> Markup:
    """A who-met-whom matrix: rows named "1 Aino A.", columns numbered, cells shaded by count."""
    n = len(labels)
    if n == 0:
        return Markup("")
    cell = 22.0 if n <= 12 else max(12.0, 264.0 / n)
    label_width, head = 112.0, 20.0
    width = label_width + n * cell + 4
    height = head + n * cell + 4
    parts = [_open(chart_id, title, desc, width, height, "heatmap")]
    font = _n(min(11.0, cell * 0.5))
    for j in range(n):
        x = label_width + j * cell + cell / 2
        parts.append(
            f'<text class="chart-label" x="{_n(x)}" y="{_n(head - 6)}" font-size="{font}" '
            f'text-anchor="middle" fill="currentColor">{j + 1}</text>'
        )
    for i, label in enumerate(labels):
        y = head + i * cell
        parts.append(
            f'<text class="chart-label" x="{_n(label_width - 6)}" y="{_n(y + cell * 0.68)}" '
            f'font-size="11" text-anchor="end" fill="currentColor">'
            f"{i + 1} {escape(short_name(label))}</text>"
        )
        for j in range(n):
            x = label_width + j * cell
            level = "self" if i == j else str(heat_level(counts[i][j]))
            parts.append(
                f'<rect class="heat heat-{level}" x="{_n(x + 1)}" y="{_n(y + 1)}" '
                f'width="{_n(cell - 2)}" height="{_n(cell - 2)}" rx="2" '
                f'fill="{MUTED if level == "self" else ACCENT}" '
                f'fill-opacity="{0.15 if level == "self" else 0.08 + 0.3 * int(level)}"/>'
            )
            if i != j and counts[i][j] > 0:
                parts.append(
                    f'<text class="heat-count" x="{_n(x + cell / 2)}" y="{_n(y + cell * 0.68)}" '
                    f'font-size="{font}" text-anchor="middle" fill="currentColor">'
                    f"{counts[i][j]}</text>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape)


def circle_layout(count: int, cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """Evenly spaced points on a circle, the first at the top, going clockwise."""
    return [
        (
            cx + radius * math.cos(-math.pi / 2 + 2 * math.pi * i / count),
            cy + radius * math.sin(-math.pi / 2 + 2 * math.pi * i / count),
        )
        for i in range(count)
    ]


def network(
    chart_id: str,
    title: str,
    desc: str,
    nodes: Sequence[tuple[int, str]],
    edges: Sequence[tuple[int, int]],
) -> Markup:
    """People on a circle in the given order, a line for each mutual contact; people without
    any contact are drawn hollow."""
    if not nodes:
        return Markup("")
    width, height, radius = 420.0, 400.0, 128.0
    cx, cy = width / 2, height / 2
    points = dict(
        zip((i for i, _ in nodes), circle_layout(len(nodes), cx, cy, radius), strict=True)
    )
    linked = {person for edge in edges for person in edge}
    parts = [_open(chart_id, title, desc, width, height, "network")]
    for a, b in edges:
        if a in points and b in points:
            (x1, y1), (x2, y2) = points[a], points[b]
            parts.append(
                f'<line class="net-edge" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" '
                f'y2="{_n(y2)}" stroke="{ACCENT}" stroke-width="2"/>'
            )
    for person, label in nodes:
        x, y = points[person]
        alone = person not in linked
        dx, dy = x - cx, y - cy
        lx, ly = cx + dx * (radius + 14) / radius, cy + dy * (radius + 14) / radius
        anchor = "start" if dx > 6 else "end" if dx < -6 else "middle"
        ly += 4 + (8 if dy > radius * 0.9 else -4 if dy < -radius * 0.9 else 0)
        parts.append(
            f'<circle class="net-node{" net-alone" if alone else ""}" cx="{_n(x)}" cy="{_n(y)}" '
            f'r="7" fill="{"#ffffff" if alone else ACCENT}" stroke="{ACCENT}" stroke-width="2"/>'
            f'<text class="chart-label" x="{_n(lx)}" y="{_n(ly)}" font-size="12" '
            f'text-anchor="{anchor}" fill="currentColor">{escape(short_name(label))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text in it went through escape)
