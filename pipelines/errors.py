"""Every exception govreports raises on purpose, in one place.

Each class says who raises it and whether trying again can help (``retryable``). The CLI turns
any of them into one line naming the input and what to do; a :class:`DocumentRejected` is never
fatal to a batch: the document is recorded under ``rejects/`` with its reason and the run goes on.
"""

from __future__ import annotations


class GovreportsError(Exception):
    """Base class. ``retryable`` is True when the same call may succeed later."""

    retryable = False


class ConfigError(GovreportsError):
    """Raised at start-up by :mod:`pipelines.settings` and :mod:`pipelines.store` when a setting
    (lake URL, bucket, credentials, a directory) is wrong. Retrying cannot help: fix the setting."""


class InputError(GovreportsError):
    """Raised by the CLI and :mod:`pipelines.ingest` for an input path that does not exist or
    cannot be read. Retrying cannot help: fix the path."""


class UnsafeKey(ConfigError):
    """Raised by :mod:`pipelines.store` (whatever the caller) and by :mod:`pipelines.lake`'s key
    builders for a key or a key part that could reach outside the lake or another object:
    ``..``, ``.``, an absolute path, an empty part, a separator inside an id, a control
    character, a name too long for a file system. Retrying cannot help: fix the id or key."""


class Interrupted(GovreportsError):
    """Raised by :mod:`pipelines.query` when the user stopped a statement (Ctrl-C): the CLI
    exits 130, as a shell does for SIGINT. Running it again may help."""

    retryable = True


class StoreError(GovreportsError):
    """Raised by :mod:`pipelines.store` when reading or writing the lake fails for a reason
    outside our control (network, a 5xx from S3, a full disk). Retrying may help."""

    retryable = True


class DocumentRejected(GovreportsError):
    """Raised by a processing stage (decode, extract) for one document it cannot turn into a
    record. ``reason`` is a stable machine key (``empty``, ``binary``, ``undecodable``, ...),
    the message is for people. The batch records it under ``rejects/`` and continues; retrying
    the same bytes gives the same answer, reprocessing after a code fix may not."""

    def __init__(self, reason: str, message: str, *, stage: str):
        super().__init__(message)
        self.reason = reason
        self.stage = stage

    def __reduce__(self):
        # Crosses the process boundary from a worker (pipelines.workers): keyword-only
        # arguments need saying how to rebuild it.
        return _rejected, (self.reason, str(self), self.stage)


def _rejected(reason: str, message: str, stage: str) -> DocumentRejected:
    return DocumentRejected(reason, message, stage=stage)


class LakeConflict(StoreError):
    """Raised by :mod:`pipelines.store` when a conditional write or delete finds the object
    changed since it was read (another run wrote it). The caller re-reads and merges again;
    retrying the whole command helps too."""


class LakeBusy(StoreError):
    """Raised by :mod:`pipelines.lease` when another run has held the lake's load lease for
    longer than this run would wait. Retrying later helps."""


class LakeDamaged(GovreportsError):
    """Raised by :mod:`pipelines.lake` when a table file cannot be read (truncated or not
    Parquet), and by :mod:`pipelines.store` when a folder stands where an object belongs.
    Retrying cannot help: the message names the object and what to do (for a partition, the
    command that rebuilds it from the raw zone). ``key`` is the damaged object's key and
    ``version`` its version when read (a load replaces it conditionally on that)."""

    def __init__(self, message: str, *, key: str | None = None, version: str | None = None):
        super().__init__(message)
        self.key = key
        self.version = version
