"""Scans the project draws itself: report text as page images (PNG, JPEG, a PDF of page images
with no text layer), with a red seal, skew and noise on demand. The font is the CJK font that
``make install`` puts in place (fonts-wqy-microhei)."""

from __future__ import annotations

import io
import textwrap

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
A4_INCHES = (8.27, 11.69)


def page_lines(text: str, *, width: int = 34, lines: int = 40) -> list[str]:
    """The first ``lines`` lines of a text wrapped at ``width`` characters, as a page prints it."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        paragraph = paragraph.strip()
        if paragraph:
            out += textwrap.wrap(paragraph, width)
        if len(out) >= lines:
            break
    return out[:lines]


def draw_page(lines: list[str], *, dpi: int = 200, seal: str | None = None,
              skew: float = 0.0, noise: bool = False, columns: int = 1):
    """A white A4 page with ``lines`` in 12 pt black; ``seal``: a red seal bearing that name
    stamped over the page's third line; ``skew``: degrees turned; ``noise``: scanner grain;
    ``columns``: 2 sets the second half of the lines beside the first (read column by
    column)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    size = int(12 / 72 * dpi)
    font = ImageFont.truetype(FONT, size)
    top = left = dpi
    per_column = -(-len(lines) // columns)
    for i, line in enumerate(lines):
        column, row = divmod(i, per_column)
        x = left + column * (width - 2 * dpi) // columns
        draw.text((x, top + int(row * size * 1.6)), line, font=font, fill="black")
    if seal:
        radius = int(0.8 * dpi)
        cx, cy = int(width * 0.55), top + int(2 * size * 1.6)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                     outline=(220, 30, 30), width=max(3, dpi // 40))
        draw.text((cx - radius * 0.8, cy - size), seal,
                  font=ImageFont.truetype(FONT, int(size * 1.2)), fill=(220, 30, 30))
    if skew:
        image = image.rotate(skew, fillcolor="white", resample=Image.BICUBIC)
    if noise:
        pixels = np.asarray(image).astype(np.int16)
        grain = np.random.default_rng(0).normal(0, 18, pixels.shape)
        image = Image.fromarray(np.clip(pixels + grain, 0, 255).astype(np.uint8))
    return image


def image_bytes(image, kind: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def scanned_pdf(pages, *, dpi: int = 200) -> bytes:
    """A PDF of page images and no text layer: what a scanner makes."""
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=list(pages[1:]))
    return out.getvalue()


#: 表三's applicant columns as the 2021 template heads them.
APPLICANTS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")


def table3_cells(rows: list[list[int]], leaves) -> list[tuple[int, int, int, int, str]]:
    """表三 of the 2021 template as cells of a grid, ``(row, column, row span, column span,
    text)``, spanned as portals' Word tables are: ``rows`` are 一, 二, the leaves, （七）总计
    and 四, 7 numbers each; ``leaves`` the groups (（一）–（七）) and their leaves. Columns: 0
    三's label, 1 a group, 2 a leaf, 3–9 the numbers."""
    cells = [(0, 0, 3, 3, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"),
             (0, 3, 1, 7, "申请人情况"), (1, 3, 2, 1, "自然人"), (1, 4, 1, 5, "法人或其他组织"),
             (1, 9, 2, 1, "总计")]
    cells += [(2, 4 + i, 1, 1, name) for i, name in enumerate(APPLICANTS[1:6])]
    labels = [(3, "一、本年新收政府信息公开申请数量"), (4, "二、上年结转政府信息公开申请数量")]
    row = 5
    for group, members in leaves:
        if members is None:
            cells.append((row, 1, 1, 2, group))
            row += 1
            continue
        cells.append((row, 1, len(members), 1, group))
        cells += [(row + k, 2, 1, 1, leaf) for k, leaf in enumerate(members)]
        row += len(members)
    cells.append((5, 0, row - 5, 1, "三、本年度办理结果"))
    labels.append((row, "四、结转下年度继续办理"))
    cells += [(at, 0, 1, 3, label) for at, label in labels]
    numbered = [3, 4, *range(5, row), row]
    cells += [(at, 3 + i, 1, 1, str(value)) for at, values in zip(numbered, rows, strict=True)
              for i, value in enumerate(values)]
    return cells


def draw_table(cells, *, widths: list[float], dpi: int = 200, ruled: bool = True,
               heading: str = "", points: float = 10.5):
    """A page holding one table drawn from grid ``cells`` (``(row, column, row span, column
    span, text)``) as a Word table prints: each cell's text wrapped to its width and centred
    in it, rows as tall as their tallest cell, ``widths`` in inches; ``ruled``: cell borders
    drawn (else none, as tables pasted without borders are); ``heading`` a line above."""
    from PIL import Image, ImageDraw, ImageFont

    size = int(points / 72 * dpi)
    font = ImageFont.truetype(FONT, size)
    line, pad = int(size * 1.3), int(size * 0.4)
    xs = [int(dpi * 0.8)]
    for width in widths:
        xs.append(xs[-1] + int(width * dpi))

    def wrapped(text: str, room: float) -> list[str]:
        """The text broken into lines as wide as ``room`` pixels at most (by the glyphs'
        widths: a digit is half a hanzi)."""
        lines = [""]
        for char in text:
            if lines[-1] and font.getlength(lines[-1] + char) > room:
                lines.append("")
            lines[-1] += char
        return lines

    def chars(column: int, span: int) -> float:
        return xs[column + span] - xs[column] - 2 * pad

    count = max(r + rs for r, _c, rs, _cs, _t in cells)
    heights = [line + 2 * pad] * count
    for r, c, rs, cs, text in sorted(cells, key=lambda cell: cell[2]):
        need = len(wrapped(text, chars(c, cs))) * line + 2 * pad
        have = sum(heights[r:r + rs])
        if need > have:  # the last row of the span grows
            heights[r + rs - 1] += need - have
    ys = [int(dpi * 1.2)]
    for height in heights:
        ys.append(ys[-1] + height)
    width_px = max(int(A4_INCHES[0] * dpi), xs[-1] + dpi // 2)
    image = Image.new("RGB", (width_px, max(int(A4_INCHES[1] * dpi), ys[-1] + dpi)), "white")
    draw = ImageDraw.Draw(image)
    if heading:
        draw.text((xs[0], ys[0] - 2 * line), heading, font=font, fill="black")
    for r, c, rs, cs, text in cells:
        left, right, top, bottom = xs[c], xs[c + cs], ys[r], ys[r + rs]
        if ruled:
            draw.rectangle((left, top, right, bottom), outline="black", width=max(1, dpi // 100))
        lines = wrapped(text, chars(c, cs))
        y = (top + bottom) // 2 - len(lines) * line // 2
        for k, part in enumerate(lines):
            drawn = draw.textlength(part, font=font)
            draw.text(((left + right - drawn) / 2, y + k * line), part, font=font, fill="black")
    return image


def table3(seed: int):
    """A 2021-template 表三 as a Word table prints it, alone on an A4 page at ``dpi`` (``ruled``
    or not), with 25 rows of 7 consistent two- to four-digit numbers drawn from ``seed``:
    ``(draw(ruled, dpi) → page image, gold values by (row key, column key))``."""
    import random

    from pipelines.stat_tables import TABLE3_COLUMNS, expected_rows
    from tests.test_stat_tables import LEAVES_2021, consistent_rows

    rng = random.Random(seed)
    rows = consistent_rows([rng.randint(0, 300) for _ in range(6)],
                           [[rng.randint(0, 30) for _ in range(6)] for _ in range(21)])

    def draw(*, ruled: bool = True, dpi: int = 200):
        return draw_table(table3_cells(rows, LEAVES_2021), widths=[0.45, 1.0, 2.1] + [0.55] * 7,
                          ruled=ruled, dpi=dpi, heading="三、收到和处理政府信息公开申请情况")

    gold = {(row, column): value for row, values in zip(expected_rows("2021")["三"], rows,
                                                          strict=True)
            for column, value in zip(TABLE3_COLUMNS, values, strict=True)}
    return draw, gold
