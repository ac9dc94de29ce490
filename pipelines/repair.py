"""Repair stage: decoded text → clean simplified Chinese, each change named in ``repairs``.

Runs on the text of a document (after HTML extraction, or on a plain-text/PDF/DOCX text), in
this order, because each step makes the next one safer:

1. ``markup_residue`` — broken tags (``/font>``) and entities (``&nbsp;``) left in the text;
2. ``pinyin_removed`` — pinyin that 繁體 mirror sites insert after characters (``務(wù)``);
3. ``t2s`` — traditional → simplified with OpenCC, only for predominantly traditional text
   (after the pinyin is gone, so that OpenCC's phrase tables see whole words);
4. ``fullwidth_digits`` — ０-９ → 0-9, so numbers parse;
5. ``line_endings`` — CRLF/CR → LF and trailing spaces.

Nothing is invented: runs that cannot be recovered (``?`` or U+FFFD next to a hanzi, 锟斤拷) are
only counted (``unrecoverable_chars``). Clean simplified text passes through unchanged.
"""

from __future__ import annotations

import functools
import html
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.decode import char_class

_TAGS = r"(?:font|span|p|div|b|strong|em|i|u|br|a|o:p|st1:\w+|w:\w+|table|tr|td|sup|sub)"
_RESIDUE = re.compile(
    rf"</?{_TAGS}\b[^<>\n]{{0,120}}/?>"  # a whole stray tag
    rf"|(?<![<\w])/{_TAGS}>"  # a closing tag that lost its "<"
    r"|&(?:nbsp|ensp|emsp|amp|lt|gt|quot|ldquo|rdquo|lsquo|rsquo|mdash|hellip|middot|#\d{2,6}"
    r"|#x[0-9a-fA-F]{2,5});",
    re.I,
)
_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PINYIN = re.compile(rf"(?<=[{_HANZI}])[(（]([a-zA-Z\u00c0-\u024f\u0300-\u036f]{{1,7}}[1-5]?)[)）]")
#: A document needs this many pinyin annotations before any is removed: real reports never
#: carry them, mirror copies carry hundreds, and a lone "(de)" may be something else.
PINYIN_MIN = 3
_FULLWIDTH_DIGIT = re.compile("[０-９]")
# C0 controls other than tab and newline, and DEL: never text (a few survive decoding's
# binary check, which only rejects documents made mostly of them).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
# Linear: a run of "?" is tried once from its start (possessive), not from each of its "?".
_UNRECOVERABLE = re.compile(
    rf"(?<=[{_HANZI}])\?+|(?<!\?)\?++(?=[{_HANZI}])|\ufffd+|(?:锟斤拷)+")


@dataclass
class Repaired:
    text: str
    repairs: list[str] = field(default_factory=list)
    unrecoverable_chars: int = 0


@functools.cache
def pinyin_syllables() -> frozenset[str]:
    """Every pinyin syllable, with tone marks, without them, and with a tone number, taken
    from pypinyin's dictionary (so it covers what real mirror sites print)."""
    marked: set[str] = set()
    for readings in _pinyin_readings():
        marked.update(readings.split(","))
    syllables = set(marked)
    for syllable in marked:
        bare = "".join(c for c in unicodedata.normalize("NFD", syllable)
                       if not unicodedata.combining(c) or c == "\u0308")
        bare = unicodedata.normalize("NFC", bare)
        syllables.update({bare, bare.replace("ü", "v")})
        syllables.update(f"{bare}{tone}" for tone in range(1, 6))
    syllables.discard("")
    return frozenset(syllables)


def _pinyin_readings() -> Iterable[str]:
    """The readings of pypinyin's dictionary (``"zhōng,zhòng"``, one string per character).
    Read from the JSON file the package ships: importing ``pypinyin.pinyin_dict`` rebuilds the
    dictionary with integer keys, 0.2 s that every document worker paid at its start (0.03 s
    this way)."""
    import importlib.util
    from pathlib import Path

    # The package's folder without importing the package (its __init__ loads the phrase
    # dictionary, another 0.3 s).
    spec = importlib.util.find_spec("pypinyin")
    try:
        text = Path(spec.origin).with_name("pinyin_dict.json").read_text(encoding="utf-8")
    except OSError:  # a release that no longer ships the file: the module has the same data
        from pypinyin.pinyin_dict import pinyin_dict

        return pinyin_dict.values()
    return json.loads(text).values()


@functools.cache
def _converters():
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


@functools.cache
def script_markers() -> tuple[frozenset[str], frozenset[str]]:
    """(traditional-only, simplified-only) characters: those OpenCC changes one way and not
    the other, over the whole CJK Unified Ideographs block, converted once per process."""
    t2s, s2t = _converters()
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    simplified = t2s.convert("\n".join(chars)).split("\n")
    traditional = s2t.convert("\n".join(chars)).split("\n")
    trad_only = {c for c, s, t in zip(chars, simplified, traditional, strict=True)
                 if s != c and t == c}
    simp_only = {c for c, s, t in zip(chars, simplified, traditional, strict=True)
                 if t != c and s == c}
    return frozenset(trad_only), frozenset(simp_only)


@functools.cache
def _script_classes() -> tuple[re.Pattern, re.Pattern]:
    trad_only, simp_only = script_markers()
    return char_class(trad_only), char_class(simp_only)


def is_traditional(text: str) -> bool:
    """Whether the text is predominantly traditional: at least 3 traditional-only characters
    and more than three times as many as simplified-only ones."""
    trad_class, simp_class = _script_classes()
    trad = len(trad_class.findall(text))
    if trad < 3:
        return False
    return trad > 3 * len(simp_class.findall(text))


def strip_markup_residue(text: str) -> str:
    """Remove stray tags and decode stray entities (``&nbsp;`` becomes a space)."""
    if ">" not in text and "&" not in text:  # every residue ends in ">" or starts with "&"
        return text

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("&"):
            return html.unescape(token).replace("\xa0", " ")
        return ""

    return _RESIDUE.sub(replace, text)


def strip_pinyin(text: str, minimum: int = PINYIN_MIN) -> str:
    """Remove parenthesised pinyin right after a hanzi (``務(wù)`` → ``務``), when the text
    carries at least ``minimum`` of them. ``(试行)``, ``(2023)``, ``（一）`` survive."""
    candidates = list(_PINYIN.finditer(text))
    if len(candidates) < minimum:  # most texts: no syllable table needed
        return text
    syllables = pinyin_syllables()

    def is_pinyin(match: re.Match) -> bool:
        word = match.group(1)
        return word.islower() and unicodedata.normalize("NFC", word) in syllables

    if sum(1 for m in candidates if is_pinyin(m)) < minimum:
        return text
    return _PINYIN.sub(lambda m: "" if is_pinyin(m) else m.group(0), text)


def to_simplified(text: str) -> str:
    """Traditional → simplified with OpenCC, only when the text is predominantly traditional."""
    if not is_traditional(text):
        return text
    return _converters()[0].convert(text)


@functools.lru_cache(maxsize=8192)  # a list page's menus repeat on every page of a column
def normalize_title(title: str) -> str:
    """A link's or page's title as the text stage would read it, for matching: markup residue
    and every pinyin annotation removed (a title is too short for the text's threshold), 繁→简
    whatever the share of traditional characters, widths folded (NFKC) and spaces removed."""
    title = strip_pinyin(strip_markup_residue(title), minimum=1)
    title = _converters()[0].convert(unicodedata.normalize("NFKC", title))
    return re.sub(r"\s+", "", title)


def repair_title(title: str) -> str:
    """A title (or another short value: an agency, a list entry) repaired as its document's
    text is, with every pinyin annotation removed: a title is too short for the text's
    threshold, and a 繁體 mirror annotates its titles as it does its text."""
    return repair_text(strip_pinyin(strip_markup_residue(title), minimum=1)).text


def count_unrecoverable(text: str) -> int:
    """Characters that stand for lost text: ``?`` next to a hanzi, U+FFFD, 锟斤拷."""
    if "?" not in text and "\ufffd" not in text and "锟" not in text:
        return 0
    return sum(len(m.group(0)) for m in _UNRECOVERABLE.finditer(text))


STEPS = (
    ("markup_residue", strip_markup_residue),
    ("pinyin_removed", strip_pinyin),
    ("t2s", to_simplified),
    ("fullwidth_digits", lambda text: _FULLWIDTH_DIGIT.sub(
        lambda m: chr(ord(m.group(0)) - 0xFEE0), text)),
    # \x0b/\x0c: Word's soft line break and page break, in text exported from it.
    ("line_endings", lambda text: _strip_line_ends(
        text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
        .replace("\x0c", "\n"))),
    ("control_chars_removed", lambda text: _CONTROLS.sub("", text)),
)


def _strip_line_ends(text: str) -> str:
    # Spaces only, not tabs: a trailing tab is a blank table cell. Line by line rather than
    # `` +$`` with re.M, which rescans a long run of spaces from each of its positions.
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def repair_text(text: str) -> Repaired:
    """Apply every repair step; name those that changed the text; count what is lost."""
    repairs = []
    for name, step in STEPS:
        fixed = step(text)
        if fixed != text:
            repairs.append(name)
            text = fixed
    return Repaired(text=text, repairs=repairs, unrecoverable_chars=count_unrecoverable(text))
