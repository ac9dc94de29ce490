"""Text repairs one by one: what each changes, and what it must leave alone."""

from __future__ import annotations

import pytest

from pipelines.repair import (
    count_unrecoverable,
    is_traditional,
    repair_text,
    strip_markup_residue,
    strip_pinyin,
)

MIRROR = "政務(wù)公開工作領(lǐng)導(dǎo)小組"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MIRROR, "政務公開工作領導小組"),
        ("的(de)工作的(de)任务的(de)", "的工作的任务的"),  # neutral tone, no mark
        ("务(wu4)公(gong1)开(kai1)", "务公开"),  # tone numbers
        ("《条例》(试行)规定(2023)（一）第(二)项" * 3,
         "《条例》(试行)规定(2023)（一）第(二)项" * 3),
        ("办公系统(OA)平台(App)网站(ICP)", "办公系统(OA)平台(App)网站(ICP)"),
        ("政務(wù)公開", "政務(wù)公開"),  # one annotation is not evidence of a mirror
        ("A(wù)B(wù)C(wù)", "A(wù)B(wù)C(wù)"),  # only right after a hanzi
    ],
    ids=["tone-marks", "neutral-tone", "tone-numbers", "legal-parentheses", "acronyms",
         "single-annotation", "after-latin"],
)
def test_strip_pinyin(text, expected):
    assert strip_pinyin(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("工作股(室)主动?/font>股", "工作股(室)主动?股"), ("全年&nbsp;共计", "全年 共计"),
     ("<span style=\"x\">12</span>件", "12件"), ("&ldquo;放管服&rdquo;", "“放管服”"),
     ("《规定》/ 2019/12/31 a>b", "《规定》/ 2019/12/31 a>b")],
    ids=["broken-close-tag", "nbsp-entity", "span-pair", "quote-entities", "slashes-survive"],
)
def test_strip_markup_residue(text, expected):
    assert strip_markup_residue(text) == expected


@pytest.mark.parametrize(
    ("text", "traditional"),
    [("政務公開工作領導小組", True), ("政务公开工作领导小组", False), ("著名的乾隆皇帝", False),
     ("後來", False), ("", False)],
    ids=["traditional", "simplified", "simplified-with-shared-forms", "too-short", "empty"],
)
def test_is_traditional(text, traditional):
    assert is_traditional(text) is traditional


@pytest.mark.parametrize(
    ("text", "count"),
    [("有序?qū)嵤?。?股", 3), ("全文\ufffd\ufffd共", 2), ("锟斤拷锟斤拷", 6),
     ("http://x.gov.cn/?id=1 ？", 0), ("是否？", 0)],
    ids=["question-marks-by-hanzi", "replacement-chars", "kun-jin-kao", "url-query",
         "fullwidth-question"],
)
def test_count_unrecoverable(text, count):
    assert count_unrecoverable(text) == count


def test_repairs_are_named_in_order():
    repaired = repair_text(MIRROR + "?/font>全年１２件\r\n")
    assert repaired.text == "政务公开工作领导小组?全年12件\n"
    assert repaired.repairs == ["markup_residue", "pinyin_removed", "t2s", "fullwidth_digits",
                                "line_endings"]
    assert repaired.unrecoverable_chars == 1
