"""Fixtures of the Linux guest tests: the images built once per run (make
linux-images), a work directory per test, and a table of the bare boot
times at the end of the run (the baseline partitions are compared with)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness.tessera_vm import BUILD, ROOT

RUNS_DIR = BUILD / "test-runs" / "linux"
_TIMES = pytest.StashKey[list]()
_PART_TIMES = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a boot that takes more than a few seconds "
                            "(OVMF, PXE, Bochs); make test runs them all")
    config.addinivalue_line("markers", "bochs: runs under Bochs")
    config.stash[_TIMES] = []
    config.stash[_PART_TIMES] = []


@pytest.fixture(scope="session")
def linux_images() -> Path:
    """build/linux/ with the kernel and both initramfs images."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", "linux-images"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"make linux-images failed:\n{proc.stdout}{proc.stderr}")
    return BUILD / "linux"


@pytest.fixture
def linux_workdir(request) -> Path:
    """build/test-runs/linux/TEST/: console, socket and logs of the run."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    path = RUNS_DIR / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def boot_times(request):
    """Call with (label, {event: seconds}) to put a row in the table."""
    rows = request.config.stash[_TIMES]

    def record(label: str, times: dict):
        rows.append((label, dict(times)))
    return record


@pytest.fixture(scope="session")
def linux_vmlinux(linux_images) -> Path:
    """build/linux/vmlinux: the kernel uncompressed, for the PVH entry
    (make linux-vmlinux)."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", "linux-vmlinux"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"make linux-vmlinux failed:\n{proc.stdout}{proc.stderr}")
    return BUILD / "linux" / "vmlinux"


@pytest.fixture(scope="session")
def partition_times(request):
    """Call with (test, {step: seconds}) to put a row in the table of the
    partition tests' times printed at the end of the run."""
    rows = request.config.stash[_PART_TIMES]

    def record(label: str, times: dict):
        rows.append((label, dict(times)))
    return record


def _partition_summary(tr, rows) -> None:
    tr.section("Linux in partitions (seconds of real time)")
    for label, times in rows:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in times.items())
        tr.write_line(f"{label:<44} {steps}")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    part_rows = config.stash.get(_PART_TIMES, [])
    if part_rows:
        _partition_summary(terminalreporter, part_rows)
    rows = config.stash.get(_TIMES, [])
    if not rows:
        return
    tr = terminalreporter
    tr.section("bare Linux boots (seconds since QEMU started; guest uptime)")
    cols = ("ready", "uptime_at_check", "workload", "workload_guest", "exit")
    tr.write_line(f"{'run':<40} " + " ".join(f"{c:>15}" for c in cols))
    for label, times in rows:
        cells = [f"{times[c]:>15.2f}" if c in times else f"{'-':>15}" for c in cols]
        tr.write_line(f"{label:<40} " + " ".join(cells))
