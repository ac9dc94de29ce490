"""Imported once by the workers' fork server (:mod:`pipelines.workers`): the tables every
worker needs (OpenCC's converters, the place names and their automaton, the character classes
of the encoding checks) are loaded here, before any worker is forked, instead of in each worker
on its first document (the character classes alone cost a worker's first document 0.06 s).

Left to the workers that need them: pinyin syllables (a mirror's annotations) and trafilatura
(a page whose text no container or density rule finds). Loading trafilatura here cost every
run 0.1 s of start-up and each worker 20 MB, for pages most runs never meet
(tests/bench/bench_layouts.py measures both)."""

from pipelines import decode, regions, repair

repair._converters()
regions.places()
regions._automaton()
decode._uncommon_pair()
decode._common_runs()
repair._script_classes()
