"""Who handed a submission in, as the LMS export names them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Student"]


@dataclass(frozen=True, slots=True)
class Student:
    """One student (or group) as the export names them; every field is untrusted text.

    `key` is unique within a batch and safe as a file name: reports, rows and resume use it.
    `lms_id` is the LMS's own participant/user id (Moodle participant id, Canvas user id,
    Gradescope submission id); `sid` a student number (Gradescope SID, Canvas SIS id).
    `members` lists the other members of a group submission, by name.
    """

    key: str
    name: str = ""
    lms_id: str = ""
    sid: str = ""
    email: str = ""
    members: tuple[str, ...] = ()
