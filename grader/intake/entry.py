"""Choose the file that is graded among everything a student handed in.

The assignment's own name (`neural_net.py`) wins. Otherwise the one candidate under another
name is graded, with a note naming it (`Tutorial1_solution.ipynb`, `neural_net (1).py`,
Canvas's `neural_net-1.py`). Several candidates, none with the expected name, is an error
that lists them; so is a file refused for its size, said with the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["EntryChoice", "choose_entry"]

# copies the browser or the LMS made of the same name: "name (1).py", "name-1.py", "name_1.py"
_COPY_MARK = re.compile(r"(?:\s*\(\d+\)|-\d{1,2}|_\d{1,2})$")
_NOT_ENTRIES = frozenset({"__init__.py", "setup.py", "conftest.py"})


@dataclass(frozen=True, slots=True)
class EntryChoice:
    """The graded file (relative to the student's folder), a note when it is not the
    expected name, or an error saying why none was chosen."""

    path: str | None
    note: str | None = None
    error: str | None = None


def choose_entry(files: list[str], entry: str, refused: dict[str, str] | None = None) -> EntryChoice:
    """Pick the graded file among `files` (POSIX paths relative to the student's folder).

    `refused` maps files kept out for their size to the message saying so; when the expected
    file is among them, that message is the error (never "no neural_net.py found").
    """
    refused = refused or {}
    exact = sorted((f for f in files if PurePosixPath(f).name == entry), key=lambda f: (f.count("/"), f))
    if len(exact) > 1:
        others = ", ".join(exact[1:4])
        return EntryChoice(exact[0], note=f"several files named {entry}: graded {exact[0]} (not {others})")
    if exact:
        return EntryChoice(exact[0])
    too_big = [message for name, message in refused.items() if PurePosixPath(name).name == entry]
    if too_big:
        return EntryChoice(None, error=too_big[0])
    candidates = _candidates(files, entry)
    if len(candidates) == 1:
        return EntryChoice(candidates[0], note=f"graded {candidates[0]} (no file named {entry} was handed in)")
    if candidates:
        named = [f for f in candidates if _same_name(PurePosixPath(f).name, entry)]
        if len(named) == 1:
            return EntryChoice(named[0], note=f"graded {named[0]} (no file named {entry} was handed in)")
        listed = ", ".join(candidates[:8]) + (f" and {len(candidates) - 8} more" if len(candidates) > 8 else "")
        return EntryChoice(
            None, error=f"no {entry}, and several files could be it ({listed}): resubmit with one named {entry}"
        )
    if refused:
        return EntryChoice(None, error="; ".join(refused.values()))
    seen = ", ".join(files[:6]) or "no files"
    return EntryChoice(None, error=f"no {entry} found (handed in: {seen}): resubmit with {entry}")


def _candidates(files: list[str], entry: str) -> list[str]:
    """Files that could hold the assignment: same kind first, then the other kind alone."""
    suffix = PurePosixPath(entry).suffix.lower()
    usable = [f for f in files if PurePosixPath(f).name not in _NOT_ENTRIES]
    same = [f for f in usable if PurePosixPath(f).suffix.lower() == suffix]
    if same:
        return same
    # a notebook alone may hold what a .py assignment grades (classes defined in cells),
    # and a .py alone what a notebook assignment grades (a notebook exported as a script)
    other = ".py" if suffix == ".ipynb" else ".ipynb"
    return [f for f in usable if PurePosixPath(f).suffix.lower() == other]


def _same_name(name: str, entry: str) -> bool:
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    want = PurePosixPath(entry)
    return suffix.lower() == want.suffix.lower() and _COPY_MARK.sub("", stem).casefold() == want.stem.casefold()
