"""What a small run pays before its first document: the console script, the workers' fork
server and the pool's size (issue 29). Times are measured by ``make bench``, never here: these
tests pin the behaviour the times rest on."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

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


def test_the_workers_fork_server_loads_no_arrow_duckdb_or_trafilatura():
    # What every worker starts with (pipelines.workers._PRELOAD): Arrow alone was 0.1 s of each
    # run's start and 44 MB in each of the fork server and its workers; trafilatura, 0.1 s and
    # 20 MB, is loaded by the workers that meet a page only it can read.
    from pipelines.workers import _PRELOAD

    loaded = _modules_after("\n".join(f"import {name}" for name in _PRELOAD
                                      if name not in ("__main__", "pipelines.server_exit")))
    assert "pipelines.document" in loaded
    assert not loaded & {"pyarrow", "duckdb", "pipelines.lake", "pipelines.process",
                         "trafilatura"}


GOVREPORTS = str(Path(sys.executable).with_name("govreports"))


def test_a_one_file_ingest_ends_with_its_output_flushed_and_no_temporary_folder(tmp_path):
    # The console script skips the interpreter's teardown (crawlers.entry.exit_now): the
    # summary must still be printed whole, and multiprocessing's folders removed.
    from tests.conftest import SEEDS

    # A short folder: the fork server's socket lives in it, and a socket's path may not be
    # longer than 107 bytes (pytest's own folders under xdist can be).
    with tempfile.TemporaryDirectory(dir="/tmp") as temp:
        done = subprocess.run([GOVREPORTS, "ingest", "--lake", str(tmp_path / "lake"),
                               str(next(SEEDS.glob("000_*.txt")))], capture_output=True,
                              text=True, env={**os.environ, "TMPDIR": temp})
        assert done.returncode == 0, done.stderr
        assert "manifest" in done.stdout.splitlines()[-1]
        assert list(Path(temp).iterdir()) == []


EXITS = {  # command → exit code, text expected on stderr
    "unknown-command": (["no-such-command"], 2, "No such command"),
    "bad-setting": (["settings"], 2, "GOVREPORTS_JOBS"),
    "version": (["--version"], 0, ""),
}


@pytest.mark.parametrize("args, code, message", EXITS.values(), ids=EXITS.keys())
def test_the_console_script_exits_with_the_commands_code(args, code, message):
    env = {**os.environ, "GOVREPORTS_JOBS": "0" if "settings" in args else "1"}
    done = subprocess.run([GOVREPORTS, *args], capture_output=True, text=True, env=env)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert done.stdout or code != 0


def test_a_running_thread_that_is_not_a_daemon_is_waited_for(tmp_path):
    marker = tmp_path / "written"
    code = ("import threading, time\n"
            "from crawlers.entry import exit_now\n"
            "def late():\n"
            "    time.sleep(0.3)\n"
            f"    open({str(marker)!r}, 'w').write('done')\n"
            "threading.Thread(target=late).start()\n"
            "exit_now(0)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"


def test_the_fork_server_ends_at_once_whatever_it_was_asked_to_exit_with():
    # Imported by the fork server only, last: its exit skips the teardown of what it preloaded
    # (and so lets go of the command's output pipes at once).
    from pipelines.workers import _PRELOAD

    assert _PRELOAD[-1] == "pipelines.server_exit"
    done = subprocess.run([sys.executable, "-c", "import pipelines.server_exit, sys\n"
                           "sys.exit(3)"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
