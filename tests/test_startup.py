"""What a small run pays before its first document: the console script, the workers' fork
server and the pool's size (issue 29). Times are measured by ``make bench``, never here: these
tests pin the behaviour the times rest on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawlers.entry import needs_workers
from pipelines.workers import Workers

NEEDS_WORKERS = {
    "ingest-a-file": (["ingest", "--lake", "/nonexistent/lake", __file__], True),
    "ingest-nothing-there": (["ingest", "/nonexistent/report.html"], False),
    "process": (["process", "--lake", "lake"], True),
    "stage": (["stage", "extract", "--batch", "b1"], True),
    "query": (["query", "select 1"], False),
    "crawl": (["crawl", "--portal", "x"], False),
    "help-of-ingest": (["ingest", "--help"], False),
    "version": (["--version"], False),
    "nothing": ([], False),
}


@pytest.mark.parametrize("args, expected", NEEDS_WORKERS.values(), ids=NEEDS_WORKERS.keys())
def test_the_fork_server_starts_first_only_for_commands_that_process_documents(args, expected):
    assert needs_workers(args) is expected


def _modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\n"
                           "print('\\n'.join(sys.modules))"],
                          capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_console_script_module_imports_nothing_heavy():
    # The fork server runs the main script once (pipelines.workers._PRELOAD): it must be cheap.
    loaded = _modules_after("import crawlers.entry")
    assert not loaded & {"pyarrow", "click", "trafilatura", "pipelines.cli", "crawlers.cli"}


def test_pinyin_syllables_are_read_without_importing_pypinyin():
    loaded = _modules_after("from pipelines import repair\nrepair.pinyin_syllables()")
    assert not {name for name in loaded if name.startswith("pypinyin")}


def test_pinyin_syllables_are_those_of_pypinyins_dictionary():
    from pypinyin.pinyin_dict import pinyin_dict

    from pipelines.repair import pinyin_syllables

    marked = {reading for readings in pinyin_dict.values() for reading in readings.split(",")}
    syllables = pinyin_syllables()
    assert marked <= syllables
    assert {"wù", "wu", "wu4", "lü", "lv", "bào", "bao4"} <= syllables


def _pid(_value: int) -> int:
    import os

    return os.getpid()


POOL_SIZES = {  # (jobs, documents) → workers started
    "one-document": (4, 1, 1),
    "three-documents": (4, 3, 3),
    "a-chunk-each": (2, 10, 2),
    "more-than-chunks": (2, 100, 2),
}


@pytest.mark.parametrize("jobs, documents, started", POOL_SIZES.values(), ids=POOL_SIZES.keys())
def test_the_pool_starts_only_the_workers_the_work_needs(jobs, documents, started):
    with Workers(jobs, timeout=60) as workers:
        answers = dict(workers.run("echo", _pid, ((n, (n,)) for n in range(documents)),
                                   count=documents))
        assert workers.started == started
    assert sorted(answers) == list(range(documents))
    assert len(set(answers.values())) <= started
