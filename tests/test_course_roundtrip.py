"""A course's round trip: real LMS exports in, every student accounted for, gradebooks back out.

Each test builds the export the way the LMS writes it (Moodle folders, flat files, a nested zip,
a .tar.gz and online text; Canvas's `_LATE_` and `-1` names; Gradescope's metadata with a group
and a late `:created_at:`; plain folders in a top-level .tar.gz), grades it for real with a
small copy of two_layer_net, and checks counts, identity, lateness, scores and the gradebooks'
header rows against the columns each LMS documents for its import.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE, ROOT

from grader.course.batch import GradeOptions, grade
from grader.errors import GraderError
from grader.outputs.similarity import similar_pairs
from grader.results import SubmissionResult

ASSIGNMENT = "roundtrip_net"
SOURCE = (REFERENCE / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text(encoding="utf-8")
TEMPLATE = (ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py").read_text(encoding="utf-8")
# regularisation without the 0.5: toy_loss (2 points) fails, the rest passes
NO_HALF = SOURCE.replace("reg_loss = 0.5 * reg *", "reg_loss = reg *", 1)
PYTHON2 = SOURCE.replace("import numpy as np", "import numpy as np\nprint 'hello'", 1)
CHECK_POINTS = 6  # forward_scores 3, toy_loss 2, predict 1
PROOF = 4  # the manual part; the bonus (2) adds to the grade, not to the maximum
MAXIMUM = CHECK_POINTS + PROOF
DEADLINE = "2026-11-20T12:00:00+00:00"
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
BIG = "".join(f"w{i} = {i * 7919 % 104729}\n" for i in range(200_000))[: int(1.3 * (1 << 20))]  # 1.3 MiB of code

CHECKS_PY = f'''
"""Test-only: two_layer_net's public checks that need no training, a proof, a bonus, a deadline."""

from grader import Assignment, Check, matches_reference
from grader.assignment import ManualPart

assignment = Assignment(
    name={ASSIGNMENT!r},
    title="round-trip copy of two_layer_net",
    entry="neural_net.py",
    names=("TwoLayerNet",),
    checks=(
        Check("forward_scores", 3, matches_reference(sum_abs=1e-7)),
        Check("toy_loss", 2, matches_reference(max_abs=1e-12)),
        Check("predict", 1, matches_reference(exact=True)),
    ),
    manual=(ManualPart("proof", {PROOF}), ManualPart("bonus", 2, bonus=True)),
    late={{"deadline": {DEADLINE!r}, "per": "day", "penalty": 0.1}},
)
'''

# The columns each LMS's import reads, as their documentation and code name them.
MOODLE_WORKSHEET = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade", "Grade can be changed",
                    "Last modified (submission)", "Last modified (grade)", "Feedback comments"]  # fmt: skip
CANVAS_IMPORT = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder: reference/roundtrip_net/ (two_layer_net's solution and probes)."""
    root = tmp_path_factory.mktemp("course")
    folder = root / "reference" / ASSIGNMENT
    shutil.copytree(
        REFERENCE / "two_layer_net" / "cs231nHD", folder / "cs231nHD", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copyfile(REFERENCE / "two_layer_net" / "probes.py", folder / "probes.py")
    (folder / "checks.py").write_text(CHECKS_PY, encoding="utf-8")
    return root


def options(course: Path, out: Path, **extra: Any) -> GradeOptions:
    return GradeOptions(
        output=out, seed=7, jobs=2, reference_root=course / "reference", cache_dir=course / "cache", **extra
    )


def zip_with_times(path: Path, members: dict[str, tuple[str | bytes, tuple[int, int, int, int, int, int]]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, when) in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_763_600_000  # 2025-11-20: well before the deadline
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no byte-order mark"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def by_name(results: list[SubmissionResult]) -> dict[str, SubmissionResult]:
    return {r.display_name: r for r in results}


def jsonl(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


ON_TIME = (2026, 11, 19, 10, 0, 0)
LATE_1D3H = (2026, 11, 21, 15, 0, 0)  # 1 day 3 h after the deadline: 2 started days


def moodle_export(path: Path) -> Path:
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as inner:
        inner.writestr(zipfile.ZipInfo("work/neural_net.py", date_time=LATE_1D3H), NO_HALF)
    package = tar_gz({"cs231nHD/neural_net.py": SOURCE, "cs231nHD/__init__.py": ""})
    return zip_with_times(path, {
        "Ada Lovelace_101_assignsubmission_file_/neural_net.py": (SOURCE, ON_TIME),
        "Grace Hopper_102_assignsubmission_file_/my work.zip": (nested.getvalue(), LATE_1D3H),
        "Alan Turing_103_assignsubmission_file_/handin.tar.gz": (package, ON_TIME),
        "Alan Turing_103_assignsubmission_onlinetext_/onlinetext.html": ("<p>see my tarball</p>", ON_TIME),
        "Template Only_104_assignsubmission_file_neural_net.py": (TEMPLATE, ON_TIME),
        # a .py beside the notebook that imports it: one submission, the .py graded
        "Ada Lovelace_101_assignsubmission_file_/two_layer_net.ipynb": (NOTEBOOK, ON_TIME),
        "Big File_105_assignsubmission_file_/neural_net.py": (BIG, ON_TIME),
    })  # fmt: skip


def test_moodle_export_one_row_per_student_with_lateness_and_moodle_gradebooks(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    notes: list[str] = []
    results = grade(
        moodle_export(tmp_path / "moodle.zip"),
        ASSIGNMENT,
        options(course, out, formats=("plain", "moodle")),
        on_note=notes.append,
    )
    assert notes[0] == "moodle export: 5 hand-in(s) found, 1 with a problem"
    assert len(results) == len(jsonl(out)) == 5
    found = by_name(results)
    assert set(found) == {"Ada Lovelace", "Grace Hopper", "Alan Turing", "Template Only", "Big File"}
    assert {n: r.student.lms_id for n, r in found.items() if r.student} == {
        "Ada Lovelace": "101", "Grace Hopper": "102", "Alan Turing": "103", "Template Only": "104", "Big File": "105"}  # fmt: skip
    assert found["Ada Lovelace"].graded_as.endswith("neural_net.py")
    # refused for its size, and said so with the limit (never "no neural_net.py found")
    assert found["Big File"].status == "error" and "neural_net.py is 1.3 MiB, over the 1.0 MiB limit" in (
        found["Big File"].error or ""
    )
    assert [found[n].score for n in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Template Only")] == [6, 4, 6, 0]
    # the nested zip's times are the only clue: approximate, and said so
    late = found["Grace Hopper"].late
    assert late is not None and late.points == 2
    assert late.note == "late by 1 day 3 h: −2 points (10% per day) (approximate: from file times in the archive)"
    assert found["Ada Lovelace"].late is not None and found["Ada Lovelace"].late.points == 0
    assert any("online text" in n for n in found["Alan Turing"].notes)
    assert found["Grace Hopper"].total == 2  # 4 automated - 2 late, no marks yet
    report = (out / _report(out, found["Grace Hopper"])).read_text(encoding="utf-8")
    assert "Late: late by 1 day 3 h: −2 points (10% per day)" in report
    worksheet = read_csv(out / "moodle-grading-worksheet.csv")
    assert worksheet[0] == MOODLE_WORKSHEET
    rows = {r[1]: r for r in worksheet[1:]}
    assert len(rows) == 5
    assert (
        rows["Grace Hopper"][0] == "Participant 102"
        and rows["Grace Hopper"][4] == "2"
        and rows["Grace Hopper"][5] == str(MAXIMUM)
    )
    with zipfile.ZipFile(out / "moodle-feedback-files.zip") as feedback:
        assert "Ada Lovelace_101_assignsubmission_file_/feedback.html" in feedback.namelist()
        assert len(feedback.namelist()) == 5
    plain = read_csv(out / "gradebook.csv")
    header = plain[0]
    assert (
        header[:5] == ["key", "name", "id", "sid", "email"] and "late penalty" in header and "manual: proof" in header
    )
    assert sorted(r[header.index("late penalty")] for r in plain[1:]) == ["0", "0", "0", "0", "2"]


def _report(out: Path, result: SubmissionResult) -> str:
    from grader.outputs.report import report_file_name

    return report_file_name(result.submission)


def test_canvas_late_mark_resubmission_and_roster_with_an_absent_student(course: Path, tmp_path: Path) -> None:
    export = tmp_path / "canvas.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("lovelaceada_201_9001_neural_net.py", SOURCE)
        archive.writestr("hoppergrace_LATE_202_9002_neural_net-1.py", NO_HALF)
        archive.writestr("turingalan_203_9003_neural_net.py", TEMPLATE)
    roster = tmp_path / "canvas-gradebook-export.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,roundtrip_net (555)\n"
        "    Points Possible,,,,,10\n"
        '"Lovelace, Ada",201,S1,ada,A,\n"Hopper, Grace",202,S2,grace,A,\n"Turing, Alan",203,S3,alan,A,\n"Hamilton, Margaret",204,S4,margaret,A,\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    results = grade(
        export, ASSIGNMENT, options(course, out, roster=roster, formats=("canvas", "plain"), lms_assignment_id="555")
    )
    assert len(results) == len(jsonl(out)) == 3 + 1  # three hand-ins and the roster's absent student
    found = {r.student.lms_id: r for r in results if r.student}
    assert set(found) == {"201", "202", "203", "204"}
    assert all("LATE" not in r.submission for r in results)
    grace = found["202"]
    assert grace.student is not None and grace.student.sid == "S2" and grace.score == 4
    # Canvas marks it late without a time: one day is charged, and the note says why
    assert grace.late is not None and grace.late.points == 1 and "marked late by the LMS" in grace.late.note
    assert found["204"].error == "no submission"
    book = read_csv(out / "canvas-gradebook.csv")
    assert book[0] == [*CANVAS_IMPORT, "roundtrip_net (555)"]
    assert book[1][0].strip() == "Points Possible" and book[1][5] == str(MAXIMUM)
    cells = {r[1]: r[5] for r in book[2:]}
    assert cells == {"201": "6", "202": "3", "203": "0", "204": ""}  # Margaret: empty keeps Canvas's grade
    plain = read_csv(out / "gradebook.csv")
    assert len(plain) - 1 == 4 and plain[0][-2:] == ["status", "problem"]
    assert [r[-2] for r in plain[1:] if r[2] == "204"] == ["no submission"]


GRADESCOPE_METADATA = """\
submission_301:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1001'
    :email: ada@example.edu
  :created_at: 2026-11-19 10:00:00.000000000 +0000
submission_302:
  :submitters:
  - :name: Grace Hopper
    :sid: '1002'
    :email: grace@example.edu
  - :name: Alan Turing
    :sid: '1003'
    :email: alan@example.edu
  :created_at: 2026-11-21 15:30:00.000000000 +0000
submission_303:
  :submitters:
  - :name: Ken Thompson
    :sid: '1004'
    :email: ken@example.edu
  :created_at: 2026-11-19 10:00:00.000000000 +0000
"""


def test_gradescope_export_names_a_group_and_charges_created_at_after_the_deadline(
    course: Path, tmp_path: Path
) -> None:
    export = tmp_path / "gradescope.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("assignment_99_export/submission_metadata.yml", GRADESCOPE_METADATA)
        archive.writestr("assignment_99_export/submission_301/neural_net.py", SOURCE)
        archive.writestr("assignment_99_export/submission_302/neural_net.py", SOURCE)
        archive.writestr("assignment_99_export/submission_303/neural_net.py", PYTHON2)
    out = tmp_path / "out"
    results = grade(export, ASSIGNMENT, options(course, out, formats=("gradescope",)))
    assert len(results) == len(jsonl(out)) == 3
    found = by_name(results)
    group = found["Grace Hopper"]
    assert (
        group.student is not None
        and group.student.members == ("Alan Turing",)
        and group.student.email == "grace@example.edu"
    )
    assert group.student.lms_id == "302" and group.submitted_at.startswith("2026-11-21T15:30")
    assert (
        group.late is not None and group.late.points == 2 and group.late.note.startswith("late by 1 day 3 h: −2 points")
    )
    assert found["Ada Lovelace"].student is not None and found["Ada Lovelace"].student.sid == "1001"
    assert (found["Ada Lovelace"].score, found["Ken Thompson"].score) == (6, 0)
    assert "Python 2" in (found["Ken Thompson"].error or "")
    rows = jsonl(out)
    assert {r["student"]["name"] for r in rows} == {"Ada Lovelace", "Grace Hopper", "Ken Thompson"}  # type: ignore[index]
    assert len(list((out / "gradescope").glob("*.json"))) == 3


def test_plain_folders_in_a_top_level_tar_gz_are_a_batch(course: Path, tmp_path: Path) -> None:
    export = tmp_path / "class.tar.gz"
    export.write_bytes(tar_gz({"class/ada/neural_net.py": SOURCE, "class/ken/neural_net.py": PYTHON2, "class/tom/cs231nHD/neural_net.py": TEMPLATE,
                               "class/tom/cs231nHD/__init__.py": ""}))  # fmt: skip
    out = tmp_path / "out"
    notes: list[str] = []
    results = grade(export, ASSIGNMENT, options(course, out), on_note=notes.append)
    assert notes[0] == "folders export: 3 hand-in(s) found"
    assert {r.submission: r.score for r in results} == {"ada": 6, "ken": 0, "tom": 0}
    assert len(read_csv(out / "gradebook.csv")) - 1 == 3
    assert "batch.tar.gz" not in {r.submission for r in results}


def test_a_batch_that_cannot_be_read_is_one_error_and_a_nonzero_exit(course: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an export\n", encoding="utf-8")
    with pytest.raises(GraderError, match="not a folder, .zip, .tar or .tar.gz archive"):
        grade(notes, ASSIGNMENT, options(course, tmp_path / "out"))
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(notes), "-a", ASSIGNMENT, "--reference", str(course / "reference")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env(course), check=False)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_marks_csv_adds_the_instructors_points_and_comments(course: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text(
        "student,part,points,comment\n101,proof,3,clear induction; the ReLU mask is skipped\n101,bonus,2,\nada@nowhere,proof,1,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "grader", "grade", str(moodle_export(tmp_path / "moodle.zip")), "-a", ASSIGNMENT, "-o", str(out), "-j", "2",
           "--seed", "7", "--reference", str(course / "reference"), "--marks", str(marks), "--format", "plain", "--format", "moodle", "--no-late"]  # fmt: skip
    done = subprocess.run(cli, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_env(course), check=False)
    assert done.returncode == 0, done.stderr
    assert "moodle export: 5 hand-in(s) found, 1 with a problem" in done.stderr
    assert "marks line 4: no student 'ada@nowhere'" in done.stderr
    rows = {r["student"]["name"]: r for r in jsonl(out)}  # type: ignore[index]
    ada = SubmissionResult.from_json(rows["Ada Lovelace"])
    assert ada.total == 6 + 3 + 2 and ada.total_max == MAXIMUM and ada.late is None  # --no-late
    plain = read_csv(out / "gradebook.csv")
    header, ada_row = plain[0], next(r for r in plain[1:] if r[1] == "Ada Lovelace")
    assert (
        ada_row[header.index("manual: proof")],
        ada_row[header.index("manual: bonus")],
        ada_row[header.index("score")],
    ) == ("3", "2", "11")
    assert "clear induction" in ada_row[header.index("manual comments")]
    worksheet = {r[1]: r for r in read_csv(out / "moodle-grading-worksheet.csv")[1:]}
    assert worksheet["Ada Lovelace"][4] == str(MAXIMUM)  # Moodle skips a grade above the maximum: capped
    report = (out / _report(out, ada)).read_text(encoding="utf-8")
    assert (
        "proof (marked by hand): 3 points: clear induction; the ReLU mask is skipped" in report
        and "Grade: 11 / 10" in report
    )
    assert ">11 / 10</td>" in (out / "index.html").read_text(encoding="utf-8")  # the class summary's Grade column
    grace = next(r for r in plain[1:] if r[1] == "Grace Hopper")
    assert grace[header.index("manual: proof")] == "" and grace[header.index("late penalty")] == ""


def _env(course: Path) -> dict[str, str]:
    import os

    return {**os.environ, "GRADER_CACHE": str(course / "cache")}


# a copy with local names changed and its comments rewritten: the same code to a reader
RENAMED = (
    SOURCE.replace("scores", "logits")
    .replace("grads", "derivatives")
    .replace("reg_loss", "penalty_term")
    .replace("# ", "# note: ")
)
DIFFERENT = '''
import numpy as np


class TwoLayerNet:
    """Written from scratch with loops and different structure."""

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        for name, shape in (("W1", (input_size, hidden_size)), ("W2", (hidden_size, output_size))):
            self.params[name] = std * np.random.randn(*shape)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        layer = X
        cache = []
        for w, b in (("W1", "b1"), ("W2", "b2")):
            cache.append(layer)
            layer = layer.dot(self.params[w]) + self.params[b]
            if w == "W1":
                layer = np.where(layer > 0, layer, 0)
        if y is None:
            return layer
        total = 0.0
        for row, label in zip(layer, y):
            row = row - max(row)
            total += np.log(np.sum(np.exp(row))) - row[label]
        return total / len(y), {}
'''


def test_similar_code_with_renamed_variables_is_flagged_and_different_code_is_not(course: Path, tmp_path: Path) -> None:
    pairs = similar_pairs(
        {"ada": ("neural_net.py", SOURCE), "mallory": ("neural_net.py", RENAMED), "ken": ("neural_net.py", DIFFERENT)},
        [TEMPLATE],
    )
    assert [(p.first, p.second) for p in pairs] == [("ada", "mallory")]
    assert pairs[0].first_share > 0.9 and any(s.shared for s in pairs[0].first_segments)
    # through a batch: the summary lists the pair with both sides, and deducts nothing
    export = tmp_path / "class.zip"
    with zipfile.ZipFile(export, "w") as archive:
        for name, code in (("ada", SOURCE), ("mallory", RENAMED), ("ken", DIFFERENT), ("tom", TEMPLATE)):
            archive.writestr(f"{name}/neural_net.py", code)
    out = tmp_path / "out"
    results = {r.submission: r for r in grade(export, ASSIGNMENT, options(course, out, late=False))}
    assert results["ada"].score == results["mallory"].score == CHECK_POINTS
    index = (out / "index.html").read_text(encoding="utf-8")
    section = index[index.index('id="similar"') : index.index('id="submissions"')]
    assert section.count('class="pair"') == 1 and "ada" in section and "mallory" in section and "ken" not in section
    assert "<mark>" in section


def test_layout_override_and_a_time_list_are_read_before_grading(course: Path, tmp_path: Path) -> None:
    from grader.course.assignments import load_assignment
    from grader.course.handins import RoundTrip, find_hand_ins

    assignment = load_assignment(ASSIGNMENT, course / "reference")
    forced = find_hand_ins(
        moodle_export(tmp_path / "moodle.zip"),
        assignment,
        tmp_path / "ws",
        RoundTrip(layout="folders"),
        course / "reference",
    )
    # read as plain folders, each of the six entries is a student (the online text and the oversized file: problems)
    assert forced.layout == "folders" and forced.messages[0] == "folders export: 6 hand-in(s) found, 2 with a problem"
    export = tmp_path / "canvas.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr("lovelaceada_201_9001_neural_net.py", SOURCE)
        archive.writestr("hoppergrace_202_9002_neural_net.py", SOURCE)
    times = tmp_path / "times.csv"
    times.write_text("ID,Submitted at\n202,2026-11-20 18:00\n", encoding="utf-8")
    found = find_hand_ins(
        export, assignment, tmp_path / "ws2", RoundTrip(times=times, timezone="Europe/Berlin"), course / "reference"
    )
    late = {h.student.lms_id: found.stamps[h.student.key].late for h in found.hand_ins}
    # 18:00 in Berlin is 17:00 UTC: 5 h after the deadline, one started day
    assert late["202"] is not None and late["202"].note == "late by 5 h: −1 point (10% per day)"
    assert late["201"] is not None and late["201"].points == 0 and "not marked late" in late["201"].note


def test_gradescope_build_command_writes_the_autograder_zip(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", "build", "-a", ASSIGNMENT, "-o", str(out), "--seed", "5",
                           "--reference", str(course / "reference")], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {
            "setup.sh",
            "run_autograder",
            "grader.json",
            "requirements.txt",
            f"reference/{ASSIGNMENT}/checks.py",
        } <= names
        assert json.loads(archive.read("grader.json")) == {"assignment": ASSIGNMENT, "seed": 5}


def test_course_file_states_the_policy_and_the_command_line_moves_the_deadline(course: Path, tmp_path: Path) -> None:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from grader.course.assignments import load_assignment
    from grader.course.late import late_policy, penalty_for
    from grader.intake.identity import Student
    from grader.intake.lms import HandIn

    (tmp_path / "reference").mkdir()
    (tmp_path / "course.toml").write_text(
        f'[late.{ASSIGNMENT}]\ndeadline = 2026-12-01T23:59:00\nper = "hour"\npenalty = 1\nin_points = true\ncap = 3\n',
        encoding="utf-8",
    )
    assignment = load_assignment(ASSIGNMENT, course / "reference")
    berlin = ZoneInfo("Europe/Berlin")
    policy = late_policy(assignment, tmp_path / "reference", None, berlin)
    assert policy is not None and policy.deadline == datetime(
        2026, 12, 1, 22, 59, tzinfo=timezone.utc
    )  # the course file wins
    hand_in = HandIn(
        Student("ada", "Ada"),
        tmp_path,
        submitted_at=datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc),
        time_source="export",
    )
    late = penalty_for(policy, hand_in, MAXIMUM)
    assert (late.points, late.note) == (3, "late by 4 h 1 min: −3 points (1 point per hour, at most 3 points)")
    moved = late_policy(assignment, tmp_path / "reference", "2026-12-02T05:00", berlin)
    assert moved is not None and penalty_for(moved, hand_in, MAXIMUM).points == 0
    # without a course file, the assignment's own deadline applies
    own = late_policy(assignment, tmp_path / "elsewhere" / "reference", None, berlin)
    assert (
        own is not None and own.deadline == datetime.fromisoformat(DEADLINE) and (own.per, own.penalty) == ("day", 0.1)
    )


def test_results_jsonl_keeps_identity_time_late_and_marks_through_a_round_trip() -> None:
    from grader.intake.identity import Student
    from grader.results import CheckResult, LatePenalty, ManualMark

    result = SubmissionResult(
        "Grace_Hopper_102", ASSIGNMENT, 4.0, 6.0, "graded", checks=(CheckResult("toy_loss", 0.0, 2.0, "failed", "off by 0.038"),),
        student=Student("Grace_Hopper_102", "Grace Hopper", "102", "S2", "grace@example.edu", ("Alan Turing",)),
        submitted_at="2026-11-21T15:00:00+00:00", late=LatePenalty(2.0, "late by 1 day 3 h: −2 points (10% per day)"),
        manual=(ManualMark("proof", 3.5, "the ReLU mask is skipped"), ManualMark("bonus")), manual_max=4.0,
    )  # fmt: skip
    again = SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result
    assert (again.total, again.total_max) == (5.5, 10.0)
    older = result.to_json()
    for key in ("student", "submitted_at", "late", "manual", "manual_max"):
        del older[key]  # a results.jsonl written before the round trip existed still loads
    assert SubmissionResult.from_json(older).student is None
