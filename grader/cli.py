"""The `grader` command: thin verbs over the library (parse, build options, call, print).

A `GraderError` becomes one line on stderr and exit status 2, without a traceback; a
failed check in `grader check` is exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from grader.cli_options import (
    apply,
    course_options,
    limit_options,
    limits_from,
    reference,
    round_trip,
    round_trip_options,
)
from grader.errors import GraderError
from grader.results import CheckResult, SubmissionResult

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
_STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "graded": "green"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nn-grader")
def main() -> None:
    """Grade neural-network assignments in isolated workers, with reports students read."""


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-a", "--assignment", required=True, help="Assignment name (a folder under reference/).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder [default: reports/<assignment>].",
)
@click.option("-j", "--jobs", type=int, default=None, help="Submissions graded at once [default: CPU count].")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Course seed the hidden checks' inputs are drawn from [default: the assignment's own, kept in reference/<name>/.course_seed].",
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON lines on stdout instead of a table.")
@click.option(
    "--notebook-mode",
    type=click.Choice(["auto", "definitions", "full"]),
    default="auto",
    show_default=True,
    help="Notebooks: run only their definitions (fast), every cell in a kernel (full), or definitions first and a full run when needed (auto).",
)
# -- resume and executors (issue 12)
@click.option(
    "--force",
    is_flag=True,
    help="Regrade every submission, even those already graded and unchanged in the output folder.",
)
@click.option(
    "--only",
    default=None,
    metavar="NAME",
    help="Regrade one submission (its name in results.jsonl) into an existing batch; refreshes the summary and gradebook.",
)
@click.option(
    "--dask",
    default=None,
    metavar="ADDRESS",
    help="Send the submissions to a Dask cluster (tcp://host:8786), or start one here with local:N worker processes.",
)
@round_trip_options
@limit_options
def grade(
    path: Path,
    assignment: str,
    output: Path | None,
    jobs: int | None,
    seed: int | None,
    as_json: bool,
    notebook_mode: str,
    force: bool,
    only: str | None,
    dask: str | None,
    isolation: str,
    course: Path | None,
    reference_root: Path | None,
    **values: Any,
) -> None:
    """Grade PATH: a neural_net.py, a notebook, a folder of submissions, or an LMS export (.zip, .tar.gz).

    Run again, it grades only what is new or changed since the last run into the same
    output folder.
    """
    from grader.course.batch import GradeOptions
    from grader.course.batch import grade as grade_batch

    limits = limits_from(values)
    options = GradeOptions(
        output=output,
        seed=seed,
        isolation=isolation,
        reference_root=reference(course, reference_root),
        limits=limits,
        notebook_mode=notebook_mode,
        force=force,
        only=only,
        dask=dask,
        **round_trip(values),
    )
    if jobs:
        options = replace(options, jobs=jobs)
    err = Console(stderr=True)
    with (
        _guard(),
        Progress(
            TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
        ) as progress,
    ):
        task = progress.add_task("grading", total=None)

        def advance(result: SubmissionResult, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def note(line: str) -> None:
            progress.console.print(_plain(line), highlight=False, soft_wrap=True)

        results = grade_batch(path, assignment, options, on_result=advance, on_note=note)
    if as_json:
        for result in results:
            click.echo(json.dumps(result.to_json()))
    else:
        _print_batch(results, Console())
    out = options.output_dir(assignment)
    # plain echo: rich would wrap long paths at the terminal width and break copy-paste
    books = {
        "plain": "gradebook.csv",
        "moodle": "moodle-grading-worksheet.csv",
        "canvas": "canvas-gradebook.csv",
        "gradescope": "gradescope/",
    }
    shown = "  ".join(f"gradebook: {out}/{books[f]}" for f in options.formats)
    click.echo(f"reports: {out}/index.html  {shown}  results: {out}/results.jsonl", err=True)
    if results and results[0].isolation:
        click.echo(f"isolation: {results[0].isolation}", err=True)


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--check", "only", default=None, help="Run one public check only.")
@limit_options
def check(
    path: Path, only: str | None, isolation: str, course: Path | None, reference_root: Path | None, **limit_values: Any
) -> None:
    """Run the public checks on your assignment folder (default: the current folder)."""
    from grader.course.selfcheck import self_check

    with _guard():
        result, hidden = self_check(
            path,
            only=only,
            isolation=isolation,
            limits=limits_from(limit_values),
            reference_root=reference(course, reference_root),
        )
    console = Console()
    _print_checks(result, console)
    if hidden:
        console.print(
            f"[dim]{hidden[0]} hidden checks worth {hidden[1]:g} more points run when your instructor grades; they are not shown here.[/dim]"
        )
    sys.exit(0 if result.status == "graded" and all(c.passed or c.advice for c in result.checks) else 1)


@main.command()
@click.argument("assignment")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write <assignment>/ [default: student_template/ in the course folder found, else in the current folder].",
)
@apply(course_options())
def template(assignment: str, out: Path | None, course: Path | None, reference_root: Path | None) -> None:
    """Regenerate the student template of ASSIGNMENT from its reference."""
    from grader.course.locate import find_course
    from grader.course.template import write_template

    if out is None:
        found = find_course(course) if reference_root is None else reference_root.resolve().parent
        out = (found or Path.cwd()) / "student_template"
    with _guard():
        written = write_template(assignment, out, reference(course, reference_root))
    click.echo(f"wrote {written}")


@main.group()
def gradescope() -> None:
    """Gradescope as a host: the autograder zip students' uploads run in."""


@gradescope.command("build")
@click.option("-a", "--assignment", required=True, help="Assignment name (a folder under reference/).")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Zip to write [default: <assignment>-autograder.zip].",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the hidden checks' inputs [default: fresh, recorded in grader.json].",
)
@click.option(
    "--reference",
    "reference_root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder holding reference/<assignment>/.",
)
def gradescope_build(assignment: str, out: Path | None, seed: int | None, reference_root: Path | None) -> None:
    """Write the autograder zip to upload in Gradescope's "Configure Autograder"."""
    from grader.course.gradescope import build_autograder

    with _guard():
        written = build_autograder(assignment, out or Path(f"{assignment}-autograder.zip"), reference_root, seed)
    click.echo(f"wrote {written}")


# --- student data (issue 13): the file a handout's notebook loads, e.g. fcc_sigmoid's mnist.npy
@main.command()
@click.argument("assignment")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder to write the data file(s) into: your assignment folder.",
)
@apply(course_options())
def data(assignment: str, out: Path, course: Path | None, reference_root: Path | None) -> None:
    """Write the data file(s) ASSIGNMENT's notebook loads (fcc_sigmoid: mnist.npy, from Keras' mnist.npz when --out holds it, else from the digits that come with grader)."""
    from grader.course.student_help import write_student_data

    with _guard():
        written = write_student_data(assignment, out, reference(course, reference_root))
    for path in written:
        click.echo(f"wrote {path}")


# --- end student data


@main.command()
@click.argument("course", type=click.Path(path_type=Path, file_okay=False))
def init(course: Path) -> None:
    """Start a new course folder COURSE holding one example assignment that earns full marks."""
    from grader.course.locate import init_course

    with _guard():
        written = init_course(course)
    click.echo(f"wrote {written} (a copy of the two_layer_net handout): edit it, then `grader template {written.name}`")


@main.command()
def doctor() -> None:
    """Say which isolation is active here, and why."""
    from grader.sandbox.doctor import diagnose

    for line in diagnose():
        click.echo(line)


@contextmanager
def _guard() -> Iterator[None]:
    """Map a GraderError to one line and exit status 2."""
    try:
        yield
    except GraderError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


def _print_batch(results: list[SubmissionResult], console: Console) -> None:
    table = Table(title=f"{results[0].assignment if results else ''}: {len(results)} submissions")
    for column in ("submission", "score", "status", "first problem"):
        table.add_column(column)
    for r in results:
        problem = r.error or next((f"{c.name}: {c.message}" for c in r.checks if not c.passed and not c.advice), "")
        table.add_row(
            _plain(r.display_name),
            f"{r.score:g} / {r.max_score:g}",
            f"[{_STATUS_STYLE.get(r.status, '')}]{r.status}[/]",
            _plain(problem)[:100],
        )
    console.print(table)


def _print_checks(result: SubmissionResult, console: Console) -> None:
    if result.status == "error":
        console.print(f"[red]cannot grade:[/red] {_plain(result.error or '')}")
        return
    table = Table(title=f"{result.assignment}: {result.score:g} / {result.max_score:g} points (public checks)")
    for column in ("check", "points", "result", "why"):
        table.add_column(column, overflow="fold")
    # A load failure (SyntaxError, a failing import) costs every check the same way: say it
    # once under the table, not once per check.
    load_failure = (result.error or "").strip()
    for c in result.checks:
        same = bool(load_failure) and c.message.strip() == load_failure
        status = "[blue]advice[/]" if c.advice and not c.passed else f"[{_STATUS_STYLE[c.status]}]{c.status}[/]"
        table.add_row(
            c.name, f"{c.points:g}/{c.max_points:g}", status, "could not run (see below)" if same else _why(c)
        )
    console.print(table)
    if load_failure:
        first = next((c for c in result.checks if c.message.strip() == load_failure), None)
        console.print("[red]your code could not run:[/red] " + (_why(first) if first else _plain(load_failure)))


def _why(c: CheckResult) -> str:
    lines = [c.message, *c.details[:4]]
    if c.stdout and not c.passed:
        lines.append("output: " + c.stdout.strip()[-300:])
    return _plain("\n".join(lines))


def _plain(text: str) -> str:
    """Student text for the terminal: no escape sequences, no rich markup."""
    from rich.markup import escape

    from grader.outputs.text import clean_text

    return escape(clean_text(text))
