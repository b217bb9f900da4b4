"""A sweep on a really full disk and a really read-only file system, not monkeypatched.

Each case runs `wsim` (as ``python -m experiments.cli``) in a new user and mount
namespace (``unshare --user --map-root-user --mount``) on a small tmpfs mounted there:
this works for root and for an unprivileged user alike, so nothing here is skipped for
being root. The sweep folder is copied out of the tmpfs before the namespace ends, then
read and resumed here; the resumed sweep must equal an uninterrupted one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from experiment_helpers import ROOT
from sweep_helpers import FACTORIAL, assert_same_results, sweep_serial, write_spec, wsim

from experiments.sweep.spec import load_spec
from experiments.sweep.store import SweepData
from experiments.sweep.store import load as load_results

FULL_TMPFS = "size=100k"  # room for the manifest and two one-run batches of FACTORIAL
ROOMY_TMPFS = "size=16m"
TIMEOUT_S = 300
IN_NAMESPACE = """
set -u
mnt=$1 python=$2 out=$3 copy=$4 mode=$5 options=$6; shift 6
mount -t tmpfs -o "$options" tmpfs "$mnt" || exit 90
if [ "$mode" = read-only ]; then
    "$python" -m experiments.cli "$@" >/dev/null 2>&1 || exit 91
    mount -o remount,ro "$mnt" || exit 92
    "$python" -m experiments.cli resume "$out" --workers 1
else
    "$python" -m experiments.cli "$@"
fi
echo "exit=$?"
cp -r "$out" "$copy"
"""


def namespaces_work() -> bool:
    """Whether this process may make a user and mount namespace and mount a tmpfs in it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs t /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not namespaces_work(), reason="no user namespaces here: the disk cases need a tmpfs"
)


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("spec"), FACTORIAL)


@pytest.fixture(scope="module")
def whole(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SweepData:
    return sweep_serial(load_spec(spec_path), tmp_path_factory.mktemp("whole") / "sweep")


def on_tmpfs(
    tmp_path: Path, options: str, mode: str, *command: str | Path
) -> tuple[int, str, Path]:
    """Run a `wsim` command on a tmpfs mounted with `options` in a fresh namespace.

    Returns its exit code, its stderr and the copy of the sweep folder it left.
    """
    mount, copy = tmp_path / "mnt", tmp_path / "copy"
    mount.mkdir()
    out = mount / "sweep"
    arguments = [str(a).replace("{out}", str(out)) for a in command]
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", IN_NAMESPACE, "sh"]
        + [str(mount), sys.executable, str(out), str(copy), mode, options, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    status = [line for line in done.stdout.splitlines() if line.startswith("exit=")]
    assert status, (done.returncode, done.stdout, done.stderr)
    return int(status[-1].removeprefix("exit=")), done.stderr, copy


def test_a_really_full_disk_stops_the_sweep_with_one_error_and_resumes_elsewhere(
    tmp_path: Path, spec_path: Path, whole: SweepData
) -> None:
    code, stderr, copy = on_tmpfs(
        tmp_path,
        FULL_TMPFS,
        "full",
        "sweep",
        spec_path,
        "--out",
        "{out}",
        "--workers",
        "1",
        "--runs-per-task",
        "1",
    )
    assert code == 1
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "(No space left on device)" in errors[0], stderr
    assert "wsim resume" in errors[0]
    stored = load_results(copy)
    assert 0 < len(stored.runs) < len(whole.runs)  # some batches stored, then the disk filled
    assert wsim("resume", copy, "--workers", "1").exit_code == 0
    assert_same_results(load_results(copy), whole)


def test_a_really_read_only_file_system_refuses_resume_and_stays_readable(
    tmp_path: Path, spec_path: Path, whole: SweepData
) -> None:
    code, stderr, copy = on_tmpfs(
        tmp_path, ROOMY_TMPFS, "read-only", "sweep", spec_path, "--out", "{out}", "--workers", "1"
    )
    assert code == 1
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "(Read-only file system)" in errors[0], stderr
    assert_same_results(load_results(copy), whole)
