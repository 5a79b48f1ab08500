"""The command line's shared options: one flag per limit, the course folder, the LMS round trip.

Each option is declared once here, with its help beside its default; `grader.cli` applies
them to its commands and turns the values back into `Limits` and `GradeOptions` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.sandbox.limits import Limits, limit_help

__all__ = ["apply", "course_options", "limit_options", "limits_from", "reference", "round_trip", "round_trip_options"]

F = TypeVar("F", bound=Callable[..., Any])


def limit_options(func: F) -> F:
    """--isolation, --reference and one flag per field of `Limits` (its help beside its default)."""
    options = [
        click.option(
            "--isolation",
            type=click.Choice(["auto", "bwrap", "limits-only"]),
            default="auto",
            show_default=True,
            help="bwrap: require bubblewrap; limits-only: resource limits without namespaces.",
        ),
        *(
            click.option(f"--{name.replace('_', '-')}", name, type=kind, default=default, show_default=True, help=text)
            for name, kind, default, text in limit_help()
        ),
        *course_options(),
    ]
    return apply(options)(func)


def apply(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def course_options() -> list[Callable[[F], F]]:
    return [
        click.option(
            "--course",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help="Course folder holding reference/<assignment>/ [default: $GRADER_COURSE, or found above the current folder]; the handouts shipped with grader are always available.",
        ),
        click.option(
            "--reference",
            "reference_root",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help="The reference/ folder itself (older spelling of --course DIR/..; also $GRADER_REFERENCE).",
        ),
    ]


def reference(course: Path | None, reference_root: Path | None) -> Path | None:
    """The reference folder named by --reference or --course (None: found as locate.py says)."""
    from grader.course.locate import course_reference

    return course_reference(course, reference_root) if course or reference_root else None


def limits_from(values: dict[str, Any]) -> Limits:
    """The `Limits` the command line asked for (the limit flags are taken out of `values`)."""
    return Limits(**{name: values.pop(name) for name, *_ in limit_help()})


# -- LMS round trip (courseio): the export's layout, class list, times, late work, marks, gradebooks
def round_trip_options(func: F) -> F:
    """--layout, --roster, --times, --timezone, --deadline, --no-late, --marks, --format, --lms-assignment-id."""
    path = click.Path(path_type=Path, dir_okay=False)
    options = [
        click.option(
            "--layout",
            type=click.Choice(["moodle", "canvas", "gradescope", "folders"]),
            default=None,
            help="How the export is laid out [default: recognised].",
        ),
        click.option(
            "--roster",
            type=path,
            default=None,
            help="Class list as the LMS exports it (CSV); students with no submission get a row.",
        ),
        click.option(
            "--times",
            type=path,
            default=None,
            help="Submission times the export lacks (CSV with 'Submitted at', or Moodle's grading worksheet).",
        ),
        click.option(
            "--timezone",
            default="UTC",
            show_default=True,
            help="Zone of times written without one (export times, --deadline), e.g. Europe/Berlin.",
        ),
        click.option(
            "--deadline",
            default=None,
            help="Deadline, e.g. 2026-12-04T23:59 [default: the assignment's or course.toml's].",
        ),
        click.option("--no-late", "no_late", is_flag=True, help="No late penalties."),
        click.option(
            "--marks",
            type=path,
            default=None,
            help="Instructor's marks for the manual parts: CSV with student, part, points, comment.",
        ),
        click.option(
            "--format",
            "formats",
            type=click.Choice(["plain", "moodle", "canvas", "gradescope"]),
            multiple=True,
            help="Gradebook to write (repeatable) [default: plain].",
        ),
        click.option(
            "--lms-assignment-id",
            default="",
            help="The LMS's id of the assignment (Canvas's gradebook column 'Name (id)').",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def round_trip(values: dict[str, Any]) -> dict[str, Any]:
    """GradeOptions fields from the round-trip flags (taken out of `values`)."""
    formats = tuple(values.pop("formats")) or ("plain",)
    late = not values.pop("no_late")
    names = ("layout", "roster", "times", "timezone", "deadline", "marks", "lms_assignment_id")
    return {"formats": formats, "late": late, **{n: values.pop(n) for n in names}}
