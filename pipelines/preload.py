"""Imported once by the workers' fork server (:mod:`pipelines.workers`): the tables every
worker needs (OpenCC's converters, the place names and their automaton, the character classes
of the encoding checks) and trafilatura are loaded here, before any worker is forked, instead
of in each worker on its first document (about half a second per worker, measured in
tests/bench/bench_layouts.py; the character classes alone cost a worker's first document
0.06 s). Pinyin syllables are left to the workers that meet a mirror's annotations."""

import trafilatura  # noqa: F401 - imported for its side effect: loaded once

from pipelines import decode, regions, repair

repair._converters()
regions.places()
regions._automaton()
decode._uncommon_pair()
repair._script_classes()
