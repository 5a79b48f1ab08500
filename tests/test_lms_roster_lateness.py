"""Class lists from each LMS, late policies, and the choice of the graded file."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.intake.entry import choose_entry
from grader.intake.lateness import LatePolicy, late_penalty
from grader.intake.lms import read_export
from grader.intake.roster import NO_SUBMISSION, RosterError, apply_times, match_roster, read_roster, read_time_list

PY = "x = 1\n"
CET = timezone(timedelta(hours=1))


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# -- rosters ----------------------------------------------------------------------------


def test_moodle_worksheet_roster_adds_missing_students_and_times(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "m.zip",
        {
            "Alan Turing_100_assignsubmission_file_/neural_net.py": PY,
            "José Müller-Øster_103_assignsubmission_file_/neural_net.py": PY,
            "Walk In_999_assignsubmission_file_/neural_net.py": PY,
        },
    )
    roster_file = tmp_path / "worksheet.csv"
    roster_file.write_text(
        "\ufeffIdentifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
        "Last modified (submission),Last modified (grade),Feedback comments\n"
        'Participant 100,Alan Turing,alan@example.edu,Submitted for grading,,20.00,Yes,"Friday, 4 December 2026, 11:30 PM",-,\n'
        "Participant 103,José Müller-Øster,jose@example.edu,Submitted for grading,,20.00,Yes,-,-,\n"
        "Participant 104,Иван Петров,ivan@example.edu,No submission,,20.00,Yes,-,-,\n",
        encoding="utf-8",
    )
    roster = read_roster(roster_file, naive_tz=CET)
    assert roster.format == "moodle" and len(roster.entries) == 3
    intake = read_export(export, tmp_path / "w", entry="neural_net.py")
    rows = match_roster(intake.hand_ins, roster)
    assert len(rows) == 4
    by_name = {r.student.name: r for r in rows}
    alan = by_name["Alan Turing"]
    assert alan.student.email == "alan@example.edu" and alan.time_source == "submission-list"
    assert alan.submitted_at == datetime(2026, 12, 4, 23, 30, tzinfo=CET)
    ivan = by_name["Иван Петров"]
    assert ivan.error == NO_SUBMISSION and ivan.folder is None and ivan.student.key
    assert any("not on the moodle roster" in n for n in by_name["Walk In"].notes)
    assert len({r.student.key for r in rows}) == 4


def test_canvas_gradebook_roster_skips_points_possible(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "c.zip",
        {
            "turingalan_LATE_20002_555_neural_net.py": PY,
            "hoppergrace_20003_556_neural_net.py": PY,
        },
    )
    roster_file = tmp_path / "gradebook.csv"
    roster_file.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Exercise 9 (4411)\n"
        "    Points Possible,,,,,20.00\n"
        '"Turing, Alan",20002,s1001,aturing,NN 2026,\n'
        '"Hopper, Grace",20003,s1002,ghopper,NN 2026,\n'
        '"Lovelace, Ada",20004,s1003,alovelace,NN 2026,\n'
        '"Student, Test",20099,,,NN 2026,\n',
        encoding="utf-8",
    )
    roster = read_roster(roster_file)
    assert roster.format == "canvas" and [e.name for e in roster.entries] == [
        "Alan Turing",
        "Grace Hopper",
        "Ada Lovelace",
    ]
    rows = match_roster(read_export(export, tmp_path / "w").hand_ins, roster)
    assert sorted((r.student.name, r.student.sid, r.error or "") for r in rows) == [
        ("Ada Lovelace", "s1003", NO_SUBMISSION),
        ("Alan Turing", "s1001", ""),
        ("Grace Hopper", "s1002", ""),
    ]
    assert [r.student.name for r in rows if r.late_mark] == ["Alan Turing"]


def test_gradescope_roster_matches_by_sid_and_email(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "g.zip",
        {
            "submission_metadata.yml": "submission_1:\n  :submitters:\n  - :name: A. Turing\n    :sid: '1001'\n",
            "submission_1/neural_net.py": PY,
        },
    )
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(
        "First Name,Last Name,SID,Email,Role,Sections\n"
        "Alan,Turing,1001,alan@example.edu,Student,\n"
        "Grace,Hopper,1002,grace@example.edu,Student,\n"
        "Tom,Assistant,,ta@example.edu,TA,\n",
        encoding="utf-8",
    )
    roster = read_roster(roster_file)
    assert roster.format == "gradescope" and len(roster.entries) == 2
    rows = match_roster(read_export(export, tmp_path / "w").hand_ins, roster)
    assert [(r.student.name, r.student.email, r.error) for r in rows] == [
        ("Alan Turing", "alan@example.edu", None),
        ("Grace Hopper", "grace@example.edu", NO_SUBMISSION),
    ]


def test_unknown_roster_names_the_file(tmp_path: Path) -> None:
    roster_file = tmp_path / "list.csv"
    roster_file.write_text("who,what\na,b\n", encoding="utf-8")
    with pytest.raises(RosterError, match="list.csv: not a class list"):
        read_roster(roster_file)


# -- late policies ------------------------------------------------------------------------

DEADLINE = datetime(2026, 12, 4, 23, 59, tzinfo=CET)


def test_penalty_per_day_with_grace_and_cap() -> None:
    policy = LatePolicy(DEADLINE, grace=timedelta(minutes=15), per="day", penalty=0.1, cap=0.3)
    on_time = late_penalty(policy, DEADLINE + timedelta(minutes=10), False, "export", 20)
    assert not on_time.late and on_time.points == 0
    day_and_a_bit = late_penalty(policy, DEADLINE + timedelta(hours=25), False, "export", 20)
    assert (day_and_a_bit.units, day_and_a_bit.points, day_and_a_bit.fraction) == (2, 4.0, 0.2)
    week = late_penalty(policy, DEADLINE + timedelta(days=7), False, "export", 20)
    assert week.points == pytest.approx(6.0) and week.units == 7


def test_penalty_per_hour_in_points_and_refusal() -> None:
    hourly = LatePolicy(DEADLINE, per="hour", penalty=0.5, in_points=True)
    late = late_penalty(hourly, DEADLINE + timedelta(minutes=150), False, "export", 20)
    assert (late.units, late.points) == (3, 1.5)
    closed = LatePolicy(DEADLINE, accept_late=False)
    refused = late_penalty(closed, DEADLINE + timedelta(minutes=1), False, "export", 20)
    assert refused.refused and refused.points == 20 and "not accepted" in refused.note


def test_late_mark_without_time_and_approximate_times() -> None:
    policy = LatePolicy(DEADLINE, penalty=0.1)
    marked = late_penalty(policy, None, True, "late-mark", 20)
    assert marked.late and marked.units == 1 and "time unknown" in marked.note
    unknown = late_penalty(policy, None, False, "", 20)
    assert not unknown.late
    approx = late_penalty(policy, DEADLINE + timedelta(hours=3), False, "archive-entry (approximate)", 20)
    assert approx.approximate and "approximate" in approx.note and approx.points == 2


def test_gradescope_time_feeds_the_policy(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "g.zip",
        {
            "submission_metadata.yml": "submission_5:\n  :submitters:\n  - :name: Late Larry\n"
            "  :created_at: 2026-12-06 10:00:00.000000000 +0100\n",
            "submission_5/neural_net.py": PY,
        },
    )
    (hand_in,) = read_export(export, tmp_path / "w").hand_ins
    result = late_penalty(LatePolicy(DEADLINE), hand_in.submitted_at, hand_in.late_mark, hand_in.time_source, 20)
    assert result.units == 2 and not result.approximate


def test_policy_from_course_file_mapping() -> None:
    policy = LatePolicy.from_mapping(
        {"deadline": "2026-12-04T23:59+01:00", "grace_minutes": 15, "per": "hour", "penalty": 0.02, "cap": 0.5}
    )
    assert policy.deadline == DEADLINE and policy.grace == timedelta(minutes=15) and policy.per == "hour"
    with pytest.raises(GraderError, match="time zone"):
        LatePolicy.from_mapping({"deadline": "2026-12-04T23:59"})
    with pytest.raises(GraderError, match="unreadable deadline"):
        LatePolicy.from_mapping({"deadline": "next friday"})


# -- the graded file ----------------------------------------------------------------------


def test_entry_choice() -> None:
    assert choose_entry(["notes/x.py", "neural_net.py"], "neural_net.py").path == "neural_net.py"
    renamed = choose_entry(["neural_net (1).py"], "neural_net.py")
    assert renamed.path == "neural_net (1).py" and renamed.note and "neural_net (1).py" in renamed.note
    assert choose_entry(["helpers.py", "neural_net-1.py"], "neural_net.py").path == "neural_net-1.py"
    assert choose_entry(["Tutorial1_solution.ipynb"], "fcc_sigmoid.ipynb").path == "Tutorial1_solution.ipynb"
    several = choose_entry(["a.py", "b.py"], "neural_net.py")
    assert several.path is None and several.error and "a.py, b.py" in several.error
    too_big = choose_entry(
        ["helpers.py"], "neural_net.py", {"neural_net.py": "neural_net.py is 1.3 MiB, over the 1.0 MiB limit"}
    )
    assert too_big.error == "neural_net.py is 1.3 MiB, over the 1.0 MiB limit"
    assert (
        choose_entry([], "neural_net.py").error
        == "no neural_net.py found (handed in: no files): resubmit with neural_net.py"
    )


def test_submission_time_list_replaces_weak_times(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "c.zip",
        {
            "turingalan_LATE_20002_555_neural_net.py": PY,
            "hoppergrace_20003_556_neural_net.py": PY,
        },
    )
    times_file = tmp_path / "times.csv"
    times_file.write_text(
        "ID,Name,Submitted at\n20002,Alan Turing,2026-12-05T10:00:00+01:00\n20003,Grace Hopper,2026-12-04 20:00\n",
        encoding="utf-8",
    )
    times = read_time_list(times_file, naive_tz=CET)
    rows = {h.student.lms_id: h for h in apply_times(read_export(export, tmp_path / "w").hand_ins, times)}
    assert rows["20002"].submitted_at == datetime(2026, 12, 5, 10, 0, tzinfo=CET) and rows["20002"].late_mark
    assert rows["20003"].submitted_at == datetime(2026, 12, 4, 20, 0, tzinfo=CET)
    assert {h.time_source for h in rows.values()} == {"submission-list"}
    assert late_penalty(LatePolicy(DEADLINE), rows["20002"].submitted_at, True, "submission-list", 20).units == 1
