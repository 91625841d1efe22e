"""A tiny line chart as inline SVG, drawn on the server without a library (the report's charts use
matplotlib; a page that refreshes needs nothing that heavy).

Only presentation attributes (`stroke`, `fill`), no `style`: the console's Content-Security-Policy
allows its one stylesheet and nothing inline. Jinja escapes every text that goes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 150
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 10, 22


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Everything the template draws, in the SVG's own coordinates."""

    points: str
    """`x,y x,y …` of the polyline; empty: no readings."""
    count: int
    minimum: float | None
    maximum: float | None
    """The readings' lowest and highest value, labelled at their heights (y_min, y_max)."""
    y_min: float
    y_max: float
    marks: tuple[tuple[float, str], ...]
    """Vertical lines (x, label): the alert raised, cleared."""
    levels: tuple[tuple[float, str], ...]
    """Horizontal lines (y, label): a requirement's value."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_x: int = WIDTH - RIGHT
    bottom_y: int = HEIGHT - BOTTOM


def sparkline(samples: Sequence[tuple[int, float]], start_ms: int, end_ms: int, *,
              marks: Sequence[tuple[int, str]] = (), levels: Sequence[tuple[float, str]] = ()) -> Sparkline:
    """`samples` (time, value) over [start_ms, end_ms), scaled to fit with the `levels` in view."""
    span_ms = max(1, end_ms - start_ms)
    measured = [v for _, v in samples]
    values = measured + [v for v, _ in levels]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    def x(t: int) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (min(max(t, start_ms), end_ms) - start_ms) / span_ms, 1)

    def y(v: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (high - v) / (high - low), 1)

    points = " ".join(f"{x(t)},{y(v)}" for t, v in samples)
    minimum, maximum = (min(measured), max(measured)) if measured else (None, None)
    return Sparkline(points, len(samples), minimum, maximum, y(minimum if minimum is not None else low),
                     y(maximum if maximum is not None else high),
                     tuple((x(t), label) for t, label in marks if start_ms <= t <= end_ms),
                     tuple((y(v), label) for v, label in levels))
