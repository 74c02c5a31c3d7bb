"""Runs each host unit-test binary (built by `make unit-build`) as one test."""
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINS = sorted((ROOT / "build" / "unit").glob("test_*"))


@pytest.mark.parametrize("binary", BINS, ids=[b.name for b in BINS])
def test_unit(binary):
    proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out


def test_unit_binaries_exist():
    sources = sorted((ROOT / "tests" / "unit").glob("test_*.c"))
    assert sources, "no unit tests found"
    missing = [s.stem for s in sources if not (ROOT / "build" / "unit" / s.stem).exists()]
    assert not missing, f"unit tests not built: {missing}"
