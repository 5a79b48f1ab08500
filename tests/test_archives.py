"""Archive attacks, where submissions are unpacked (grader.intake.discovery).

Each case is a class zip holding an honest student and one hostile student `mallory`
(as a folder of the class zip, or as mallory's own zip inside it). Through `discover`:
mallory gets a row with a clear error, the honest student is untouched, nothing is
written outside the workspace and no link is created. Then one full `grade` run of a
batch holding all of them: one row each, the honest students graded in full.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import tarfile
import uuid
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from redteam import support

from grader.course.batch import GradeOptions, grade
from grader.intake.discovery import ArchiveLimits, discover
from grader.sandbox.limits import Limits

MARKER = f"archive-{uuid.uuid4().hex[:10]}"
GOOD = support.working_source().encode()

Member = tuple[str | zipfile.ZipInfo, bytes]


def zip_bytes(members: Sequence[Member]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate names are on purpose
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def special(name: str, data: bytes, mode: int) -> Member:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = mode << 16
    return info, data


def _patch_headers(raw: bytes, name: bytes, edit: Callable[[bytearray, int, int], None]) -> bytes:
    """Apply `edit(raw, offset, kind)` to the local (kind 0) and central (kind 1) header
    of the member called `name`."""
    out = bytearray(raw)
    for kind, (signature, name_at) in enumerate(((b"PK\x03\x04", 30), (b"PK\x01\x02", 46))):
        at = 0
        while (at := out.find(signature, at)) >= 0:
            if out[at + name_at : at + name_at + len(name)] == name:
                edit(out, at, kind)
            at += 4
    return bytes(out)


def with_flag(raw: bytes, name: bytes, flag: int) -> bytes:
    def edit(out: bytearray, at: int, kind: int) -> None:
        offset = at + (6 if kind == 0 else 8)
        struct.pack_into("<H", out, offset, struct.unpack_from("<H", out, offset)[0] | flag)

    return _patch_headers(raw, name, edit)


def with_declared_size(raw: bytes, name: bytes, size: int) -> bytes:
    def edit(out: bytearray, at: int, kind: int) -> None:
        struct.pack_into("<I", out, at + (22 if kind == 0 else 24), size)

    return _patch_headers(raw, name, edit)


def nested(depth: int) -> bytes:
    data = zip_bytes([("neural_net.py", GOOD)])
    for level in range(1, depth):
        data = zip_bytes([(f"level{level}.zip", data)])
    return data


def bad_utf8_names() -> bytes:
    raw = zip_bytes([("mall\xf6ry/neural_net.py", GOOD)])  # written with the UTF-8 flag
    return raw.replace("mall\xf6ry".encode(), b"mall\xff\xfery")  # same length, invalid UTF-8


@dataclass(frozen=True)
class ArchiveCase:
    """One hostile student, `mallory` (renamed to the case's name in the full run)."""

    name: str
    members: list[Member]  # mallory's members of the class zip
    words: tuple[str, ...]  # in mallory's error
    patch: Callable[[bytes, str], bytes] | None = None  # (class zip, student) -> class zip
    limits: ArchiveLimits = ArchiveLimits()

    def members_for(self, student: str) -> list[Member]:
        renamed: list[Member] = []
        for name, data in self.members:
            if isinstance(name, zipfile.ZipInfo):
                info = zipfile.ZipInfo(name.filename.replace("mallory", student))
                info.compress_type, info.external_attr = name.compress_type, name.external_attr
                renamed.append((info, data))
            else:
                renamed.append((name.replace("mallory", student), data))
        return renamed


CASES = [
    ArchiveCase(
        "traversal",
        [
            ("mallory/neural_net.py", GOOD),
            (f"mallory/../../{MARKER}-up.py", b"x = 1\n"),
            (f"../../{MARKER}-top.py", b"x = 1\n"),
        ],
        ("path leaves the archive",),
    ),
    ArchiveCase(
        "traversal_backslash",
        [("mallory/neural_net.py", GOOD), (f"mallory\\..\\..\\{MARKER}-back.py", b"x = 1\n")],
        ("path leaves the archive",),
    ),
    ArchiveCase(
        "absolute_path", [("/mallory/neural_net.py", GOOD), (f"/tmp/{MARKER}-abs.py", b"x = 1\n")], ("absolute path",)
    ),
    ArchiveCase(
        "symlink",
        [
            special(
                "mallory/neural_net.py",
                str(support.REFERENCE / "cs231nHD" / "neural_net.py").encode(),
                stat.S_IFLNK | 0o777,
            )
        ],
        ("symbolic link",),
    ),
    ArchiveCase(
        "symlink_folder",
        [
            ("mallory/neural_net.py", GOOD),
            special("mallory/up", b"/", stat.S_IFLNK | 0o777),
            (f"mallory/up/tmp/{MARKER}-via-link.py", b"x = 1\n"),
        ],
        ("symbolic link",),
    ),
    ArchiveCase(
        "device_file",
        [("mallory/neural_net.py", GOOD), special("mallory/fifo", b"", stat.S_IFIFO | 0o644)],
        ("special file",),
    ),
    ArchiveCase(
        "zip_bomb_ratio",
        [("mallory/neural_net.py", GOOD), ("mallory/zeros.bin", b"\0" * (100 << 20))],
        ("zip bomb", "100 MiB"),
    ),
    ArchiveCase(
        "zip_bomb_in_own_zip",
        [("mallory.zip", zip_bytes([("neural_net.py", GOOD), ("zeros.bin", b"\0" * (100 << 20))]))],
        ("zip bomb",),
    ),
    ArchiveCase(
        "zip_bomb_total",
        [
            (
                "mallory.zip",
                zip_bytes([("neural_net.py", GOOD)] + [(f"zeros{i}.bin", b"\0" * (1 << 20)) for i in range(6)]),
            )
        ],
        ("would unpack to", "limit 4 MiB"),
        limits=ArchiveLimits(max_total_bytes=4 << 20),
    ),
    ArchiveCase(
        "lying_size",
        [("mallory/neural_net.py", GOOD * 3)],
        ("cannot be unpacked", "CRC"),
        patch=lambda raw, student: with_declared_size(raw, f"{student}/neural_net.py".encode(), 1000),
    ),
    ArchiveCase("nested_zips", [("mallory.zip", nested(8))], ("nested more than 3 deep",)),
    ArchiveCase(
        "duplicate_names",
        [
            ("mallory/neural_net.py", GOOD),
            ("mallory/neural_net.py", b"import os\n"),
            ("mallory/NEURAL_NET.py", b"x = 1\n"),
        ],
        ("duplicate name",),
    ),
    ArchiveCase("bad_utf8_names", [("mallory.zip", bad_utf8_names())], ("not valid UTF-8",)),
    ArchiveCase(
        "file_and_folder",
        [("mallory/neural_net.py", GOOD), ("mallory/helpers", b"x = 1\n"), ("mallory/helpers/util.py", b"x = 1\n")],
        ("cannot be unpacked",),
    ),
    ArchiveCase(
        "long_name",
        [("mallory/neural_net.py", GOOD), ("mallory/" + "x" * 300 + ".py", b"x = 1\n")],
        ("cannot be unpacked", "too long"),
    ),
    ArchiveCase(
        "encrypted_member",
        [("mallory/neural_net.py", GOOD)],
        ("cannot be unpacked", "encrypted"),
        patch=lambda raw, student: with_flag(raw, f"{student}/neural_net.py".encode(), 0x1),
    ),
    ArchiveCase("not_a_zip", [("mallory.zip", b"PK\x03\x04" + os.urandom(200))], ("not a readable zip archive",)),
    ArchiveCase("tar_with_hard_link", [("mallory.tar", b"")], ("only .zip archives",)),  # the .tar is built below
]


def _tar_with_hard_link() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        link = tarfile.TarInfo("neural_net.py")
        link.type = tarfile.LNKTYPE
        link.linkname = str(support.REFERENCE / "cs231nHD" / "neural_net.py")
        tf.addfile(link)
    return buffer.getvalue()


def class_zip(cases: list[ArchiveCase], student: Callable[[ArchiveCase], str]) -> bytes:
    """honest/ plus each case's hostile student (named `student(case)`), patches applied."""
    members: list[Member] = [("honest/neural_net.py", GOOD), ("zz_honest/neural_net.py", GOOD)]
    for case in cases:
        for name, data in case.members_for(student(case)):
            if isinstance(name, str) and name.endswith(".tar"):
                data = _tar_with_hard_link()
            members.append((name, data))
    raw = zip_bytes(members)
    for case in cases:
        raw = case.patch(raw, student(case)) if case.patch else raw
    return raw


def _escaped(root: Path) -> list[str]:
    """Files the attacks meant to create outside the workspace, and links anywhere."""
    outside = [p for base in (root, Path("/tmp"), Path("/")) for p in base.glob(f"{MARKER}*")]
    links = [p for p in root.rglob("*") if p.is_symlink()]
    return [str(p) for p in outside + links]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_discover_gives_the_attacker_a_clear_error_and_leaves_the_rest(tmp_path: Path, case: ArchiveCase) -> None:
    workspace = tmp_path / "deep" / "down" / "workspace"
    source = tmp_path / "class.zip"
    source.write_bytes(class_zip([case], lambda _: "mallory"))
    found = {s.id: s for s in discover(source, "neural_net.py", workspace, case.limits)}
    assert set(found) == {"honest", "mallory", "zz_honest"} | ({"tmp"} if case.name == "absolute_path" else set()), (
        found
    )
    for honest in ("honest", "zz_honest"):
        assert found[honest].error is None and found[honest].entry == "neural_net.py"
    error = found["mallory"].error or ""
    for word in case.words:
        assert word.lower() in error.lower(), error
    assert _escaped(tmp_path) == []


def test_names_in_cp437_are_decoded_as_the_zip_format_says(tmp_path: Path) -> None:
    # without the UTF-8 flag a zip's names are cp437: the Latin-1 byte 0xFC reads as "ⁿ"
    raw = zip_bytes([("honest/neural_net.py", GOOD), ("Mxller/neural_net.py", GOOD)]).replace(b"Mxller", b"M\xfcller")
    (tmp_path / "class.zip").write_bytes(raw)
    found = {s.id: s for s in discover(tmp_path / "class.zip", "neural_net.py", tmp_path / "ws")}
    assert set(found) == {"honest", "M\u207fller"}
    assert all(s.error is None for s in found.values())


def test_a_whole_class_zip_that_is_a_bomb_is_refused_in_one_row(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    archive.write_bytes(zip_bytes([(f"s{i}/neural_net.py", os.urandom(1 << 20)) for i in range(6)]))
    (only,) = discover(archive, "neural_net.py", tmp_path / "ws", ArchiveLimits(max_total_bytes=4 << 20))
    assert only.root is None and "would unpack to 6 MiB (limit 4 MiB)" in (only.error or "")


# -- the same attacks through a full grading run -----------------------------------------


# The batch intake words a few refusals its own way (grader/intake/unpack.py).
# file_and_folder: the member that cannot be placed is named in the batch's notes, printed before grading.
_INTAKE_WORDS: dict[str, tuple[str, ...]] = {
    "bad_utf8_names": ("not a readable archive", "utf-8"),
    "not_a_zip": ("not a readable archive",),
    "file_and_folder": (),
    "tar_with_hard_link": ("link (not extracted)",),  # .tar is unpacked now; its link is refused
}


def test_grading_a_batch_of_archive_attacks_gives_one_clear_row_each(tmp_path: Path) -> None:
    graded_cases = [c for c in CASES if c.limits == ArchiveLimits()]  # grade() uses the defaults
    archive = tmp_path / "class.zip"
    archive.write_bytes(class_zip(graded_cases, lambda case: case.name))
    reference_root = support.build_assignment(tmp_path / "reference")
    options = GradeOptions(
        output=tmp_path / "out", seed=3, reports=False, jobs=2, reference_root=reference_root,
        cache_dir=tmp_path / "cache", limits=Limits(memory_mb=768, load_timeout=20.0),
    )  # fmt: skip
    results = {r.submission: r for r in grade(archive, support.ASSIGNMENT, options)}
    assert set(results) == {c.name for c in graded_cases} | {"honest", "zz_honest", "tmp"}
    for honest in ("honest", "zz_honest"):
        assert (results[honest].status, results[honest].score) == ("graded", results[honest].max_score)
    for case in graded_cases:
        # the batch intake refuses the hostile member and grades what else the student sent
        # (with a note naming the attack), or gives the reason it could grade nothing
        result = results[case.name]
        said = " ".join([result.error or "", *result.notes]).lower()
        assert result.status == "error" or result.error is None or "neural_net" in said, (case.name, result.error)
        for word in _INTAKE_WORDS.get(case.name, case.words):
            assert word.lower() in said, (case.name, said)
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(r["submission"] for r in rows) == sorted(results)
    assert _escaped(tmp_path) == []
