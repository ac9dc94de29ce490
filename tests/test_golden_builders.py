"""The golden builders (tests/golden/build_encoding_inputs.py, tests/golden/build_extract_inputs.py)
reproduce the committed inputs byte for byte: a case's inputs are what its builder writes, never
hand edits that the next rebuild would undo. ``expected.*`` files are not built: the golden tests
write them with ``--regen-golden``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import build_encoding_inputs, build_extract_inputs

GOLDEN = Path(__file__).parent / "golden"
BUILDERS = {"encoding": build_encoding_inputs, "extract": build_extract_inputs}


def inputs(case: Path) -> dict[str, bytes]:
    """A case folder's files by name, without the expected outputs."""
    return {path.name: path.read_bytes() for path in sorted(case.iterdir())
            if path.is_file() and not path.name.startswith("expected.")}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Each builder run once into a fresh folder."""
    roots = {}
    for family, builder in BUILDERS.items():
        roots[family] = tmp_path_factory.mktemp(family)
        builder.main(roots[family])
    return roots


CASES = [(family, case.name) for family in BUILDERS
         for case in sorted((GOLDEN / family).iterdir()) if case.is_dir()]


@pytest.mark.parametrize(("family", "case"), CASES, ids=[f"{f}/{c}" for f, c in CASES])
def test_the_builder_reproduces_the_committed_inputs(built, family, case):
    rebuilt = built[family] / case
    assert rebuilt.is_dir(), f"the builder no longer makes the committed case {case}"
    committed, made = inputs(GOLDEN / family / case), inputs(rebuilt)
    assert sorted(made) == sorted(committed)  # no committed input missing, none uncommitted
    differing = [name for name in committed if made[name] != committed[name]]
    assert differing == [], "rebuild and commit these, or fix the builder"


@pytest.mark.parametrize("family", BUILDERS)
def test_every_built_case_is_committed(built, family):
    committed = {case for f, case in CASES if f == family}
    assert sorted(p.name for p in built[family].iterdir()) == sorted(committed)
