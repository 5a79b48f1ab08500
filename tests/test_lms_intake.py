"""Intake of real LMS export archives: every layout, every awkward case, every student once."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.intake.lms import BatchError, HandIn, Intake, as_submission, assign_keys, read_export
from grader.intake.unpack import StudentBudget

PY = "class TwoLayerNet:\n    pass\n"
# 1.3 MiB of code that compresses like code (not like a zip bomb)
BIG_SOURCE = "".join(f"w{i} = {i * 7919 % 104729}\n" for i in range(200_000))[: int(1.3 * (1 << 20))]
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def zip_bytes(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buffer.getvalue()


def by_id(intake: Intake) -> dict[str, HandIn]:
    return {h.student.lms_id: h for h in intake.hand_ins}


def assert_one_record_each(intake: Intake, expected: int) -> None:
    keys = [h.student.key for h in intake.hand_ins]
    folders = [h.folder for h in intake.hand_ins if h.folder is not None]
    assert len(intake.hand_ins) == expected
    assert len({k.casefold() for k in keys}) == expected, keys
    assert len(set(folders)) == len(folders)
    for key in keys:
        assert key and "/" not in key and not key.startswith(".")


def rel(hand_in: HandIn, path: Path | None) -> str:
    assert path is not None and hand_in.folder is not None
    return path.relative_to(hand_in.folder).as_posix()


# -- Moodle -----------------------------------------------------------------------------


def test_moodle_export_one_row_per_participant(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "moodle.zip",
        {
            # .py + notebook + online text from one student: one hand-in
            "Alan Turing_100_assignsubmission_file_/neural_net.py": PY,
            "Alan Turing_100_assignsubmission_file_/analysis.ipynb": NOTEBOOK,
            "Alan Turing_100_assignsubmission_onlinetext_/onlinetext.html": "<p>see my code</p>",
            "Grace Hopper_101_assignsubmission_file_/work.zip": zip_bytes({"solution/neural_net.py": PY}),
            "Ada Lovelace_102_assignsubmission_file_/code.tar.gz": tar_bytes({"hw/neural_net.py": PY.encode()}),
            "José Müller-Øster_103_assignsubmission_file_/neural_net.py": BIG_SOURCE,
            # "download submissions in folders" off: a flat file with the prefix
            "Иван Петров_104_assignsubmission_file_neural_net.py": PY,
            "王小明_105_assignsubmission_file_/Tutorial1_solution.ipynb": NOTEBOOK,
        },
    )
    intake = read_export(export, tmp_path / "work", entry="neural_net.py")
    assert intake.layout == "moodle"
    assert_one_record_each(intake, 6)
    found = by_id(intake)
    turing = found["100"]
    assert turing.student.name == "Alan Turing" and turing.error is None
    assert {rel(turing, f) for f in turing.files} == {"neural_net.py", "analysis.ipynb"}
    assert any("online text" in n for n in turing.notes)
    assert rel(found["101"], found["101"].entry) == "work/solution/neural_net.py"
    assert rel(found["102"], found["102"].entry) == "code/hw/neural_net.py"
    assert found["103"].student.name == "José Müller-Øster"
    assert found["103"].error == "neural_net.py is 1.3 MiB, over the 1.0 MiB limit for a source file"

    assert found["104"].student.name == "Иван Петров" and rel(found["104"], found["104"].entry) == "neural_net.py"
    chinese = found["105"]
    assert chinese.error is None and rel(chinese, chinese.entry) == "Tutorial1_solution.ipynb"
    assert any("Tutorial1_solution.ipynb" in n for n in chinese.notes)
    assert "王小明" in chinese.student.key and "Иван" in found["104"].student.key
    # no time in a Moodle export: the archive entries' times, said as approximate
    assert turing.time_source == "archive-entry (approximate)" and turing.submitted_at is not None
    assert turing.submitted_at.tzinfo is not None


def test_refused_batch_member_still_gives_its_owner_a_row(tmp_path: Path) -> None:
    export = make_zip(tmp_path / "m.zip", {"Bo Li_7_assignsubmission_file_/neural_net.py": "#" * (2 << 20)})
    (hand_in,) = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert hand_in.student.lms_id == "7" and hand_in.error is not None and "zip bomb" in hand_in.error


def test_oversize_notebook_names_its_limit(tmp_path: Path) -> None:
    budget = StudentBudget(max_notebook_bytes=1 << 10)
    export = make_zip(tmp_path / "m.zip", {"Bo Li_7_assignsubmission_file_/lab.ipynb": NOTEBOOK + " " * 4096})
    (hand_in,) = read_export(export, tmp_path / "w", entry="lab.ipynb", budget=budget).hand_ins
    assert hand_in.error == "lab.ipynb is 4 KiB, over the 1 KiB limit for a notebook"


# -- Canvas -----------------------------------------------------------------------------


def test_canvas_late_mark_and_resubmission_names(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "canvas.zip",
        {
            "turingalan_LATE_20002_555_neural_net-1.py": PY,
            "hoppergrace_20003_556_neural_net.py": PY,
            "hoppergrace_20003_556_notes.txt": "notes",
            "lovelaceada_20004_557_neural_net (1).py": PY,
        },
    )
    intake = read_export(export, tmp_path / "w", entry="neural_net.py")
    assert intake.layout == "canvas"
    assert_one_record_each(intake, 3)
    found = by_id(intake)
    turing = found["20002"]
    assert turing.late_mark and turing.time_source == "late-mark"
    assert turing.student.name == "turingalan" and "LATE" not in turing.student.key
    assert rel(turing, turing.entry) == "neural_net.py"
    assert not found["20003"].late_mark and len(found["20003"].files) == 2
    lovelace = found["20004"]
    assert rel(lovelace, lovelace.entry) == "neural_net (1).py" and any(
        "neural_net (1).py" in n for n in lovelace.notes
    )


# -- Gradescope -------------------------------------------------------------------------

METADATA = """\
submission_31000001:
  :submitters:
  - :name: Alan Turing
    :sid: '1001'
    :email: alan@example.edu
  :created_at: 2026-12-03 23:10:00.123456789 -0800
  :score: 10.0
  :status: processed
submission_31000002:
  :submitters:
  - :name: Grace Hopper
    :sid: '1002'
    :email: grace@example.edu
  - :name: José Müller-Øster
    :sid: '1003'
    :email: jose@example.edu
  :created_at: 2026-12-05 09:00:00.000000000 +01:00
submission_31000004:
  :submitters:
  - :name: Ghost Student
  :created_at: 2026-12-01 10:00:00.000000000 +0000
"""


def test_gradescope_metadata_names_groups_and_times(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "gs.zip",
        {
            "assignment_77_export/submission_metadata.yml": METADATA,
            "assignment_77_export/submission_31000001/neural_net.py": PY,
            "assignment_77_export/submission_31000002/neural_net.py": PY,
            "assignment_77_export/submission_31000003/neural_net.py": PY,
        },
    )
    intake = read_export(export, tmp_path / "w", entry="neural_net.py")
    assert intake.layout == "gradescope"
    assert_one_record_each(intake, 4)
    found = by_id(intake)
    alan = found["31000001"]
    assert (alan.student.name, alan.student.sid, alan.student.email) == ("Alan Turing", "1001", "alan@example.edu")
    assert alan.time_source == "export"
    assert alan.submitted_at == datetime(2026, 12, 4, 7, 10, 0, 123456, tzinfo=timezone.utc)
    group = found["31000002"]
    assert group.student.name == "Grace Hopper" and group.student.members == ("José Müller-Øster",)
    assert group.submitted_at == datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc)
    assert any("group submission by 2" in n for n in group.notes)
    assert "missing" in (found["31000004"].error or "")
    unlisted = next(h for h in intake.hand_ins if h.student.name == "submission_31000003")
    assert unlisted.error is None and any("not named" in n for n in unlisted.notes)


# -- plain folders, keys, unicode -------------------------------------------------------


def test_colliding_cleaned_names_get_their_own_folders(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "batch.zip",
        {
            "alice+smith.zip": zip_bytes({"neural_net.py": "# alice plus\n"}),
            "alice_smith.zip": zip_bytes({"neural_net.py": "# alice underscore\n"}),
            "alice_smith-1a2b3c4d/neural_net.py": "# looks generated\n",
            "Алиса.zip": zip_bytes({"neural_net.py": "# cyrillic\n"}),
            "爱丽丝.zip": zip_bytes({"neural_net.py": "# chinese\n"}),
            "README.txt": "not a hand-in",
        },
    )
    intake = read_export(export, tmp_path / "w", entry="neural_net.py")
    assert intake.layout == "folders"
    assert_one_record_each(intake, 5)
    contents = {h.student.name: h.entry.read_text() for h in intake.hand_ins if h.entry}
    assert contents == {
        "alice+smith": "# alice plus\n",
        "alice_smith": "# alice underscore\n",
        "alice_smith-1a2b3c4d": "# looks generated\n",
        "Алиса": "# cyrillic\n",
        "爱丽丝": "# chinese\n",
    }
    keys = {h.student.name: h.student.key for h in intake.hand_ins}
    assert keys["Алиса"] == "Алиса" and keys["爱丽丝"] == "爱丽丝"
    assert keys["alice_smith-1a2b3c4d"] != "alice_smith-1a2b3c4d"
    assert any("README.txt" in n for n in intake.notes)


def test_keys_are_unique_for_any_labels() -> None:
    labels = ["a b", "a_b", "a/b", "", "", "..", "CON", "x-0123abcd", "x", "x", "\ud800"]
    keys = assign_keys(labels)
    assert len({k.casefold() for k in keys}) == len(labels)
    assert all(k and "/" not in k and not k.startswith(".") for k in keys)
    assert all(len(k.encode()) < 120 for k in assign_keys(["ж" * 500]))


def test_tar_gz_batch_is_a_batch(tmp_path: Path) -> None:
    batch = tmp_path / "batch.tar.gz"
    batch.write_bytes(tar_bytes({"course/alice/neural_net.py": PY.encode(), "course/bob/neural_net.py": PY.encode()}))
    intake = read_export(batch, tmp_path / "w", entry="neural_net.py")
    assert sorted(h.student.name for h in intake.hand_ins) == ["alice", "bob"]
    assert all(h.error is None for h in intake.hand_ins)


def test_unreadable_batch_is_the_only_top_level_error(tmp_path: Path) -> None:
    bogus = tmp_path / "grades.pdf"
    bogus.write_bytes(b"%PDF-1.4")
    with pytest.raises(BatchError, match="grades.pdf: not a folder, .zip"):
        read_export(bogus, tmp_path / "w")
    with pytest.raises(BatchError, match="unknown layout"):
        read_export(tmp_path, tmp_path / "w", layout="blackboard")


def test_layout_override(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    (batch / "Bo Li_9_assignsubmission_file_").mkdir(parents=True)
    (batch / "Bo Li_9_assignsubmission_file_" / "neural_net.py").write_text(PY)
    assert read_export(batch, tmp_path / "w1").layout == "moodle"
    forced = read_export(batch, tmp_path / "w2", layout="folders")
    assert forced.layout == "folders" and forced.hand_ins[0].student.lms_id == ""


# -- hostile archives under one budget ---------------------------------------------------


def test_nested_zip_bomb_is_stopped_by_one_budget_across_levels(tmp_path: Path) -> None:
    budget = StudentBudget(max_bytes=1 << 20)
    inner = zip_bytes({"zeros.bin": b"\0" * (600 << 10)})
    middle = zip_bytes({"a.zip": inner, "b.zip": inner})
    outer = zip_bytes({"a.zip": middle, "b.zip": middle})
    export = make_zip(tmp_path / "b.zip", {"mallory.zip": outer, "honest/neural_net.py": PY})
    intake = read_export(export, tmp_path / "w", entry="neural_net.py", budget=budget)
    assert_one_record_each(intake, 2)
    mallory = next(h for h in intake.hand_ins if h.student.name == "mallory")
    assert mallory.error is not None and "over the per-student limit: more than 1.0 MiB unpacked" in mallory.error
    assert mallory.folder is not None
    assert sum(f.stat().st_size for f in mallory.folder.rglob("*") if f.is_file()) <= 1 << 20
    assert next(h for h in intake.hand_ins if h.student.name == "honest").error is None


def test_archives_nested_too_deep_are_not_unpacked(tmp_path: Path) -> None:
    level4 = zip_bytes({"neural_net.py": PY})
    level3 = zip_bytes({"l4.zip": level4})
    level2 = zip_bytes({"l3.zip": level3})
    export = make_zip(tmp_path / "b.zip", {"eve.zip": zip_bytes({"l2.zip": level2})})
    (eve,) = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert any("nested more than 3 deep" in n for n in eve.notes)
    assert eve.error is not None and eve.entry is None


def test_900_deep_folders_are_cut_at_the_path_depth(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 900)
    files = {f"{deep}/f{i}.txt": "" for i in range(12)}
    export = make_zip(tmp_path / "b.zip", {"deep.zip": zip_bytes({**files, "neural_net.py": PY})})
    (hand_in,) = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert hand_in.folder is not None and hand_in.error is None
    folders = [p for p in hand_in.folder.rglob("*") if p.is_dir()]
    assert len(folders) <= StudentBudget().max_path_depth
    assert any("deep" in n for n in hand_in.notes)


def test_too_many_folders_across_archives(tmp_path: Path) -> None:
    budget = StudentBudget(max_folders=50)
    wide = zip_bytes({f"d{i}/f.txt": "" for i in range(40)})
    export = make_zip(tmp_path / "b.zip", {"wide.zip": zip_bytes({"a.zip": wide, "b.zip": wide})})
    (hand_in,) = read_export(export, tmp_path / "w", budget=budget).hand_ins
    assert hand_in.error is not None and "more than 50 folders" in hand_in.error


def test_tar_links_and_escapes_are_refused(tmp_path: Path) -> None:
    bad = tar_bytes(
        {"neural_net.py": PY.encode(), "../escape.py": b"x = 1\n", "/abs.py": b"x = 1\n"},
        links={"link.py": "/etc/passwd"},
    )
    export = make_zip(tmp_path / "b.zip", {"trudy.tar.gz": bad})
    (hand_in,) = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert hand_in.error is None and hand_in.folder is not None
    assert sorted(rel(hand_in, f) for f in hand_in.files) == ["trudy/neural_net.py"]
    joined = " ".join(hand_in.notes)
    assert "'..'" in joined and "absolute path" in joined and "link" in joined
    assert not (tmp_path / "w" / "escape.py").exists() and not (tmp_path / "escape.py").exists()


def test_folder_batch_needs_no_archive(tmp_path: Path) -> None:
    batch = tmp_path / "subs"
    for name in ("alice", "bob"):
        (batch / name).mkdir(parents=True)
        (batch / name / "neural_net.py").write_text(PY)
    (batch / "carol.ipynb").write_text(NOTEBOOK)
    intake = read_export(batch, tmp_path / "w", entry="neural_net.py")
    assert_one_record_each(intake, 3)
    carol = next(h for h in intake.hand_ins if h.student.name == "carol")
    assert carol.entry is not None and carol.entry.name == "carol.ipynb"
    old = datetime.now(timezone.utc) - timedelta(days=1)
    assert all(h.submitted_at is not None and h.submitted_at > old for h in intake.hand_ins)


def test_folders_made_by_one_member_path_all_count(tmp_path: Path) -> None:
    budget = StudentBudget(max_folders=20, max_path_depth=30)
    export = make_zip(tmp_path / "b.zip", {"x.zip": zip_bytes({"/".join(["d"] * 25) + "/f.txt": ""})})
    (hand_in,) = read_export(export, tmp_path / "w", budget=budget).hand_ins
    assert hand_in.error is not None and "more than 20 folders" in hand_in.error


def test_undecodable_folder_names_become_valid_text(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    # a latin-1 name as unzip leaves it on disk, with a newline and a line separator
    student = batch / (os.fsdecode(b"M\xe9lanie\nEvil") + "\u2028")
    student.mkdir(parents=True)
    (student / "neural_net.py").write_text(PY)
    (hand_in,) = read_export(batch, tmp_path / "w", entry="neural_net.py").hand_ins
    assert hand_in.student.name == "M\ufffdlanie Evil "
    hand_in.student.name.encode("utf-8")
    hand_in.student.key.encode("utf-8")
    assert "\n" not in hand_in.student.key and hand_in.error is None


def test_problem_notes_are_bounded(tmp_path: Path) -> None:
    members = {f"../escape{i}.py": "x" for i in range(300)}
    export = make_zip(tmp_path / "b.zip", {"zed.zip": zip_bytes({**members, "neural_net.py": PY})})
    (hand_in,) = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert len(hand_in.notes) <= 51 and "250 more problem(s)" in hand_in.notes[-1]


def test_default_budget_is_the_documented_one() -> None:
    budget = StudentBudget()
    assert (budget.max_bytes, budget.max_files, budget.max_folders) == (512 << 20, 20_000, 2_000)
    assert (budget.max_nesting, budget.max_path_depth) == (3, 32)
    assert (budget.max_py_bytes, budget.max_notebook_bytes) == (1 << 20, 32 << 20)


def test_reading_twice_into_one_workspace_keeps_runs_apart(tmp_path: Path) -> None:
    export = make_zip(tmp_path / "b.zip", {"alice/neural_net.py": PY, "bob/neural_net.py": PY})
    first = read_export(export, tmp_path / "w", entry="neural_net.py")
    second = read_export(export, tmp_path / "w", entry="neural_net.py")
    assert len(first.hand_ins) == len(second.hand_ins) == 2
    assert not {h.folder for h in first.hand_ins} & {h.folder for h in second.hand_ins}


def test_damaged_and_unwritable_members_cost_only_themselves(tmp_path: Path) -> None:
    inner = bytearray(zip_bytes({"neural_net.py": PY, "data.txt": "payload " * 100}))
    info = zipfile.ZipFile(io.BytesIO(bytes(inner))).getinfo("data.txt")
    data_at = info.header_offset + 30 + len(info.filename) + len(info.extra)
    inner[data_at : data_at + 4] = b"\xff\xff\xff\xff"  # damage data.txt's deflated bytes only
    long_name = "x" * 300 + ".py"
    export = make_zip(
        tmp_path / "b.zip", {"olga.zip": bytes(inner), "pete.zip": zip_bytes({long_name: PY, "neural_net.py": PY})}
    )
    intake = read_export(export, tmp_path / "w", entry="neural_net.py")
    assert_one_record_each(intake, 2)
    for hand_in in intake.hand_ins:
        assert hand_in.error is None and hand_in.entry is not None
    for hand_in in intake.hand_ins:
        assert any("cannot be unpacked" in n for n in hand_in.notes), hand_in.notes


def test_two_files_with_the_expected_name_are_noted(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "b.zip", {"quinn/a/neural_net.py": PY, "quinn/b/neural_net.py": PY, "rita/neural_net.py": PY}
    )
    hand_in, _ = read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins
    assert rel(hand_in, hand_in.entry) == "a/neural_net.py"
    assert any("several files named neural_net.py" in n for n in hand_in.notes)


def test_links_in_a_folder_batch_are_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'host secret'\n")
    batch = tmp_path / "b"
    for name in ("sly", "honest"):
        (batch / name).mkdir(parents=True)
    (batch / "sly" / "neural_net.py").symlink_to(secret)
    (batch / "honest" / "neural_net.py").write_text(PY)
    (batch / "linked_student").symlink_to(batch / "honest")
    intake = read_export(batch, tmp_path / "w", entry="neural_net.py")
    assert_one_record_each(intake, 2)
    sly = next(h for h in intake.hand_ins if h.student.name == "sly")
    assert sly.entry is None and sly.files == () and any("symbolic link" in n for n in sly.notes)


def test_keys_keep_marks_of_any_script() -> None:
    assert assign_keys(["प्रिया शर्मा"]) == ["प्रिया_शर्मा"]


def test_hand_ins_convert_to_todays_submissions(tmp_path: Path) -> None:
    export = make_zip(
        tmp_path / "m.zip",
        {
            "Alan Turing_100_assignsubmission_file_/neural_net.py": PY,
            "Alan Turing_100_assignsubmission_file_/data.csv": "1,2\n",
            "Bo Li_101_assignsubmission_onlinetext_/onlinetext.html": "<p>only text</p>",
        },
    )
    subs = [as_submission(h) for h in read_export(export, tmp_path / "w", entry="neural_net.py").hand_ins]
    assert [(s.id, s.entry, s.files, s.ignored, s.error) for s in subs] == [
        ("Alan_Turing_100", "neural_net.py", ("neural_net.py",), ("data.csv",), None),
        ("Bo_Li_101", None, (), (), "handed in no files"),
    ]
