"""Small bar charts for the console's pages, as inline SVG written here.

Not the report's matplotlib charts (`api.reports.charts`): those style every shape with `style="…"`
attributes, which the console's policy (styles by hash only) would blank out, weigh tens of kilobytes
each and cost a matplotlib figure per request. These draw with presentation attributes only, scale
with their `viewBox` to a phone's width, and carry their title as the image's accessible name; the
page's tables beside them hold the same numbers for screen readers and copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

COLOUR = "#16423c"
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 480, 180, 46, 34, 10


def _label(value: float) -> str:
    return f"{value:.3g}"


def column_chart(labels: Sequence[str], values: Sequence[float], title: str, unit: str) -> Markup:
    """Vertical bars (a period's days, weeks or months), the axis from zero to the largest value."""
    top = max((v for v in values if v > 0), default=0.0)
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = inner_w / max(1, len(values))
    parts = [f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - 8}" y2="{TOP + inner_h}" stroke="#555"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="11" fill="#1b1b1b">{_label(top)}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + inner_h}" text-anchor="end" font-size="11" fill="#1b1b1b">0</text>',
             f'<text x="4" y="{TOP + inner_h / 2}" font-size="11" fill="#1b1b1b">{escape(unit)}</text>']
    every = max(1, len(labels) // 8)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = inner_h * value / top if top > 0 and value > 0 else 0.0
        x = LEFT + i * step
        parts.append(f'<rect x="{x + step * 0.1:.1f}" y="{TOP + inner_h - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" '
                     f'fill="{COLOUR}"><title>{escape(label)}: {_label(value)} {escape(unit)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle" font-size="11" '
                         f'fill="#1b1b1b">{escape(label[-5:])}</text>')
    return _svg(title, "".join(parts), HEIGHT)


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, unit: str) -> Markup:
    """Horizontal bars (facilities, waste codes, pollutants), longest first as given."""
    top = max((v for v in values if v > 0), default=0.0)
    row, name_w = 22, 170
    height = TOP + row * max(1, len(values)) + 6
    inner_w = WIDTH - name_w - 90
    parts = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row
        w = inner_w * value / top if top > 0 and value > 0 else 0.0
        parts.append(f'<text x="{name_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1b1b1b">{escape(label[:24])}</text>'
                     f'<rect x="{name_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{COLOUR}"/>'
                     f'<text x="{name_w + w + 4:.1f}" y="{y + 15}" font-size="12" fill="#1b1b1b">{_label(value)} {escape(unit)}</text>')
    return _svg(title, "".join(parts), height)


def _svg(title: str, body: str, height: int) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')
