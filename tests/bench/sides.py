"""The two sides of a benchmark that times whole commands: this tree's ``govreports`` and the
previous release's, run side by side on the same inputs in the same run.

The previous release is a commit (:data:`PREVIOUS_RELEASE`, or ``BENCH_BASELINE``) unpacked
with ``git archive`` under ``build/bench-baseline/`` and run from there with this virtualenv's
packages, through a script that does what its console script did (so that its start-up is the
one its users had)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

#: The release the figures are compared with: the last commit on main before the current
#: round of speed work (issue 29). Move it forward when a release's figures become the bar.
PREVIOUS_RELEASE = "4bf6c66"
ROOT = Path(__file__).resolve().parents[2]
GOVREPORTS = str(Path(sys.executable).with_name("govreports"))


@dataclass
class Side:
    name: str
    argv: list[str]  # the command, up to its arguments
    env: dict[str, str] = field(default_factory=dict)
    #: Where it runs. The release runs in its own folder: its workers' fork server puts the
    #: working folder first on its path, and from this tree's root it imported this tree's
    #: modules into the release's workers.
    cwd: Path | None = None

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]


def this_tree() -> Side:
    return Side("this tree", [GOVREPORTS])


def previous_release() -> Side | None:
    """The previous release as a :class:`Side`, or None (with the reason printed) where it
    cannot be unpacked (no git, a shallow clone)."""
    commit = os.environ.get("BENCH_BASELINE", PREVIOUS_RELEASE)
    folder = ROOT / "build" / "bench-baseline" / commit
    script = folder / "govreports-script"
    if not script.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit],
                                 capture_output=True)
        if archive.returncode != 0:
            print(f"  (no baseline: git archive {commit} failed: "
                  f"{archive.stderr.decode(errors='replace').strip()[:200]})")
            return None
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
        setup = configparser.ConfigParser()
        setup.read(folder / "setup.cfg", encoding="utf-8")
        target = setup["options.entry_points"]["console_scripts"].split("=", 1)[1].strip()
        module, function = target.split(":")
        script.write_text(f"import sys\nfrom {module} import {function}\n"
                          f"if __name__ == '__main__':\n    sys.exit({function}())\n",
                          encoding="utf-8")
    return Side(f"release {commit}", [sys.executable, str(script)],
                {"PYTHONPATH": str(folder)}, folder)


@dataclass
class Measured:
    wall_s: float
    peak_pss_mib: float  # resident memory with pages shared between processes counted once
    peak_rss_mib: float  # summed RSS of the process tree (shared pages counted in each)
    returncode: int
    stdout: str
    stderr: str


def measure(command: list[str], env: dict[str, str] | None = None, *,
            sample_memory: bool = True, cwd: Path | None = None) -> Measured:
    """Run ``command``: its wall time and the peaks of its process tree's memory, sampled
    every 20 ms (PSS and summed RSS)."""
    import threading

    full_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=cwd)
    peaks = [0, 0]
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                infos = [p.memory_full_info() for p in tree if p.is_running()]
                peaks[0] = max(peaks[0], sum(i.pss for i in infos))
                peaks[1] = max(peaks[1], sum(i.rss for i in infos))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    if sample_memory:
        sampler.join()
    return Measured(wall, peaks[0] / 2**20, peaks[1] / 2**20, proc.returncode, out, err)
