"""The report page's plots (:mod:`pipelines.quality_page`): matplotlib figures as inline SVG.

matplotlib's object API only (no pyplot, so no GUI backend and no global figure state); text is
drawn as paths, so a page shows the same glyphs on any machine. Province names need a CJK font:
the first of :data:`CJK_FONTS` that the machine has (``make install`` installs one from
Debian); without any, labels keep only their codes rather than show empty boxes.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re

#: CJK fonts tried in order: Debian's fonts-wqy-microhei (what ``make install`` installs),
#: then the common others.
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
             "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC")

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]+")


@functools.cache
def cjk_font() -> str | None:
    """The name of a CJK font matplotlib can use, or None. A font installed after matplotlib
    built its font cache is found by scanning the system's font folders once."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in names), None)

    found = known()
    if found is None:
        listed = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in listed:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a font file matplotlib cannot read
        found = known()
    return found


def label(text: str) -> str:
    """A label as the plots can draw it: without its Chinese part when there is no CJK font."""
    if cjk_font() is not None:
        return text
    return _CJK.sub("", text).strip() or "?"


def _counts():
    """Ticks for counts: whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def _styled(plot):
    """Run a plot function under the page's style: a text's font is chosen when it is made,
    so the whole function runs in it, not only the rendering."""

    @functools.wraps(plot)
    def styled(*args, **kwargs) -> str:
        import matplotlib

        families = [f for f in (cjk_font(), "DejaVu Sans") if f]
        with matplotlib.rc_context({"font.family": families, "svg.fonttype": "path",
                                    "svg.hashsalt": "govreports"}):
            return plot(*args, **kwargs)

    return styled


def _render(figure, title: str) -> str:
    """The figure as an inline ``<svg>`` element, ids prefixed after its title."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    prefix = "f" + hashlib.sha256(title.encode()).hexdigest()[:8] + "-"
    return svg_ids_prefixed(text[text.index("<svg"):], prefix)


def svg_ids_prefixed(svg: str, prefix: str) -> str:
    """The SVG with its element ids (and references to them) prefixed, so that several
    figures inlined in one page never share an id."""
    return re.sub(r'(\sid="|href="#|url\(#)([^")]+)', lambda m: m[1] + prefix + m[2], svg)


@_styled
def heatmap(grid: list[list[float | None]], rows: list[str], columns: list[str], *, title: str,
            fmt: str, cmap: str, cell_height: float, vmin: float | None = None,
            vmax: float | None = None, rotate_columns: bool = False) -> str:
    """A grid of numbers as coloured cells with the number written in each; a zero or missing
    value is left blank."""
    import numpy as np

    values = np.array([[math.nan if v is None else float(v) for v in row] for row in grid])
    shown = np.ma.masked_where(~np.isfinite(values) | (values == 0) if vmin is None
                               else ~np.isfinite(values), values)
    width = max(4.0, 2.2 + 0.55 * len(columns))
    figure = _figure(width, max(2.0, 1.2 + cell_height * len(rows)))
    axes = figure.add_subplot()
    top = vmax if vmax is not None else max(1.0, float(np.nanmax(values)) if values.size else 1)
    image = axes.imshow(shown, aspect="auto", cmap=cmap, vmin=vmin or 0, vmax=top,
                        interpolation="nearest")
    axes.set_xticks(range(len(columns)), [label(c) for c in columns],
                    rotation=60 if rotate_columns else 0, ha="right" if rotate_columns
                    else "center", fontsize=8)
    axes.set_yticks(range(len(rows)), [label(r) for r in rows], fontsize=8)
    axes.set_xticks([x - 0.5 for x in range(1, len(columns))], minor=True)
    axes.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    axes.grid(which="minor", color="#e5e5e5", linewidth=0.5)
    axes.tick_params(which="minor", length=0)
    for y, row in enumerate(values):
        for x, value in enumerate(row):
            if math.isfinite(value) and (value != 0 or vmin is not None):
                dark = (value - (vmin or 0)) / (top - (vmin or 0) or 1) > 0.6
                axes.text(x, y, fmt.format(value), ha="center", va="center", fontsize=7,
                          color="white" if dark and vmin is None else "black")
    axes.set_title(title, fontsize=10)
    bar = figure.colorbar(image, ax=axes, shrink=0.6, pad=0.02)
    bar.locator = _counts()
    bar.update_ticks()
    return _render(figure, title)


@_styled
def stacked_bars(categories: list[str], series: dict[str, list[int]], *, title: str,
                 rate: list[float | None] | None = None, rate_label: str = "") -> str:
    """Vertical bars stacked by series, with an optional percentage line on a second axis."""
    figure = _figure(max(4.0, 2.5 + 0.6 * len(categories)), 3.6)
    axes = figure.add_subplot()
    bottom = [0] * len(categories)
    for name, counts in series.items():
        axes.bar(categories, counts, bottom=bottom, label=name)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("reports (rows)")
    axes.yaxis.set_major_locator(_counts())
    if rate is not None and any(r is not None for r in rate):
        twin = axes.twinx()
        points = [(x, r) for x, r in enumerate(rate) if r is not None]
        twin.plot([x for x, _ in points], [float(r) for _, r in points], color="black",
                  marker="o", label=rate_label)
        twin.set_ylim(0, 105)
        twin.set_ylabel(rate_label)
        twin.legend(loc="upper right", fontsize=8)
    axes.legend(loc="upper left", fontsize=8, title="template", title_fontsize=8)
    axes.set_title(title, fontsize=10)
    return _render(figure, title)


@_styled
def bars_side_by_side(*panels: tuple[str, list[tuple[str, int]]]) -> str:
    """One horizontal bar chart per (title, [(label, count)]) panel, side by side."""
    tallest = max([len(items) for _, items in panels] + [1])
    figure = _figure(4.6 * len(panels), max(2.0, 1.0 + 0.32 * tallest))
    for index, (title, items) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), index)
        names = [label(name) for name, _ in items][::-1]
        counts = [n for _, n in items][::-1]
        axes.barh(names, counts, color="#4c78a8")
        for y, n in enumerate(counts):
            axes.text(n, y, f" {n}", va="center", fontsize=8)
        axes.set_title(title, fontsize=10)
        axes.tick_params(labelsize=8)
        axes.xaxis.set_major_locator(_counts())
        if not items:
            axes.text(0.5, 0.5, "none", ha="center", va="center", transform=axes.transAxes)
    figure.subplots_adjust(wspace=0.6)
    return _render(figure, " | ".join(title for title, _ in panels))


@_styled
def stacked_barh(rows: list[str], series: dict[str, list[int]], *, title: str) -> str:
    """Horizontal bars, one per row, stacked by series."""
    figure = _figure(7.0, max(2.0, 1.2 + 0.3 * len(rows)))
    axes = figure.add_subplot()
    left = [0] * len(rows)
    names = [label(r) for r in rows]
    for name, counts in series.items():
        axes.barh(names, counts, left=left, label=name)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(_counts())
    axes.legend(fontsize=8, loc="lower right")
    axes.tick_params(labelsize=8)
    axes.set_title(title, fontsize=10)
    return _render(figure, title)
