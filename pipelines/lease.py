"""The lake's load lease: one run at a time merges rows into the partitions.

Loading is a read-modify-write of several partition files (a document that moves leaves one
partition for another), so two runs merging at once could each write a partition without the
other's rows. A run therefore holds a lease while it loads: an object ``_lease/load.json``
created with a conditional write (S3 ``If-None-Match: *``; locally a compare under ``flock``),
renewed by a heartbeat while held, deleted when done. A run that finds it held waits (polling)
up to ``GOVREPORTS_LEASE_WAIT`` seconds, then stops with "lake busy since …, held by run …"
(exit 3: retry later). A lease whose holder stopped renewing it (killed, machine lost) is
stale, and is then taken over with a conditional write on the version read, so only one run
wins. Stale means: the waiter has seen the very same lease object (holder and ``renewed``)
for longer than the TTL *on its own clock* (whatever ``expires`` says: a holder's clock may
be skewed, or its TTL absurd), or its ``expires`` has passed, or its holder was a process on
this host that is gone, or the object is not a lease at all (not JSON, not an object, fields
of the wrong type). Runs that share a lake must share ``GOVREPORTS_LEASE_TTL``. A takeover is
said in :attr:`Lease.took_over` (the load's result and the run's summary carry it).

The partition writes themselves are conditional too (see :mod:`pipelines.load`): a holder
whose lease was lost never overwrites rows it has not read.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from datetime import UTC, datetime

from pipelines.errors import LakeBusy, LakeConflict
from pipelines.settings import current
from pipelines.store import Store, _alive, json_bytes


class Lease:
    """Hold the lease at ``key`` of ``store`` for run ``run_id``; a context manager."""

    def __init__(self, store: Store, key: str, run_id: str, *, command: str = "",
                 wait: float | None = None, ttl: float | None = None):
        self.store, self.key, self.run_id, self.command = store, key, run_id, command
        # The TTL (GOVREPORTS_LEASE_TTL): the holder renews the lease every third of it.
        settings = current()
        self.wait = settings.lease_wait if wait is None else wait
        self.ttl = settings.lease_ttl if ttl is None else ttl
        self._version: str | None = None
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._heart: threading.Thread | None = None
        #: Why this run took the lease over from another holder (None: it was free).
        self.took_over: str | None = None

    def _body(self) -> bytes:
        now = time.time()
        return json_bytes({
            "run_id": self.run_id, "command": self.command, "host": socket.gethostname(),
            "pid": os.getpid(), "since": self._since, "renewed": now,
            "expires": now + self.ttl})

    def __enter__(self) -> Lease:
        self._since = time.time()
        deadline = time.monotonic() + self.wait
        delay = 0.05
        seen: dict[bytes, float] = {}  # each lease object seen → when first, on our clock
        while True:
            try:
                self._version = self.store.write_if(self.key, self._body(), None)
                break
            except LakeConflict:
                pass
            holder = self._holder()
            if holder is not None:
                data, version, info = holder
                since = seen.setdefault(data, time.monotonic())
                stale = self._stale(info, time.monotonic() - since)
                if stale:
                    try:
                        self._version = self.store.write_if(self.key, self._body(), version)
                        self.took_over = (f"took the load lease of {self.store.url} over: "
                                          f"{stale}")
                        break
                    except LakeConflict:
                        continue
                if time.monotonic() >= deadline:
                    raise LakeBusy(self._busy_message(info))
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)
        self._heart = threading.Thread(target=self._beat, name="govreports-lease", daemon=True)
        self._heart.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._heart is not None:
            self._heart.join()
        with self._lock:
            if self._version is not None and not self._lost.is_set():
                try:
                    self.store.delete_if(self.key, self._version)
                except LakeConflict:
                    pass  # taken over after expiry: it is someone else's now

    def check(self) -> None:
        """Raise :class:`LakeBusy` unless the lease object is still the one this run wrote
        (read now, not left to the heartbeat: a run paused past its expiry learns it here)."""
        with self._lock:
            try:
                current = self.store.read_versioned(self.key)[1]
            except KeyError:
                current = None
            if self._lost.is_set() or current != self._version:
                self._lost.set()
                raise LakeBusy(f"this run lost the lease of {self.store.url} (not renewed in "
                               "time; another run took it over): run the command again")

    def _holder(self):
        try:
            data, version = self.store.read_versioned(self.key)
        except KeyError:
            return None  # released meanwhile: try again at once
        try:
            info = json.loads(data)
        except ValueError:
            info = None  # a damaged lease: stale (see _stale)
        return data, version, info

    def _stale(self, info, unchanged_for: float) -> str | None:
        """Why the lease ``info`` (seen unchanged for ``unchanged_for`` seconds on this run's
        clock) is stale, or None while its holder may be alive."""
        if not isinstance(info, dict) or not all(
                _is_number(info.get(name)) for name in ("renewed", "expires")):
            return f"its object {self.key} is not a lease (damaged or written by hand)"
        holder = f"run {info.get('run_id')} ({info.get('host')}, pid {info.get('pid')})"
        if unchanged_for > self.ttl:
            return (f"{holder} did not renew it for {unchanged_for:.0f} s, longer than the "
                    f"TTL of {self.ttl:g} s (GOVREPORTS_LEASE_TTL), whatever it says of expiry")
        if info["expires"] < time.time():
            return f"{holder} let it expire"
        pid = info.get("pid")
        if (info.get("host") == socket.gethostname() and _is_number(pid)
                and isinstance(pid, int) and pid > 0 and not _alive(pid)):
            return f"{holder} is gone"
        return None

    def _busy_message(self, info) -> str:
        info = info if isinstance(info, dict) else {}
        since = info.get("since")
        when = (datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds")
                if isinstance(since, int | float) else "an unknown time")
        return (f"lake {self.store.url} busy since {when}, held by run {info.get('run_id')} "
                f"({info.get('command') or 'unknown command'}, pid {info.get('pid')} on "
                f"{info.get('host')}); waited {self.wait:g} s "
                "(GOVREPORTS_LEASE_WAIT): try again when it has finished")

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with self._lock:
                try:
                    self._version = self.store.write_if(self.key, self._body(),
                                                        self._version)
                except LakeConflict:
                    self._lost.set()
                    return
                except Exception:  # noqa: BLE001 - a failed renewal is retried next beat
                    continue


def stuck(store: Store, key: str) -> str | None:
    """Why the lease at ``key`` is stuck (its holder is gone, it expired, or it is no lease:
    what a waiter would take over), or None when it is free or its holder may be alive."""
    lease = Lease(store, key, "")
    holder = lease._holder()
    return None if holder is None else lease._stale(holder[2], 0.0)


def _is_number(value) -> bool:
    """Whether a lease field holds a number (JSON ``true`` is a bool, which Python counts as
    an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
