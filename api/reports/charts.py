"""The report's charts, drawn with matplotlib's object API on the Agg canvas (no pyplot global state):
SVG text for the HTML page, PNG bytes for the PDF."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLOUR = "#2f6f4f"


def has_data(values: Sequence[float]) -> bool:
    """A chart of nothing but zeros is not drawn (matplotlib would give it a ±0.04 axis): the report says "no data"."""
    return any(v for v in values)


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, unit: str, *, horizontal: bool = False) -> Figure:
    """Bars of `values`, their axis labelled with `unit` and starting at zero."""
    fig = Figure(figsize=(7.0, 2.6 if not horizontal else max(1.6, 0.35 * len(labels) + 0.8)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if horizontal:
        ax.barh(list(labels), list(values), color=COLOUR)
        ax.invert_yaxis()
        ax.set_xlabel(unit, fontsize=8)
        ax.set_xlim(left=0)
    else:
        ax.bar(range(len(values)), list(values), color=COLOUR)
        step = max(1, len(labels) // 12)
        ax.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)], fontsize=7, rotation=30)
        ax.set_ylabel(unit, fontsize=8)
        ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def svg(fig: Figure) -> str:
    """The chart as an `<svg>` document (the XML prologue dropped), for a `data:` image in the HTML page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return buffer.getvalue()
