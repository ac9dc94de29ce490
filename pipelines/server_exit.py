"""Imported by the workers' fork server only, after everything it preloads
(:data:`pipelines.workers._PRELOAD`), for what it does at exit.

The fork server ends when the command that started it does (its pipe closes). An ordinary exit
would then free every module and table it preloaded, one object at a time (about 0.1 s), and the
server holds the command's stdout and stderr until it has: whoever reads the command's output
through a pipe (a shell's ``$(…)``, ``subprocess.run(capture_output=True)``, Airflow) waits for
that too. It has nothing to flush or clean, so it ends at once. (Its workers are not affected:
multiprocessing ends them with ``os._exit``, without exit handlers.)
"""

import atexit
import os

atexit.register(os._exit, 0)
