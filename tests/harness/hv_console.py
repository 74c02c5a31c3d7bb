"""What the hypervisor prints when it boots, and the checks on it.

The lines (the hypervisor's console contract for bring-up):

    hv: Tessera 0.1 starting (LOADER, image at 0x...)    LOADER: multiboot1 |
                                                          multiboot2 | uefi
    hv: cpu N: online, apic id A                          one per CPU
    hv: svm: AMD-V, NPT yes, next-RIP save no, ...        or
    hv: vmx: VT-x, EPT yes, VPID yes, unrestricted guest yes, EPT A/D yes
    hv: Tessera 0.1: booted via LOADER (FIRMWARE), N CPUs online, M MiB RAM,
        VENDOR on all CPUs                                FIRMWARE: BIOS | UEFI
    hv: cannot run partitions: REASON                     instead of the banner
    hv: no configuration: no module or file named hv.conf
    hv: on_idle: poweroff                                 then ACPI S5
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .tessera_vm import FIRMWARE_PREFIX, Machine

# The first line may follow firmware output that ended without a newline.
STARTING = (rf"^{FIRMWARE_PREFIX}hv: Tessera (?P<version>\S+) starting \((?P<loader>[\w-]+), "
            r"image at (?P<image>0x[0-9a-fA-F]+)\)$")
CPU_ONLINE = r"^hv: cpu (?P<cpu>\d+): online, apic id (?P<apic>\w+)$"
EXTENSION = r"^hv: (?P<ext>svm|vmx): (?P<features>.*)$"
BANNER = (r"^hv: Tessera (?P<version>\S+): booted via (?P<loader>[\w-]+) "
          r"\((?P<firmware>\w+)\), (?P<cpus>\d+) CPUs? online, (?P<ram>\d+) MiB RAM, "
          r"(?P<vendor>.+) on all CPUs$")
CANNOT_RUN = r"^hv: cannot run partitions: .*$"
NO_CONFIG = r"^hv: no configuration: no module or file named hv\.conf$"
ON_IDLE = r"^hv: on_idle: (?P<action>\w+)$"


@dataclass(frozen=True)
class Platform:
    """An emulated machine and what the hypervisor must find on it."""
    name: str
    emulator: str                 # qemu | bochs
    cpus: int
    memory_mib: int               # what the machine has
    vendor: str                   # the banner's VENDOR
    extension: str                # svm | vmx
    features: tuple               # (feature, "yes"/"no") pairs that must hold

    def ram_ok(self, mib: int) -> bool:
        # Firmware keeps some RAM for itself (OVMF most): accept 85-100 %.
        return self.memory_mib * 85 // 100 <= mib <= self.memory_mib


# PLATFORMS.md: TCG's SVM has NPT but no next-RIP save, decode assists or
# flush-by-ASID; Bochs corei7_skylake_x has EPT, VPID, unrestricted guest and
# EPT A/D; Bochs ryzen has NPT, next-RIP save and flush-by-ASID. Only the
# features those notes vouch for are asserted.
QEMU_EPYC = Platform("QEMU q35 -cpu EPYC -smp 4 -m 2G", "qemu", cpus=4, memory_mib=2048,
                     vendor="AMD-V with NPT", extension="svm",
                     features=(("NPT", "yes"),))
BOCHS_SKYLAKE = Platform("Bochs corei7_skylake_x x2, 512M", "bochs", cpus=2, memory_mib=512,
                         vendor="VT-x with EPT", extension="vmx",
                         features=(("EPT", "yes"), ("unrestricted guest", "yes"),
                                   ("VPID", "yes"), ("EPT A/D", "yes")))
BOCHS_RYZEN = Platform("Bochs ryzen x2, 512M", "bochs", cpus=2, memory_mib=512,
                       vendor="AMD-V with NPT", extension="svm",
                       features=(("NPT", "yes"), ("next-RIP save", "yes"),
                                 ("flush-by-ASID", "yes")))


@dataclass
class BootResult:
    """What one boot reported (for the cross-path comparison and the
    timing table)."""
    loader: str = ""
    firmware: str = ""
    cpus: int = 0
    ram_mib: int = 0
    vendor: str = ""
    extension: str = ""
    features: dict = field(default_factory=dict)

    def identity(self) -> tuple:
        """What must not depend on the boot path."""
        return (self.cpus, self.vendor, self.extension, tuple(sorted(self.features.items())))


def parse_features(text: str) -> tuple[str, dict]:
    """'AMD-V, NPT yes, next-RIP save no' -> ('AMD-V', {'NPT': 'yes', ...})."""
    items = [s.strip() for s in text.split(",")]
    features = {}
    for item in items[1:]:
        name, _, value = item.rpartition(" ")
        features[name] = value
    return items[0], features


def check_starting(m: Machine, loader: str, timeout: float):
    """Waits for the first line and checks the loader it names."""
    start = m.wait_for(STARTING, timeout, mark="starting")
    if start["loader"] != loader:
        m.fail(f"the hypervisor says it was started by {start['loader']}, "
               f"expected {loader}")
    return start


def check_boot(m: Machine, platform: Platform, loader: str, firmware: str, *,
               start_timeout: float, banner_timeout: float) -> BootResult:
    """The bring-up checks every boot path shares: the first line names the
    loader; every CPU reports online; the vendor extension line shows the
    platform's features; the banner names the loader, the firmware, the CPU
    count, the RAM and the vendor path."""
    start = check_starting(m, loader, start_timeout)
    banner = m.wait_for(BANNER, banner_timeout, fail_on=(CANNOT_RUN,), mark="banner")
    res = BootResult(loader=banner["loader"], firmware=banner["firmware"],
                     cpus=int(banner["cpus"]), ram_mib=int(banner["ram"]),
                     vendor=banner["vendor"])
    problems = []
    if banner["version"] != start["version"]:
        problems.append(f"banner version {banner['version']} != {start['version']}")
    if res.loader != loader:
        problems.append(f"banner says booted via {res.loader}, expected {loader}")
    if res.firmware != firmware:
        problems.append(f"banner says firmware {res.firmware}, expected {firmware}")
    if res.cpus != platform.cpus:
        problems.append(f"banner says {res.cpus} CPUs online, the machine has {platform.cpus}")
    if not platform.ram_ok(res.ram_mib):
        problems.append(f"banner says {res.ram_mib} MiB RAM, the machine has "
                        f"{platform.memory_mib} MiB")
    if res.vendor != platform.vendor:
        problems.append(f"banner says {res.vendor!r}, expected {platform.vendor!r}")

    online = m.find_all(CPU_ONLINE, start.end(), banner.start())
    cpus = [int(x["cpu"]) for x in online]
    apics = [x["apic"] for x in online]
    if sorted(cpus) != list(range(platform.cpus)):
        problems.append(f"CPUs reported online: {sorted(cpus)}, expected 0-{platform.cpus - 1}")
    if len(set(apics)) != len(apics):
        problems.append(f"APIC IDs not unique: {apics}")

    ext = m.find_all(EXTENSION, start.end(), banner.start())
    if len(ext) != 1:
        problems.append(f"expected one 'hv: svm:' or 'hv: vmx:' line, found {len(ext)}")
    else:
        res.extension = ext[0]["ext"]
        name, res.features = parse_features(ext[0]["features"])
        want_name = {"svm": "AMD-V", "vmx": "VT-x"}[platform.extension]
        if res.extension != platform.extension or name != want_name:
            problems.append(f"vendor extension {res.extension} ({name}), expected "
                            f"{platform.extension} ({want_name})")
        for feature, value in platform.features:
            if res.features.get(feature) != value:
                problems.append(f"{res.extension}: '{feature}' is "
                                f"{res.features.get(feature, 'missing')}, expected {value}")
    if problems:
        m.fail("; ".join(problems))
    return res


def check_idle_poweroff(m: Machine, *, config: bool, timeout: float,
                        exits: bool, exit_timeout: float = 30) -> None:
    """After the banner, with no partition to run: without a configuration
    the hypervisor says so; either way it follows on_idle = poweroff, and
    QEMU (exits=True) then exits by itself through ACPI S5."""
    if not config:
        m.wait_for(NO_CONFIG, timeout)
    idle = m.wait_for(ON_IDLE, timeout, mark="on_idle")
    if idle["action"] != "poweroff":
        m.fail(f"on_idle is {idle['action']}, expected poweroff")
    if config:
        m.assert_absent(NO_CONFIG, "the hv.conf module or file was given")
    if exits:
        status = m.wait_exit(exit_timeout)
        m.marks["exit"] = m.elapsed()
        if status != 0:
            m.fail(f"QEMU exited with status {status} after power-off, expected 0")


# -- partitions (SPEC.md 3-5) ------------------------------------------------
#
#   hv: memory: hypervisor uses N KiB, M MiB free for partitions
#   hv: configuration hv.conf: N partitions         or, for a bad one:
#   hv: hv.conf:LINE: MESSAGE                       one per problem, then
#   hv: configuration hv.conf rejected: nothing started
#   hv: partition NAME: cpus LIST, N MiB at host 0x..., kernel FILE
#   hv: partition NAME: starting
#   [NAME] ...                                      the partition's vUART
#   hv: partition NAME stopped: REASON
#   hv: partition NAME: vCPU N state:               the crash dump, then
#   hv:   rax ... / rip ... lines
#   hv: partition NAME: exits: REASON COUNT, ...     on one or more lines
#   hv: partition NAME: interrupts injected N, exceptions injected M
#   hv: partition NAME: restarting (restart N)

PART_NAME = r"[a-z0-9_-]{1,16}"
HV_TSC = r"^hv: tsc: (?P<khz>\d+) kHz"
HV_MEMORY = (r"^hv: memory: hypervisor uses (?P<kib>\d+) KiB, (?P<free_mib>\d+) MiB "
             r"free for partitions$")
HV_ERROR = r"^hv: error: .*$"
CONFIG_ACCEPTED = r"^hv: configuration hv\.conf: (?P<count>\d+) partitions?$"
CONFIG_PROBLEM = r"^hv: (?P<problem>hv\.conf:\d+: .*)$"
CONFIG_REJECTED = r"^hv: configuration hv\.conf rejected: nothing started$"
PART_BUILT = (rf"^hv: partition (?P<name>{PART_NAME}): cpus (?P<cpus>[0-9,-]+), "
              r"(?P<mib>\d+) MiB at host (?P<host>0x[0-9a-f]+), kernel (?P<kernel>[^,\n]+)"
              r"(?:, initrd (?P<initrd>.+))?$")
PART_STARTING = rf"^hv: partition (?P<name>{PART_NAME}): starting$"
PART_STOPPED = rf"^hv: partition (?P<name>{PART_NAME}) stopped: (?P<reason>.*)$"
PART_RESTARTING = (rf"^hv: partition (?P<name>{PART_NAME}): restarting "
                   r"\(restart (?P<count>\d+)\)$")
PART_EXITS = rf"^hv: partition (?P<name>{PART_NAME}): exits: (?P<exits>.*)$"
PART_INJECTED = (rf"^hv: partition (?P<name>{PART_NAME}): interrupts injected (?P<irqs>\d+), "
                 r"exceptions injected (?P<exc>\d+)$")
PART_DUMP = rf"^hv: partition (?P<name>{PART_NAME}): vCPU (?P<vcpu>\d+) state:$"


def part_line(name: str, text: str) -> str:
    """A line partition NAME wrote to its vUART; TEXT is a regex."""
    return rf"^\[{re.escape(name)}\] {text}"


def part_verdict(name: str, guest: str) -> str:
    """A test guest's verdict line (tests/guests/README.md) in partition NAME."""
    return part_line(name, rf"VERDICT {re.escape(guest)}: (?P<result>PASS|FAIL)"
                     r"(?: (?P<details>.*))?$")


def for_part(pattern: str, name: str) -> str:
    """One of the PART_* patterns, for partition NAME only."""
    return pattern.replace(f"(?P<name>{PART_NAME})", f"(?P<name>{re.escape(name)})")
