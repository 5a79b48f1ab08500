"""Recognise how an LMS laid out its "download all submissions" export, and group it by student.

Layouts (the value `recognise` returns and `--layout` accepts):

- ``moodle``: folders ``Full Name_<participant id>_assignsubmission_file_/`` holding the files,
  ``..._assignsubmission_onlinetext_/onlinetext.html`` (noted and ignored), or, with
  "download submissions in folders" off, flat files ``Full Name_<id>_assignsubmission_file_<name>``.
- ``canvas``: flat files ``lastfirst[_LATE]_<user id>_<submission id>_<original name>``; Canvas
  renames a re-uploaded file ``name-1.py``. ``_LATE_`` is Canvas's late mark, not part of the id.
- ``gradescope``: ``submission_metadata.yml`` beside folders ``submission_<id>/``; each key names
  its submitters (``:name:``, ``:sid:``, ``:email:``) and ``:created_at:``; a group is one key.
- ``folders``: one folder, archive or notebook/.py per student, named after the student.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from grader.intake.discovery import IGNORED_NAMES
from grader.intake.unpack import archive_stem, is_archive

__all__ = ["LAYOUTS", "Group", "group_by_student", "parse_time", "recognise"]

LAYOUTS = ("moodle", "canvas", "gradescope", "folders")
SOURCE_SUFFIXES = (".py", ".ipynb")
GRADESCOPE_METADATA = "submission_metadata.yml"

# Moodle writes str_replace('_', ' ', fullname) . '_' . participant id . '_assignsubmission_<plugin>_'
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$", re.DOTALL)
_CANVAS = re.compile(r"^(?P<login>[^_]+)_(?:(?P<late>LATE|late)_)?(?P<uid>\d+)_(?P<subid>\d+)_(?P<file>.+)$", re.DOTALL)
# Canvas appends "-1", "-2" to a file a student uploads again under the same name
_RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d{1,2})(?P<suffix>\.[A-Za-z0-9]+)$")
_GRADESCOPE_FOLDER = re.compile(r"^submission_(?P<id>\d+)$")
_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass(slots=True)
class Group:
    """Everything one student (or group) handed in, as found in the export, before unpacking.

    `sources` pairs a path in the batch with the name it gets in the student's folder;
    `origins` are the export's folders whose contents are the sources.
    """

    label: str
    name: str = ""
    lms_id: str = ""
    sid: str = ""
    email: str = ""
    members: tuple[str, ...] = ()
    sources: list[tuple[Path, str]] = field(default_factory=list)
    origins: list[Path] = field(default_factory=list)
    submitted_at: datetime | None = None
    time_source: str = ""
    late_mark: bool = False
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def entries(root: Path) -> list[Path]:
    """The batch folder's entries that can be hand-ins (no hidden files, no `__MACOSX`)."""
    return sorted(c for c in root.iterdir() if c.name not in IGNORED_NAMES and not c.name.startswith("."))


def recognise(root: Path) -> str:
    """The layout of the export unpacked at `root` (one of `LAYOUTS`)."""
    if (root / GRADESCOPE_METADATA).is_file():
        return "gradescope"
    found = entries(root)
    moodle = sum(bool(_MOODLE.match(c.name)) for c in found)
    canvas = sum(bool(_CANVAS.match(c.name)) for c in found if c.is_file())
    if moodle and moodle * 2 >= len(found):
        return "moodle"
    if canvas and canvas * 2 >= len(found):
        return "canvas"
    return "folders"


def group_by_student(root: Path, layout: str, batch_notes: list[str]) -> list[Group]:
    """One `Group` per student in the export at `root`, read as `layout`."""
    readers = {"moodle": _moodle, "canvas": _canvas, "gradescope": _gradescope, "folders": _folders}
    return readers[layout](root, batch_notes)


def _plain(child: Path, layout: str | None) -> Group:
    """A folder, archive or source file named after its student (today's layout)."""
    label = archive_stem(child.name) if child.is_file() else child.name
    if child.is_file() and child.suffix in SOURCE_SUFFIXES:
        label = child.stem
    group = Group(label=label, name=label, sources=[(child, child.name)])
    if layout:
        group.notes.append(f"{child.name}: not named the way a {layout} export names hand-ins; read as one student's")
    if child.is_dir():
        # the contents are the student's files: do not nest them under their own folder name
        group.sources, group.origins = [(c, c.name) for c in entries(child)], [child]
    return group


def _is_hand_in(child: Path) -> bool:
    return child.is_dir() or is_archive(child.name) or child.suffix in SOURCE_SUFFIXES


def _folders(root: Path, batch_notes: list[str]) -> list[Group]:
    groups = []
    for child in entries(root):
        if _is_hand_in(child) and not child.is_symlink():
            groups.append(_plain(child, None))
        else:
            batch_notes.append(f"{child.name}: not a folder, archive or .py/.ipynb file (ignored)")
    return groups


def _moodle(root: Path, batch_notes: list[str]) -> list[Group]:
    by_id: dict[str, Group] = {}
    groups: list[Group] = []
    for child in entries(root):
        match = _MOODLE.match(child.name)
        if match is None:
            _unmatched(child, "moodle", groups, batch_notes)
            continue
        group = by_id.get(match["id"])
        if group is None:
            group = by_id[match["id"]] = Group(
                label=f"{match['name']}_{match['id']}", name=match["name"], lms_id=match["id"]
            )
            groups.append(group)
        plugin, rest = match["plugin"], match["rest"] or ""
        if plugin == "onlinetext":
            group.notes.append("Moodle online text noted and ignored (only files are graded)")
        elif plugin != "file":
            group.notes.append(f"{child.name}: Moodle '{plugin}' submission ignored (only files are graded)")
        elif child.is_dir():
            group.sources.extend((c, c.name) for c in entries(child))
            group.origins.append(child)
        else:
            group.sources.append((child, rest or child.name))
    return groups


def _unmatched(child: Path, layout: str, groups: list[Group], batch_notes: list[str]) -> None:
    if _is_hand_in(child) and not child.is_symlink():
        groups.append(_plain(child, layout))
    else:
        batch_notes.append(f"{child.name}: not a {layout} hand-in (ignored)")


def _canvas(root: Path, batch_notes: list[str]) -> list[Group]:
    by_id: dict[str, Group] = {}
    groups: list[Group] = []
    for child in entries(root):
        match = _CANVAS.match(child.name)
        if match is None or not child.is_file():
            _unmatched(child, "canvas", groups, batch_notes)
            continue
        group = by_id.get(match["uid"])
        if group is None:
            group = by_id[match["uid"]] = Group(
                label=f"{match['login']}_{match['uid']}", name=match["login"], lms_id=match["uid"]
            )
            groups.append(group)
        group.late_mark = group.late_mark or bool(match["late"])
        group.sources.append((child, match["file"]))
    for group in groups:
        if group.late_mark and not group.time_source:
            group.time_source = "late-mark"
        _undo_resubmission_names(group)
    return groups


def _undo_resubmission_names(group: Group) -> None:
    """`neural_net-1.py` -> `neural_net.py` when the student has no other file by that name."""
    names = {name for _, name in group.sources}
    renamed = []
    for path, name in group.sources:
        match = _RESUBMITTED.match(name)
        original = f"{match['stem']}{match['suffix']}" if match else name
        if match and original not in names:
            group.notes.append(f"{name}: Canvas's name for a re-uploaded {original}; graded as {original}")
            names.add(original)
            name = original
        renamed.append((path, name))
    group.sources = renamed


def _gradescope(root: Path, batch_notes: list[str]) -> list[Group]:
    metadata = _read_metadata(root / GRADESCOPE_METADATA, batch_notes)
    groups: list[Group] = []
    listed: set[str] = set()
    for key, record in metadata.items():
        listed.add(key)
        group = _gradescope_group(key, record)
        folder = root / key
        if folder.is_dir() and not folder.is_symlink():
            group.sources, group.origins = [(c, c.name) for c in entries(folder)], [folder]
        else:
            group.error = f"{key} is listed in {GRADESCOPE_METADATA} but its folder is missing from the export"
        groups.append(group)
    for child in entries(root):
        if child.name == GRADESCOPE_METADATA or child.name in listed:
            continue
        _unmatched(child, "gradescope", groups, batch_notes)
    return groups


def _read_metadata(path: Path, batch_notes: list[str]) -> dict[str, dict[str, Any]]:
    try:
        # safe_load: the metadata is data, never objects; Ruby's `:name:` keys load as ":name"
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        batch_notes.append(f"{GRADESCOPE_METADATA}: not readable YAML ({str(exc)[:200]}); names come from folders")
        return {}
    if not isinstance(data, dict):
        batch_notes.append(f"{GRADESCOPE_METADATA}: not a mapping of submissions; names come from folders")
        return {}
    return {str(k): v if isinstance(v, dict) else {} for k, v in data.items() if _GRADESCOPE_FOLDER.match(str(k))}


def _field(record: dict[str, Any], name: str) -> Any:
    """A Gradescope field under its Ruby symbol key (":name") or a plain one ("name")."""
    return record.get(f":{name}", record.get(name))


def _gradescope_group(key: str, record: dict[str, Any]) -> Group:
    submitters = [s for s in _field(record, "submitters") or [] if isinstance(s, dict)]
    names = [str(_field(s, "name") or "").strip() for s in submitters]
    first = submitters[0] if submitters else {}
    match = _GRADESCOPE_FOLDER.match(key)
    group = Group(
        label=" & ".join(n for n in names if n) or key,
        name=names[0] if names else "",
        lms_id=match["id"] if match else key,
        sid=str(_field(first, "sid") or ""),
        email=str(_field(first, "email") or ""),
        members=tuple(n for n in names[1:] if n),
    )
    created = parse_time(_field(record, "created_at"))
    if created is not None:
        group.submitted_at, group.time_source = created, "export"
    if len(submitters) > 1:
        group.notes.append(
            f"group submission by {len(submitters)} students: " + ", ".join(n or "(unnamed)" for n in names)
        )
    return group


def parse_time(value: object) -> datetime | None:
    """A time as exports write it (`2023-01-31 23:59:01.123456789 -0800`, ISO 8601, or a
    datetime YAML made); None when absent or unreadable. Naive results stay naive."""
    if isinstance(value, datetime):
        return value
    match = _TIME.match(str(value).strip()) if value is not None else None
    if match is None:
        return None
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    when = datetime.fromisoformat(f"{match['date']} {match['time']}").replace(microsecond=int(frac))
    zone = match["tz"]
    if zone == "Z":
        return when.replace(tzinfo=timezone.utc)
    if zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return when.replace(tzinfo=timezone(sign * offset))
    return when
