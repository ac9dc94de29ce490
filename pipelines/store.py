"""Byte stores behind the lake: a local directory or an S3 prefix, chosen by one URL.

A store knows nothing of the lake's layout (that is :mod:`pipelines.lake`); it reads, writes,
lists and deletes objects by key (``/``-separated, relative to the lake root). Every write is
atomic from a reader's view: locally a temporary file in the lake's hidden ``.tmp/`` folder is
renamed over the target (a writer killed mid-write leaves it there; the next writable open
removes it), on S3 a PutObject is atomic by nature. Conditional writes and deletes
(``write_if``/``delete_if``: S3's ``If-Match``/``If-None-Match``, locally a compare under an
``flock``) let concurrent runs change shared objects without losing each other's changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from pipelines.errors import (
    ConfigError,
    GovreportsError,
    LakeConflict,
    LakeDamaged,
    StoreError,
    UnsafeKey,
)
from pipelines.settings import aws_environment, current

# S3 bucket naming rules (general purpose buckets).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
#: Where a local lake's writers keep their temporary files until the rename, named
#: ``<pid>.<host>.<random>.tmp``; one older than STALE_TMP_S is a leftover whoever wrote it.
TMP_DIR = ".tmp"
STALE_TMP_S = 24 * 3600
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
#: A key's limits: a part is one file name on a local lake (NAME_MAX of common Linux file
#: systems), a whole key one S3 object key (1,024 bytes, the lake's prefix included).
MAX_PART_BYTES = 255
MAX_KEY_BYTES = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _key_problem(key: str) -> str | None:
    """Why ``key`` cannot name an object inside the lake, or None when it can."""
    if not key:
        return "it is empty"
    if _CONTROL.search(key):
        return "it holds a control character"
    if key.startswith("/"):
        return "it is an absolute path"
    if "\\" in key:
        return "it holds a backslash"
    for part in key.split("/"):
        if part in (".", ".."):
            return f"it has a {part!r} part"
        if not part:
            return "it has an empty part"
        if len(part.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES:
            return f"a part is longer than {MAX_PART_BYTES} bytes"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"it is longer than {MAX_KEY_BYTES} bytes"
    return None


def checked_key(key: str, *, prefix: bool = False) -> str:
    """``key`` itself when it names an object inside the lake (relative, ``/``-separated,
    no empty, ``.`` or ``..`` part, no control character, within the file-name and S3 key
    limits); :class:`~pipelines.errors.UnsafeKey` otherwise. Every store operation passes its
    key through here, whoever built it, so no caller can read, write or delete outside the
    lake. A listing ``prefix`` may also be empty or end with ``/``."""
    if not isinstance(key, str):
        raise UnsafeKey(f"lake key {key!r} is not text")
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and not body:
        return key
    problem = _key_problem(body)
    if problem:
        raise UnsafeKey(f"lake key {key[:120]!r} refused: {problem}")
    return key


def key_part(value: str, what: str) -> str:
    """``value`` when it is one part of a key (an id: a batch, run, portal or document id),
    :class:`~pipelines.errors.UnsafeKey` otherwise: no separator, nothing ``checked_key``
    refuses. ``what`` names the id in the message (``--batch``, ``portal id``)."""
    if not isinstance(value, str):
        raise UnsafeKey(f"{what} {value!r} is not text")
    problem = ("it holds a '/'" if "/" in value else
               f"it is {value!r}" if value in (".", "..") else _key_problem(value))
    if problem:
        raise UnsafeKey(f"{what} {value[:120]!r} cannot name a place in the lake: {problem}; "
                        "use letters, digits, '.', '_' and '-'")
    return value


def json_bytes(data) -> bytes:
    """How the lake writes every JSON object: UTF-8, keys sorted, one per line."""
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def lake_url_from_env(explicit: str | None = None) -> str:
    """The lake URL to use: ``explicit`` if given, else ``$GOVREPORTS_LAKE``, else ``./lake``.
    An explicit URL that is empty is refused (it would silently mean ``./lake``); an empty
    ``$GOVREPORTS_LAKE`` counts as unset."""
    if explicit is not None and not explicit.strip():
        raise ConfigError("--lake is empty: give a path, file:///absolute/path or "
                          "s3://bucket/prefix, or leave it out for $GOVREPORTS_LAKE or ./lake")
    return explicit or current().lake


def open_store(url: str) -> Store:
    """Open the store a lake URL names: a path, ``file:///abs/path`` or ``s3://bucket/prefix``.

    Raises :class:`ConfigError` for any other scheme. Nothing is touched on disk or over the
    network until :meth:`Store.check` or the first read/write.
    """
    if any(ch in url for ch in "\r\n\t\x00"):
        raise ConfigError(f"lake URL {url!r} holds a control character: remove it")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError(f"lake URL {url!r} names no bucket: use s3://bucket/prefix")
        if not _BUCKET.fullmatch(parsed.netloc) or ".." in parsed.netloc \
                or _IPV4.fullmatch(parsed.netloc):
            raise ConfigError(f"lake URL {url!r}: {parsed.netloc!r} is not a valid S3 bucket name "
                              "(3-63 lowercase letters, digits, dots and hyphens, starting and "
                              "ending with a letter or digit)")
        prefix = parsed.path[1:].removesuffix("/")  # one trailing '/' is a folder's
        if "?" in url or "#" in url or any(
                part in ("", ".", "..") for part in prefix.split("/") if prefix):
            raise ConfigError(f"lake URL {url!r}: the prefix must be plain folder names "
                              "(no '.', '..', '//', '?' or '#'), e.g. s3://bucket/govreports")
        return S3Store(parsed.netloc, prefix)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ConfigError(
                f"lake URL {url!r} names a remote host: use file:///absolute/path or a plain path"
            )
        if "?" in url or "#" in url:
            raise ConfigError(f"lake URL {url!r} has a query or fragment, which a folder has "
                              "not: use file:///absolute/path (percent-encode a '?' or '#' of "
                              "the folder's name)")
        return LocalStore(Path(unquote(parsed.path)))
    # A Windows drive letter parses as a one-letter scheme; treat it as a path too.
    if parsed.scheme == "" or len(parsed.scheme) == 1:
        return LocalStore(Path(url))
    raise ConfigError(
        f"unsupported lake URL {url!r}: use a path, file:///absolute/path or s3://bucket/prefix"
    )


class Store:
    """Interface shared by :class:`LocalStore` and :class:`S3Store`."""

    url: str

    def check(self, *, writable: bool) -> None:
        """Fail early with a :class:`ConfigError` saying what to fix if the store is unusable."""
        raise NotImplementedError

    def read(self, key: str) -> bytes:
        """The object's bytes; :class:`KeyError` if it does not exist."""
        raise NotImplementedError

    def write(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        """Whether the object exists."""
        raise NotImplementedError

    # Conditional operations: what concurrent runs use to change a shared object without
    # losing another run's change (compare-and-swap on a version tag).

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and its version tag; :class:`KeyError` if it does not exist."""
        raise NotImplementedError

    def write_if(self, key: str, data: bytes, version: str | None) -> str:
        """Write only if the object is still at ``version`` (None: only if it does not exist)
        and return the new version; :class:`~pipelines.errors.LakeConflict` otherwise."""
        raise NotImplementedError

    def delete_if(self, key: str, version: str) -> None:
        """Delete only if the object is still at ``version``; ``LakeConflict`` otherwise."""
        raise NotImplementedError

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (recursively), hidden (``.``-prefixed) names left out."""
        raise NotImplementedError

    def missing(self) -> bool:
        """Whether the lake's place does not exist at all (a local folder never created; a
        bucket is checked by :meth:`check`, and an S3 prefix always exists)."""
        return False

    def delete(self, key: str) -> None:
        """Remove the object; no error if it is already gone."""
        raise NotImplementedError

    def stale_temporary(self) -> list[str]:
        """Temporary files a killed writer left in the lake (none on S3: a PUT is whole)."""
        return []

    def clean_temporary(self) -> list[str]:
        return []

    def arrow_filesystem(self):
        """A ``pyarrow.fs`` filesystem and the base path of the lake root within it."""
        raise NotImplementedError


class LocalStore(Store):
    """A lake in a local directory (the embedded default, ``./lake``)."""

    def __init__(self, root: Path):
        self.root = root.expanduser().absolute()
        self.url = self.root.as_uri()
        self._real_root = os.path.realpath(self.root)  # where keys must resolve to (_path)

    def _path(self, key: str, *, prefix: bool = False) -> Path:
        path = self.root.joinpath(*checked_key(key, prefix=prefix).split("/"))
        # A symbolic link inside the lake (planted, or a folder moved in by hand) must not lead
        # a read, write or delete outside it either: the path is judged where it resolves to.
        real = os.path.realpath(path)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise UnsafeKey(f"lake key {key[:120]!r} refused: it leads outside the lake "
                            f"{self.root} through a symbolic link ({real})")
        return path

    def missing(self) -> bool:
        return not self.root.is_dir()

    def check(self, *, writable: bool) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"lake {self.root} is a file, not a directory: choose another --lake")
        if not writable:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
            self.clean_temporary()
        except OSError as exc:
            raise ConfigError(
                f"lake directory {self.root} is not writable ({exc.strerror}): "
                "fix its permissions or choose another --lake / GOVREPORTS_LAKE"
            ) from exc

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # a parent that is a file: no object
            raise KeyError(key) from None
        except IsADirectoryError:
            raise LakeDamaged(f"{path} is a folder where the lake keeps an object "
                              "(not written by govreports): move it out of the lake") from None

    def write(self, key: str, data: bytes) -> None:
        target = self._path(key)
        # Temporary files live in one hidden folder of the lake (same filesystem: the rename
        # stays atomic), named with the writer's pid, so the next run finds a killed writer's.
        tmp = self.root / TMP_DIR / f"{os.getpid()}.{_HOST}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            for attempt in range(10):
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, target)
                    break
                except (FileNotFoundError, FileExistsError):
                    # Another run's delete removed the folder, empty, after our mkdir, or while
                    # mkdir ran (pathlib then raises EEXIST: the folder existed, then did not).
                    if attempt == 9 or not tmp.exists():
                        raise
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StoreError(f"cannot write {target}: {exc.strerror}") from exc

    def stale_temporary(self) -> list[str]:
        """Temporary files that writers killed mid-write left behind: those of a process of
        this host that is gone, and any older than a day (a writer on another host that shares
        the folder); their names."""
        found = []
        folder = self.root / TMP_DIR
        if not folder.is_dir():
            return found
        for tmp in folder.iterdir():
            pid, _, rest = tmp.name.partition(".")
            mine = rest.startswith(f"{_HOST}.")
            try:
                stale = time.time() - tmp.stat().st_mtime > STALE_TMP_S
            except OSError:
                continue
            if stale or (mine and pid.isdigit() and not _alive(int(pid))):
                found.append(tmp.name)
        return found

    def clean_temporary(self) -> list[str]:
        """Remove :meth:`stale_temporary` files; returns their names."""
        removed = []
        for name in self.stale_temporary():
            with contextlib.suppress(OSError):
                (self.root / TMP_DIR / name).unlink()
                removed.append(name)
        return removed

    # Compare-and-swap: the version of a file is a hash of its bytes; the compare and the
    # rename happen under an exclusive lock on one hidden file of the lake (flock: released by
    # the kernel when a holder dies, so a kill -9 never leaves the lake locked).

    @contextlib.contextmanager
    def _cas_lock(self):
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".cas.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _version(self, key: str) -> str | None:
        try:
            return _digest(self.read(key))
        except KeyError:
            return None

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        data = self.read(key)
        return data, _digest(data)

    def write_if(self, key: str, data: bytes, version: str | None) -> str:
        with self._cas_lock():
            current = self._version(key)
            if current != version:
                raise LakeConflict(f"{key} in {self.url} changed since it was read")
            self.write(key, data)
        return _digest(data)

    def delete_if(self, key: str, version: str) -> None:
        with self._cas_lock():
            if self._version(key) != version:
                raise LakeConflict(f"{key} in {self.url} changed since it was read")
            self.delete(key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        # A prefix is a string prefix of keys, as on S3: walk from its directory part.
        checked_key(prefix, prefix=True)
        directory = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self._path(directory) if directory else self.root
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                key = name if rel == "." else f"{rel}/{name}"
                if not name.startswith(".") and key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Leave no empty partition directories behind: readers would see an empty partition.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()  # only succeeds when empty: a concurrent write keeps it
            except OSError:
                break
            parent = parent.parent

    def arrow_filesystem(self):
        from pyarrow import fs

        return fs.LocalFileSystem(), self.root.as_posix()


#: (process, AWS environment) → (boto3 session, S3 client). Building a client costs about
#: 60 ms of CPU (botocore loads its service models), and every Lake.open, CLI command and
#: document worker would build its own: one per process and AWS environment is enough (clients
#: are thread-safe; a forked child, another pid, builds its own; a changed AWS_* variable, such
#: as a DAG task's assumed role, means another client).
_CLIENTS: dict[tuple, tuple] = {}
_CLIENTS_LOCK = threading.Lock()


def _shared_client(url: str):
    import boto3
    from botocore import exceptions as bx
    from botocore.config import Config

    key = (os.getpid(), aws_environment())
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            try:
                session = boto3.session.Session()
                _CLIENTS[key] = session, session.client("s3", config=Config(
                    connect_timeout=5, read_timeout=60,
                    retries={"mode": "standard", "max_attempts": 4}))
            except bx.ProfileNotFound as exc:
                raise ConfigError(
                    f"AWS_PROFILE {exc.kwargs.get('profile')!r} is not a profile in the AWS "
                    "config files: fix AWS_PROFILE or unset it") from None
            except ValueError as exc:  # botocore: "Invalid endpoint: …"
                raise ConfigError(
                    f"{str(exc).splitlines()[0]}: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL must "
                    "be a URL such as http://127.0.0.1:9000") from None
            except bx.BotoCoreError as exc:  # other configuration problems
                raise ConfigError(f"AWS configuration for {url}: {exc}") from None
        return _CLIENTS[key]


class S3Store(Store):
    """A lake under ``s3://bucket/prefix``, through boto3.

    Endpoint and credentials come from the standard AWS chain (``AWS_ENDPOINT_URL_S3`` /
    ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``…, ``AWS_PROFILE``, config files, instance roles),
    exactly as the AWS CLI resolves them, so a lake URL works the same everywhere.
    """

    def __init__(self, bucket: str, prefix: str):
        self.bucket = bucket
        self.prefix = prefix
        self.url = f"s3://{bucket}/{prefix}".rstrip("/")
        self._client = None
        self._session = None

    @property
    def client(self):
        if self._client is None:
            self._session, self._client = _shared_client(self.url)
        return self._client

    def _key(self, key: str, *, prefix: bool = False) -> str:
        checked_key(key, prefix=prefix)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, exc: Exception, what: str) -> Exception:
        """Translate a botocore failure into one line that says what to fix."""
        from botocore import exceptions as bx

        if isinstance(exc, GovreportsError):  # ours already (a refused key): say it as it is
            return exc
        endpoint = self.client.meta.endpoint_url
        if isinstance(exc, bx.ParamValidationError):
            return ConfigError(f"S3 refused a parameter for {self.url}: "
                               f"{' '.join(str(exc).split())[:200]}")
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
            return ConfigError(
                f"no AWS credentials for {self.url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or configure an instance role"
            )
        if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
            return StoreError(
                f"cannot reach the S3 endpoint {endpoint} for {self.url}: check "
                "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and that the service is up"
            )
        if isinstance(exc, bx.ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchBucket", "404") and what == "check":
                return ConfigError(
                    f"S3 bucket {self.bucket!r} does not exist at {endpoint}: create it "
                    f"(aws s3 mb s3://{self.bucket}) or point --lake / GOVREPORTS_LAKE elsewhere"
                )
            if code == "NoSuchBucket":
                return ConfigError(f"S3 bucket {self.bucket!r} does not exist at {endpoint}")
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return ConfigError(
                    f"access denied to {self.url} ({code}) while trying to {what}: check the "
                    "credentials and the bucket policy"
                )
            if status and status >= 500:
                return StoreError(f"S3 error {code} on {what} in {self.url}; try again later")
            return StoreError(f"S3 error {code} on {what} in {self.url}")
        return StoreError(f"S3 failure on {what} in {self.url}: {exc}")

    def check(self, *, writable: bool) -> None:
        # HeadBucket proves the endpoint, the credentials and the bucket in one request; a
        # missing write permission surfaces on the first write with the same kind of message.
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise self._fail(exc, "check") from exc

    def read(self, key: str) -> bytes:
        return self.read_versioned(key)[0]

    def write(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except Exception as exc:
            raise self._fail(exc, f"write {key}") from exc

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return answer["Body"].read(), answer["ETag"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise self._fail(exc, f"read {key}") from exc
        except Exception as exc:
            raise self._fail(exc, f"read {key}") from exc

    def write_if(self, key: str, data: bytes, version: str | None) -> str:
        # S3's conditional writes: If-None-Match: * creates only, If-Match swaps only the
        # version read (both answered 412 when the object changed, 409 on a concurrent write).
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        try:
            answer = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                            **condition)
        except Exception as exc:
            raise self._conflict_or_fail(exc, key, "write") from exc
        return answer["ETag"]

    def delete_if(self, key: str, version: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key), IfMatch=version)
        except Exception as exc:
            raise self._conflict_or_fail(exc, key, "delete") from exc

    def _conflict_or_fail(self, exc: Exception, key: str, what: str) -> Exception:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (409, 412) or code in ("PreconditionFailed", "NoSuchKey",
                                                "ConditionalRequestConflict"):
                return LakeConflict(f"{key} in {self.url} changed since it was read")
        return self._fail(exc, f"{what} {key}")

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise self._fail(exc, f"stat {key}") from exc
        except Exception as exc:
            raise self._fail(exc, f"stat {key}") from exc

    def list(self, prefix: str) -> Iterator[str]:
        full = self._key(prefix, prefix=True)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"][strip:]
                    if not any(part.startswith(".") for part in key.split("/")):
                        yield key
        except Exception as exc:
            raise self._fail(exc, f"list {prefix}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise self._fail(exc, f"delete {key}") from exc

    def arrow_filesystem(self):
        from pyarrow import fs

        client = self.client  # resolves the session
        creds = self._session.get_credentials()
        if creds is None:
            from botocore.exceptions import NoCredentialsError

            raise self._fail(NoCredentialsError(), "read")
        frozen = creds.get_frozen_credentials()
        endpoint = urlparse(client.meta.endpoint_url)
        s3fs = fs.S3FileSystem(
            access_key=frozen.access_key,
            secret_key=frozen.secret_key,
            session_token=frozen.token,
            region=client.meta.region_name or "us-east-1",
            endpoint_override=endpoint.netloc,
            scheme=endpoint.scheme,
        )
        base = f"{self.bucket}/{self.prefix}".rstrip("/")
        return s3fs, base
