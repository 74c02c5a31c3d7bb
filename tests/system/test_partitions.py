"""Partitions side by side: what each guest sees, isolation, containment,
and the power-off that follows when the last partition stops (SPEC.md 3-6).

Each test boots the hypervisor once with an hv.conf written into its work
directory and the test guests (tests/guests/README.md) as modules, and
reads the partitions' verdicts from the console, where each partition's
lines carry its `[NAME] ` prefix:

- under QEMU (`-cpu EPYC`: AMD-V with NPT) through `-kernel` (Multiboot1);
- under Bochs `corei7_skylake_x` (VT-x with EPT) and `ryzen` (AMD-V with
  NPT, next-RIP save, flush-by-ASID) from a GRUB ISO (Multiboot2).

Several partitions share one boot wherever their checks do not interfere,
so that the Bochs runs (several seconds each) stay few. A verdict that
never comes fails at its timeout with the console transcript; a FAIL
verdict, an `hv: error:` line, a partition that stops when it should not,
or a hypervisor PANIC/EXCEPTION fail at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.hv_console import (BANNER, CANNOT_RUN, CONFIG_ACCEPTED, CONFIG_PROBLEM,
                                CONFIG_REJECTED, HV_ERROR, HV_TSC, ON_IDLE, PART_BUILT,
                                PART_DUMP, PART_EXITS, PART_RESTARTING, PART_STARTING,
                                PART_STOPPED, for_part, part_line, part_verdict)
from harness.tessera_vm import BUILD, Machine, bochs, hv_elf, qemu

MiB = 1 << 20


# -- the emulated machines ----------------------------------------------------

@dataclass(frozen=True)
class Emu:
    id: str
    emulator: str            # qemu | bochs
    model: str               # QEMU -cpu / Bochs cpu model
    vendor: str              # the banner's vendor path
    banner_timeout: float    # seconds from start to the banner
    guest_timeout: float     # seconds for a guest's verdict, a restart, ...
    beat_timeout: float      # seconds for a few more heartbeats


QEMU_SVM = Emu("qemu-epyc-svm", "qemu", "EPYC", "AMD-V with NPT", 30, 30, 10)
BOCHS_VMX = Emu("bochs-skylake-vmx", "bochs", "corei7_skylake_x", "VT-x with EPT",
                120, 120, 60)
BOCHS_SVM = Emu("bochs-ryzen-svm", "bochs", "ryzen", "AMD-V with NPT", 120, 120, 60)

# Bochs's TSC counts instructions and its emulated clock runs at ips
# (tessera_vm.bochs(): 10 M): a tsc_khz of ips/1000 makes the guests' 200 ms
# heartbeat 200 ms of emulated time, as the hypervisor's calibration sees it.
BOCHS_TSC_KHZ = 10_000

QEMU_MEMORY = "2G"
BOCHS_MEMORY_MIB = 512


def _emu_param(emu: Emu, *rest, id_suffix: str = ""):
    marks = [pytest.mark.slow, pytest.mark.bochs] if emu.emulator == "bochs" else []
    return pytest.param(emu, *rest, id=emu.id + id_suffix, marks=marks)


# -- hv.conf ------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One [partition NAME] running test guest GUEST (build/guests/GUEST.elf)."""
    name: str
    cpus: str
    memory: str              # a size hv.conf takes: "64M"
    guest: str
    cmdline: str = ""
    keys: tuple = ()         # further (key, value) pairs: on_crash, ...

    @property
    def kernel(self) -> str:
        return f"{self.guest}.elf"

    @property
    def memory_bytes(self) -> int:
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        return int(self.memory[:-1]) * units[self.memory[-1]]

    def section(self) -> str:
        lines = [f"[partition {self.name}]", f"cpus = {self.cpus}",
                 f"memory = {self.memory}", f"kernel = {self.kernel}"]
        if self.cmdline:
            lines.append(f"cmdline = {self.cmdline}")
        lines += [f"{k} = {v}" for k, v in self.keys]
        return "\n".join(lines) + "\n"


def conf_text(parts: list[Part]) -> str:
    return ("# written by tests/system/test_partitions.py\n"
            "[hypervisor]\non_idle = poweroff\n\n" + "\n".join(p.section() for p in parts))


# -- one boot -----------------------------------------------------------------

@dataclass
class Env:
    workdir: Path
    media: object
    guests: Path
    machines: list
    name: str


@pytest.fixture
def env(request, workdir, media, guests, machines) -> Env:
    return Env(workdir, media, guests, machines, request.node.name)


def launch(env: Env, emu: Emu, cpus: int, parts: list[Part]) -> Machine:
    """Writes hv.conf and starts EMU with CPUS CPUs, the hypervisor and its
    modules: hv.conf and the guests the partitions name."""
    conf = env.workdir / "hv.conf"
    conf.write_text(conf_text(parts))
    files = [(conf, "hv.conf")]
    for guest in sorted({p.guest for p in parts}):
        files.append((env.guests / f"{guest}.elf", f"{guest}.elf"))
    if emu.emulator == "qemu":
        m = qemu(env.name, env.workdir, cpu=emu.model, smp=cpus, memory=QEMU_MEMORY,
                 kernel=hv_elf(), modules=files)
    else:
        m = bochs(env.name, env.workdir, model=emu.model, cpus=cpus,
                  memory_mib=BOCHS_MEMORY_MIB, cdrom=env.media.iso(files))
    env.machines.append(m)
    return m.start()


def boot(env: Env, emu: Emu, cpus: int, parts: list[Part]) -> Machine:
    """Boots and checks the way in: the banner names EMU's vendor path, the
    configuration is accepted, and every partition is built as configured
    (its CPUs, its RAM, its kernel) and starts."""
    m = launch(env, emu, cpus, parts)
    banner = m.wait_for(BANNER, emu.banner_timeout, fail_on=(CANNOT_RUN,), mark="banner")
    if banner["vendor"] != emu.vendor:
        m.fail(f"the banner says {banner['vendor']!r}, expected {emu.vendor!r}")
    m.wait_for(CONFIG_ACCEPTED, 30, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
    for p in parts:
        built = m.wait_for(PART_BUILT, 30, fail_on=(HV_ERROR,))
        got = (built["name"], built["cpus"], int(built["mib"]) * MiB, built["kernel"])
        want = (p.name, p.cpus, p.memory_bytes, p.kernel)
        if got != want:
            m.fail(f"partition built as {got}, configured as {want}")
    for p in parts:
        started = m.wait_for(PART_STARTING, 30, fail_on=(HV_ERROR,))
        if started["name"] != p.name:
            m.fail(f"partition {started['name']} started, expected {p.name} next")
    return m


def no_stop(*names: str) -> tuple[str, ...]:
    """fail_on patterns: partitions NAMES stop, or the hypervisor errs."""
    return (HV_ERROR,) + tuple(rf"^hv: partition {re.escape(n)} stopped: .*$" for n in names)


def expect_pass(m: Machine, p: Part, timeout: float, details: str = "",
                fail_on: tuple = ()) -> re.Match:
    """Waits for P's verdict (whenever it came: partitions interleave) and
    checks it is PASS with details matching the regex DETAILS."""
    v = m.wait_for(part_verdict(p.name, p.guest), timeout, anywhere=True,
                   fail_on=fail_on or no_stop(p.name))
    if v["result"] != "PASS":
        m.fail(f"partition {p.name}: {p.guest} says FAIL: {v['details']}")
    if details and not re.search(details, v["details"] or ""):
        m.fail(f"partition {p.name}: {p.guest} PASS details {v['details']!r} "
               f"do not match /{details}/")
    return v


def heartbeats(m: Machine, name: str) -> list[int]:
    return [int(x[1]) for x in m.find_all(part_line(name, r"HEARTBEAT (\d+)$"))]


def beats_go_on(m: Machine, name: str, more: int, timeout: float) -> None:
    """Partition NAME prints MORE heartbeats after the last one seen so
    far, and its whole sequence is 1, 2, 3, ... without a gap (a gap: lost
    output or a partition that was restarted)."""
    seen = heartbeats(m, name)
    last = seen[-1] if seen else 0
    m.wait_for(part_line(name, rf"HEARTBEAT {last + more}$"), timeout, anywhere=True,
               fail_on=no_stop(name))
    beats = heartbeats(m, name)
    if beats != list(range(1, len(beats) + 1)):
        gaps = [(a, b) for a, b in zip(beats, beats[1:]) if b != a + 1]
        m.fail(f"partition {name}: heartbeats not consecutive, jumps {gaps[:5]}")


def no_hypervisor_fault(m: Machine) -> None:
    m.assert_absent(r"^hv: (PANIC|EXCEPTION).*$", "the hypervisor faulted")
    m.assert_absent(HV_ERROR)


def crash_dump_printed(m: Machine, name: str) -> None:
    """The dump that goes with a crash: a header per vCPU, then its
    registers, general-purpose and the vendor's (RIP in both)."""
    dump = m.wait_for(for_part(PART_DUMP, name), 10, anywhere=True)
    after = dump.end()
    for reg in ("rax", "rip"):
        if not m.find_all(rf"^hv:\s+{reg} [0-9a-f]{{16}}\b", after):
            m.fail(f"partition {name}: the crash dump has no {reg} line")


# -- the TSC frequency under QEMU -----------------------------------------------

@pytest.fixture(scope="session")
def qemu_tsc_khz(idle_conf) -> int:
    """The TSC frequency the hypervisor measures under QEMU (`hv: tsc: N
    kHz`, from a boot with no partition), so that the guests' heartbeat is
    200 ms of real time: under TCG the TSC is the host's, and without a
    tsc_khz= the guests would assume 1 GHz."""
    work = BUILD / "test-runs" / "qemu-tsc-khz"
    work.mkdir(parents=True, exist_ok=True)
    m = qemu("qemu-tsc-khz", work, kernel=hv_elf(), modules=[(idle_conf, "hv.conf")])
    with m:
        return int(m.wait_for(HV_TSC, 30)["khz"])


def tsc_khz_for(emu: Emu, request) -> int:
    if emu.emulator == "bochs":
        return BOCHS_TSC_KHZ
    return request.getfixturevalue("qemu_tsc_khz")


# -- 1. each partition sees exactly its CPUs and its RAM --------------------------

def _mem_details(size: str, mib: int) -> str:
    return rf"^mem={mib * MiB} \({size}\) checked=\d+"


@dataclass(frozen=True)
class ViewCase:
    cpus: int                        # the machine's
    parts: tuple                     # (Part, PASS details regex) pairs


# QEMU -smp 4: the two-partition layout side by side, then the CPUID and
# policy views with a third, one-CPU partition.
QEMU_VIEW = {
    "smp-memory": ViewCase(4, (
        (Part("a", "0-1", "64M", "smp", "cpus=2"), r"^cpus=2 ids=0,1$"),
        (Part("b", "2-3", "96M", "memory", "mem=96M"), _mem_details("96M", 96)),
    )),
    "cpuid-policy-memory": ViewCase(4, (
        (Part("a", "0-1", "32M", "cpuid", "expect_hv=1 cpus=2"),
         r"vendor=AuthenticAMD cpus=2 hv=TesseraHV"),
        (Part("b", "2", "32M", "policy", "expect_hv=1"), r"wrmsr:0x6e1=#GP"),
        (Part("c", "3", "34M", "memory", "mem=34M"), _mem_details("34M", 34)),
    )),
}


def _bochs_view(vendor: str) -> dict[str, ViewCase]:
    # Two CPUs, two one-CPU partitions; then three CPUs for a two-CPU
    # partition (INIT-SIPI-SIPI inside) beside the policy guest.
    return {
        "cpuid-memory": ViewCase(2, (
            (Part("a", "0", "32M", "cpuid", "expect_hv=1 cpus=1"),
             rf"vendor={vendor} cpus=1 hv=TesseraHV"),
            (Part("b", "1", "40M", "memory", "mem=40M"), _mem_details("40M", 40)),
        )),
        "smp-policy": ViewCase(3, (
            (Part("a", "0-1", "32M", "smp", "cpus=2"), r"^cpus=2 ids=0,1$"),
            (Part("b", "2", "32M", "policy", "expect_hv=1"), r"wrmsr:0x6e1=#GP"),
        )),
    }


VIEW_CASES = (
    [_emu_param(QEMU_SVM, case, id_suffix=f"-{key}") for key, case in QEMU_VIEW.items()]
    + [_emu_param(BOCHS_VMX, case, id_suffix=f"-{key}")
       for key, case in _bochs_view("GenuineIntel").items()]
    + [_emu_param(BOCHS_SVM, case, id_suffix=f"-{key}")
       for key, case in _bochs_view("AuthenticAMD").items()]
)


@pytest.mark.parametrize("emu, case", VIEW_CASES)
def test_guest_view(emu: Emu, case: ViewCase, env):
    """Every partition's guest PASSes: smp (its CPUs start by INIT-SIPI-SIPI
    and CPUID counts exactly them), cpuid with expect_hv=1 (the count, the
    TesseraHV leaf, no VMX/SVM/MONITOR), policy with expect_hv=1 (unowned
    ports all-ones, unknown and virtualization MSRs #GP) and memory (its
    map holds exactly the partition's RAM, and all of it reads back)."""
    parts = [p for p, _ in case.parts]
    m = boot(env, emu, case.cpus, parts)
    for p, details in case.parts:
        expect_pass(m, p, emu.guest_timeout, details, fail_on=no_stop(*(q.name for q in parts)))
    no_hypervisor_fault(m)


# -- 2. isolation ----------------------------------------------------------------

MARKER = "0x7e55e7a15011a7ed"
SCANNER_PASS = (r"^marker not found, scanned (?P<points>\d+) addresses, (?P<ones>\d+) "
                r"outside RAM read all-ones \((?P<outside>\d+) outside RAM in all")
# Points outside RAM that may read other than all-ones: windows of virtual
# devices a partition may be given later (a host bridge's ECAM), that the
# 16M stride can hit. Everything else the partition does not own is open bus.
OUTSIDE_NOT_ONES_MAX = 8


def check_scanner(m: Machine, scanner: Part, marker: Part, timeout: float) -> None:
    """The scanner PASSes (it never saw the marker), it read outside its
    RAM and what it read there was all-ones, and it scanned only after the
    marker was in place."""
    v = expect_pass(m, scanner, timeout, SCANNER_PASS, fail_on=no_stop(scanner.name, marker.name))
    d = re.search(SCANNER_PASS, v["details"])
    outside, ones = int(d["outside"]), int(d["ones"])
    if not ones or outside - ones > OUTSIDE_NOT_ONES_MAX:
        m.fail(f"scanner: {ones} of {outside} reads outside its RAM were all-ones")
    placed = m.find_all(part_line(marker.name, r"MARKER placed .*$"))
    scan = m.find_all(part_line(scanner.name, r"scanner: scanning .*$"))
    if not placed or not scan or placed[0].start() > scan[0].start():
        m.fail("the scanner did not start after the marker was placed "
               "(the check would prove nothing)")


def test_isolation(env, qemu_tsc_khz):
    """Partition a writes a marker all over its RAM, then heartbeats;
    partition b reads its whole guest-physical space below 4 GiB every
    16 MiB (each read outside its RAM an exit) and must neither find the
    marker nor read anything but all-ones where it has no RAM. Partition a
    goes on beating through and after the scan, and the hypervisor does not
    fault. The marker is on CPUs 2-3 so that it runs while the scanner's
    partition is still being built on CPU 0, and so is in place first."""
    a = Part("a", "2-3", "64M", "marker", f"marker={MARKER} tsc_khz={qemu_tsc_khz}")
    b = Part("b", "0-1", "64M", "scanner", f"marker={MARKER} stride=16M")
    m = boot(env, QEMU_SVM, 4, [a, b])
    expect_pass(m, a, QEMU_SVM.guest_timeout, rf"marker={MARKER[2:]}", fail_on=no_stop("a", "b"))
    check_scanner(m, b, a, QEMU_SVM.guest_timeout)
    beats_go_on(m, "a", 3, QEMU_SVM.beat_timeout)
    no_hypervisor_fault(m)


# -- 3. containment ------------------------------------------------------------------

def check_crash_stop(m: Machine, emu: Emu, victim: str, survivor: str) -> None:
    """VICTIM stops on its triple fault with a dump, stays stopped and
    silent; SURVIVOR beats on, without a gap."""
    stop = m.wait_for(PART_STOPPED, emu.guest_timeout, anywhere=True, fail_on=no_stop(survivor))
    if stop["name"] != victim or stop["reason"] != "triple fault":
        m.fail(f"expected 'partition {victim} stopped: triple fault', got {stop.group(0)!r}")
    crash_dump_printed(m, victim)
    m.wait_for(for_part(PART_EXITS, victim), 10, anywhere=True)
    after = stop.end()
    beats_go_on(m, survivor, 3, emu.beat_timeout)
    if m.find_all(PART_RESTARTING):
        m.fail(f"partition {victim} restarted with on_crash = stop")
    late = m.find_all(part_line(victim, ".*$"), after)
    if late:
        m.fail(f"partition {victim} printed after it stopped: {late[0].group(0)!r}")


def check_crash_restart(m: Machine, emu: Emu, victim: str, survivor: str,
                        restarts: int = 2) -> None:
    """VICTIM crashes, is dumped and restarts RESTARTS times, booting its
    guest afresh each time; SURVIVOR beats on, without a gap."""
    for n in range(1, restarts + 1):
        m.wait_for(rf"^hv: partition {re.escape(victim)}: restarting \(restart {n}\)$",
                   emu.guest_timeout, anywhere=True, fail_on=no_stop(survivor))
    others = [r.group(0) for r in m.find_all(PART_RESTARTING) if r["name"] != victim]
    if others:
        m.fail(f"only {victim} should restart: {others}")
    stops = [s for s in m.find_all(PART_STOPPED) if s["name"] == victim]
    if len(stops) < restarts or any(s["reason"] != "triple fault" for s in stops):
        m.fail(f"partition {victim}: stop lines {[s.group(0) for s in stops]}")
    crash_dump_printed(m, victim)
    # the guest booted again after the last restart (from the pristine image)
    m.wait_for(part_line(victim, r"GUEST triplefault: start.*$"), emu.guest_timeout)
    starts = m.find_all(part_line(victim, r"GUEST triplefault: start.*$"))
    if len(starts) < restarts + 1:
        m.fail(f"partition {victim}: its guest started {len(starts)} times "
               f"for {restarts} restarts")
    beats_go_on(m, survivor, 3, emu.beat_timeout)


@pytest.mark.parametrize("on_crash", ["stop", "restart"])
def test_containment(on_crash, env, qemu_tsc_khz):
    """Partition b triple-faults; with on_crash = stop it stops (and
    stays stopped), with on_crash = restart it comes back, at least twice.
    Either way the crash dump is printed and partition a's heartbeats go
    on, numbered without a gap."""
    a = Part("a", "0-1", "64M", "heartbeat", f"tsc_khz={qemu_tsc_khz}")
    b = Part("b", "2-3", "64M", "triplefault", f"delay=2 tsc_khz={qemu_tsc_khz}",
             keys=(("on_crash", on_crash),))
    m = boot(env, QEMU_SVM, 4, [a, b])
    if on_crash == "stop":
        check_crash_stop(m, QEMU_SVM, "b", "a")
    else:
        check_crash_restart(m, QEMU_SVM, "b", "a")
    no_hypervisor_fault(m)


# Bochs 2.7 cannot show a triple fault inside an SVM guest: it ends the
# whole simulation there ("3rd (13) exception with no resolution", a PANIC,
# whatever the panic action) before it looks at the SHUTDOWN intercept. Its
# VMX path takes the triple-fault VM exit first. So under Bochs ryzen the
# isolation check runs alone; QEMU covers the SVM crash path.
@pytest.mark.parametrize("emu, crash", [
    _emu_param(BOCHS_VMX, True, id_suffix="-isolation-containment"),
    _emu_param(BOCHS_SVM, False, id_suffix="-isolation"),
])
def test_isolation_bochs(emu: Emu, crash: bool, env):
    """The isolation check on each Bochs vendor path: a places the marker
    and beats, b scans for it; with CRASH, c on a third CPU triple-faults
    and is restarted twice meanwhile. a's heartbeats go on without a gap.
    The scanner is on CPU 0, which builds the partitions before it runs its
    own: the marker is in place by then."""
    tsc = BOCHS_TSC_KHZ
    a = Part("a", "1", "32M", "marker", f"marker={MARKER} tsc_khz={tsc}")
    b = Part("b", "0", "32M", "scanner", f"marker={MARKER} stride=16M")
    parts = [a, b]
    if crash:
        parts.append(Part("c", "2", "32M", "triplefault", f"delay=2 tsc_khz={tsc}",
                          keys=(("on_crash", "restart"),)))
    m = boot(env, emu, len(parts), parts)
    expect_pass(m, a, emu.guest_timeout, rf"marker={MARKER[2:]}", fail_on=no_stop("a", "b"))
    check_scanner(m, b, a, emu.guest_timeout)
    if crash:
        check_crash_restart(m, emu, "c", "a")
    else:
        beats_go_on(m, "a", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# -- 4. when the last partition stops: on_idle -----------------------------------------

def test_last_stop_follows_on_idle(env):
    """The only partition triple-faults with on_crash = stop: the
    hypervisor reports it, its exit counts, then follows on_idle =
    poweroff, and QEMU exits by itself (ACPI S5) with status 0."""
    t = Part("t", "0-1", "32M", "triplefault", "delay=1", keys=(("on_crash", "stop"),))
    m = boot(env, QEMU_SVM, 2, [t])
    stop = m.wait_for(PART_STOPPED, QEMU_SVM.guest_timeout)
    if (stop["name"], stop["reason"]) != ("t", "triple fault"):
        m.fail(f"expected 'partition t stopped: triple fault', got {stop.group(0)!r}")
    exits = m.wait_for(PART_EXITS, 10)
    if exits["name"] != "t" or not re.search(r"\bI/O \d+", exits["exits"]):
        m.fail(f"the exit counts should include the vUART's I/O: {exits.group(0)!r}")
    idle = m.wait_for(ON_IDLE, 10, mark="on_idle")
    if idle["action"] != "poweroff":
        m.fail(f"on_idle is {idle['action']}, expected poweroff")
    status = m.wait_exit(30)
    if status != 0:
        m.fail(f"QEMU exited with status {status} after power-off, expected 0")
    no_hypervisor_fault(m)
