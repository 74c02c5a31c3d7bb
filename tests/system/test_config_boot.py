"""The bad-configuration table at boot (SPEC.md 3): every tests/configs/bad-*
case, given to the hypervisor as its hv.conf module under QEMU (-kernel,
Multiboot1), must be rejected before anything starts, with one console line
per problem, `hv: hv.conf:LINE: MESSAGE`, then
`hv: configuration hv.conf rejected: nothing started`, then on_idle.

The cases' NAME.expect (tests/configs/README.md) lists the lines the host
tool prints for a described machine (`# args: --cpus N --memory SIZE
--iommu no`, `--no-files`) and the images to create (`# files:`). Here:

- the machine matches: -smp N (4 when not given) and -m SIZE plus a margin
  (1G when not given), for the hypervisor's own use and the firmware's;
  there is no IOMMU driver yet, so the machine has none, as `--iommu no`
  says;
- the images are modules: the `# files:` ones with their sizes, and with
  `--no-files` (the tool did not look for images) a 16-byte dummy for
  every kernel and initrd the file names, so that only the problems the
  case is about remain;
- the free RAM at boot is less than -m, and a message about memory names
  it (`more than the 2G available`): that amount is taken from the
  hypervisor's `hv: memory: ... M MiB free for partitions` line, rounded
  down as hv.conf messages round it.

Two checks per case: the lines of NAME.expect appear, in order (with the
available amount of this machine); and the lines the boot printed are
exactly those that `build/tools/hvconf check` prints for this very machine
and these files (`--cpus N --memory FREE --iommu no`), the same parser's
promise (SPEC.md 3) checked end to end, extra lines included.
"""
from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.hv_console import (CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED, HV_MEMORY,
                                ON_IDLE, PART_BUILT, PART_STARTING, STARTING)
from harness.tessera_vm import BUILD, ROOT, hv_elf, qemu

CONFIGS = ROOT / "tests" / "configs"
CASES = sorted(CONFIGS.glob("bad-*.conf"))
HVCONF = BUILD / "tools" / "hvconf"

DEFAULT_CPUS = 4
DEFAULT_MEMORY_MIB = 1024
# -m beyond the case's --memory: what firmware and the hypervisor keep, so
# that the RAM free for partitions is at least what the case describes.
MEMORY_MARGIN_MIB = 64
DEFAULT_FILE_SIZE = 16
IMAGE_KEYS = re.compile(r"^\s*(?:kernel|initrd)\s*=\s*(\S+)\s*$", re.M)
# "the 2G available", "the 2046M available" (config_format_size())
AVAILABLE = re.compile(r"\bthe (\d+[KMG]?) available\b")
SIZE_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
MiB = 1 << 20
MIN_CASES = 20


@dataclass
class Case:
    name: str
    conf: Path
    args: list = field(default_factory=list)
    files: dict = field(default_factory=dict)     # module name -> size
    lines: list = field(default_factory=list)     # expected "hv.conf:N: ..."

    def option(self, name: str) -> str | None:
        if name in self.args:
            i = self.args.index(name)
            return self.args[i + 1] if i + 1 < len(self.args) else None
        return None

    @property
    def cpus(self) -> int:
        return int(self.option("--cpus") or DEFAULT_CPUS)

    @property
    def memory_mib(self) -> int:
        given = self.option("--memory")
        if not given:
            return DEFAULT_MEMORY_MIB
        return parse_size(given) // MiB + MEMORY_MARGIN_MIB


def parse_size(text: str) -> int:
    if text[-1] in SIZE_UNITS:
        return int(text[:-1]) * SIZE_UNITS[text[-1]]
    return int(text)


def format_size(nbytes: int) -> str:
    """As the hypervisor writes a size (config_format_size())."""
    for unit in "GMK":
        if nbytes and nbytes % SIZE_UNITS[unit] == 0:
            return f"{nbytes // SIZE_UNITS[unit]}{unit}"
    return str(nbytes)


def read_case(conf: Path) -> Case:
    case = Case(conf.stem, conf)
    for raw in conf.with_suffix(".expect").read_text(encoding="utf-8").splitlines():
        if raw.startswith("# args:"):
            case.args = shlex.split(raw[len("# args:"):])
        elif raw.startswith("# files:"):
            for word in raw[len("# files:"):].split():
                name, _, size = word.partition(":")
                case.files[name] = int(size) if size else DEFAULT_FILE_SIZE
        elif raw.startswith("#") or not raw.strip():
            continue
        else:
            case.lines.append(raw)
    if "--no-files" in case.args:
        # the tool did not look for images: give every one the file names
        text = conf.read_bytes().decode("utf-8", "replace")
        for name in IMAGE_KEYS.findall(text):
            if "/" not in name and "," not in name:
                case.files.setdefault(name, DEFAULT_FILE_SIZE)
    return case


def test_enough_cases():
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} bad configurations in {CONFIGS}"


@pytest.fixture(scope="module")
def hvconf() -> Path:
    """The host tool, rebuilt if its sources changed (as tests/unit does)."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", str(HVCONF.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return HVCONF


def tool_lines(hvconf: Path, conf: Path, cpus: int, free_mib: int) -> list[str]:
    """What the host tool says of CONF (its images beside it) on a machine
    with CPUS CPUs, FREE_MIB MiB free and no IOMMU."""
    proc = subprocess.run([str(hvconf), "check", str(conf), "--cpus", str(cpus),
                           "--memory", f"{free_mib}M", "--iommu", "no"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 1, (f"hvconf accepts {conf} on this machine:\n"
                                  f"{proc.stdout.decode()}{proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "replace").splitlines()


def subsequence(want: list[str], got: list[str]) -> list[str]:
    """The lines of WANT that do not appear in GOT in WANT's order."""
    missing, pos = [], 0
    for line in want:
        try:
            pos = got.index(line, pos) + 1
        except ValueError:
            missing.append(line)
    return missing


@pytest.mark.parametrize("conf", CASES, ids=[c.stem for c in CASES])
def test_bad_config_at_boot(conf: Path, workdir, machines, hvconf):
    case = read_case(conf)
    assert case.lines, f"{conf.name}: the expect file lists no problem"
    target = workdir / "hv.conf"
    target.write_bytes(conf.read_bytes())
    modules = [(target, "hv.conf")]
    for name, size in sorted(case.files.items()):
        (workdir / name).write_bytes(b"\x90" * size)
        modules.append((workdir / name, name))

    m = qemu(case.name, workdir, smp=case.cpus, memory=f"{case.memory_mib}M",
             kernel=hv_elf(), modules=modules)
    machines.append(m)
    with m:
        m.wait_for(STARTING, 20, mark="starting")
        free_mib = int(m.wait_for(HV_MEMORY, 30)["free_mib"])
        m.wait_for(CONFIG_REJECTED, 30, fail_on=(CONFIG_ACCEPTED, PART_BUILT, PART_STARTING))
        idle = m.wait_for(ON_IDLE, 30, mark="on_idle")
        printed = [x["problem"] for x in m.find_all(CONFIG_PROBLEM)]
        rejected = m.find_all(CONFIG_REJECTED)[0]
        problems_end = max(x.end() for x in m.find_all(CONFIG_PROBLEM)) if printed else 0

        available = format_size(free_mib * MiB)
        want = [AVAILABLE.sub(f"the {available} available", line) for line in case.lines]
        missing = subsequence(want, printed)
        if missing:
            m.fail(f"{conf.name}: expected lines missing (or out of order) on the console, "
                   f"after 'hv: ':\n  " + "\n  ".join(missing))
        if problems_end > rejected.start():
            m.fail("a problem line follows the 'rejected' line")
        same = tool_lines(hvconf, target, case.cpus, free_mib)
        if printed != same:
            m.fail(f"{conf.name}: the boot printed other lines than "
                   f"'hvconf check --cpus {case.cpus} --memory {free_mib}M --iommu no' "
                   f"for the same files:\n  boot: {printed}\n  tool: {same}")
        m.assert_absent(PART_STARTING, "nothing may start")
        if idle["action"] == "poweroff":
            status = m.wait_exit(30)
            if status != 0:
                m.fail(f"QEMU exited with status {status} after power-off, expected 0")
