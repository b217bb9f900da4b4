"""Faults for the sweep tests: a sweep process that SIGKILLs itself at a chosen point, and
a batch function whose worker process kills itself.

Run as a script, it runs a sweep command in this process and dies at the `nth` time the
sweep reaches `point`:

    python fault_injection.py POINT NTH sweep SPEC --out DIR --workers 1

Points (`KILL_POINTS`):
    part_write        halfway through writing a parquet part (its temporary file half full)
    before_rename     a part's temporary file written and fsynced, not yet renamed
    after_rename      a part renamed into place, its directory not yet fsynced
    before_runs_part  a batch's monthly and summary parts visible, its runs part not begun
    before_finish     every run stored, the manifest not yet marked finished
    first_manifest    halfway through writing the sweep's first manifest
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from experiments.sweep import runs, store
from experiments.sweep.seeding import RunSetup, RunTask
from experiments.sweep.store import MANIFEST, RunRecord, SweepStore

KILL_POINTS = (
    "part_write",
    "before_rename",
    "after_rename",
    "before_runs_part",
    "before_finish",
    "first_manifest",
)


def die() -> NoReturn:
    """SIGKILL this process: no clean-up, no flushing, as a power cut or the OOM killer."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


class Countdown:
    """True on the `nth` call that matches, False on every other."""

    def __init__(self, nth: int) -> None:
        self.left = nth

    def __call__(self, matches: bool = True) -> bool:
        if matches:
            self.left -= 1
        return matches and self.left == 0


def half_then_die(write: Callable[[IO[bytes]], Any]) -> Callable[[IO[bytes]], None]:
    """A writer that writes the first half of what `write` would, then dies."""

    def writer(file: IO[bytes]) -> None:
        buffer = io.BytesIO()
        write(buffer)
        data = buffer.getvalue()
        file.write(data[: len(data) // 2])
        file.flush()
        die()

    return writer


def arm(point: str, nth: int) -> None:
    """Patch the store so this process dies the `nth` time the sweep reaches `point`."""
    hit = Countdown(nth)
    atomic_write, replace = store._atomic_write, os.replace
    write_part, write_manifest = SweepStore._write_part, SweepStore.write_manifest

    def dying_atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
        target = MANIFEST if point == "first_manifest" else ".parquet"
        if hit(path.name.endswith(target)):
            write = half_then_die(write)
        atomic_write(path, write)

    def dying_replace(source: Any, target: Any) -> None:
        reached = hit(str(target).endswith(".parquet"))
        if reached and point == "before_rename":
            die()
        replace(source, target)
        if reached:
            die()

    def dying_write_part(self: SweepStore, table: str, *args: Any) -> None:
        if hit(table == "runs"):
            die()
        write_part(self, table, *args)

    def dying_write_manifest(self: SweepStore, manifest: dict[str, Any]) -> None:
        if hit(manifest["finished_utc"] is not None):
            die()
        write_manifest(self, manifest)

    if point in ("part_write", "first_manifest"):
        store._atomic_write = dying_atomic_write
    elif point in ("before_rename", "after_rename"):
        os.replace = dying_replace
    elif point == "before_runs_part":
        SweepStore._write_part = dying_write_part  # type: ignore[method-assign]
    elif point == "before_finish":
        SweepStore.write_manifest = dying_write_manifest  # type: ignore[method-assign]
    else:
        raise ValueError(f"unknown kill point {point!r}; known: {KILL_POINTS}")


@dataclass(frozen=True)
class KillingBatch:
    """`runs.run_batch`, except that the worker process of the batch holding `run_id`
    kills itself the first `times` times it gets it (counted by files in `marks`)."""

    run_id: str
    marks: Path
    times: int

    def __call__(self, batch: list[RunTask], setup: RunSetup) -> list[RunRecord]:
        if any(task.run_id == self.run_id for task in batch):
            attempt = len(list(self.marks.iterdir()))
            if attempt < self.times:
                (self.marks / f"attempt-{attempt}").touch()
                die()
        return runs.run_batch(batch, setup)


if __name__ == "__main__":
    from experiments.cli.sweep import main

    kill_point, kill_at = sys.argv[1], int(sys.argv[2])
    arm(kill_point, kill_at)
    sys.argv = [sys.argv[0], *sys.argv[3:]]
    main()
