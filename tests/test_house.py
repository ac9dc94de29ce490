"""House rules the code itself can check: the lake's keys are built in one module, and what
comments, docstrings and docs point to is in the repository."""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CODE = ("pipelines", "crawlers", "dags")


def tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if not name.startswith("tests/golden/") or
            name.count("/") == 2]  # the builders, not the golden cases' own files


def python_files(*folders: str) -> list[Path]:
    return [p for p in tracked(*folders) if p.suffix == ".py"]


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant) \
                    and isinstance(body[0].value.value, str):  # not a stub's `...`
                found.add(id(body[0].value))
    return found


# -- the lake's keys ----------------------------------------------------------------------------

#: The lake's own prefixes (docs/lake.md); a string literal of code that starts a key with one
#: of them builds a key outside pipelines/lake.py.
_KEY = re.compile(r"^(_work|_runs|_crawl|_lease|_reports|raw|rejects)/")


@pytest.mark.parametrize("path", [p for p in python_files(*CODE)
                                  if p != ROOT / "pipelines" / "lake.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_lake_keys_are_built_only_in_the_lake_module(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = docstring_nodes(tree)
    built = [f"line {node.lineno}: {node.value!r}" for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and id(node) not in docstrings and not re.search(r"\s", node.value)
             and _KEY.match(node.value)]
    assert built == [], "use the key functions of pipelines/lake.py"


# -- what comments, docstrings and docs point to ------------------------------------------------

_PATH = re.compile(r"(?<![\w/.:~-])((?:\.\./)+[\w.-][\w./-]*|(?:pipelines|crawlers|dags|tests|infra"
                   r"|docs)/[\w./-]*[\w/])(?![<{*\w])")
_MODULE = re.compile(r"(?<![\w./])~?((?:pipelines|crawlers)(?:\.\w+)+)")


def prose_of(path: Path) -> str:
    """The comments and docstrings of a Python file; all of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return text
    parts = [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
             if tok.type == tokenize.COMMENT]
    tree = ast.parse(text)
    docstrings = docstring_nodes(tree)  # once: per constant, it made the check quadratic
    parts += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
              and id(n) in docstrings]
    return "\n".join(parts)


def module_exists(dotted: str) -> bool:
    """``pipelines.lake`` or ``pipelines.lake.Lake.open``: its longest module prefix is a file."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        try:
            if importlib.util.find_spec(".".join(parts[:end])) is not None:
                return True
        except ModuleNotFoundError:  # a name inside a module (pipelines.lake.Lake)
            continue
    return False


def broken_pointers(path: Path) -> list[str]:
    prose = prose_of(path)
    broken = []
    for match in _PATH.finditer(prose):
        target = match[1].rstrip(".")
        base = path.parent if target.startswith("../") else ROOT
        resolved = (base / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    for match in _MODULE.finditer(prose):
        if not module_exists(match[1].rstrip(".")):
            broken.append(match[1])
    return broken


@pytest.mark.parametrize("path", [p for p in tracked("*.py", "*.md")
                                  if p.suffix in (".py", ".md")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_comments_docstrings_and_docs_point_only_to_files_in_the_repository(path):
    assert broken_pointers(path) == []


def test_a_pointer_outside_the_repository_or_to_a_missing_file_is_found(tmp_path):
    text = ('"""Layouts follow ../shared/DOMAIN.md; see pipelines/lake.py and\n'
            'pipelines/nowhere.py, :mod:`pipelines.lake`, :mod:`pipelines.gone`."""\n'
            "# docs/lake.md and docs/missing.md\n")
    probe = tmp_path / "probe.py"
    probe.write_text(text, encoding="utf-8")
    found = broken_pointers(probe)
    assert sorted(found) == ["../shared/DOMAIN.md", "docs/missing.md", "pipelines.gone",
                             "pipelines/nowhere.py"]


# -- the layers: import-linter's contracts (setup.cfg), run by make test ------------------------

@pytest.mark.parametrize("module,added,broken", [
    ("pipelines/errors.py", "import pipelines.lake", "pipelines.errors is not allowed to import"),
    ("pipelines/records.py", "from pipelines import metadata", "pipelines.records is not allowed"),
    ("pipelines/lake.py", "import crawlers.portals", "pipelines is not allowed to import crawlers"),
    ("crawlers/manifest.py", "from pipelines.process import new_run",
     "crawlers.manifest -> pipelines.process"),
    ("crawlers/spider.py", "import dags", "crawlers is not allowed to import dags"),
], ids=["leaf-imports-a-stage", "records-import-metadata", "pipelines-import-the-crawler",
        "crawl-imports-processing", "crawler-imports-the-dags"])
def test_the_import_contracts_refuse_an_import_against_the_layers(tmp_path, module, added,
                                                                   broken):
    for folder in CODE:
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "samples"))
    shutil.copy(ROOT / "setup.cfg", tmp_path)
    with open(tmp_path / module, "a", encoding="utf-8") as code:
        code.write(f"\n{added}  # against the layers\n")
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 1 and broken in done.stdout, done.stdout[-2000:] + done.stderr


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
