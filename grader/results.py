"""What grading produced, as plain frozen data.

`CheckResult` and `SubmissionResult` are what every output format reads (HTML report,
gradebook, results.jsonl, the CLI table). They judge nothing themselves: the verdict was
reached in `grader.judge.verdicts`. Each has a `to_json`/`from_json` pair so results cross processes
(a Dask worker, results.jsonl) as plain dicts, never as pickles of live objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from grader.intake.identity import Student

__all__ = [
    "CheckResult", "CheckStatus", "Diagnosis", "Display", "LatePenalty", "ManualMark", "ManualPart", "NotebookCell",
    "SubmissionResult", "SubmissionStatus",
]  # fmt: skip

CheckStatus = Literal["passed", "failed", "error", "timeout"]
SubmissionStatus = Literal["graded", "error"]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The likely mistake behind a failed check, in the student's words (grader.judge.diagnosis).

    `mistake` names a known mistake the assignment declares (its `title`, the `handout`
    line it concerns, and `how_to_check` it); it is empty when none matched and only the
    per-parameter result is known: `right` and `wrong` name the parameters (gradients)
    that agree and disagree with the reference.
    """

    mistake: str = ""
    title: str = ""
    handout: str = ""
    how_to_check: str = ""
    right: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    name: str = ""  # the mistake in a few words (the class page's list)

    def to_json(self) -> dict[str, Any]:
        return {
            "mistake": self.mistake, "name": self.name, "title": self.title, "handout": self.handout,
            "how_to_check": self.how_to_check, "right": list(self.right), "wrong": list(self.wrong),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnosis:
        text = {k: str(data.get(k, "")) for k in ("mistake", "title", "handout", "how_to_check", "name")}
        return cls(
            **text,
            right=tuple(str(p) for p in data.get("right", ())),
            wrong=tuple(str(p) for p in data.get("wrong", ())),
        )


@dataclass(frozen=True, slots=True)
class Display:
    """Numbers a check's probe sent for pictures only (never used for points).

    `series` are histories by name ("loss", "train_acc", "val_acc"; "reference.loss" and
    so on for the reference's run on the same inputs, public checks only). `weights` is a
    first-layer weight matrix as (rows, columns, base64 of one byte per value), each
    column scaled to its own range: all a picture of hidden units needs, at an eighth of
    the size.
    """

    series: tuple[tuple[str, tuple[float, ...]], ...] = ()
    weights: tuple[int, int, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "series": {name: list(values) for name, values in self.series},
            "weights": list(self.weights) if self.weights else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Display:
        series = tuple(
            (str(k), tuple(float(v) for v in values)) for k, values in dict(data.get("series") or {}).items()
        )
        w = data.get("weights")
        weights = (int(w[0]), int(w[1]), str(w[2])) if isinstance(w, (list, tuple)) and len(w) == 3 else None
        return cls(series, weights)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on one check of one submission.

    `message` is one line a student can act on; `details` holds extra lines (the worst
    elements of a numeric miss, a traceback excerpt, captured output) for the report.
    """

    name: str
    points: float
    max_points: float
    status: CheckStatus
    message: str
    public: bool = True
    details: tuple[str, ...] = ()
    seconds: float = 0.0
    # where the failure originates in the student's code, when it can be traced there
    location: str | None = None
    stdout: str = ""
    # good practice the handout does not ask for: shown apart, never a lost point
    advice: bool = False
    # issue 13: the measured error and its tolerance (None when the check measures none),
    # the likely mistake, and what the probe sent for pictures
    error: float | None = None
    tolerance: float | None = None
    diagnosis: Diagnosis | None = None
    display: Display | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "status": self.status,
            "message": self.message,
            "public": self.public,
            "details": list(self.details),
            "seconds": round(self.seconds, 4),
            "location": self.location,
            "stdout": self.stdout,
            "advice": self.advice,
            "error": self.error,
            "tolerance": self.tolerance,
            "diagnosis": self.diagnosis.to_json() if self.diagnosis else None,
            "display": self.display.to_json() if self.display else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            name=str(data["name"]),
            points=float(data["points"]),
            max_points=float(data["max_points"]),
            status=data["status"],
            message=str(data["message"]),
            public=bool(data.get("public", True)),
            details=tuple(str(d) for d in data.get("details", ())),
            seconds=float(data.get("seconds", 0.0)),
            location=data.get("location"),
            stdout=str(data.get("stdout", "")),
            advice=bool(data.get("advice", False)),
            error=_optional_float(data.get("error")),
            tolerance=_optional_float(data.get("tolerance")),
            diagnosis=Diagnosis.from_json(data["diagnosis"]) if data.get("diagnosis") else None,
            display=Display.from_json(data["display"]) if data.get("display") else None,
        )


def _optional_float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True, slots=True)
class NotebookCell:
    """One cell of a submitted notebook as the report shows it (already capped).

    `outputs` are the student's saved outputs: ("text", text) or ("png", base64 data);
    `status` says how the cell went when graded ("ok", "error", "timeout", "" if not run)
    and `error` why.
    """

    index: int  # 1-based, counting every cell
    cell_type: str
    source: str
    outputs: tuple[tuple[str, str], ...] = ()
    status: str = ""
    error: str = ""
    # Jupyter's "In [7]" as saved in the notebook (None: never run); reports label cells by it
    execution_count: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "cell_type": self.cell_type,
            "source": self.source,
            "outputs": [list(o) for o in self.outputs],
            "status": self.status,
            "error": self.error,
            "execution_count": self.execution_count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotebookCell:
        outputs = tuple((str(k), str(v)) for k, v in data.get("outputs", ()))
        count = data.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        return cls(
            int(data["index"]),
            str(data["cell_type"]),
            str(data["source"]),
            outputs,
            str(data.get("status", "")),
            str(data.get("error", "")),
            count,
        )


@dataclass(frozen=True, slots=True)
class ManualPart:
    """A part no program grades (a proof, a written answer), declared with its points.

    A bonus part adds to the grade but not to the maximum.
    """

    name: str
    max_points: float
    bonus: bool = False


@dataclass(frozen=True, slots=True)
class ManualMark:
    """An instructor's mark for one manual part; `points` is None until it is marked."""

    part: str
    points: float | None = None
    comment: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "points": self.points, "comment": self.comment}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManualMark:
        points = data.get("points")
        return cls(str(data["part"]), None if points is None else float(points), str(data.get("comment", "")))


@dataclass(frozen=True, slots=True)
class LatePenalty:
    """Points taken off the total for lateness, and why ("late by 1 day 3 h: -2 points (10% per day)")."""

    points: float
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"points": self.points, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LatePenalty:
        return cls(float(data["points"]), str(data.get("note", "")))


def _student_json(student: Student) -> dict[str, Any]:
    return {
        "key": student.key,
        "name": student.name,
        "lms_id": student.lms_id,
        "sid": student.sid,
        "email": student.email,
        "members": list(student.members),
    }


def _student_from_json(data: dict[str, Any]) -> Student:
    return Student(
        str(data["key"]),
        str(data.get("name", "")),
        str(data.get("lms_id", "")),
        str(data.get("sid", "")),
        str(data.get("email", "")),
        tuple(str(m) for m in data.get("members", ())),
    )


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """Everything known about one graded (or ungradable) submission.

    A submission that could not be graded at all (a broken archive, no `neural_net.py`)
    still gets a result, with `status="error"`, `score=0` and `error` saying why and what
    to do: every submission found in the input has a row.
    """

    submission: str
    assignment: str
    score: float
    max_score: float
    status: SubmissionStatus
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    # the files graded, relative to the submission (shown in the report)
    files: tuple[str, ...] = ()
    # "module", "notebook (full run)", "notebook (definitions only)" ...
    graded_as: str = ""
    # the seed that drew the hidden checks' inputs for this batch (reproducibility)
    seed: int | None = None
    # one line on the isolation the worker ran under
    isolation: str = ""
    source: dict[str, str] = field(default_factory=dict)
    # how it was graded, in sentences: failing notebook cells, where names were defined
    notes: tuple[str, ...] = ()
    notebook: tuple[NotebookCell, ...] = ()
    # -- the course round trip: who handed it in, when, and what a human added (all optional)
    student: Student | None = None  # as the LMS export names them; `submission` is their key
    submitted_at: str = ""  # ISO 8601 with its zone, "" when unknown
    late: LatePenalty | None = None  # taken off the total
    manual: tuple[ManualMark, ...] = ()  # the instructor's marks for the manual parts
    manual_max: float = 0.0  # the manual parts' maximum (bonus parts not counted)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def total(self) -> float:
        """The grade: automated score plus manual marks, minus the late penalty, never below 0."""
        penalty = self.late.points if self.late is not None else 0.0
        manual = sum(m.points for m in self.manual if m.points is not None)
        automated = self.score if self.status == "graded" else 0.0
        return max(0.0, round(automated + manual - penalty, 4))

    @property
    def total_max(self) -> float:
        """The grade's maximum: the checks and the manual parts that are not a bonus."""
        return self.max_score + self.manual_max

    @property
    def display_name(self) -> str:
        """The student's name as the export gives it (the key when it gives none)."""
        return self.student.name if self.student is not None and self.student.name else self.submission

    def to_json(self) -> dict[str, Any]:
        return {
            "submission": self.submission,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "error": self.error,
            "checks": [c.to_json() for c in self.checks],
            "seconds": round(self.seconds, 3),
            "files": list(self.files),
            "graded_as": self.graded_as,
            "seed": self.seed,
            "isolation": self.isolation,
            "source": dict(self.source),
            "notes": list(self.notes),
            "notebook": [c.to_json() for c in self.notebook],
            "student": _student_json(self.student) if self.student is not None else None,
            "submitted_at": self.submitted_at,
            "late": self.late.to_json() if self.late is not None else None,
            "manual": [m.to_json() for m in self.manual],
            "manual_max": self.manual_max,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            submission=str(data["submission"]),
            assignment=str(data["assignment"]),
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            status=data["status"],
            checks=tuple(CheckResult.from_json(c) for c in data.get("checks", ())),
            error=data.get("error"),
            seconds=float(data.get("seconds", 0.0)),
            files=tuple(data.get("files", ())),
            graded_as=str(data.get("graded_as", "")),
            seed=data.get("seed"),
            isolation=str(data.get("isolation", "")),
            source={str(k): str(v) for k, v in data.get("source", {}).items()},
            notes=tuple(str(n) for n in data.get("notes", ())),
            notebook=tuple(NotebookCell.from_json(c) for c in data.get("notebook", ())),
            student=_student_from_json(data["student"]) if data.get("student") else None,
            submitted_at=str(data.get("submitted_at") or ""),
            late=LatePenalty.from_json(data["late"]) if data.get("late") else None,
            manual=tuple(ManualMark.from_json(m) for m in data.get("manual", ())),
            manual_max=float(data.get("manual_max", 0.0)),
        )
