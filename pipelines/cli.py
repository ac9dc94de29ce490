"""``govreports`` command line: ingest, process, query, report, doctor.

Exit codes: 0 success; 1 something was rejected (unless ``--allow-rejects``), or ``doctor``
found damage that is still there; 2 bad input or configuration (one line on stderr names it
and the fix); 3 a storage failure worth retrying.
"""

from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.decode import codec_for
from pipelines.errors import ConfigError, GovreportsError, InputError, Interrupted, is_transient
from pipelines.lake import Lake
from pipelines.process import RunResult
from pipelines.regions import is_region_code
from pipelines.settings import BadSetting, Settings

err = Console(stderr=True)
out = Console()

LAKE_HELP = ("Lake URL: a path, file:///abs/path or s3://bucket/prefix "
             "[env GOVREPORTS_LAKE; default ./lake]")


def _fail(exc: GovreportsError) -> None:
    err.print(f"[bold red]govreports: error:[/] {escape(str(exc))}", highlight=False,
              soft_wrap=True)
    sys.exit(130 if isinstance(exc, Interrupted) else 3 if is_transient(exc) else 2)


@contextmanager
def command_errors():
    try:
        checked_settings()  # refused before any work starts
        yield
    except GovreportsError as exc:
        _fail(exc)


def checked_settings() -> Settings:
    """Every ``GOVREPORTS_*`` setting of the environment; a bad one is a :class:`ConfigError`
    (one line naming the variable, its bound and default)."""
    try:
        return Settings.from_env()
    except BadSetting as exc:
        raise ConfigError(str(exc)) from None


def _damage(lake: Lake) -> None:
    """One line on stderr per damaged object a reader skipped (``govreports doctor`` lists
    and repairs them)."""
    for damage in lake.damage.values():
        err.print(f"[yellow]warning:[/] skipped damaged {escape(damage.line())}; run "
                  "`govreports doctor --repair`", highlight=False, soft_wrap=True)


@contextmanager
def _progress(label: str, total: int | None):
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err, transient=True)
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)


def _check_province(code: str | None) -> str | None:
    if code is not None and not is_region_code(code):
        raise ConfigError(f"--province {code!r} is not a GB/T 2260 code: use six digits such as "
                          "220000 (吉林省) or a county code such as 530502")
    return code


def print_run_summary(result: RunResult, allow_rejects: bool) -> None:
    counts = result.built
    built = sum(counts.values())
    table = Table(title=f"{result.command}: {built} reports", title_justify="left")
    for column in ("province", "name", "year", "reports"):
        table.add_column(column, justify="right" if column == "reports" else "left")
    ordered = sorted(counts.items(), key=lambda item: (item[0][0] or "~", item[0][2] or 0))
    for (code, name, year), n in ordered:
        table.add_row(code or "NULL", name or "", str(year) if year else "NULL", str(n))
    out.print(table)
    loaded = result.loaded
    out.print(
        f"inputs {len(result.inputs)} · reports {built} · rejects "
        f"{len(result.rejects)} · partitions written {len(loaded.written)}, unchanged "
        f"{loaded.unchanged}, removed {len(loaded.deleted)}"
        + (f" · up to date, not read again {result.unchanged}" if result.unchanged else ""),
        highlight=False)
    for reject in result.rejects:
        out.print(f"[red]rejected[/] {escape(f'{reject.url}: {reject.message} [{reject.reason}]')}",
                  highlight=False, soft_wrap=True)
    for warning in [*result.warnings, *filter(None, [loaded.lease_taken_over])]:
        out.print(f"[yellow]warning[/] {escape(warning)}", highlight=False, soft_wrap=True)
    for path, why in result.skipped:
        out.print(f"[yellow]skipped[/] {escape(f'{path}: {why}')}", highlight=False, soft_wrap=True)
    out.print(f"lake {result.lake} · manifest {result.manifest_key}", highlight=False)
    if result.rejects and not allow_rejects:
        err.print(f"govreports: {len(result.rejects)} document(s) rejected (kept in raw/, "
                  "listed in rejects/); pass --allow-rejects to exit 0 anyway", highlight=False)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govreports")
def main() -> None:
    """Collect government information-disclosure annual reports into a data lake."""


_jobs_option = click.option(
    "--jobs", type=click.IntRange(min=1), default=None,
    help="Worker processes for the per-document work (default: $GOVREPORTS_JOBS or the "
         "machine's cores; 1 while debugging).")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--province", help="GB/T 2260 region code of the inputs' issuing body, when known.")
@click.option("--encoding", help="Charset of the inputs when known to differ from what they "
              "declare (e.g. gbk); overrides declarations and detection.")
@click.option("--allow-rejects", is_flag=True, help="Exit 0 even if documents were rejected.")
@_jobs_option
def ingest(paths, lake_url, province, encoding, allow_rejects, jobs):
    """Ingest local .html/.htm/.txt/.pdf/.docx files or folders into the lake."""
    from pipelines.ingest import collect_inputs
    from pipelines.ingest import ingest as run_ingest

    with command_errors():
        _check_province(province)
        if encoding is not None and codec_for(encoding) is None:
            raise ConfigError(f"--encoding {encoding!r} is not a charset Python knows: use a "
                              "label such as utf-8, gbk, gb18030 or big5")
        # Fail on a missing path before touching the lake (the paths are not kept: a run of
        # ten thousand files would hold them all while it works).
        count = len(collect_inputs(paths)[0])
        lake = Lake.open(lake_url, writable=True)
        with _progress("ingest", count) as advance:
            result = run_ingest(lake, paths, region=province, encoding=encoding,
                                progress=advance, jobs=jobs)
    print_run_summary(result, allow_rejects)


@main.command()
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--province", help="Rebuild only this province's partitions (GB/T 2260 code).")
@click.option("--year", type=int, help="Rebuild only this report year's partitions.")
@click.option("--allow-rejects", is_flag=True, help="Exit 0 even if documents were rejected.")
@click.option("--force", is_flag=True, help="Read every document again, even those whose "
              "rows were built from the same bytes by this processing version.")
@_jobs_option
def process(lake_url, province, year, allow_rejects, force, jobs):
    """(Re)process the raw zone into reports, idempotently.

    Without filters every partition is rebuilt from the raw zone; with --province/--year the
    matching partitions are replaced by exactly what the raw zone now yields for them.
    Documents whose rows are up to date (same bytes, same processing version) keep them
    without being read again, unless --force.
    """
    from pipelines import batch, process
    from pipelines.batch import check_report_year

    with command_errors():
        _check_province(province)
        if year is not None:
            check_report_year(year, "--year")
        if province is not None and province[2:] != "0000":
            raise ConfigError(f"--province {province!r} must be a province-level code "
                              f"such as {province[:2]}0000: partitions are per province")
        lake = Lake.open(lake_url, writable=True)
        docs = list(lake.raw_documents())

        scope = batch.Scope.of(provinces=[province] if province else (),
                               years=[year] if year is not None else ())
        result = process.new_run("process", lake)
        with _progress("process", len({d.doc_id for d in docs})) as advance:
            batch.run(lake, docs, result, scope=scope, rebuild=True, progress=advance,
                      force=force, jobs=jobs)
    print_run_summary(result, allow_rejects)


@main.command()
@click.argument("sql")
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
def query(sql, lake_url, fmt):
    """Run DuckDB SQL over the lake's tables (`reports`, `report_stats`, `report_versions`)
    and views (`report_latest`, `report_panel`, `report_changes`, `report_version_stats`,
    `rejects`): see docs/lake.md."""
    import duckdb

    from pipelines.query import run_query

    with command_errors():
        try:
            lake = Lake.open(lake_url, writable=False)
            columns, rows = run_query(lake, sql)
        except duckdb.Error as exc:
            raise InputError(f"query failed: {str(exc).splitlines()[0]}") from exc
        except KeyboardInterrupt:  # while the views are made (listing an S3 lake)
            raise Interrupted("query stopped (Ctrl-C)") from None
    _damage(lake)
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        json.dump([dict(zip(columns, row, strict=True)) for row in rows], sys.stdout,
                  ensure_ascii=False, default=str, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        out.print(table)
        out.print(f"{len(rows)} row(s)", highlight=False)


@main.command()
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--out", "out_dir", default="report", show_default=True,
              type=click.Path(file_okay=False), help="Folder to write index.html into.")
def report(lake_url, out_dir):
    """Write the lake's coverage and quality report: one static HTML page with plots
    (reports per province and year, field completeness, templates and consistency, repairs
    and encodings, rejects, portal health), readable offline."""
    from datetime import UTC, datetime
    from pathlib import Path

    from pipelines import quality_page as stage

    with command_errors():
        lake = Lake.open(lake_url, writable=False)
        path = stage.write(lake, Path(out_dir),
                           generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    _damage(lake)
    out.print(f"report of {lake.url}: {path.resolve()} (open {path.resolve().as_uri()})",
              highlight=False, soft_wrap=True)


@main.command("stage")
@click.argument("name", type=click.Choice(["decode", "extract"]))
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--batch", required=True, help="The batch (planned by a scheduler's plan task).")
@click.option("--unit", type=int, default=None, help="One work unit (default: every unit).")
def stage_command(name, lake_url, batch, unit):
    """One processing stage of a planned batch, as the Airflow tasks run it (see
    pipelines/stages.py); prints its counts as JSON."""
    from pipelines import stages
    from pipelines.store import key_part

    with command_errors():
        key_part(batch, "--batch")  # one name under _work/: never a path out of it
        lake = Lake.open(lake_url, writable=True)
        counts = getattr(stages, name)(lake, batch, unit)
    sys.stdout.write(json.dumps(counts) + "\n")


@main.command()
@click.option("--lake", "lake_url", help=LAKE_HELP)
@click.option("--repair", is_flag=True, help="Fix what can be fixed: quarantine damaged "
              "objects under _quarantine/, rebuild damaged partitions from the raw zone, "
              "remove stale temporary files and a stuck lease.")
@click.option("--no-hashes", is_flag=True, help="Do not read every raw object to check it "
              "against its sha256 (the costly part on a large lake).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@_jobs_option
def doctor(lake_url, repair, no_hashes, fmt, jobs):
    """List every damaged or orphaned object of the lake, and with --repair fix them.

    Exit codes: 0 the lake is sound (nothing found, or all of it repaired); 1 damage remains
    (without --repair: anything found; with it: what cannot be repaired, such as raw bytes
    without a sidecar); 2 bad input or configuration; 3 a storage failure worth retrying.
    """
    from pipelines import doctor as stage

    with command_errors():
        lake = Lake.open(lake_url, writable=False)
        if lake.store.missing():
            raise ConfigError(f"lake {lake.url} does not exist: pass --lake")
        findings = stage.examine(lake, hashes=not no_hashes)
        rebuilt = None
        if repair and findings:
            writable = Lake.open(lake_url, writable=True)
            rebuilt = stage.repair(writable, findings, jobs=jobs)
            remaining = stage.examine(Lake.open(lake_url, writable=False),
                                      hashes=not no_hashes)
        else:
            remaining = findings
    if fmt == "json":
        json.dump({"lake": lake.url, "findings": [f.to_json() for f in findings],
                   "remaining": [f.to_json() for f in remaining],
                   "rebuild_manifest": rebuilt.manifest_key if rebuilt else None},
                  sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(title=f"doctor: {len(findings)} finding(s) in {lake.url}",
                      title_justify="left")
        for column in ("kind", "object", "problem", *(["repair"] if repair else [])):
            table.add_column(column, overflow="fold")  # keys are never cut short
        for f in findings:
            table.add_row(f.kind, f.key, f.detail, *([f.done or ""] if repair else []))
        out.print(table)
        if rebuilt is not None:
            out.print(f"rebuilt from the raw zone · manifest {rebuilt.manifest_key}",
                      highlight=False)
        for f in remaining if repair else ():
            out.print(f"[yellow]remains[/] {escape(f.line())}: "
                      f"{escape(stage.CANNOT.get(f.kind, 'run doctor --repair again'))}",
                      highlight=False, soft_wrap=True)
        if remaining:
            hint = "" if repair else " (run `govreports doctor --repair`)"
            out.print(f"{len(remaining)} problem(s) remain{hint}", highlight=False)
        else:
            out.print("the lake is sound", highlight=False)
    if remaining:
        sys.exit(1)


@main.command("settings")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table",
              show_default=True, help="table: with this environment's values; markdown: the "
              "README's table of every setting.")
def settings_command(fmt):
    """Every GOVREPORTS_* setting: its type, default, bound and meaning, and its value here.

    Exit code 2 names the first variable whose value is refused.
    """
    rows = Settings.describe()
    if fmt == "markdown":
        out.print("| variable | type | default | bound | meaning |\n|---|---|---|---|---|",
                  highlight=False, soft_wrap=True)
        for row in rows:
            out.print(f"| `{row['variable']}` | {row['type']} | {row['default']} | "
                      f"{row['bound']} | {row['meaning']} |", highlight=False, soft_wrap=True,
                      markup=False)
        return
    with command_errors():
        here = checked_settings()
    table = Table(title="govreports settings (from the environment; unset: the default)",
                  title_justify="left")
    for column in ("variable", "value", "default", "bound", "meaning"):
        table.add_column(column, overflow="fold")
    for row, value in zip(rows, here.values(), strict=True):
        table.add_row(row["variable"], value, row["default"], row["bound"], row["meaning"])
    out.print(table, markup=False)
