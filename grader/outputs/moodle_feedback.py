"""Moodle's "Upload multiple feedback files in a zip": one folder per participant.

Moodle's importer (mod/assign/feedback/file/importziplib.php) splits each folder name on
`_` into at most five parts, `fullname_participantid_plugintype_pluginname_`, and takes
the second as the participant id. Its own download writes the name with every `_`
replaced by a space and characters a file name cannot hold removed (`clean_filename`),
then `_<participant id>_assignsubmission_file_`: the same is written here, so the folders
look like those the instructor downloaded and each file lands as that student's feedback.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from grader.outputs.cells import valid_text
from grader.outputs.gradebook_rows import GradebookRow, atomic_path

__all__ = ["FEEDBACK_FILE", "moodle_folder_name", "write_moodle_feedback_zip"]

FEEDBACK_FILE = "feedback.html"
_PLUGIN = "assignsubmission_file_"
# What Moodle's clean_filename removes, plus every control character and line break.
_NOT_IN_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_NAME_LIMIT = 100


def moodle_folder_name(name: str, participant_id: str) -> str:
    """`Full Name_<participant id>_assignsubmission_file_`, as Moodle's download names it.

    Raises ValueError when `participant_id` is not a number (Moodle could not match it).
    """
    if not (participant_id.isascii() and participant_id.isdigit()):
        raise ValueError(f"not a Moodle participant id: {participant_id!r}")
    cleaned = " ".join(_NOT_IN_NAME.sub(" ", valid_text(name).replace("_", " ")).split())
    cleaned = cleaned[:_NAME_LIMIT].strip(" .") or "Participant"
    return f"{cleaned}_{participant_id}_{_PLUGIN}"


def write_moodle_feedback_zip(rows: Sequence[GradebookRow], path: Path) -> Path:
    """Write a zip with each student's HTML report as `<folder>/feedback.html` and return `path`.

    Rows without a report file or without a numeric participant id are left out (Moodle
    could not place them), as is a second row with the same id. Raises OSError when
    `path` cannot be written.
    """
    seen: set[str] = set()
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            student = row.student
            if row.report is None or not row.report.is_file() or student.lms_id in seen:
                continue
            try:
                folder = moodle_folder_name(student.name or student.key, student.lms_id)
            except ValueError:
                continue
            seen.add(student.lms_id)
            archive.write(row.report, f"{folder}/{FEEDBACK_FILE}")
    return path
