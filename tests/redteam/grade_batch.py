"""Grade one batch in this process and print what the grading process itself used.

Run as a subprocess by tests/test_redteam_integrity.py, so that the memory measured is the
grading process's own (its peak resident set, VmHWM), not pytest's:

    python grade_batch.py ARCHIVE REFERENCE_ROOT OUTPUT CACHE_DIR SEED

Prints one JSON line: {"peak_rss_mib": ..., "students": N}.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from grader.course.batch import GradeOptions, grade
from grader.sandbox.limits import Limits

ASSIGNMENT = "redteam_net"
# Generous time budgets (a busy machine must not fail an honest check); the memory and
# size limits are the point here.
LIMITS = Limits(memory_mb=1024, tmp_mb=256, processes=32, load_timeout=90.0, submission_timeout=300.0)


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    archive, reference_root, output, cache_dir, seed = sys.argv[1:6]
    options = GradeOptions(
        output=Path(output), seed=int(seed), reports=True, jobs=2, limits=LIMITS,
        reference_root=Path(reference_root), cache_dir=Path(cache_dir),
    )  # fmt: skip
    results = grade(Path(archive), ASSIGNMENT, options)
    print(json.dumps({"peak_rss_mib": _peak_rss_mib(), "students": len(results)}))


if __name__ == "__main__":
    main()
