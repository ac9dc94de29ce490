"""Build the encoding golden inputs from the seeds.

Run ``python tests/golden/build_encoding_inputs.py`` (or ``… OUT`` to write the cases under
``OUT`` instead: tests/test_golden_builders.py checks the build against the committed inputs).

Each case is a folder ``<case>/`` with ``input.html`` or ``input.txt`` (the bytes exactly as a
portal would serve them) and ``meta.json`` (HTTP headers, an optional charset override, what the
case is about). Expected outputs (``expected.json``, ``expected.txt``) are written by
``pytest tests/test_encoding_golden.py --regen-golden`` and reviewed as a diff.
This script is deterministic: running it again rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import opencc

HERE = Path(__file__).parent / "encoding"
SEEDS = Path(__file__).parent.parent.parent / "crawlers" / "samples" / "seeds"


def seed(prefix: str) -> str:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def page(text: str, *, meta: str = "", title: str | None = None, script: str = "") -> str:
    """A TRS-style detail page around a report text, one paragraph per line."""
    lines = [line for line in text.splitlines() if line.strip()]
    title = title or lines[0]
    body = "\n".join(f"<p>{line}</p>" for line in lines).replace("\xa0", "&nbsp;")
    return (f"<!DOCTYPE html>\n<html>\n<head>\n{meta}<title>{title}</title>\n"
            f"<script>{script}</script>\n</head>\n<body>\n"
            f'<div class="TRS_Editor">\n{body}\n</div>\n</body>\n</html>\n')


def write(root: Path, case: str, data: bytes, *, about: str, headers: dict | None = None,
          encoding: str | None = None, ext: str = "html", gold: str | None = None) -> None:
    """Write a case; ``gold`` is the page's report text as authored, clean and simplified,
    independent of any extractor (the text benchmark scores extractors against it)."""
    folder = root / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"input.{ext}").write_bytes(data)
    if gold is not None:
        lines = [line for line in gold.splitlines() if line.strip()]
        (folder / "gold.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = {"about": about, "headers": headers or {}, "encoding": encoding}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")


def main(root: Path = HERE) -> None:
    """Write every case's inputs under ``root`` (the committed cases by default)."""
    report = seed("003")
    utf8_meta = '<meta charset="utf-8">\n'
    gbk_meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">\n'
    write(root, "utf8-meta", page(report, meta=utf8_meta).encode("utf-8"),
          gold=report, about="UTF-8 page that declares UTF-8 in <meta>")
    write(root, "gbk-meta", page(report, meta=gbk_meta).encode("gbk"),
          gold=report, about="GBK page that declares gb2312 in <meta>")
    write(root, "gbk-header-lies", page(report).encode("gbk"),
          headers={"Content-Type": "text/html; charset=UTF-8"},
          gold=report, about="GBK page served with a Content-Type header that claims UTF-8")
    write(root, "utf8-meta-lies", page(report, meta=gbk_meta).encode("utf-8"),
          gold=report, about="UTF-8 page whose <meta> still claims gb2312 (a migrated CMS template)")
    write(root, "gbk-undeclared", page(report).encode("gbk"),
          gold=report, about="GBK page with no declaration anywhere")
    script = ("var navigation = [" + ",".join(f'{{"id": {i}, "url": "/col/col{i}/index.html"}}'
                                             for i in range(1200)) + "];\n")
    short_text = "西邑乡2019年政府信息公开年度报告\n索引号：01525767-7-/2020-0131001"
    write(root, "script-heavy", page(short_text, script=script).encode("gbk"),
          gold=short_text, about="GBK page with 40 KB of script and two lines of Chinese, undeclared")
    write(root, "short-page",
          ("<html><head><title>西邑乡2019年政府信息公开年度报告</title></head><body><table>"
           "<tr><td>索引号</td><td>01525767-7-/2020-0131001</td></tr></table></body></html>"
           ).encode("gbk"),
          about="a title and a 索引号 only, GBK, undeclared")
    traditional = opencc.OpenCC("s2tw").convert(seed("000"))
    big5_meta = '<meta http-equiv="Content-Type" content="text/html; charset=big5">\n'
    write(root, "big5-traditional",
          page(traditional, meta=big5_meta).encode("big5hkscs", "xmlcharrefreplace"),
          gold=seed("000"), about="big5.*.gov.cn/gate/big5 copy: traditional text in Big5, declared")
    write(root, "big5-undeclared", page(traditional).encode("big5hkscs", "xmlcharrefreplace"),
          gold=seed("000"), about="traditional text in Big5 with no declaration")
    write(root, "mirror-pinyin", page(seed("001"), meta=utf8_meta).encode("utf-8"),
          gold=None, about="seed 001: a 繁體 mirror copy with pinyin after characters and a mojibake run")
    short = "\n".join(seed("004").splitlines()[:12])
    write(root, "double-utf8", page(short, meta=utf8_meta).encode("utf-8").decode("latin-1")
          .encode("utf-8"), gold=short, about="UTF-8 page read as Latin-1 and saved as UTF-8 again")
    gbk_as_latin1 = page(short, meta=utf8_meta).encode("gbk").decode("latin-1").encode("utf-8")
    write(root, "gbk-read-as-latin1", gbk_as_latin1,
          gold=short, about="GBK page read as Latin-1 and saved as UTF-8")
    mojibake = "政府信息公开工作年度报告".encode().decode("gb18030")
    write(root, "utf8-read-as-gbk",
          page(f"{mojibake}\n本报告中所列数据的统计期限自2019年1月1日起。\n{mojibake}",
               meta=utf8_meta).encode("utf-8"),
          about="a page whose title and first line are UTF-8 read as GBK (鏀垮簻…)")
    fullwidth = "二、主动公开政府信息情况\r\n本年新制作数量：１２件  \r\n"
    write(root, "fullwidth-crlf", fullwidth.encode("gbk"), ext="txt",
          about="plain text with CRLF line ends, trailing spaces and full-width digits")
    for number in ("000", "001", "002", "003", "004"):
        write(root, f"seed-{number}", seed(number).encode("utf-8"), ext="txt",
              about=f"seed {number} as plain UTF-8 text")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE,
                        help="folder to write the cases in (default: tests/golden/encoding)")
    main(parser.parse_args().out)
