"""Properties of decode + repair over generated inputs (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.decode import common_chars, decode, unmojibake
from pipelines.errors import DocumentRejected
from pipelines.extract import extract
from pipelines.repair import repair_text, script_markers

# Clean simplified text: common hanzi that are not traditional-only forms, ASCII words and
# numbers, Chinese punctuation, and the parenthesised forms real reports use.
_HANZI = sorted(c for c in common_chars()
                if "\u4e00" <= c <= "\u9fff" and c not in script_markers()[0])
_TOKENS = st.one_of(
    st.text(st.sampled_from(_HANZI), min_size=1, max_size=12),
    st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True),
    st.sampled_from(["，", "。", "、", "：", "；", "！", "？", "“", "”", "《", "》", "（一）",
                     "(试行)", "(2023)", "〔2019〕48号", "%", "-", "/", "·"]),
)
_LINE = st.lists(_TOKENS, min_size=1, max_size=20).map("".join)
CLEAN = st.lists(_LINE, min_size=1, max_size=8).map("\n".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(CLEAN)
@example("··")  # two middle dots once read as GBK 贩 (Latin-1 bytes B7 B7)
def test_repair_never_changes_clean_simplified_text(text):
    repaired = repair_text(text)
    assert repaired.text == text and repaired.repairs == []
    assert unmojibake(text) == (text, [])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(CLEAN.filter(lambda t: any("\u4e00" <= c <= "\u9fff" for c in t)),
       st.sampled_from(["utf-8", "gb18030"]))
def test_clean_text_round_trips_through_its_encoding(text, codec):
    decoded = decode(text.encode(codec))
    assert decoded.text == text and decoded.repairs == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4096), st.sampled_from(["a.html", "a.txt", "a.pdf", "a.docx", None]),
       st.sampled_from([None, {"Content-Type": "text/html; charset=gbk"},
                        {"Content-Type": "text/html; charset=nonsense"}]))
def test_arbitrary_bytes_never_raise_anything_but_a_reject(data, filename, headers):
    try:
        result = extract(data, filename=filename, headers=headers)
    except DocumentRejected as exc:
        assert exc.reason and str(exc)
    else:
        assert isinstance(result.text, str) and result.text.strip()
