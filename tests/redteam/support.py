"""Shared machinery of the red-team suite (tests/test_redteam.py, tests/test_archives.py).

* `build_assignment`: a test-only assignment `redteam_net` in a temporary folder. It is
  `two_layer_net` made fast: the reference's own solution and probe files, six checks with
  a short per-check timeout, and one extra check that reads a data file the harness
  mounts for the worker.
* `submission_files`: what one red-team student hands in: the fixture
  `tests/redteam/submissions/<case>.py` as `neural_net.py`, beside `working_net.py` (a copy
  of the reference solution, so a fixture is just its attack: `class
  TwoLayerNet(working_net.TwoLayerNet)` overriding one method) and `redteam_env.py` (the
  host paths, port and marker of this run, so attacks aim at the real targets).
* host-side witnesses: a TCP listener on 127.0.0.1 that counts connections, canary files,
  and a scan of /proc for processes left behind.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = ROOT / "reference" / "two_layer_net"
SUBMISSIONS = HERE / "submissions"
ASSIGNMENT = "redteam_net"
CHECK_TIMEOUT = 4.0  # seconds of wall clock per check in the test assignment

CHECKS_PY = '''\
"""Test-only assignment for the red-team suite: two_layer_net's reference and probes,
six checks, short timeouts."""

from pathlib import Path

import numpy as np

from grader import Assignment, Check, gradients_agree, matches_reference

T = {timeout!r}


def prepare_data(folder: Path, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    np.savez(folder / "inputs.npz", X=rng.normal(scale=5.0, size=(6, 4)))
    return {{}}


assignment = Assignment(
    name={name!r},
    title="red-team copy of two_layer_net",
    entry="neural_net.py",
    names=("TwoLayerNet",),
    prepare_data=prepare_data,
    checks=(
        Check("forward_scores", 3, matches_reference(sum_abs=1e-7), timeout=T),
        Check("toy_loss", 2, matches_reference(max_abs=1e-12), timeout=T),
        Check("gradients", 4, gradients_agree(rel_error=1e-8), timeout=T),
        Check("predict", 1, matches_reference(exact=True), timeout=T),
        Check("data_scores", 1, matches_reference(max_abs=1e-12), timeout=T),
        Check("hidden_scores", 2, matches_reference(max_abs=1e-8), public=False, timeout=T),
    ),
)
'''

DATA_PROBE = '''

def data_scores(nn: Any, ctx: Any) -> Any:
    """Scores of the toy model on inputs read from the data folder the harness mounts."""
    X = np.load(ctx.data_dir / "inputs.npz", allow_pickle=False)["X"]
    return snapshot(toy_model(nn).loss(X))
'''

CHECKS = ("forward_scores", "toy_loss", "gradients", "predict", "data_scores", "hidden_scores")
POINTS = {"forward_scores": 3, "toy_loss": 2, "gradients": 4, "predict": 1, "data_scores": 1, "hidden_scores": 2}


def build_assignment(root: Path, timeout: float = CHECK_TIMEOUT) -> Path:
    """Write reference/<ASSIGNMENT>/ under `root`; returns `root` (the reference root)."""
    folder = root / ASSIGNMENT
    shutil.copytree(REFERENCE / "cs231nHD", folder / "cs231nHD", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REFERENCE / "hidden_probes.py", folder / "hidden_probes.py")
    (folder / "probes.py").write_text(
        (REFERENCE / "probes.py").read_text(encoding="utf-8") + DATA_PROBE, encoding="utf-8"
    )
    (folder / "checks.py").write_text(CHECKS_PY.format(timeout=timeout, name=ASSIGNMENT), encoding="utf-8")
    return root


def working_source() -> str:
    """The reference solution, as a helper module a fixture subclasses. The unused
    matplotlib import is dropped: it costs 0.7 s per worker and proves nothing here."""
    source = (REFERENCE / "cs231nHD" / "neural_net.py").read_text(encoding="utf-8")
    return "\n".join(line for line in source.splitlines() if not line.startswith("import matplotlib")) + "\n"


@dataclass
class Run:
    """One red-team run: the unique marker, the host targets and the witnesses."""

    tmp: Path
    marker: str = field(default_factory=lambda: f"redteam-{uuid.uuid4().hex[:12]}")
    port: int = 0
    reference_root: Path | None = None
    output: Path | None = None

    @property
    def victim_secret(self) -> str:
        return f"VICTIM-{self.marker}"

    def host_write_targets(self) -> list[Path]:
        """Files an attack tries to create outside its worker's folder."""
        assert self.output is not None and self.reference_root is not None
        return [
            self.output / f"{self.marker}-out.txt",
            Path.home() / f"{self.marker}-home.txt",
            Path("/tmp") / f"{self.marker}-tmp.txt",
            Path("/dev/shm") / f"{self.marker}-shm.txt",
            self.reference_root / ASSIGNMENT / f"{self.marker}-ref.txt",
            ROOT / f"{self.marker}-repo.txt",
        ]

    @property
    def batch_tmp(self) -> Path:
        """The temporary folder the batch works in (the test points `tempfile` at it), so
        that every process of this run carries the marker in its paths."""
        return self.tmp / f"{self.marker}-tmp"

    @property
    def daemon_target(self) -> Path:
        """The file the daemon fixture keeps appending to (host /tmp)."""
        return Path("/tmp") / f"{self.marker}-daemon.txt"

    def secret_paths(self) -> list[Path]:
        """Files an attack tries to read: the reference, its checks, the grader's config."""
        assert self.reference_root is not None
        return [
            REFERENCE / "cs231nHD" / "neural_net.py",
            REFERENCE / "checks.py",
            self.reference_root / ASSIGNMENT / "checks.py",
            self.reference_root / ASSIGNMENT / "cs231nHD" / "neural_net.py",
        ]

    def env_module(self) -> str:
        """redteam_env.py: what the attacks know about the host (as much as possible)."""
        assert self.output is not None and self.reference_root is not None
        half = len(self.victim_secret) // 2
        lines = [
            '"""Generated by tests/redteam/support.py: the targets of this red-team run."""',
            f"MARKER = {self.marker!r}",
            f"PORT = {self.port!r}",
            f"OUTPUT_DIR = {str(self.output)!r}",
            f"RESULTS_JSONL = {str(self.output / 'results.jsonl')!r}",
            f"HOST_HOME = {str(Path.home())!r}",
            f"REFERENCE_ROOT = {str(self.reference_root)!r}",
            f"REPOSITORY = {str(ROOT)!r}",
            f"WRITE_TARGETS = {[str(p) for p in self.host_write_targets()]!r}",
            f"DAEMON_TARGET = {str(self.daemon_target)!r}",
            f"BATCH_TMP = {str(self.batch_tmp)!r}",
            f"SECRET_PATHS = {[str(p) for p in self.secret_paths()]!r}",
            # split so that only the victim's own file holds the whole string
            f"VICTIM_SECRET = {self.victim_secret[:half]!r} + {self.victim_secret[half:]!r}",
        ]
        return "\n".join(lines) + "\n"

    def cleanup_host(self) -> None:
        for path in [*self.host_write_targets(), self.daemon_target]:
            path.unlink(missing_ok=True)
        # what the disk bomb left, if anything let it write on the host
        for folder in BOMB_PLACES:
            for path in Path(folder).glob(f"{self.marker}-bomb-*"):
                path.unlink(missing_ok=True)


def fixture_source(case: str) -> str:
    return (SUBMISSIONS / f"{case}.py").read_text(encoding="utf-8")


def submission_files(case: str, run: Run) -> dict[str, bytes]:
    """neural_net.py (the fixture), working_net.py and redteam_env.py of one case.

    Fixtures that must be bytes no editor keeps (a NUL, a non-UTF-8 byte) spell them
    `<NUL>` and `<LATIN1:é>`; they are put in here.
    """
    text = fixture_source(case)
    raw = text.replace("<NUL>", "\x00").encode("utf-8")
    if "<LATIN1:" in text:
        head, rest = text.split("<LATIN1:", 1)
        char, tail = rest.split(">", 1)
        raw = head.encode("utf-8") + char.encode("latin-1") + tail.encode("utf-8")
    return {
        "neural_net.py": raw,
        "working_net.py": working_source().encode("utf-8"),
        "redteam_env.py": run.env_module().encode("utf-8"),
        "pipe_tools.py": (Path(__file__).parent / "pipe_tools.py").read_bytes(),
    }


def honest_files(run: Run, secret: str | None = None) -> dict[str, bytes]:
    """A correct submission (the reference), optionally carrying a secret comment."""
    source = working_source() + (f"\n# {secret}\n" if secret else "")
    return {"neural_net.py": source.encode("utf-8")}


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def _sklearn_data() -> list[str]:
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    return [str(Path(spec.origin).parent / "datasets" / "data")] if spec and spec.origin else []


# where tests/redteam/submissions/disk_bomb.py tries to write (on the host, under the fallback)
BOMB_PLACES = ["/", str(Path.home()), "/root", "/run", "/var/tmp", "/tmp", "/dev/shm", *_sklearn_data()]


def processes_with(needle: str) -> list[tuple[int, str]]:
    """Live processes (this one excluded) whose command line, environment or working
    folder contains `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if needle in cmdline or needle in environ or needle in cwd:
            found.append((int(entry.name), cmdline.strip()[:200]))
    return found
