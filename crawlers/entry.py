"""The ``govreports`` console script: the command group of :mod:`crawlers.cli`, reached through
a module that imports nothing heavy at its top.

Two start-up costs depend on that. A command that processes documents starts their workers'
fork server here, first, so that its preloading (the parsers and tables every worker needs)
runs on another core while this process imports the command line. And the fork server runs
the caller's main script once to spare each worker from running it (see
:data:`pipelines.workers._PRELOAD`): when that script is this module, that costs nothing.
"""

from __future__ import annotations

import os
import sys

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


def main() -> None:
    if needs_workers(sys.argv[1:]):
        from pipelines.workers import prestart

        prestart()
    from crawlers.cli import main as command_group

    command_group()
