"""Where the per-submission tasks run: a local thread pool, or a Dask cluster's executor.

The batch loop sees only a `concurrent.futures.Executor` and futures of JSON rows. Locally,
tasks share the batch's context (its prepared data and expected values) by reference; on
any other executor (a Dask cluster, or one a caller passes) each task carries what it needs
(`grader.course.tasks`) and builds the rest where it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.course.context import BatchContext
from grader.course.grading import grade_submission
from grader.course.tasks import grade_task, task_payload
from grader.errors import GraderError
from grader.intake.discovery import Submission

__all__ = ["Runner", "open_runner"]

LOCAL_CLUSTER = "local:"  # --dask local:N starts a LocalCluster of N worker processes


@dataclass(frozen=True, slots=True)
class Runner:
    """An executor, and whether its tasks must be self-contained (it may run them elsewhere)."""

    executor: Executor
    remote: bool
    isolation: str = "auto"  # the isolation a remote worker asks for
    reference_root: Path | None = None

    def submit(self, submission: Submission, context: BatchContext) -> Future[dict[str, Any]]:
        """Start grading one submission; the future's result is `SubmissionResult.to_json()`."""
        if self.remote:
            return self.executor.submit(
                grade_task, task_payload(submission, context, self.isolation, self.reference_root)
            )
        return self.executor.submit(_grade_here, submission, context)


def _grade_here(submission: Submission, context: BatchContext) -> dict[str, Any]:
    return grade_submission(submission, context).to_json()


@contextmanager
def open_runner(
    jobs: int,
    dask: str | None = None,
    given: Executor | None = None,
    isolation: str = "auto",
    reference_root: Path | None = None,
) -> Iterator[Runner]:
    """The runner of a batch: `given` (left open), a Dask cluster's executor when `dask` is
    an address or `local:N`, else a pool of `jobs` threads; closed on exit.

    Raises `GraderError` when dask.distributed is not installed or its scheduler cannot be reached.
    """
    if given is not None:
        yield Runner(given, remote=True, isolation=isolation, reference_root=reference_root)
    elif dask:
        with _dask_executor(dask) as executor:
            yield Runner(executor, remote=True, isolation=isolation, reference_root=reference_root)
    else:
        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="grade")
        try:
            yield Runner(pool, remote=False)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask_executor(address: str) -> Iterator[Executor]:
    try:
        import distributed
    except ImportError as exc:
        raise GraderError("--dask needs dask.distributed: pip install 'nn-grader[dask]'") from exc
    dask: Any = distributed  # untyped: its calls are not checked
    cluster = None
    if address.startswith(LOCAL_CLUSTER):
        workers = _worker_count(address)
        # one thread per worker process: each task already runs its own sandboxed workers
        cluster = dask.LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None)
    try:
        client = dask.Client(cluster if cluster is not None else address, timeout=30)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise GraderError(
            f"cannot reach the Dask scheduler at {address}: {exc}; start one (dask scheduler) or use --dask local:N"
        ) from exc
    try:
        # pure=False: two identical submissions are two tasks (Dask would otherwise merge them by hash)
        executor: Executor = client.get_executor(pure=False)
        yield executor
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _worker_count(address: str) -> int:
    text = address[len(LOCAL_CLUSTER) :]
    if not text.isdigit() or int(text) < 1:
        raise GraderError(f"--dask {address}: write local:N with N worker processes (for example local:4)")
    return int(text)
