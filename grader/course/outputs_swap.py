"""Outputs replaced only once complete: written beside their place, then renamed into it.

A run killed while writing a report, the class summary or a gradebook leaves the previous
file whole (`os.replace` is atomic within one filesystem), and a folder of outputs never
holds half a file. Any writer that takes an output folder gets this for free: it writes into
the staging folder `publishing` yields, and every file is moved into place when it returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.course.cleanup import owned_folder

__all__ = ["publishing"]


@contextmanager
def publishing(out_dir: Path) -> Iterator[Path]:
    """A staging folder inside `out_dir`; on a normal exit each file written there replaces
    its counterpart in `out_dir` (sub-folders kept), one atomic rename per file. On an
    exception nothing is published. A killed run's staging folder is removed by the next
    run (`grader.course.cleanup.clean_stale_runs`)."""
    with owned_folder(out_dir, hidden=True) as staging:
        yield staging
        for source in sorted(staging.rglob("*")):
            if source.is_file() and not source.is_symlink():
                target = out_dir / source.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
