"""The settings record (pipelines/settings.py): each variable parsed, bounded and refused in one
line; the only reader of the environment; the README's table is the command's."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from pipelines.settings import BadSetting, Settings, env_name
from tests.test_house import CODE, python_files

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("variable,raw,field,expected", [
    ("GOVREPORTS_JOBS", "3", "jobs", 3),
    ("GOVREPORTS_DOC_TIMEOUT", " 0.5 ", "doc_timeout", 0.5),
    ("GOVREPORTS_LEASE_WAIT", "0", "lease_wait", 0.0),
    ("GOVREPORTS_ALLOW_LOOPBACK", "YES", "allow_loopback", True),
    ("GOVREPORTS_ALLOW_LOOPBACK", "off", "allow_loopback", False),
    ("GOVREPORTS_LAKE", "s3://b/p", "lake", "s3://b/p"),
    ("GOVREPORTS_LAKE", "  ", "lake", "./lake"),  # blank: the default
    ("GOVREPORTS_NIGHTLY_SCHEDULE", "none", "nightly_schedule", "none"),
], ids=["int", "float-padded", "zero-at-bound", "bool-yes", "bool-off", "string",
        "blank-is-default", "schedule-none"])
def test_a_setting_is_read_from_its_variable(variable, raw, field, expected):
    assert getattr(Settings.from_env({variable: raw}), field) == expected


@pytest.mark.parametrize("variable,raw,wanted", [
    ("GOVREPORTS_JOBS", "0", "an integer ≥ 1"),
    ("GOVREPORTS_JOBS", "two", "an integer ≥ 1"),
    ("GOVREPORTS_DOC_MEMORY_MB", "255", "an integer ≥ 256"),
    ("GOVREPORTS_QUERY_TIMEOUT", "nan", "a number ≥ 0.1"),
    ("GOVREPORTS_LEASE_TTL", "-inf", "a number ≥ 1"),
    ("GOVREPORTS_UNIT_DOCS", "1e3", "an integer ≥ 1"),
    ("GOVREPORTS_ALLOW_LOOPBACK", "2", "one of 1, true"),
], ids=["jobs-zero", "jobs-word", "memory-below-bound", "timeout-nan", "ttl-minus-infinity",
        "unit-docs-float", "loopback-two"])
def test_a_bad_value_is_one_line_naming_the_variable_and_the_default(variable, raw, wanted):
    with pytest.raises(BadSetting) as refused:
        Settings.from_env({variable: raw})
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{variable}={raw!r} must be {wanted}")
    assert "unset it for the default" in message


def test_every_setting_has_a_variable_a_kind_and_a_meaning():
    rows = Settings.describe()
    assert [r["variable"] for r in rows] == [env_name(f.name)
                                             for f in dataclasses.fields(Settings)]
    assert all(r["meaning"] and r["type"] in {"str", "int", "float", "bool"} for r in rows)
    # The defaults are themselves valid values.
    assert Settings.from_env({r["variable"]: r["default"] for r in rows
                              if r["default"] != "—"}) == Settings()


def test_the_readme_table_is_what_the_command_prints(cli):
    printed = cli("settings", "--format", "markdown")
    assert printed.returncode == 0, printed.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- settings table: .*? -->\n(.*?)<!-- end of settings table -->",
                      readme, re.S)
    assert table and table[1] == printed.stdout, "rerun `govreports settings --format markdown`"


def test_the_settings_table_shows_this_environments_values(cli):
    shown = cli("settings", env={"GOVREPORTS_LEASE_TTL": "7.5", "COLUMNS": "300"})
    assert shown.returncode == 0, shown.stderr
    [row] = [line for line in shown.stdout.splitlines() if "GOVREPORTS_LEASE_TTL" in line]
    assert re.search(r"GOVREPORTS_LEASE_TTL\s*│\s*7\.5\s*│\s*60\s*│", row), row


def _environment_reads(path: Path) -> list[str]:
    """``os.environ.get(…)``, ``os.getenv(…)`` and ``os.environ[…]`` read in ``path``."""
    def environ(node: ast.AST) -> bool:
        return getattr(node, "attr", getattr(node, "id", None)) == "environ"

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr == "getenv" or (node.func.attr == "get"
                                               and environ(node.func.value))):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and environ(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_settings_module_is_the_only_reader_of_the_environment():
    reads = [hit for path in python_files(*CODE) if path.name != "settings.py"
             or path.parent.name != "pipelines" for hit in _environment_reads(path)]
    assert reads == []
    # The check sees a read where there is one.
    assert _environment_reads(ROOT / "pipelines" / "settings.py")
