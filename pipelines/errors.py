"""Every exception govreports raises on purpose, the two kinds they come in, and the stable
reason keys of rejected documents and failed crawl requests.

**Kinds.** An error is :class:`Transient` (the same call may succeed later: a network failure,
a busy lake) or :class:`Terminal` (it will not: a bad setting, a damaged file, a document no
code can read). The kinds are mixins, so that the crawler's Scrapy exceptions carry them too.
The CLI's exit codes (3 transient, 2 terminal), the DAG's retries (a terminal failure is not
retried) and the crawler's refusals read the kind, never the message.

**Reasons.** :class:`RejectReason` names why a document became a reject, :class:`CrawlFailure`
why a URL did not land; both are listed in ``docs/lake.md`` (a test compares them). A crawl
failure reason says itself whether another crawl in a few minutes may change it.

This module imports nothing of the project (a leaf).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Transient(Exception):
    """Trying the same call again later may succeed."""


class Terminal(Exception):
    """Trying the same call again cannot succeed: what it was given must change."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, Transient)


class GovreportsError(Exception):
    """Base class of the errors govreports raises on purpose; each is also :class:`Transient` or
    :class:`Terminal`."""


class ConfigError(GovreportsError, Terminal):
    """Raised at start-up (the CLI's settings check, :mod:`pipelines.store`) when a setting (lake
    URL, bucket, credentials, a directory, a ``GOVREPORTS_*`` variable) is wrong: fix it."""


class InputError(GovreportsError, Terminal):
    """Raised by the CLI, :mod:`pipelines.ingest` and :mod:`pipelines.query` for an input that
    does not exist, cannot be read or is refused (a path, a statement): fix the input."""


class UnsafeKey(ConfigError):
    """Raised by :mod:`pipelines.store` (whatever the caller) and by :mod:`pipelines.lake`'s key
    builders for a key or a key part that could reach outside the lake or another object:
    ``..``, ``.``, an absolute path, an empty part, a separator inside an id, a control
    character, a name too long for a file system: fix the id or key."""


class Interrupted(GovreportsError, Transient):
    """Raised by :mod:`pipelines.query` when the user stopped a statement (Ctrl-C): the CLI
    exits 130, as a shell does for SIGINT."""


class StoreError(GovreportsError, Transient):
    """Raised by :mod:`pipelines.store` when reading or writing the lake fails for a reason
    outside our control (network, a 5xx from S3, a full disk)."""


class LakeConflict(StoreError):
    """Raised by :mod:`pipelines.store` when a conditional write or delete finds the object
    changed since it was read (another run wrote it). The caller re-reads and merges again;
    retrying the whole command helps too."""


class LakeBusy(StoreError):
    """Raised by :mod:`pipelines.lease` when another run has held the lake's load lease for
    longer than this run would wait."""


class LakeDamaged(GovreportsError, Terminal):
    """Raised by :mod:`pipelines.lake` when a table file cannot be read (truncated or not
    Parquet), and by :mod:`pipelines.store` when a folder stands where an object belongs. The
    message names the object and what to do (for a partition, the command that rebuilds it
    from the raw zone). ``key`` is the damaged object's key and ``version`` its version when
    read (a load replaces it conditionally on that)."""

    def __init__(self, message: str, *, key: str | None = None, version: str | None = None):
        super().__init__(message)
        self.key = key
        self.version = version


class RejectReason(StrEnum):
    """Why a document is a reject (``rejects/<doc_id>.json``'s ``reason``)."""

    EMPTY = "empty"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    IMPLAUSIBLE = "implausible"
    NO_TEXT = "no_text"
    BAD_HTML = "bad_html"
    TOO_DEEP = "too_deep"
    BAD_JSON = "bad_json"
    UNSUPPORTED_JSON = "unsupported_json"
    TOO_LARGE = "too_large"
    TOO_SLOW = "too_slow"
    WORKER_DIED = "worker_died"
    ZIP_BOMB = "zip_bomb"
    XML_ENTITIES = "xml_entities"
    ENCRYPTED_PDF = "encrypted_pdf"
    CORRUPT_PDF = "corrupt_pdf"
    CORRUPT_DOCX = "corrupt_docx"
    CORRUPT_DOC = "corrupt_doc"
    CORRUPT_XLSX = "corrupt_xlsx"
    CORRUPT_XLS = "corrupt_xls"
    CORRUPT_OFD = "corrupt_ofd"
    CORRUPT_IMAGE = "corrupt_image"
    UNSUPPORTED_ZIP = "unsupported_zip"
    UNSUPPORTED = "unsupported"
    RAW_MISSING = "raw_missing"
    RAW_DAMAGED = "raw_damaged"
    SIDECAR_MISSING = "sidecar_missing"
    SIDECAR_DAMAGED = "sidecar_damaged"
    TRUNCATED = "truncated"
    INTERNAL_ERROR = "internal_error"


class DocumentRejected(GovreportsError, Terminal):
    """Raised by a processing stage (decode, extract) for one document it cannot turn into a
    record; ``reason`` is a :class:`RejectReason`, the message is for people. The batch records
    it under ``rejects/`` and continues. Retrying the same bytes gives the same answer;
    reprocessing after a code fix may not."""

    def __init__(self, reason: RejectReason | str, message: str, *, stage: str):
        super().__init__(message)
        self.reason = RejectReason(reason)  # a reason no one listed is a bug: ValueError
        self.stage = stage

    def __reduce__(self):
        # Crosses the process boundary from a worker (pipelines.workers): keyword-only
        # arguments need saying how to rebuild it.
        return _rejected, (str(self.reason), str(self), self.stage)


def _rejected(reason: str, message: str, stage: str) -> DocumentRejected:
    return DocumentRejected(reason, message, stage=stage)


class CrawlFailure(StrEnum):
    """Why a URL the crawl asked for did not land (a crawl manifest's ``failures[].reason``).
    HTTP errors are ``http_<status>``: :meth:`of` reads any such key."""

    HTTP = "http"  # an HTTP error status: http_<status>
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"
    TOO_LARGE = "too_large"
    CONNECTION_FAILED = "connection_failed"
    CONNECTION_LOST = "connection_lost"
    DNS = "dns"
    ANTI_BOT = "anti_bot"
    FORBIDDEN_ADDRESS = "forbidden_address"
    RETRY_AFTER_TOO_LONG = "retry_after_too_long"
    HOST_BLOCKED = "host_blocked"
    ROBOTS_DISALLOWED = "robots_disallowed"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    REDIRECT_TO_KNOWN = "redirect_to_known"
    OFFSITE = "offsite"
    IGNORED = "ignored"
    PARSE_ERROR = "parse_error"
    LANDING_FAILED = "landing_failed"
    ERROR = "error"  # an exception no other reason names (its type is in the message)

    @staticmethod
    def http(status: int) -> str:
        return f"http_{status}"

    @classmethod
    def of(cls, key: str) -> CrawlFailure:
        """The reason a manifest's key stands for (``http_404`` → :attr:`HTTP`); ValueError
        for a key no version of the crawler wrote."""
        return cls.HTTP if _HTTP_KEY.fullmatch(key) else cls(key)

    @staticmethod
    def is_transient(key: str) -> bool:
        """Whether another crawl in a few minutes may land what failed with ``key``: a timeout,
        a lost connection or a server error may pass; a 404, robots.txt or an anti-bot wall
        will not. An unknown key counts as transient (a retry costs little)."""
        try:
            reason = CrawlFailure.of(key)
        except ValueError:
            return True
        if reason is CrawlFailure.HTTP:
            status = int(key.removeprefix("http_"))
            return status >= 500 or status in (408, 425, 429)
        return reason not in _TERMINAL_CRAWL_FAILURES


_HTTP_KEY = re.compile(r"http_(\d{3})")

#: The crawl failures another try in a few minutes will not change.
_TERMINAL_CRAWL_FAILURES = frozenset({
    CrawlFailure.ANTI_BOT, CrawlFailure.ROBOTS_DISALLOWED, CrawlFailure.FORBIDDEN_ADDRESS,
    CrawlFailure.OFFSITE, CrawlFailure.DNS, CrawlFailure.RETRY_AFTER_TOO_LONG,
    CrawlFailure.HOST_BLOCKED, CrawlFailure.TOO_MANY_REDIRECTS, CrawlFailure.TOO_LARGE})
