"""Fixtures of the system tests: a work directory per test, emulators that
are always stopped, boot media made on demand, and a table of boot times at
the end of the run."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import tessera_vm
from harness.tessera_vm import BUILD, ROOT, Machine, hv_efi, hv_elf

MEDIA_DIR = BUILD / "test-media"
RUNS_DIR = BUILD / "test-runs"
DATA = Path(__file__).resolve().parent / "data"

_BOOTS = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a boot that takes more than a few seconds "
                            "(OVMF, PXE, Bochs); make test runs them all")
    config.addinivalue_line("markers", "bochs: runs under Bochs")
    config.addinivalue_line("markers", "uefi: runs under OVMF")
    config.stash[_BOOTS] = []


@pytest.fixture
def workdir(request) -> Path:
    """build/test-runs/TEST/: the run's console, logs and firmware state,
    kept after the run for a look."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    path = RUNS_DIR / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def machines():
    """Register every Machine here: each is killed when the test ends,
    whatever happened."""
    started: list[Machine] = []
    yield started
    for m in started:
        m.kill()


class Media:
    """Boot media for tests, made with the same scripts as `make iso`,
    `make pxe` (and tools/mkesp.sh) into build/test-media/, once per run
    for each set of files. FILES are paths or (path, name) pairs; the GRUB
    menu times out at once (timeout 0) on entry DEFAULT (0: Multiboot2,
    1: Multiboot1)."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.made: dict[tuple, Path] = {}

    @staticmethod
    def _specs(files) -> list[str]:
        specs = []
        for f in files:
            if isinstance(f, tuple):
                specs.append(f"{f[0]}:{f[1]}")
            else:
                specs.append(str(f))
        return specs

    def _make(self, kind: str, script: str, suffix: str, files, options: list[str]) -> Path:
        specs = self._specs(files)
        key = (kind, tuple(options), tuple(specs))
        if key not in self.made:
            digest = hashlib.sha1(repr(key).encode()).hexdigest()[:10]
            out = self.outdir / f"{kind}-{digest}{suffix}"
            self.outdir.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run([str(ROOT / "tools" / script), "-o", str(out)]
                                  + options + specs, cwd=ROOT, capture_output=True,
                                  text=True, timeout=300)
            if proc.returncode != 0:
                pytest.fail(f"tools/{script} failed:\n{proc.stdout}{proc.stderr}")
            self.made[key] = out
        return self.made[key]

    def iso(self, files=(), *, default: int = 0, timeout: int = 0) -> Path:
        return self._make("iso", "mkiso.sh", ".iso", files,
                          ["-k", str(hv_elf()), "-t", str(timeout), "-d", str(default)])

    def pxe(self, files=(), *, default: int = 0, timeout: int = 0) -> Path:
        return self._make("pxe", "mkpxe.sh", "", files,
                          ["-k", str(hv_elf()), "-t", str(timeout), "-d", str(default)])

    def esp(self, files=()) -> Path:
        return self._make("esp", "mkesp.sh", ".img", files, ["-e", str(hv_efi())])


@pytest.fixture(scope="session")
def media() -> Media:
    return Media(MEDIA_DIR)


@pytest.fixture(scope="session")
def idle_conf() -> Path:
    """An hv.conf with no partition (on_idle = poweroff)."""
    return DATA / "idle.conf"


@pytest.fixture
def boot_record(request):
    """Call with (label, machine, result-or-None) to put a boot in the
    table printed at the end of the run (and in the cross-path check)."""
    boots = request.config.stash[_BOOTS]

    def record(label: str, m: Machine, result=None):
        boots.append({"label": label, "marks": dict(m.marks), "result": result,
                      "total": m.elapsed() if m.started else 0.0})
    return record


@pytest.fixture
def recorded_boots(request) -> list:
    return request.config.stash[_BOOTS]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    boots = config.stash.get(_BOOTS, [])
    if not boots:
        return
    tr = terminalreporter
    tr.section("boot times (seconds since the emulator started)")
    tr.write_line(f"{'boot path':<36} {'starting':>9} {'banner':>7} {'on_idle':>8} "
                  f"{'exit':>6} {'total':>6}  result")
    for b in boots:
        marks = b["marks"]

        def col(key, width):
            return f"{marks[key]:>{width}.1f}" if key in marks else f"{'-':>{width}}"
        res = b["result"]
        what = (f"{res.loader} ({res.firmware}), {res.cpus} CPUs, {res.vendor}"
                if res else "no banner")
        tr.write_line(f"{b['label']:<36} {col('starting', 9)} {col('banner', 7)} "
                      f"{col('on_idle', 8)} {col('exit', 6)} {b['total']:>6.1f}  {what}")


@pytest.fixture(scope="session")
def guests() -> Path:
    """build/guests/, with every test guest built (make guests) once per
    run: the images that partitions boot (tests/guests/README.md)."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", "guests"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"make guests failed:\n{proc.stdout}{proc.stderr}")
    return BUILD / "guests"


__all__ = ["tessera_vm"]
