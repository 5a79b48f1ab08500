"""Host folders prepared for one worker: its submission copy, probes, data and home."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JobLayout"]


@dataclass(frozen=True, slots=True)
class JobLayout:
    """Host folders prepared for one worker (all private to this job)."""

    root: Path
    # a batch-wide data folder, mounted read-only (bubblewrap only); else a private copy
    shared_data: Path | None = None

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def data(self) -> Path:
        return self.shared_data or self.root / "data"

    @property
    def probes(self) -> Path:
        return self.root / "probes"

    @classmethod
    def create(cls, parent: Path, shared_data: Path | None = None) -> JobLayout:
        layout = cls(parent / f"job-{uuid.uuid4().hex[:12]}", shared_data)
        for folder in (layout.submission, layout.data, layout.probes, layout.root / "home"):
            folder.mkdir(parents=True, exist_ok=True)
        return layout
