"""Decode stage: raw bytes of a text document (HTML or plain text) → str, with the evidence.

Precedence: byte-order mark → strict UTF-8 → strict GB18030 (the superset of GB2312/GBK that
most non-UTF-8 government pages use). The declared charset (HTTP header, then ``<meta>``) is
recorded as evidence; a declaration that contradicts the bytes loses to them. Bytes that decode
under neither are rejected, never decoded with ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from pipelines.errors import DocumentRejected

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Control characters other than tab/newline/carriage return/form feed: their presence in a
# "text" file means it is binary whatever a decoder says.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class Decoded:
    text: str
    encoding_declared: str | None
    encoding_detected: str
    repairs: list[str] = field(default_factory=list)


def declared_charset(data: bytes, headers: dict[str, str] | None = None) -> str | None:
    """The charset a document claims: the HTTP ``Content-Type`` first, then a ``<meta>`` tag."""
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            match = _HEADER_CHARSET.search(value)
            if match:
                return match.group(1).lower()
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii").lower() if match else None


def decode(data: bytes, *, headers: dict[str, str] | None = None) -> Decoded:
    """Decode a text document's bytes; raise :class:`DocumentRejected` if they are not text."""
    if not data.strip():
        raise DocumentRejected("empty", "the document is empty (no bytes, or only whitespace)",
                               stage="decode")
    declared = declared_charset(data, headers)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(codec), declared, codec.replace("-sig", ""))
    for codec in ("utf-8", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return _checked(text, declared, codec)
    raise DocumentRejected(
        "undecodable",
        f"the bytes are neither UTF-8 nor GB18030 (declared: {declared or 'nothing'})",
        stage="decode",
    )


def _checked(text: str, declared: str | None, detected: str) -> Decoded:
    controls = len(_CONTROL.findall(text[:65536]))
    if controls > max(8, len(text[:65536]) // 100):
        raise DocumentRejected(
            "binary", f"the content is binary, not text ({controls} control characters)",
            stage="decode",
        )
    return Decoded(text=text, encoding_declared=declared, encoding_detected=detected)
