"""The site's charts: matplotlib drawn to SVG text that the pages embed (no image files, nothing fetched).

Suppression is drawn, never dropped: a hidden count is a hatched bar up to the most it can be, labelled with the
range a reader can work out ("1-10"); a hidden rate is a labelled marker at the axis. Every bar carries an SVG
id (`<chart>-<key>` or `<chart>-hidden-<key>`) so that a test, or a reader's tool, can find it. Output is
deterministic (no dates, fixed hash salt): the same tables draw the same bytes.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (the backend must be chosen first)
from matplotlib.patches import Patch  # noqa: E402

STYLE = {
    "svg.fonttype": "none",  # text stays text: small, searchable, drawn in the reader's fonts
    "svg.hashsalt": "spine-outcomes-site",
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = ["#3b6ea5", "#e08a2c", "#4c9a6a", "#b8504a", "#7d64a8", "#8c6d4f", "#c76fa8", "#6f7a86"]
HIDDEN_COLOR = "#9aa3ad"
WIDTH, HEIGHT = 7.2, 2.8  # inches; the page scales the SVG to its column


@dataclass(frozen=True)
class Bar:
    key: str
    value: float | None  # None: hidden
    bound: tuple[int, int] | None = None  # what a reader can work out about a hidden value


def _figure(height: float = HEIGHT) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, height))
    figure.subplots_adjust(left=0.09, right=0.98, top=0.92, bottom=0.2)  # fixed margins: no layout pass
    return figure, figure.add_subplot()


def _svg(figure: Figure, chart_id: str, title: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG sits inside an HTML page
    # matplotlib numbers its element ids per figure; prefix them so that two charts on one page never share one
    svg = re.sub(r'id="((?:figure|axes|patch|text|line2d|legend|matplotlib\.axis|xtick|ytick|PathCollection)_[\w.]*)"',
                 rf'id="{chart_id}-\1"', svg)
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" data-chart="{chart_id}" ', 1)


def _draw(chart_id: str, title: str, draw) -> str:
    with matplotlib.rc_context(STYLE):
        figure, axes = _figure()
        draw(axes)
    return _svg(figure, chart_id, title)


def bars(chart_id: str, title: str, bars_: Sequence[Bar], ylabel: str, labels: Sequence[str]) -> str:
    """One bar per key (x tick labels `labels`); hidden ones hatched up to their bound and labelled with it."""

    def draw(axes) -> None:
        top = max([b.value for b in bars_ if b.value is not None] + [b.bound[1] for b in bars_ if b.bound] + [1])
        shown = [(x, b) for x, b in enumerate(bars_) if b.value is not None]
        hidden = [(x, b) for x, b in enumerate(bars_) if b.value is None]
        lows = [b.bound[0] if b.bound else 0 for _, b in hidden]
        highs = [b.bound[1] if b.bound else top * 0.06 for _, b in hidden]
        patches = axes.bar([x for x, _ in shown], [b.value for _, b in shown], color=COLORS[0], width=0.8)
        for (_, bar), patch in zip(shown, patches):
            patch.set_gid(f"{chart_id}-{bar.key}")
        # a hidden count is a narrow hatched span over the range it can take: read as "somewhere in here"
        patches = axes.bar([x for x, _ in hidden], [h - lo for lo, h in zip(lows, highs)], bottom=lows, width=0.3,
                           facecolor="none", edgecolor=HIDDEN_COLOR, hatch="////", linewidth=0.6)
        for (x, bar), patch, high in zip(hidden, patches, highs):
            patch.set_gid(f"{chart_id}-hidden-{bar.key}")
            label = f"{bar.bound[0]}-{bar.bound[1]}" if bar.bound else "hidden"
            text = axes.text(x, high + top * 0.02, label, ha="center", va="bottom", fontsize=6.5, color="#555",
                             rotation=90 if len(bars_) > 16 else 0)
            text.set_gid(f"{chart_id}-label-{bar.key}")
        ticks = [x for x, label in enumerate(labels) if label]  # a tick object per label only: ticks are costly
        axes.set_xticks(ticks, [labels[x] for x in ticks], rotation=45 if len(ticks) > 8 else 0,
                        ha="right" if len(ticks) > 8 else "center", fontsize=7)
        axes.set_xlim(-0.6, len(bars_) - 0.4)
        axes.set_ylim(0, top * 1.18)
        axes.set_ylabel(ylabel)
        axes.set_title(title, loc="left", fontsize=9)

    return _draw(chart_id, title, draw)


def stacked_shares(chart_id: str, title: str, years: list[str], series: dict[str, list[float | None]],
                   hidden: list[float]) -> str:
    """Horizontal 100% bars per year: each named series' share, then what the published shares leave (hidden)."""

    def draw(axes) -> None:
        left = [0.0] * len(years)
        for i, (name, shares) in enumerate(series.items()):
            values = [s or 0.0 for s in shares]
            patches = axes.barh(years, values, left=left, color=COLORS[i % len(COLORS)], label=name, height=0.6)
            for year, patch in zip(years, patches):
                patch.set_gid(f"{chart_id}-{name}-{year}")
            left = [a + b for a, b in zip(left, values)]
        patches = axes.barh(years, hidden, left=left, facecolor="none", edgecolor=HIDDEN_COLOR, hatch="////",
                            linewidth=0.6, label="hidden", height=0.6)
        for year, patch in zip(years, patches):
            patch.set_gid(f"{chart_id}-hidden-{year}")
        axes.set_xlim(0, 100)
        axes.set_xlabel("% of claim lines")
        axes.invert_yaxis()
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        axes.set_title(title, loc="left", fontsize=9)

    with matplotlib.rc_context(STYLE):
        figure, axes = _figure(max(1.6, 0.45 * len(years) + 0.9))
        figure.subplots_adjust(left=0.08, right=0.7, bottom=0.9 / figure.get_figheight())
        draw(axes)
    return _svg(figure, chart_id, title)


def rates(chart_id: str, title: str, years: list[str], series: dict[str, list[float | None | str]]) -> str:
    """Grouped bars of rates (0-100) per year and series; a hidden rate (the string "hidden") is a labelled
    marker at the axis, a rate that does not exist (None) is left out and said so in the table beside."""

    def draw(axes) -> None:
        width = 0.8 / max(1, len(series))
        for i, (name, values) in enumerate(series.items()):
            for x, (year, value) in enumerate(zip(years, values)):
                position = x - 0.4 + width * (i + 0.5)
                if isinstance(value, str):
                    (patch,) = axes.bar([position], [4], width=width, facecolor="none", edgecolor=HIDDEN_COLOR,
                                        hatch="////", linewidth=0.6)
                    patch.set_gid(f"{chart_id}-hidden-{name}-{year}")
                    axes.text(position, 5, "hidden", ha="center", va="bottom", fontsize=6, rotation=90,
                              color="#555")
                elif value is not None:
                    (patch,) = axes.bar([position], [value], width=width, color=COLORS[i % len(COLORS)])
                    patch.set_gid(f"{chart_id}-{name}-{year}")
        legend = [Patch(color=COLORS[i % len(COLORS)], label=name) for i, name in enumerate(series)]
        axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        axes.set_xticks(range(len(years)))
        axes.set_xticklabels(years, fontsize=7)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.set_title(title, loc="left", fontsize=9)

    with matplotlib.rc_context(STYLE):
        figure, axes = _figure()
        figure.subplots_adjust(right=0.78)
        draw(axes)
    return _svg(figure, chart_id, title)


def strip(chart_id: str, title: str, years: list[str], points: dict[str, list[float]],
          percentiles: dict[str, dict[int, float]]) -> str:
    """Each TIN's rate as a dot per year (spread sideways, deterministically), with the published percentiles
    as ticks."""

    def draw(axes) -> None:
        for x, year in enumerate(years):
            values = sorted(points.get(year, []))
            offsets = [((i * 7) % 11 - 5) / 14 for i in range(len(values))]
            collection = axes.scatter([x + o for o in offsets], values, s=14, color=COLORS[0], alpha=0.75,
                                      edgecolors="none")
            collection.set_gid(f"{chart_id}-{year}")
            for percentile, value in percentiles.get(year, {}).items():
                axes.plot([x - 0.42, x + 0.42], [value, value], color=COLORS[1] if percentile == 50 else "#999",
                          linewidth=1.4 if percentile == 50 else 0.7)
        axes.set_xticks(range(len(years)))
        axes.set_xticklabels(years, fontsize=7)
        axes.set_xlim(-0.6, len(years) - 0.4)
        axes.set_ylim(0, 100)
        axes.set_ylabel("performance rate %")
        axes.set_title(title, loc="left", fontsize=9)

    return _draw(chart_id, title, draw)
