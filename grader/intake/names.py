"""A student's id from the name an LMS export gives their folder, file or zip."""

from __future__ import annotations

import re

__all__ = ["student_id"]

# Canvas: <name>_<user id>_<submission id>_<original name>, optionally "late_" first
_CANVAS = re.compile(r"^(?:late_)?(?P<student>[^_]+(?:_[A-Za-z]+)*?_\d+)_\d+_(?P<file>.+)$")


def student_id(name: str) -> str:
    """`Smith_123_assignsubmission_file_` -> `Smith_123`; Canvas and plain names likewise."""
    match = _CANVAS.match(name)
    if match:
        name = match.group("student")
    for suffix in ("_assignsubmission_file_", "_assignsubmission_onlinetext_"):
        name = name.split(suffix)[0]
    for suffix in (".py", ".ipynb", ".zip"):
        name = name.removesuffix(suffix)
    return name.strip() or "unnamed"
