"""Golden cases for decode + repair: one folder per case under ``tests/golden/encoding``.

``input.*`` holds the bytes as served, ``meta.json`` the headers and override, ``expected.json``
the evidence (declared/detected charset, repairs, unrecoverable count) and ``expected.txt`` the
text. Regenerate with ``pytest tests/test_encoding_golden.py --regen-golden`` and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.extract import extract
from tests.conftest import SEEDS

CASES = sorted(p for p in (Path(__file__).parent / "golden" / "encoding").iterdir() if p.is_dir())


def _run(case: Path):
    [source] = case.glob("input.*")
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    result = extract(source.read_bytes(), filename=source.name, headers=meta["headers"],
                     encoding=meta["encoding"])
    evidence = {"encoding_declared": result.encoding_declared,
                "encoding_detected": result.encoding_detected,
                "repairs": result.repairs,
                "unrecoverable_chars": result.unrecoverable_chars}
    return result, evidence


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case, regen_golden):
    result, evidence = _run(case)
    if regen_golden:
        (case / "expected.json").write_text(
            json.dumps(evidence, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (case / "expected.txt").write_text(result.text, encoding="utf-8")
    assert evidence == json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert result.text == (case / "expected.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("number", ["000", "002", "003", "004"], ids=lambda n: f"seed-{n}")
def test_clean_seeds_come_out_unchanged(number):
    [seed] = SEEDS.glob(f"{number}_*.txt")
    result = extract(seed.read_bytes(), filename=seed.name)
    assert result.text == seed.read_text(encoding="utf-8")
    assert result.repairs == [] and result.unrecoverable_chars == 0


def test_seed_001_becomes_simplified_without_pinyin_and_flags_the_mojibake():
    [seed] = SEEDS.glob("001_*.txt")
    result = extract(seed.read_bytes(), filename=seed.name)
    assert result.repairs == ["markup_residue", "pinyin_removed", "t2s"]
    assert "政务公开" in result.text and "政務" not in result.text
    assert not re.search(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", result.text)
    assert "/font>" not in result.text
    assert "有序?qū)嵤?。?股" in result.text  # kept as found, not invented
    assert result.unrecoverable_chars == 3


@pytest.mark.parametrize(
    ("case", "text"),
    [("gbk-meta", "西邑乡2019年政府政务公开年度报告"),
     ("gbk-header-lies", "西邑乡2019年政府政务公开年度报告"),
     ("gbk-undeclared", "西邑乡2019年政府政务公开年度报告"),
     ("utf8-meta-lies", "西邑乡2019年政府政务公开年度报告"),
     ("big5-traditional", "刘房子街道2019年度政务公开工作"),
     ("big5-undeclared", "刘房子街道2019年度政务公开工作"),
     ("double-utf8", "毕节市七星关区人民政府市东街道办事处"),
     ("gbk-read-as-latin1", "毕节市七星关区人民政府市东街道办事处"),
     ("utf8-read-as-gbk", "政府信息公开工作年度报告"),
     ("script-heavy", "索引号：01525767-7-/2020-0131001"),
     ("short-page", "01525767-7-/2020-0131001"),
     ("fullwidth-crlf", "本年新制作数量：12件\n")],
    ids=lambda v: v if isinstance(v, str) and v.isascii() else None,
)
def test_every_variant_yields_the_simplified_report(case, text):
    """Independent of the golden files: each variant's text holds the original words."""
    result, _ = _run(next(c for c in CASES if c.name == case))
    assert text in result.text
