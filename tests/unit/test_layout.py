"""The shape of the hypervisor's source (docs/architecture.md): the rules a
reader relies on to find their way, checked so that they stay true.

- hv/ keeps at most MAX_HV_ROOT_FILES files at its root; the rest is in
  folders by responsibility.
- In the core folders each .c implements the header of its own name.
- No vendor name (VT-x or AMD-V vocabulary) in code outside the backends,
  the second-level table formats and the backend selector.
- No macro is defined in two files; no source file is over MAX_LINES lines.
- drivers/ includes nothing of the core but the library and the hardware
  definitions.
- Every header compiles on its own.
"""
from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_HV_ROOT_FILES = 10
MAX_LINES = 1000
# Folders whose .c files each implement the header of the same name. The
# vendor backends (hv/vmx, hv/svm) implement their ops table across files.
CORE_FOLDERS = ("config", "console", "control", "cpu", "lib", "loader", "partition", "policy",
                "vcpu", "vdev", "mm", "insn", "ept")
VENDOR_WORDS = re.compile(
    r"(?i)(?<![a-z0-9])(vmx|vmcs|svm|vmcb|vmxon|vmrun|hsave|ept|npt)(?![a-z0-9])")
VENDOR_ALLOWED = re.compile(r"^hv/(vmx|svm|ept)/|^hv/virt\.c$")
DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
# The hypervisor's sources, and the test guests' library (which uses the
# hypervisor's hardware definitions instead of copies).
TREES = ("boot", "hv", "drivers", "tests/guests/lib")


def sources(*trees: str, suffixes=(".c", ".h")) -> list[Path]:
    return sorted(p for t in trees for p in (ROOT / t).rglob("*")
                  if p.suffix in suffixes and p.is_file())


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def code_only(text: str) -> str:
    """Comments and string literals blanked; line numbers kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def test_hv_root_is_small():
    files = sorted(p.name for p in (ROOT / "hv").iterdir() if p.is_file())
    assert len(files) <= MAX_HV_ROOT_FILES, \
        f"hv/ holds {len(files)} files at its root (at most {MAX_HV_ROOT_FILES}): {files}"


def test_each_core_c_has_its_header():
    missing = []
    for folder in CORE_FOLDERS:
        for c in sorted((ROOT / "hv" / folder).glob("*.c")):
            if not c.with_suffix(".h").exists():
                missing.append(rel(c))
    assert not missing, "these .c files have no header of their own name:\n  " + \
        "\n  ".join(missing)


def test_no_vendor_names_in_the_core():
    found = []
    for p in sources("boot", "hv", "drivers"):
        if VENDOR_ALLOWED.search(rel(p)):
            continue
        for n, line in enumerate(code_only(p.read_text()).split("\n"), 1):
            if line.lstrip().startswith("#include"):
                continue
            if VENDOR_WORDS.search(line.replace("_", " ")):
                found.append(f"{rel(p)}:{n}: {line.strip()}")
    assert not found, "vendor names outside hv/vmx, hv/svm, hv/ept and hv/virt.c:\n  " + \
        "\n  ".join(found)


def test_no_macro_defined_twice():
    where = defaultdict(set)
    for p in sources(*TREES):
        for name in DEFINE.findall(p.read_text()):
            where[name].add(rel(p))
    twice = {n: sorted(f) for n, f in where.items() if len(f) > 1}
    assert not twice, "macros defined in more than one file:\n  " + \
        "\n  ".join(f"{n}: {', '.join(f)}" for n, f in sorted(twice.items()))


def test_no_source_file_too_long():
    long_files = [f"{rel(p)}: {n} lines" for p in sources("boot", "hv", "drivers", "tools")
                  if (n := p.read_text().count("\n")) > MAX_LINES]
    assert not long_files, f"files over {MAX_LINES} lines:\n  " + "\n  ".join(long_files)


def test_drivers_reach_the_core_only_through_narrow_interfaces():
    bad = []
    for p in sources("drivers"):
        for inc in re.findall(r'#include "(hv/[^"]+)"', p.read_text()):
            if not inc.startswith(("hv/lib/", "hv/hw/")):
                bad.append(f"{rel(p)}: {inc}")
    assert not bad, "drivers/ includes core headers:\n  " + "\n  ".join(bad)


HEADERS = [rel(p) for p in sources("boot", "hv", "drivers", suffixes=(".h",))
           if not rel(p).startswith("boot/efi/")]


@pytest.mark.parametrize("header", HEADERS)
def test_header_compiles_alone(header, tmp_path):
    unit = tmp_path / "unit.c"
    unit.write_text(f'#include "{header}"\n')
    # The hypervisor's flags (Makefile CFLAGS), less code generation.
    cmd = ["gcc", "-std=c11", "-fsyntax-only", "-ffreestanding", "-Wall", "-Wextra",
           "-Werror", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
           "-Wvla", "-mgeneral-regs-only", "-I", str(ROOT), str(unit)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{header} does not compile on its own:\n{r.stderr}"
