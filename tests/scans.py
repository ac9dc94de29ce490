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
