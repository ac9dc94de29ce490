"""Ingest: local files → raw zone → processed into ``reports``.

Every input's bytes are stored before anything is parsed, so a document that fails to process
is still kept (and listed under ``rejects/``) for a later, better run.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from pipelines import batch, process, workers
from pipelines.errors import InputError, LakeDamaged
from pipelines.extract import EXTENSIONS
from pipelines.lake import Lake
from pipelines.records import RawDocument, Source

#: Inputs above this size are refused before they are read (a report is rarely over 50 MB).
MAX_INPUT_BYTES = 200 * 1024 * 1024


def collect_inputs(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to ingest from the given files and folders, and what was passed over and why.

    A folder contributes its regular files with a known extension (recursively, hidden ones
    left out). Symbolic links are taken only when they point to a regular file inside the same
    folder; FIFOs, sockets, devices, broken links and links leading out of the folder are
    passed over with the reason, so that ingest never blocks on a pipe nor reads a system file.
    A file named directly is always taken, whatever its name, if it is a regular file (or a
    link to one). A missing path raises :class:`InputError` before anything is written.
    """
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(f"input {str(given)!r} does not exist: check the path"
                             + (" (a broken link)" if path.is_symlink() else ""))
        if path.is_dir():
            _walk(path, files, skipped)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"input {str(given)!r} is not a regular file or folder "
                             "(a FIFO, socket or device): name a file or a folder")
    return files, skipped


def _walk(folder: Path, files: list[Path], skipped: list[tuple[str, str]]) -> None:
    root = folder.resolve()
    kinds = ", ".join(EXTENSIONS)
    for dirpath, dirnames, filenames in os.walk(folder):  # never descends into linked folders
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames) + sorted(d for d in dirnames if (base / d).is_symlink()):
            child = base / name
            if name.startswith("."):
                continue
            why = _not_taken(child, root)
            if why is None and child.suffix.lower() not in EXTENSIONS:
                why = f"not a report file type ({kinds})"
            if why is None:
                files.append(child)
            else:
                skipped.append((str(child), why))


def _not_taken(child: Path, root: Path) -> str | None:
    """Why a folder entry is not ingested, or None when it is a regular file to take."""
    if child.is_symlink():
        try:
            target = child.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a broken symbolic link"
        if not target.is_relative_to(root):
            return f"a symbolic link leading out of the folder (to {target}): not followed"
        if target.is_dir():
            return "a symbolic link to a folder: not followed"
    try:
        mode = child.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    return None


#: Files stored at once by ``ingest``.
STORE_THREADS = 8


def store_file(lake: Lake, path: Path, *, region: str | None, fetched_at: str,
               encoding: str | None = None, rows: dict[str, str] | None = None) -> RawDocument:
    """Put one local file's bytes and its sidecar into the raw zone. ``rows``: the
    ``content_sha256`` of each local file's row by URL; a file whose row holds other bytes is
    new bytes at its path, the current version whenever its bytes were first stored."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"input {str(path)!r} cannot be read ({exc.strerror}): "
                         "check its permissions") from exc
    # A name that is not valid UTF-8 (bytes kept by the OS as surrogate escapes) is recorded
    # with U+FFFD for those bytes; the URL keeps them exactly, percent-encoded.
    name = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    source = Source(
        url=path.absolute().as_uri(),
        kind="file",
        fetched_at=fetched_at,
        filename=name,
        media_type=mimetypes.guess_type(path.name)[0],
        region=region,
        encoding=encoding,
    )
    held = (rows or {}).get(source.url)
    doc, _ = lake.put_raw(data, source,
                          current=held is not None and held != hashlib.sha256(data).hexdigest())
    return doc


def file_rows(lake: Lake) -> dict[str, str]:
    """The bytes (``content_sha256``) each local file's row was built from, by URL."""
    found: dict[str, str] = {}
    for part in lake.partitions("reports"):
        try:
            rows = lake.read_partition("reports", part, columns=["url", "content_sha256"])
        except LakeDamaged:  # the load names it
            continue
        if rows is not None:
            found.update((url, sha) for url, sha in zip(
                rows["url"].to_pylist(), rows["content_sha256"].to_pylist(), strict=True)
                if (url or "").startswith("file:"))
    return found


def _store(lake: Lake, files: list[Path], result: process.RunResult, *, region: str | None,
           encoding: str | None, progress: process.Progress | None) -> list[str]:
    """Store the readable ``files`` in the raw zone (the others are skipped, with why);
    the sha256 of each content stored, in order, once. (Only those: what a batch of ten
    thousand files holds while it is processed is its documents, not its paths.)"""
    fetched_at = datetime.now(UTC).isoformat()
    readable = []
    for path in files:
        try:
            size = path.stat().st_size
        except OSError as exc:  # removed or replaced since it was listed
            result.skipped.append((str(path), f"cannot be read ({exc.strerror})"))
            continue
        if size > MAX_INPUT_BYTES:
            result.skipped.append((str(path), f"larger than {MAX_INPUT_BYTES >> 20} MiB "
                                              f"({size >> 20} MiB); split or compress it"))
            continue
        readable.append(path)
    rows = file_rows(lake) if readable else {}
    stored: dict[str, None] = {}
    # Storing is reading, hashing and a durable write per file: threads overlap the waits.
    with ThreadPoolExecutor(max_workers=STORE_THREADS) as pool:
        for doc in _in_order(pool, lambda path: store_file(lake, path, region=region,
                                                           fetched_at=fetched_at,
                                                           encoding=encoding, rows=rows),
                             readable):
            stored[doc.sha256] = None
            if progress:
                progress(1)
    return list(stored)


def _in_order(pool: ThreadPoolExecutor, fn, items: list) -> Iterator:
    """``pool.map(fn, items)`` with at most ``4 × STORE_THREADS`` calls submitted ahead:
    ``map`` submits every call at once, and ten thousand futures, each holding its lock and its
    result until read, were 15 MiB of a 10,000-file ingest's peak."""
    ahead: deque = deque()
    for item in items:
        ahead.append(pool.submit(fn, item))
        if len(ahead) >= 4 * STORE_THREADS:
            yield ahead.popleft().result()
    while ahead:
        yield ahead.popleft().result()


def ingest(lake: Lake, paths: Iterable[str | Path], *, region: str | None = None,
           encoding: str | None = None,
           progress: process.Progress | None = None,
           jobs: int | None = None) -> process.RunResult:
    """Ingest local files into the lake; returns the run's result (manifest already written)."""
    files, skipped = collect_inputs(paths)
    if files:
        workers.prestart()  # ready by the time the files are stored
    result = process.new_run("ingest", lake)
    result.skipped = skipped
    # The same bytes may have been ingested before from another path: consider every source
    # of each stored content so that ingest and a full process pick the same version.
    shas = _store(lake, files, result, region=region, encoding=encoding, progress=progress)
    del files
    docs = [known for sha in shas for known in lake.sources_of(sha)]
    return batch.run(lake, docs, result, jobs=jobs)
