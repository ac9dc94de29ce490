"""Per-document work in worker processes: a time budget, a memory bound, every failure a reject.

One document must never stop a batch. Python cannot interrupt a regular expression or libxml2
while they run, and cannot take back memory a parser has grabbed, so the per-document steps
(decode, extract, build the record) run in a pool of worker processes (pebble's
``ProcessPool``, which kills and replaces a worker whose task overruns):

- a document that takes longer than ``GOVREPORTS_DOC_TIMEOUT`` seconds (default 120) is
  rejected as ``too_slow`` and its worker replaced;
- a worker may map at most ``GOVREPORTS_DOC_MEMORY_MB`` (default 2048 MiB) of address space
  beyond what it held when it was forked: a document that needs more is rejected as
  ``too_large``;
- a worker that dies (a crash in a C library) rejects its document as ``worker_died``;
- any other exception becomes an ``internal_error`` reject naming the exception, its message,
  the stage and the line of ``pipelines/`` that raised it.

Storage and configuration failures (:class:`~pipelines.errors.GovreportsError` other than a
reject) are the batch's problem, not the document's: they propagate.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar

from pipelines.errors import DocumentRejected, GovreportsError
from pipelines.settings import current

K = TypeVar("K")

#: Documents per worker task (see :meth:`Workers.run`).
TASK_DOCS = 8
#: Seconds between the pool's looks at its workers (time budgets, deaths, closing).
POLL_S = 0.02

#: The module a failure was raised in → the stage named in the reject.
_STAGES = {"decode": "decode", "repair": "repair", "extract": "extract",
           "attachments": "extract", "metadata": "metadata", "regions": "metadata",
           "stat_tables": "statistics"}
_PACKAGE = Path(__file__).parent


def internal_error(exc: BaseException, stage: str) -> DocumentRejected:
    """An unexpected exception as a reject: its type and message, and the stage and line of
    ``pipelines/`` it was raised in (the deepest such frame)."""
    where, named = "", stage
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.parent == _PACKAGE:
            where = f" (at pipelines/{path.name}:{frame.lineno})"
            named = _STAGES.get(path.stem, stage)
            break
    message = str(exc).splitlines()[0][:300] if str(exc) else ""
    return DocumentRejected("internal_error", f"{type(exc).__name__}: {message}{where}",
                            stage=named)


def guarded(stage: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` with every failure that is the document's turned into
    :class:`DocumentRejected` (see the module docstring)."""
    try:
        return fn(*args)
    except DocumentRejected:
        raise
    except GovreportsError:
        raise
    except MemoryError:
        raise DocumentRejected(
            "too_large", f"processing needed more than {current().doc_memory_mb} MiB of memory "
            "(GOVREPORTS_DOC_MEMORY_MB); the document is kept in raw/", stage=stage) from None
    except Exception as exc:  # noqa: BLE001 - the point: no document may stop the batch
        raise internal_error(exc, stage) from exc


def guarded_each(stage: str, fn: Callable[..., Any], chunk: list[tuple]) -> list[Any]:
    """:func:`guarded` over a chunk of documents in one task: each document's result or its
    :class:`DocumentRejected`, in order."""
    out: list[Any] = []
    for args in chunk:
        try:
            out.append(guarded(stage, fn, *args))
        except DocumentRejected as exc:
            out.append(exc)
    return out


def _address_space() -> int:
    """Bytes of address space this process maps now (0 where /proc is not there)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(megabytes: int) -> None:
    # The bound is on what a document adds to the worker as it was forked: a parent that has
    # already mapped a lot (DuckDB reserves gigabytes of address space for its buffers) must not
    # leave its workers unable to load a codec module.
    limit = _address_space() + megabytes * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _start_worker(megabytes: int, started) -> None:
    """Each worker's initializer: bound its memory, then say (on ``started``) that it is past
    its start-up (see :meth:`Workers._wait_started`)."""
    _limit_memory(megabytes)
    started.send_bytes(b"1")
    started.close()


#: What the fork server imports once, so that each worker starts with the parsers loaded (and
#: with the caller's main script already run, which multiprocessing would otherwise run again
#: in every worker: ``airflow`` imports all of Airflow); last, how the server itself exits.
_PRELOAD = ["__main__", "pipelines.document", "pipelines.preload", "pipelines.server_exit"]


def _context():
    """Workers are forked from a fork server: a clean process started once, never from the
    caller itself. A caller may hold threads and native state that a forked child cannot
    use (DuckDB's and Arrow's thread pools after a query; an Airflow task's heartbeat):
    forking it directly made workers crash on the next batch."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def prestart() -> None:
    """Start the fork server (its preloading takes about half a second) in the background, so
    that it is ready when the first worker is needed: a caller does this before work of its
    own (storing the files it ingests)."""
    import threading

    def start() -> None:
        _context()
        from multiprocessing import forkserver

        forkserver.ensure_running()

    threading.Thread(target=start, name="govreports-forkserver", daemon=True).start()


class Workers:
    """A pool of worker processes for per-document steps; use as a context manager.

    ``run`` yields each key with its result or its :class:`DocumentRejected`, in input order,
    keeping at most a few documents per worker in flight (inputs are read lazily)."""

    #: Seconds the pool's closing waits at most for workers still starting.
    START_WAIT_S = 30.0

    def __init__(self, jobs: int | None = None, *, timeout: float | None = None,
                 memory_mb: int | None = None):
        settings = current()
        self.jobs = jobs or settings.jobs or os.cpu_count() or 1
        self.timeout = timeout if timeout is not None else settings.doc_timeout
        self.memory_mb = memory_mb or settings.doc_memory_mb
        self._pool = None
        self._started_signals = None  # (receiving, sending): workers say they started
        self._spawned = 0  # workers the pool has started: the first ones and replacements
        self._ready = 0  # of those, how many said so

    def __enter__(self) -> Workers:
        return self

    @property
    def started(self) -> int:
        """Worker processes this pool has started so far (replacements included)."""
        return self._spawned

    def _started(self, tasks: int | None = None):
        """The pool, started on the first document (a batch with nothing to do starts no
        process), with no more workers than the ``tasks`` its first run has (when it knows):
        a one-file ingest forks one worker, not one per core."""
        if self._pool is not None:
            self._drain_started(0)  # the signals of replaced workers: the pipe never fills up
            return self._pool
        import pebble

        # Pebble's pool threads look at the pool every sleep_unit (0.1 s by default), and
        # closing a pool waits for the next look: half of it on average, at the end of every
        # batch (0.05 s of a one-file ingest's 0.6). Looking every 20 ms costs no measurable
        # CPU. (CONSTS is pebble's exported table of such constants.)
        pebble.CONSTS.sleep_unit = POLL_S
        context = _context()
        size = min(self.jobs, tasks or self.jobs)
        # Each worker, and each replacement, gets its own copy of the sending end.
        self._started_signals = context.Pipe(duplex=False)
        self._pool = pebble.ProcessPool(max_workers=size, initializer=_start_worker,
                                        initargs=(self.memory_mb, self._started_signals[1]),
                                        context=context)
        self._spawned = size
        return self._pool

    def __exit__(self, *exc) -> None:
        if self._pool is None:
            return
        self._wait_started()
        self._pool.stop() if exc[0] is not None else self._pool.close()
        self._pool.join()
        for end in self._started_signals:
            end.close()

    def _wait_started(self) -> None:
        """Wait (at most :attr:`START_WAIT_S`) until every worker the pool started is past its
        start-up. Pebble's closing unlinks the pool's semaphores before it stops the workers:
        a worker still unpickling them then failed with a ``FileNotFoundError`` traceback on
        the caller's stderr (a small batch often ends before its last workers are up)."""
        deadline = time.monotonic() + self.START_WAIT_S
        while self._ready < self._spawned:
            left = deadline - time.monotonic()
            if left <= 0 or not self._drain_started(left):
                return

    def _drain_started(self, timeout: float) -> bool:
        """Count the workers' start-up signals waiting (waiting ``timeout`` s for one); whether
        there was one."""
        received = False
        signals = self._started_signals[0]
        while signals.poll(0 if received else timeout):
            signals.recv_bytes()
            self._ready += 1
            received = True
        return received

    def run(self, stage: str, fn: Callable[..., Any], items: Iterable[tuple[K, tuple]],
            count: int | None = None,
            extra_time: Callable[[tuple], float] | None = None) -> Iterator[tuple[K, Any]]:
        """``fn(*args)`` for each ``(key, args)`` in a worker: ``(key, result)``, or
        ``(key, DocumentRejected)`` when the document failed (``args`` may already be the
        reject, for a document that failed before it could be sent).

        Documents travel in chunks of up to :data:`TASK_DOCS` (one task each: a task's round trip
        costs about as much as extracting a small page). When the caller says how many items
        there are (``count``), a small batch is cut into one chunk per worker instead, and the
        pool starts only the workers those chunks need. A chunk that overruns the time budget
        or whose worker dies is run again one document per task, so that only the document
        at fault is rejected. ``extra_time`` gives a document seconds beyond the pool's
        (``args`` → seconds, worked out once a document: a scan's pages, read by OCR): such a
        document is a task of its own, with that time."""
        window: deque = deque()  # chunks in flight, in input order
        limit = 2 * self.jobs
        size = TASK_DOCS if not count else max(1, min(TASK_DOCS, -(-count // self.jobs)))
        tasks = -(-count // size) if count else None
        chunk: list[tuple[K, Any]] = []
        for key, args in items:
            extra = extra_time(args) if extra_time is not None and \
                not isinstance(args, DocumentRejected) else 0.0
            if extra > 0:
                window.append(self._schedule(stage, fn, [(key, args)], tasks,
                                             self.timeout + extra))
                while len(window) >= limit:
                    yield from self._outcomes(stage, fn, *window.popleft())
                continue
            chunk.append((key, args))
            if len(chunk) == size:
                window.append(self._schedule(stage, fn, chunk, tasks))
                chunk = []
            while len(window) >= limit:
                yield from self._outcomes(stage, fn, *window.popleft())
        if chunk:
            window.append(self._schedule(stage, fn, chunk, tasks))
        while window:
            yield from self._outcomes(stage, fn, *window.popleft())

    def _schedule(self, stage: str, fn, chunk: list[tuple[K, Any]], tasks: int | None = None,
                  timeout: float | None = None) -> tuple[list, Any, float]:
        """The chunk's task, with ``timeout`` (the pool's when None): (chunk, future, timeout)."""
        timeout = timeout or self.timeout
        sendable = [args for _, args in chunk if not isinstance(args, DocumentRejected)]
        future = self._started(tasks).schedule(
            guarded_each, args=(stage, fn, sendable), timeout=timeout) if sendable else None
        return chunk, future, timeout

    def _outcomes(self, stage: str, fn, chunk: list[tuple[K, Any]], future,
                  timeout: float) -> Iterator[tuple[K, Any]]:
        if future is None:
            yield from chunk  # every document failed before it could be sent
            return
        _, outcome = self._outcome(stage, None, future, timeout)
        sent = sum(1 for _, args in chunk if not isinstance(args, DocumentRejected))
        if not isinstance(outcome, list) and sent == 1:
            # The one document sent did it: a second try alone would take as long, or die the
            # same way (a scan's own task, with its pages' time, is one of these).
            for key, args in chunk:
                yield key, args if isinstance(args, DocumentRejected) else outcome
            return
        if not isinstance(outcome, list):
            # The chunk overran, its worker died, or its answer could not travel back: one
            # document did it. Each again alone, with its own budget.
            singles = [(key, args if isinstance(args, DocumentRejected) else
                        self._started().schedule(guarded, args=(stage, fn, *args),
                                                 timeout=timeout))
                       for key, args in chunk]
            for key, single in singles:
                yield self._outcome(stage, key, single, timeout)
            return
        results = iter(outcome)
        for key, args in chunk:
            yield key, args if isinstance(args, DocumentRejected) else next(results)

    def _outcome(self, stage: str, key, future, timeout: float) -> tuple[Any, Any]:
        from pebble import ProcessExpired

        if isinstance(future, DocumentRejected):
            return key, future
        try:
            return key, future.result()
        except DocumentRejected as exc:
            return key, exc
        except FutureTimeout:
            self._spawned += 1  # the pool kills the worker and starts another
            return key, DocumentRejected(
                "too_slow", f"processing took longer than {timeout:g} s "
                "(GOVREPORTS_DOC_TIMEOUT, and GOVREPORTS_OCR_PAGE_SECONDS a page of a scan); "
                "the document is kept in raw/", stage=stage)
        except ProcessExpired as exc:
            self._spawned += 1  # the pool starts another in its place
            return key, DocumentRejected(
                "worker_died", f"the worker processing it died ({exc}); the document is kept "
                "in raw/", stage=stage)
        except GovreportsError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            return key, internal_error(exc, stage)
