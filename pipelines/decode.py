"""Decode stage: raw bytes of a text document (HTML or plain text) → str, with the evidence.

Precedence, first plausible answer wins:
    explicit override → byte-order mark → HTTP ``Content-Type`` charset → ``<meta>`` charset →
    strict UTF-8 → strict GB18030 → chardet on a bounded sample.
GB2312/GBK/``zh-cn`` labels decode as GB18030 (their superset) and Big5 as Big5-HKSCS. A
candidate must decode *strictly* and give plausible text (see :func:`plausibility`); a
declaration that fails either loses to the evidence. Mojibake that round-trips back to plausible
text (UTF-8 read as GBK, GBK read as Latin-1, UTF-8 read as cp1252) is reversed here, because it
is an encoding fault, and named in ``repairs``. Bytes that decode under no candidate are replaced
with U+FFFD only as a last resort, counted and named (``undecodable_bytes``), never silently;
the raw bytes stay in the lake either way.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pipelines.errors import DocumentRejected

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:\-]+)""", re.I)
# An XHTML page's XML declaration: <?xml version="1.0" encoding="gb2312"?>.
_XML_ENCODING = re.compile(
    rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""")
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_:\-]+)", re.I)
# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Control characters other than tab, line feed, vertical tab (Word's soft line break), form
# feed and carriage return: their presence in a "text" file means it is binary whatever a
# decoder says.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f\s]")
_ASCII_OR_SPACE_RUNS = re.compile(r"[\x00-\x7f\s]+")
# A character GBK or UTF-8 mojibake is made of: GBK's lead bytes for hanzi (0xB0–0xF7) and
# UTF-8's (0xC2–0xF4), read as Latin-1 or cp1252, are these letters.
_LATIN_LETTER = re.compile("[\u00c0-\u00ff]")
_LATIN_RUN = re.compile(r"[\x80-\xff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
                        r"\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039"
                        r"\u203a\u20ac\u2122]{4,}")
# Mojibake candidates are runs of non-ASCII characters between these, spaces and ASCII.
_RUN_BREAKS = "，。：；、！？（）《》“”"
_RUN_BREAK = re.compile(rf"[\x00-\x7f\s{_RUN_BREAKS}]")

#: Share of non-ASCII characters that must be common Chinese for a decoding to be plausible.
#: Clean reports score 0.97–1.0, UTF-8 read as GBK about 0.3 (measured on the seeds).
PLAUSIBLE = 0.8
#: Below this share, with enough non-ASCII text to judge, the best decoding is not Chinese text
#: at all (noise, or a script no government page uses) and the document is rejected.
IMPLAUSIBLE = 0.5
#: Detector answers worth trying; others (chardet sometimes says ISO-8859-5 for noise) are not.
DETECTABLE = frozenset({"utf-8", "gb18030", "big5hkscs", "utf-16", "cp1252"})
#: More undecodable bytes than this share of the document make it a reject, not a text.
UNDECODABLE_SHARE = 0.1
#: Detection runs on at most this many bytes, starting just before the first non-ASCII byte.
SAMPLE_BYTES = 32 * 1024

# Labels seen on portals → the codec that actually decodes such pages.
_ALIASES = {
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "zh-cn",
                     "zh_cn", "gb_2312-80", "csgb2312", "euc-cn", "x-euc-cn", "chinese",
                     "gb18030"), "gb18030"),
    "hz-gb-2312": "hz", "hz-gb": "hz",
    **dict.fromkeys(("big5", "big5-hkscs", "big5hkscs", "x-x-big5", "cn-big5", "csbig5",
                     "cp950", "zh-tw", "zh_tw"), "big5hkscs"),
    **dict.fromkeys(("utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
    # WHATWG: pages labelled Latin-1 or ASCII are decoded as windows-1252.
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1"), "cp1252"),
}


_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape",
                           "raw-unicode-escape", "utf-7", "mbcs", "oem"})


@dataclass
class Decoded:
    text: str
    encoding_declared: str | None
    encoding_detected: str
    repairs: list[str] = field(default_factory=list)
    undecodable_bytes: int = 0


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label names nothing usable."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _ALIASES:
        return _ALIASES[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None  # a Python codec, but no web page's charset (hex, rot13, punycode…)
    return _ALIASES.get(info.name, info.name)


def declared_charset(data: bytes, headers: dict[str, str] | None = None) -> str | None:
    """The charset a document claims: the HTTP ``Content-Type`` first, then a ``<meta>`` tag
    or an XML declaration."""
    return _header_charset(headers) or _meta_charset(data)


def _header_charset(headers: dict[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            match = _HEADER_CHARSET.search(value)
            if match:
                return match.group(1).lower()
    return None


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096]) or _XML_ENCODING.match(data[:512])
    return match.group(1).decode("ascii").lower() if match else None


@functools.cache
def common_chars() -> frozenset[str]:
    """Characters a Chinese government text is made of: GB2312 symbols and level-1 hanzi (the
    3,755 most frequent simplified characters) and Big5's frequent traditional characters.

    Derived from the codecs themselves rather than a hand-typed list."""
    chars: set[str] = set()
    for hi in range(0xA1, 0xD8):  # GB2312 rows A1–A9 symbols, B0–D7 level 1
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for hi in range(0xA4, 0xC7):  # Big5 frequently used characters
        for lo in [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            try:
                chars.add(bytes([hi, lo]).decode("big5"))
            except UnicodeDecodeError:
                pass
    chars.update("\u201c\u201d\u2018\u2019\u2014\u2026\u00b7\uff08\uff09\uff1a\uff1b\uff0c")
    return frozenset(chars)


def char_class(chars, *, negate: bool = False, extra: str = "") -> re.Pattern:
    """A compiled one-character class over ``chars``: the regex engine tests membership in C,
    which is many times faster than a Python loop over a long text."""
    body = "".join(re.escape(c) for c in sorted(chars)) + extra
    return re.compile(f"[{'^' if negate else ''}{body}]")


@functools.cache
def _uncommon() -> re.Pattern:
    return char_class(common_chars(), negate=True, extra=r"\x00-\x7f\s")


@functools.cache
def _uncommon_pair() -> re.Pattern:
    # Two uncommon characters at most two characters apart: how mojibake clusters look.
    one = _uncommon().pattern
    return re.compile(f"{one}[^\\x00-\\x7f\\s，。：；、]{{0,2}}{one}")


@functools.cache
def _common_runs() -> re.Pattern:
    return re.compile(char_class(common_chars(), extra=r"\x00-\x7f\s").pattern + "+")


def plausibility(text: str, *, sample: int = 65536) -> float:
    """Share of the non-ASCII, non-space characters that are common Chinese (1.0 when there
    are none), measured on the first ``sample`` characters."""
    text = text[:sample]
    # Counted as what is left once the other characters' runs are removed: the engine deletes
    # runs in C, where ``findall`` would make a string for each of tens of thousands of hits.
    total = len(_ASCII_OR_SPACE_RUNS.sub("", text))
    if not total:
        return 1.0
    return 1.0 - len(_common_runs().sub("", text)) / total


def decode(data: bytes, *, headers: dict[str, str] | None = None,
           override: str | None = None) -> Decoded:
    """Decode a text document's bytes; raise :class:`DocumentRejected` if they are not text."""
    if not data.strip():
        raise DocumentRejected("empty", "the document is empty (no bytes, or only whitespace)",
                               stage="decode")
    header_label, meta_label = _header_charset(headers), _meta_charset(data)
    declared = header_label or meta_label
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:  # a BOM, then bytes that are not that encoding (cut)
                return _checked(_judged(_lenient(data, codec, declared)))
            return _checked(_fixed(text, declared, codec.replace("-sig", ""))[0])
    candidates = [codec_for(override), codec_for(header_label), codec_for(meta_label)]
    if data.count(0) > len(data) // 10:  # NULs in every other byte: UTF-16 without a BOM
        candidates += ["utf-16-le", "utf-16-be"]
    candidates += ["utf-8", "gb18030"]
    # Traditional pages that declare a GB charset: chardet trusts the declaration and says
    # GB18030 again, so Big5 is tried on its own (plausibility decides between them).
    candidates.append("big5hkscs")
    fallback: list[tuple[float, int, Decoded]] = []
    tried: set[str] = set()
    for codec in filter(None, candidates):
        if codec in tried:
            continue
        tried.add(codec)
        attempt = _attempt(data, codec, declared)
        if attempt is None:
            continue
        result, score = attempt
        if score >= PLAUSIBLE:
            return _checked(result)
        fallback.append((score, -len(tried), result))
    guessed = _detect(data)
    if guessed and guessed not in tried:
        attempt = _attempt(data, guessed, declared)
        if attempt is not None:
            result, score = attempt
            if score >= PLAUSIBLE:
                return _checked(result)
            fallback.append((score, -len(tried) - 1, result))
    if fallback:
        return _checked(_judged(max(fallback, key=lambda item: item[:2])[2]))
    return _checked(_judged(_lenient(data, guessed or codec_for(declared) or "gb18030",
                                     declared)))


def _judged(best: Decoded) -> Decoded:
    """The best of implausible decodings, unless it is not Chinese text at all."""
    score = plausibility(best.text)
    if score < IMPLAUSIBLE and len(_NON_ASCII.findall(best.text[:65536])) >= 64:
        raise DocumentRejected(
            "implausible", f"no charset gives Chinese text (best {best.encoding_detected}: "
            f"{score:.0%} common characters; declared: {best.encoding_declared or 'nothing'})",
            stage="decode")
    return best


def _attempt(data: bytes, codec: str, declared: str | None) -> tuple[Decoded, float] | None:
    try:
        text = data.decode(codec)
    # UnicodeError too: labels such as "punycode" name codecs that are not charsets.
    except (UnicodeError, LookupError, TypeError, ValueError):
        return None
    return _fixed(text, declared, codec)


def _fixed(text: str, declared: str | None, codec: str) -> tuple[Decoded, float]:
    text, repairs, score = _unmojibake_scored(text)
    return Decoded(text=text, encoding_declared=declared, encoding_detected=codec,
                   repairs=repairs), score


def _lenient(data: bytes, codec: str, declared: str | None) -> Decoded:
    """Last resort: decode with U+FFFD for the bytes no codec accepts, and say how many."""
    bad = 0

    def count(exc: UnicodeDecodeError):
        nonlocal bad
        bad += exc.end - exc.start
        return "\ufffd", exc.end

    name = f"govreports-count-{id(count)}"
    codecs.register_error(name, count)
    text = data.decode(codec, errors=name)
    if bad > max(16, len(data) * UNDECODABLE_SHARE):
        raise DocumentRejected(
            "undecodable", f"{bad} of {len(data)} bytes decode under no charset "
            f"(declared: {declared or 'nothing'}, tried {codec} last)", stage="decode")
    return Decoded(text=text, encoding_declared=declared, encoding_detected=codec,
                   repairs=["undecodable_bytes"], undecodable_bytes=bad)


def _detect(data: bytes) -> str | None:
    """chardet's guess on a bounded sample that starts where the non-ASCII bytes do."""
    import chardet

    start = next((i for i, b in enumerate(data[:1 << 20]) if b >= 0x80), 0)
    sample = data[max(0, start - 256): start + SAMPLE_BYTES]
    codec = codec_for((chardet.detect(sample) or {}).get("encoding"))
    return codec if codec in DETECTABLE else None


def unmojibake(text: str) -> tuple[str, list[str]]:
    """Reverse mojibake that round-trips to plausible Chinese; returns the text and the names
    of the repairs that changed it. Text that is already plausible is returned unchanged."""
    text, repairs, _ = _unmojibake_scored(text)
    return text, repairs


def _unmojibake_scored(text: str) -> tuple[str, list[str], float]:
    """:func:`unmojibake`, also returning the result's plausibility (computed once)."""
    repairs: list[str] = []
    if text.isascii():
        return text, repairs, 1.0
    score = plausibility(text)
    # The letters gate the run pattern, which is three times slower on a page: a run without
    # one is left unchanged by both repairs below.
    if _LATIN_LETTER.search(text) and _LATIN_RUN.search(text):
        fixed = _LATIN_RUN.sub(_gbk_read_as_latin1, text)
        if fixed != text:
            text = fixed
            repairs.append("gbk_as_latin1")
        if _LATIN_RUN.search(text):
            import ftfy

            fixed = ftfy.fix_encoding(text)
            if fixed != text and plausibility(fixed) > plausibility(text):
                text = fixed
                repairs.append("ftfy")
        score = plausibility(text)
    if score < PLAUSIBLE or _has_implausible_run(text):
        fixed = _utf8_read_as_gbk(text)
        if fixed != text:
            text = fixed
            repairs.append("utf8_as_gbk")
            score = plausibility(text)
    return text, repairs, score


def _gbk_read_as_latin1(match: re.Match) -> str:
    run = match.group(0)
    if not _LATIN_LETTER.search(run):  # GBK lead bytes are 0x81–0xFE: mostly letters
        return run
    for codec in ("latin-1", "cp1252"):  # Latin-1 first: it maps every byte
        try:
            raw = run.encode(codec)
        except UnicodeEncodeError:
            continue
        try:
            fixed = raw.decode("gb18030")
        except UnicodeDecodeError:
            return run
        return fixed if plausibility(fixed) >= PLAUSIBLE else run
    return run


def _odd_span(run: str) -> tuple[int, int] | None:
    """The stretch of ``run`` that looks like mojibake: from its first to its last uncommon
    character, when at least two are uncommon and they make 40% of that stretch."""
    common = common_chars()
    odd = [i for i, c in enumerate(run) if c not in common]
    if len(odd) < 2 or len(odd) < 0.4 * (odd[-1] - odd[0] + 1):
        return None
    return odd[0], odd[-1] + 1


def _has_implausible_run(text: str) -> bool:
    if not _uncommon_pair().search(text):  # cheap gate: most clean texts stop here
        return False
    return next(_odd_runs(text), None) is not None


def _odd_runs(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of each mojibake candidate (a run of non-ASCII characters between
    :data:`_RUN_BREAK`, at least two) that has an :func:`_odd_span`. Found from the text's
    uncommon characters (a few dozen on a clean page) instead of by trying each of its thousand
    runs: a run without two of them has none."""
    end = 0
    for match in _uncommon().finditer(text):
        at = match.start()
        if at < end:
            continue  # in the run just tried
        start = at
        while start and not _RUN_BREAK.match(text, start - 1):
            start -= 1
        after = _RUN_BREAK.search(text, at)
        end = after.start() if after else len(text)
        if end - start >= 2 and _odd_span(text[start:end]):
            yield start, end


def _utf8_read_as_gbk(text: str) -> str:
    """Undo UTF-8 bytes that were decoded as GBK: whole text first, then run by run."""
    try:
        whole = text.encode("gb18030").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        whole = None
    if whole is not None and plausibility(whole) >= PLAUSIBLE:
        return whole

    def run_fix(run: str) -> str:
        start, end = _odd_span(run)
        # Mojibake may sit inside good text and its first or last character may be a common
        # one: try the uncommon stretch widened by up to two characters each side.
        for a in range(start, max(-1, start - 3), -1):
            for b in range(end, min(len(run), end + 2) + 1):
                try:
                    fixed = run[a:b].encode("gb18030").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    continue
                if plausibility(fixed) >= PLAUSIBLE:
                    return run[:a] + fixed + run[b:]
        return run

    parts, done = [], 0
    for start, end in list(_odd_runs(text)):
        parts += [text[done:start], run_fix(text[start:end])]
        done = end
    return "".join(parts) + text[done:]


def _checked(result: Decoded) -> Decoded:
    sample = result.text[:65536]
    controls = len(_CONTROL.findall(sample))
    if controls > max(8, len(sample) // 100):
        raise DocumentRejected(
            "binary", f"the content is binary, not text ({controls} control characters)",
            stage="decode",
        )
    return result
