"""Imported once by the workers' fork server (:mod:`pipelines.workers`): the tables every
worker needs (pinyin syllables, OpenCC's converters, the place names and their automaton) and
trafilatura are loaded here, before any worker is forked, instead of in each worker on its
first document (about half a second per worker, measured in tests/bench/bench_layouts.py)."""

import trafilatura  # noqa: F401 - imported for its side effect: loaded once

from pipelines import regions, repair

repair.pinyin_syllables()
repair._converters()
regions.places()
regions._automaton()
