"""The ``govreports`` console script: the command group of :mod:`crawlers.cli`, reached through
a module that imports nothing heavy at its top.

Three costs of a small run depend on that. A command that processes documents starts their workers'
fork server here, first, so that its preloading (the parsers and tables every worker needs)
runs on another core while this process imports the command line. And the fork server runs
the caller's main script once to spare each worker from running it (see
:data:`pipelines.workers._PRELOAD`): when that script is this module, that costs nothing. And
once the command is done, the interpreter's own teardown (freeing every module of Arrow,
trafilatura and the tables, about 0.06 s) is skipped: see :func:`exit_now`.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

#: Commands that run per-document work in worker processes (ingest only when an input exists).
_WORKER_COMMANDS = frozenset({"ingest", "process", "stage"})


def needs_workers(args: list[str]) -> bool:
    """Whether the command line ``args`` (without the program) will start document workers."""
    if any(arg in ("-h", "--help", "--version") for arg in args):
        return False
    words = [arg for arg in args if not arg.startswith("-")]
    if not words or words[0] not in _WORKER_COMMANDS:
        return False
    return words[0] != "ingest" or any(os.path.exists(word) for word in words[1:])


def exit_now(code: object) -> None:
    """End the process with ``code`` (a :class:`SystemExit` code) as the interpreter would,
    minus its teardown of the modules: the exit handlers run (multiprocessing's, which remove
    its temporary folders; logging's), the output is flushed, and nothing else is left to do.
    While a thread that is not a daemon still runs, the interpreter must wait for it: then this
    is an ordinary exit."""
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what the interpreter does with a message
        code = 1
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers the interpreter would run
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`govreports query … | head`): as the interpreter does
        code = code or 120
    os._exit(code or 0)


def main() -> None:
    if needs_workers(sys.argv[1:]):
        from pipelines.workers import prestart

        prestart()
    from crawlers.cli import main as command_group

    try:
        command_group()
    except SystemExit as done:
        exit_now(done.code)
    exit_now(0)
