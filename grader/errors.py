"""Errors the harness raises on purpose, each naming the file and what to do.

    GraderError (Exception)
    ├── AssignmentError        an assignment folder or its checks.py is unusable
    ├── SubmissionError        input that cannot be read as submissions (missing path, bad zip)
    ├── TemplateError          solution markers that cannot be turned into a template
    └── SandboxError           the worker could not be started at all (not a student's fault)

A student's broken code never raises one of these: it becomes a failed check. The CLI maps
a `GraderError` to one line on stderr and exit status 2, without a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["AssignmentError", "GraderError", "SandboxError", "SubmissionError", "TemplateError"]


class GraderError(Exception):
    """Base of every error the harness raises deliberately."""


class AssignmentError(GraderError, LookupError):
    """An assignment is unknown or its folder/checks are unusable."""

    @classmethod
    def unknown(cls, name: str, known: list[str]) -> AssignmentError:
        choices = ", ".join(known) or "none found"
        return cls(f"unknown assignment {name!r}: choose one of {choices} (folders under reference/)")

    @classmethod
    def in_file(cls, path: Path, problem: str) -> AssignmentError:
        return cls(f"{path}: {problem}")


class SubmissionError(GraderError, ValueError):
    """Input that cannot be read as a set of submissions at all."""

    @classmethod
    def missing(cls, path: Path) -> SubmissionError:
        return cls(
            f"{path}: no such file or folder; give a neural_net.py, a notebook, a folder of submissions or a .zip"
        )


class TemplateError(GraderError, ValueError):
    """Solution markers that are unbalanced or nested."""

    @classmethod
    def at(cls, path: str, line: int, problem: str) -> TemplateError:
        return cls(f"{path}:{line}: {problem}; every '# BEGIN SOLUTION' needs one '# END SOLUTION' after it")


class SandboxError(GraderError, RuntimeError):
    """The worker could not be started (a broken installation, not a student's fault)."""
