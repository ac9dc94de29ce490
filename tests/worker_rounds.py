"""``python -m tests.worker_rounds ROUNDS JOBS``: open a worker pool ROUNDS times, give each
one document and close it at once, as a small batch does; prints the answers, one per line.
Run by tests/test_robustness.py beside busy processes, so that the pools close while their
last workers are still starting."""

from __future__ import annotations

import sys

from pipelines.workers import Workers


def _echo(value: int) -> int:
    return value


def main(rounds: int, jobs: int) -> None:
    for n in range(rounds):
        with Workers(jobs, timeout=60) as workers:
            for _key, answer in workers.run("echo", _echo, [(n, (n,))]):
                print(answer, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
