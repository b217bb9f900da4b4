"""Executors: where runs are made, in this process, in worker processes or on a Dask cluster.

Every executor shares one small interface, like EMA Workbench's evaluators: a context
manager with ``workers`` and ``map(fn, items, *args)``, which yields ``fn(item, *args)``
for each item as it completes. `Serial` runs in this process; `Processes` in pools of
worker processes, the workers replaced every `MAX_TASKS_PER_CHILD` tasks each to bound
memory; `Dask` on a distributed cluster, an existing one (its scheduler address) or a
`distributed.LocalCluster` on loopback. Sweeps, comparisons and calibration all run on
them; results never depend on the executor, since a run's random numbers depend only on
its seed and replicate.

A task whose worker process dies (killed, or out of memory) is retried alone on a fresh
one-worker pool, with the machine to itself, up to `WORKER_RETRIES` times; tasks lost
every time are raised together as `LostTasks` once the others are done. On a Dask
cluster the scheduler retries such tasks on other workers; a scheduler lost midway is
`LostScheduler`. Workers of a cluster given by address must run the same workshop-sim
(version and git commit) as the process that starts the runs, or `Dask` refuses them.

Worker processes of `Processes` never outlive the process that made them: each watches
it (`watch_owner`) and exits within `OWNER_POLL_S` seconds of its death, however it died
(``kill -9`` included); the fork server then ends with its last worker. They ignore
SIGINT, so Ctrl-C reaches the sweep's own process alone, which stops them when a pool is
left early (an interrupt, a store that cannot be written).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

T = TypeVar("T")
R = TypeVar("R")
MAX_TASKS_PER_CHILD = 20  # tasks before a worker process is replaced (bounds memory)
DASK_CONNECT_TIMEOUT_S = 3
WORKER_RETRIES = 2  # fresh one-worker pools tried for a task whose worker died
OWNER_POLL_S = 0.5  # how often a worker process checks that its owner still runs
OWNER_GONE_EXIT = 70  # exit code of a worker process whose owner died (EX_SOFTWARE)
Code = tuple[str | None, str | None]  # workshop-sim's version and git commit (None: unknown)


class ExecutorError(RuntimeError):
    """An executor that cannot start (e.g. an unreachable Dask scheduler)."""


class LostScheduler(ExecutorError):
    """The Dask scheduler went away while runs were under way.

    Attributes:
        address: the scheduler's address.
    """

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        super().__init__(f"--dask {address}: lost the Dask scheduler ({reason})")


class LostTasks(RuntimeError):
    """Tasks whose worker process died on every attempt (raised once the others are done).

    Attributes:
        items: the lost tasks' items, as given to ``map``.
        attempts: attempts made on each.
    """

    def __init__(self, items: Sequence[Any], attempts: int) -> None:
        self.items, self.attempts = list(items), attempts
        super().__init__(
            f"the worker process running it died on each of {attempts} "
            "attempts (killed, or out of memory)"
        )


class Executor(Protocol):
    """What every executor offers: its worker count and an unordered map."""

    workers: int

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def map(self, fn: Callable[..., R], items: Sequence[T], *args: Any) -> Iterator[R]: ...


class Serial:
    """Runs everything in this process, in order."""

    workers = 1

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def map(self, fn: Callable[..., R], items: Sequence[T], *args: Any) -> Iterator[R]:
        """Yield ``fn(item, *args)`` for each item, in order."""
        return (fn(item, *args) for item in items)


class Processes:
    """Pools of worker processes forked from a fork server (no fork of a threaded parent).

    Workers are replaced to bound memory: tasks run in generations of `MAX_TASKS_PER_CHILD`
    per worker, each generation on a fresh pool (cheap: the server has the model
    imported). ``max_tasks_per_child`` is not used: it deadlocks on Python 3.13.0. A task
    whose worker process dies is retried alone on a fresh one-worker pool up to
    `WORKER_RETRIES` times; ``map`` raises `LostTasks` at the end for those lost every time.

    Args:
        workers: worker processes (at least 1).
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._context = multiprocessing.get_context("forkserver")

    def __enter__(self) -> Self:
        # The server imports the main module and the model once; workers fork from it.
        self._context.set_forkserver_preload(["__main__", __name__])
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def map(self, fn: Callable[..., R], items: Sequence[T], *args: Any) -> Iterator[R]:
        """Yield ``fn(item, *args)`` for each item as its task completes.

        Raises:
            LostTasks: after every other result, naming the items whose worker died on
                each attempt.
        """
        generation = self.workers * MAX_TASKS_PER_CHILD
        lost: list[T] = []
        for first in range(0, len(items), generation):
            lost += yield from self._generation(fn, items[first : first + generation], args)
        if lost:
            raise LostTasks(lost, 1 + WORKER_RETRIES)

    def _generation(
        self, fn: Callable[..., R], items: Sequence[T], args: tuple[Any, ...]
    ) -> Generator[R, None, list[T]]:
        """Yield the results of one pool's tasks, then retry the ones whose worker died.

        Returns:
            The items lost on every attempt.
        """
        broken = yield from self._pool(fn, items, args, self.workers)
        lost: list[T] = []
        for item in broken:
            for _ in range(WORKER_RETRIES):
                if not (yield from self._pool(fn, [item], args, 1)):
                    break
            else:
                lost.append(item)
        return lost

    def _pool(
        self, fn: Callable[..., R], items: Sequence[T], args: tuple[Any, ...], workers: int
    ) -> Generator[R, None, list[T]]:
        """Yield the results of `items` run on a fresh pool; return those whose worker died."""
        pool = ProcessPoolExecutor(
            workers, mp_context=self._context, initializer=watch_owner, initargs=(os.getpid(),)
        )
        futures: dict[Future[R], T] = {}
        broken: list[T] = []
        try:
            for submitted, item in enumerate(items):
                try:
                    futures[pool.submit(fn, item, *args)] = item
                except BrokenProcessPool:  # a worker died while tasks were being submitted
                    broken = list(items[submitted:])
                    break
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    continue
                yield result
        except BaseException:  # interrupted, or the caller stopped reading: stop its tasks
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(cancel_futures=True)
        died = [item for future, item in futures.items() if _broken(future)]
        return died + broken


def watch_owner(owner: int) -> None:
    """Start a worker process: ignore SIGINT, and exit once the owner process is gone.

    A thread checks every `OWNER_POLL_S` seconds that the owner runs (`process_alive`)
    and otherwise ends the worker (`os._exit`). The owner, not the parent, is watched:
    the parent of a worker is the fork server, which lives on while its workers do.

    Args:
        owner: pid of the process that made the pool.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(OWNER_POLL_S)
            if not process_alive(owner):
                os._exit(OWNER_GONE_EXIT)

    threading.Thread(target=watch, name="watch-owner", daemon=True).start()


def process_alive(pid: int) -> bool:
    """Whether a process of this pid runs (one that exited but is not yet reaped does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return not _exited(pid)


def _exited(pid: int) -> bool:
    """Whether the process is a zombie (Linux: its /proc state; elsewhere: unknown, False)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's worker processes now (their running tasks are abandoned)."""
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _broken(future: Future[Any]) -> bool:
    """Whether a finished task was lost because its pool's worker process died."""
    return isinstance(future.exception(), BrokenProcessPool)


class Dask:
    """A Dask distributed cluster: an existing one, or a LocalCluster on loopback.

    The workers of an existing cluster must run this process's workshop-sim
    (`same_code`): they are asked when it is entered, before any task.

    Args:
        address: scheduler address (e.g. ``tcp://10.0.0.5:8786``), or ``local`` for a
            LocalCluster of worker processes on 127.0.0.1.
        workers: workers of a LocalCluster (the cluster's own count otherwise).
    """

    def __init__(self, address: str, workers: int) -> None:
        self.address, self.workers = address, max(1, workers)
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> Self:
        from distributed import Client, LocalCluster

        if self.address == "local":
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
            return self
        try:
            self._client = Client(self.address, timeout=DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError, TypeError) as err:  # TypeError: no TLS set-up
            raise ExecutorError(
                f"--dask {self.address}: could not reach a Dask scheduler "
                f"within {DASK_CONNECT_TIMEOUT_S} s ({err})"
            ) from err
        try:
            self._check_workers()
        except BaseException:
            self._client.close()
            raise
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        return self

    def _check_workers(self) -> None:
        """Refuse a cluster whose workers run other code than this process (`same_code`).

        Raises:
            ExecutorError: naming the first such worker, or saying the workers could not
                be asked (workshop-sim not installed there).
        """
        mine = installed_code()
        try:
            theirs: dict[str, Code] = self._client.run(installed_code)
        except Exception as err:  # a worker that cannot import the package, or gone
            raise ExecutorError(
                f"--dask {self.address}: could not ask the workers which workshop-sim they "
                f"run ({type(err).__name__}: {err}); install it on every worker "
                "(docs/cluster.md)"
            ) from err
        for worker, code in sorted(theirs.items()):
            if not same_code(mine, code):
                raise ExecutorError(
                    f"--dask {self.address}: worker {worker} runs workshop-sim "
                    f"{_described(code)}, this process {_described(mine)}; install "
                    "the same commit on every worker (docs/cluster.md)"
                )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for resource in (self._client, self._cluster):
            if resource is not None:
                resource.close()
        self._client = self._cluster = None

    def map(self, fn: Callable[..., R], items: Sequence[T], *args: Any) -> Iterator[R]:
        """Yield ``fn(item, *args)`` for each item as its task completes.

        The scheduler retries a task whose worker dies (``allowed-failures`` times).

        Raises:
            LostTasks: after every other result, naming the items whose worker died on
                each attempt.
        """
        import dask
        from distributed import KilledWorker
        from distributed import as_completed as dask_completed

        assert self._client is not None, "use Dask as a context manager"
        futures = {self._client.submit(fn, item, *args, pure=False): item for item in items}
        lost: list[T] = []
        for future in dask_completed(list(futures)):
            try:
                yield future.result()
            except KilledWorker:
                lost.append(futures[future])
            except CancelledError as err:  # the client lost the scheduler
                raise LostScheduler(self.address, " ".join(str(err).split())) from err
        if lost:
            raise LostTasks(lost, 1 + dask.config.get("distributed.scheduler.allowed-failures"))


def installed_code() -> Code:
    """The workshop-sim this process runs: its version and git commit (None if unknown)."""
    from experiments.provenance import git_sha, package_version

    return package_version("workshop-sim"), git_sha()


def same_code(mine: Code, theirs: Code) -> bool:
    """Whether two `installed_code` are the same code.

    Equal versions, and equal commits where both are known (a wheel installed outside a
    git checkout knows none).
    """
    (version, sha), (their_version, their_sha) = mine, theirs
    return version == their_version and (sha is None or their_sha is None or sha == their_sha)


def _described(code: Code) -> str:
    """An `installed_code` in words: ``0.1.0 at commit 3f2a9c0`` (or ``not installed``)."""
    version, sha = code
    if version is None:
        return "not installed"
    return f"{version} at commit {sha}" if sha else f"{version} (commit unknown)"


def serial_or_processes(workers: int) -> Serial | Processes:
    """This process for one worker (or fewer), else a pool of `workers` worker processes."""
    return Serial() if workers <= 1 else Processes(workers)
