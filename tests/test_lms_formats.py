"""Gradebooks the LMSs import as they are: columns as Moodle's and Canvas's importers read
them, a plain CSV Excel opens with accents intact, and cells no spreadsheet runs."""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.intake.identity import Student
from grader.outputs.cells import spreadsheet_cell
from grader.outputs.gradebook_rows import GradebookAssignment, GradebookRow, LatePenalty, ManualMark, ManualPart
from grader.outputs.lms_formats import (
    unmatched,
    write_canvas_gradebook,
    write_gradebooks,
    write_moodle_worksheet,
    write_plain_gradebook,
)
from grader.outputs.moodle_feedback import write_moodle_feedback_zip
from grader.results import CheckResult, SubmissionResult

ASSIGNMENT = GradebookAssignment(
    "Exercise 9",
    20,
    lms_id="4711",
    manual_parts=(ManualPart("proof", 5), ManualPart("bonus", 5, bonus=True)),
)


def result(key: str, scores: tuple[float, float]) -> SubmissionResult:
    checks = (
        CheckResult(
            "forward_scores", scores[0], 10, "passed" if scores[0] == 10 else "failed", "sum |diff| = 0.5, limit 1e-07"
        ),
        CheckResult(
            "digits_accuracy", scores[1], 10, "passed" if scores[1] == 10 else "failed", "wrong value", public=False
        ),
    )
    return SubmissionResult(key, "two_layer_net", sum(scores), 20, "graded", checks)


def rows() -> list[GradebookRow]:
    jose = Student("jose", "José Müller-Øster", lms_id="101", sid="s101", email="jose@example.org")
    lee = Student("ann", "Ann\u2028Lee", lms_id="102", email="ann@example.org")
    evil = Student("evil", '\ufeff=HYPERLINK("http://x","y")', lms_id="103")
    absent = Student("max", "Max Absent", lms_id="104")
    return [
        GradebookRow(
            jose,
            result("jose", (10, 10)),
            marks=(ManualMark("proof", 4, "clear <b>induction</b>"), ManualMark("bonus", 5)),
        ),
        GradebookRow(
            lee,
            result("ann", (10, 0)),
            late=LatePenalty(2, "1 day late"),
            submitted_at=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
        ),
        GradebookRow(evil, SubmissionResult("evil", "two_layer_net", 0, 20, "error", error="=cmd|' /C calc'!A0")),
        GradebookRow(absent),
    ]


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_moodle_worksheet_has_moodles_columns_and_participant_identifiers(tmp_path: Path) -> None:
    table = read(
        write_moodle_worksheet(
            rows(), ASSIGNMENT, tmp_path / "w.csv", graded_at=datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
        )
    )
    assert table[0] == [
        "Identifier",
        "Full name",
        "Email address",
        "Status",
        "Grade",
        "Maximum grade",
        "Grade can be changed",
        "Last modified (submission)",
        "Last modified (grade)",
        "Feedback comments",
    ]
    by_id = {r[0]: dict(zip(table[0], r)) for r in table[1:]}
    assert set(by_id) == {"Participant 101", "Participant 102", "Participant 103", "Participant 104"}
    jose, ann = by_id["Participant 101"], by_id["Participant 102"]
    # 20 automated + 4 proof + 5 bonus = 29, above the maximum of 25: Moodle would skip it, so it is capped
    assert jose["Grade"] == "25" and jose["Maximum grade"] == "25"
    assert ann["Grade"] == "8" and ann["Full name"] == "Ann Lee"
    assert ann["Last modified (submission)"].startswith("2026-11-20T09:30:00")
    assert jose["Last modified (grade)"] == "2026-12-01T12:00:00+00:00"
    # Moodle takes the comment as HTML: a student's or marker's markup arrives as text
    assert "&lt;b&gt;induction&lt;/b&gt;" in jose["Feedback comments"] and "<b>" not in jose["Feedback comments"]
    assert "Late penalty: 2 (1 day late)" in ann["Feedback comments"]
    absent = by_id["Participant 104"]
    assert absent["Status"] == "No submission" and absent["Grade"] == "" and absent["Feedback comments"] == ""


def test_canvas_import_has_canvas_columns_and_the_points_possible_row(tmp_path: Path) -> None:
    table = read(write_canvas_gradebook(rows(), ASSIGNMENT, tmp_path / "c.csv"))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Exercise 9 (4711)"]
    assert table[1][0].strip() == "Points Possible" and table[1][-1] == "25"
    body = {r[1]: r for r in table[2:]}
    assert body["101"] == ["José Müller-Øster", "101", "s101", "", "", "29"]
    assert body["102"][-1] == "8"  # 10 automated - 2 late
    assert body["103"][-1] == "0"  # handed in, could not be graded
    assert body["104"][-1] == ""  # no submission: Canvas's grade is left alone


def test_canvas_without_assignment_id_or_points_row(tmp_path: Path) -> None:
    plain = GradebookAssignment("Exercise 9", 20)
    table = read(write_canvas_gradebook(rows()[:1], plain, tmp_path / "c.csv", points_possible=False))
    assert table[0][-1] == "Exercise 9" and len(table) == 2


def test_plain_csv_has_a_bom_separate_columns_and_one_column_per_check(tmp_path: Path) -> None:
    path = write_plain_gradebook(rows(), ASSIGNMENT, tmp_path / "g.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read(path)
    assert table[0] == [
        "key",
        "name",
        "id",
        "sid",
        "email",
        "submitted",
        "score",
        "max",
        "automated",
        "late penalty",
        "manual: proof",
        "manual: bonus",
        "manual comments",
        "check: forward_scores",
        "check: digits_accuracy",
        "status",
        "problem",
    ]
    by_key = {r[0]: dict(zip(table[0], r)) for r in table[1:]}
    assert len(by_key) == 4
    jose = by_key["jose"]
    assert (jose["name"], jose["id"], jose["email"]) == ("José Müller-Øster", "101", "jose@example.org")
    assert (jose["score"], jose["automated"], jose["manual: proof"], jose["manual: bonus"]) == ("29", "20", "4", "5")
    assert jose["manual comments"] == "proof: clear <b>induction</b>"
    ann = by_key["ann"]
    assert (ann["score"], ann["late penalty"], ann["check: digits_accuracy"]) == ("8", "2", "0")
    assert ann["problem"] == "digits_accuracy: wrong value"
    evil = by_key["evil"]
    assert evil["status"] == "error" and evil["problem"] == "'=cmd|' /C calc'!A0"
    assert evil["name"].startswith("'=HYPERLINK")
    assert by_key["max"]["status"] == "no submission" and by_key["max"]["check: forward_scores"] == ""


def test_plain_csv_round_trips_through_excel_encoding(tmp_path: Path) -> None:
    path = write_plain_gradebook(rows(), ASSIGNMENT, tmp_path / "g.csv")
    text = path.read_bytes().decode("utf-8-sig")
    assert "José Müller-Øster" in text and "\u2028" not in text and "\ufeff" not in text


@pytest.mark.parametrize(
    ("evil", "cell"),
    [
        ("\ufeff=1+1", "'=1+1"),
        ("\u200b=cmd", "'=cmd"),
        ("\u2060\u200d@SUM(A1)", "'@SUM(A1)"),
        ("\u202e+1", "'+1"),
        ('＝HYPERLINK("http://x","y")', '\'＝HYPERLINK("http://x","y")'),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("\u00a0\u3000=1", "'\u00a0\u3000=1"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "' cmd"),
        ("Ann\u2028Lee\u2029Smith", "Ann Lee Smith"),
        ("one\r\ntwo\x85three\x0bfour", "one two three four"),
        ("\ud800broken", "\ufffdbroken"),
        ("mary-jane", "mary-jane"),
        ("a - b = c", "a - b = c"),
    ],
)
def test_spreadsheet_cell_defuses_formulas_behind_invisible_and_fullwidth_characters(evil: str, cell: str) -> None:
    assert spreadsheet_cell(evil) == cell


def test_persian_joiners_stay_inside_a_name() -> None:
    assert spreadsheet_cell("می\u200cخواهم") == "می\u200cخواهم"


@pytest.mark.parametrize("unit", ["a", "\U0001f600"])
def test_a_huge_cell_stays_below_excels_limit(unit: str) -> None:
    cell = spreadsheet_cell("=" + unit * 100_000)
    assert cell.startswith("'=") and len(cell.encode("utf-16-le")) // 2 < 32_767
    cell.encode("utf-8")  # no half of a surrogate pair was left behind


def test_moodle_feedback_zip_has_one_folder_per_participant_as_moodle_names_them(tmp_path: Path) -> None:
    reports = []
    for key in ("jose", "ann", "evil", "max"):
        page = tmp_path / f"{key}.html"
        page.write_text(f"<p>report of {key}</p>", encoding="utf-8")
        reports.append(page)
    students = [
        Student("jose", "José Müller-Øster", lms_id="101"),
        Student("ann", "Ann_Lee/../x", lms_id="102"),
        Student("evil", "no id here"),
        Student("max", "Max", lms_id="10a"),
    ]
    table = [GradebookRow(s, None, report=r) for s, r in zip(students, reports)]
    with zipfile.ZipFile(write_moodle_feedback_zip(table, tmp_path / "feedback.zip")) as archive:
        names = sorted(archive.namelist())
        assert archive.read(names[0]).decode() in {"<p>report of jose</p>", "<p>report of ann</p>"}
    assert names == sorted(
        [
            "José Müller-Øster_101_assignsubmission_file_/feedback.html",
            "Ann Lee .. x_102_assignsubmission_file_/feedback.html",
        ]
    )
    for name in names:
        # Moodle's importer: explode('_', folder, 5); the second part is the participant id
        folder = name.split("/")[0]
        parts = folder.split("_", 4)
        assert len(parts) == 5 and parts[1].isdigit() and (parts[2], parts[3]) == ("assignsubmission", "file")
        assert re.fullmatch(r"[^_/\\]+_\d+_assignsubmission_file_", folder)


def test_write_gradebooks_writes_each_format_asked_for(tmp_path: Path) -> None:
    report = tmp_path / "jose.html"
    report.write_text("<p>hi</p>", encoding="utf-8")
    table = [
        GradebookRow(r.student, r.result, r.late, r.marks, r.submitted_at, report if r.student.key == "jose" else None)
        for r in rows()
    ]
    written = write_gradebooks(table, ASSIGNMENT, tmp_path / "out", ["plain", "moodle", "canvas", "gradescope"])
    assert {p.name for p in written.values()} == {
        "gradebook.csv",
        "moodle-grading-worksheet.csv",
        "moodle-feedback-files.zip",
        "canvas-gradebook.csv",
        "gradescope",
    }
    assert sorted(p.name for p in written["gradescope"].iterdir()) == ["ann.json", "evil.json", "jose.json"]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left beside them
    with pytest.raises(ValueError, match="unknown gradebook format 'blackboard'"):
        write_gradebooks(table, ASSIGNMENT, tmp_path / "out", ["blackboard"])


def test_unmatched_lists_students_an_lms_cannot_place() -> None:
    table = [*rows(), GradebookRow(Student("x", "X", lms_id="abc"))]
    assert [r.student.key for r in unmatched(table, "moodle")] == ["x"]
    assert unmatched([GradebookRow(Student("nobody"))], "canvas") == [GradebookRow(Student("nobody"))]


def test_rows_from_pairs_carry_what_the_instructor_added(tmp_path: Path) -> None:
    from grader.outputs.gradebook_rows import gradebook_rows

    jose, max_ = Student("jose", "José"), Student("max", "Max")
    built = gradebook_rows(
        [(jose, result("jose", (10, 5))), (max_, None)],
        late={"jose": LatePenalty(3)},
        marks={"jose": [ManualMark("proof", 5)]},
        reports={"jose": tmp_path / "jose.html"},
    )
    assert [r.total for r in built] == [17, 0]
    assert [r.status for r in built] == ["graded", "no submission"]
    assert built[0].report == tmp_path / "jose.html" and built[1].late is None
