"""The Linux runs of `make bench` (bench/bench.py's docstring says what is
measured): Debian's kernel and the test initramfs (docs/linux.md) booted on
one emulated machine bare, in a Tessera partition, or as Xen's PVH dom0
(bench/xen.py), then the workload typed at the shell, then `poweroff`.

Times are when a console line arrived on the console connection
(tests/harness/linux_guest.py's recorder), in seconds from the emulator's
start. Each run fills one LinuxRun.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test harness package, tests/harness/

from harness import linux_guest as g  # noqa: E402
from harness.hv_console import (BANNER, PART_BUILT, PART_EXITS,  # noqa: E402
                                PART_INJECTED, PART_STARTING, STARTING, for_part)
from harness.tessera_vm import (BUILD, BootFailure, Machine, bochs, hv_elf,  # noqa: E402
                                qemu)

import xen  # noqa: E402

RUNS = BUILD / "bench-runs"

PART = "linux"
CPUS = 2
MACHINE_MIB = 1024           # the emulated machine, every way
PART_MIB = 768               # the partition, and Xen's dom0
CMDLINE = "console=ttyS0,115200"
XEN_DOM0_CMDLINE = "console=hvc0"  # the same, on Xen's console for dom0
# The page-size series (--no-pages skips it): a partition of 1 GiB in a
# machine of 2 GiB, so that its RAM can be one 1 GiB page.
PAGES_MACHINE_MIB = 2048
PAGES_PART_MIB = 1024
PAGE_SIZES = ("4k", "2m", "1g")
# `workload CHUNKS MIB`: CHUNKS chunks of MIB MiB over the CPUs. Under QEMU
# four times the default, so that it runs a few seconds and noise matters
# less; the default under Bochs (--quick: everywhere).
WORKLOAD = {"qemu": (16, 4), "bochs": (g.WORKLOAD_CHUNKS, g.WORKLOAD_MIB)}
BOCHS_MODEL = "corei7_skylake_x"
BOCHS_IPS = 10_000_000       # tests/linux: boots fastest
# Seconds for each step; "try": for a typed command to start, "tries": how
# often it is typed (_command). Xen's dom0 boots slower under TCG.
TIMEOUT = {"qemu": {"ready": 180, "shell": 60, "workload": 240, "off": 60, "try": 15,
                    "tries": 3},
           "xen": {"ready": 420, "shell": 120, "workload": 600, "off": 120, "try": 30,
                   "tries": 3},
           "bochs": {"ready": 1200, "shell": 180, "workload": 900, "off": 180, "try": 90,
                     "tries": 3}}
CTRL_C = "\x03"
# Typing: (bytes a burst, seconds between bursts); None: the console's
# default (linux_guest: PtyConsole's suits Bochs).
TYPE_PACE = {"qemu": (1, 0.03), "bochs": (None, None)}

WORKLOAD_START = r"WORKLOAD START .*"
# The kernel's first line (bare, after what its set-up code printed on the
# same line).
KERNEL_FIRST_LINE = r"\[ *[0-9.]+\] Linux version .*"
KERNEL_POWER_DOWN = r"^(?:\[ *[0-9.]+\] )?reboot: Power down$"


@dataclass
class LinuxRun:
    kind: str = "bare"                   # bare | partition | xen
    label: str = ""                      # what the tables call it
    slat: str = ""                       # slat_max_page= given to Tessera
    boot_only: bool = False              # powered off after the check
    hv_wall: float | None = None         # emulator start to the hypervisor's first line, s
    banner_wall: float | None = None     # ... to the end of its bring-up (Tessera's banner), s
    built_wall: float | None = None      # ... to the partition's build (its line), s
    start_wall: float | None = None      # ... to the partition's (dom0's) start, s
    first_wall: float | None = None      # ... to the kernel's first console line, s
    ready_wall: float | None = None      # ... to READY, s
    kernel_wall: float | None = None     # the kernel's first console line to READY, s
    uptime: float | None = None          # the guest's uptime at READY, s
    work_guest: float | None = None      # the workload's seconds=
    work_wall: float | None = None       # its START line to its DONE line, s
    checksum: str = ""
    clocksource: str = ""                # the check's, right after READY
    workload: tuple = (g.WORKLOAD_CHUNKS, g.WORKLOAD_MIB)
    exits: dict = field(default_factory=dict)   # reason -> count (partition)
    irqs: int | None = None
    exceptions: int | None = None
    seconds: float = 0.0                 # the whole run
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """How one kind of run looks on the console."""
    prefix: str | None                   # a partition's name (its lines' prefix)
    hv_first: str | None = None          # the hypervisor's first line
    hv_steps: tuple = ()                 # (LinuxRun attribute, line) on the way
    guest_start: str | None = None       # its last line before the guest runs
    fail_on: tuple = ()                  # lines after which waiting is pointless
    stats: bool = False                  # Tessera prints exits at the stop
    limits: str = "qemu"                 # TIMEOUT's key


BARE = Target(None)
TESSERA = Target(PART, hv_first=STARTING,
                 hv_steps=(("banner_wall", BANNER), ("built_wall", for_part(PART_BUILT, PART))),
                 guest_start=for_part(PART_STARTING, PART), stats=True)
XEN = Target(None, hv_first=xen.XEN_FIRST_LINE, guest_start=xen.XEN_DOM0_START,
             fail_on=(xen.SOFT_LOCKUP,), limits="xen")


def parse_exits(text: str) -> dict:
    """'CPUID 12, I/O 345, external interrupt 7' -> {'CPUID': 12, ...}"""
    counts = {}
    for item in text.split(", "):
        reason, _, n = item.rpartition(" ")
        if reason and n.isdigit():
            counts[reason] = counts.get(reason, 0) + int(n)
    return counts


def workdir(name: str) -> Path:
    path = RUNS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def images(bochs_too: bool) -> str:
    """Builds what the Linux runs boot; returns an error, or ''."""
    targets = ["linux-images"] + (["linux-vmlinux"] if bochs_too else [])
    proc = subprocess.run(["make", "--no-print-directory", "-s"] + targets, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return f"make {' '.join(targets)} failed: {(proc.stdout + proc.stderr).strip()[-300:]}"
    return ""


def _conf(work: Path, kernel: str, part_mib: int) -> Path:
    conf = work / "hv.conf"
    conf.write_text(f"# written by bench/linux.py\n[hypervisor]\non_idle = poweroff\n\n"
                    f"[partition {PART}]\ncpus = 0-{CPUS - 1}\n"
                    f"memory = {part_mib}M\nkernel = {kernel}\ninitrd = initrd\n"
                    f"cmdline = {CMDLINE}\n")
    return conf


def _shell_ready(m: Machine, tty, part: str | None, timeout: float, pace: tuple) -> None:
    """Waits until the guest's shell runs what is typed: types a command
    whose output differs from its echo until that output appears (Ctrl-C
    first on a retry: a garbled line may have left the shell waiting for
    the rest of a command, see _command)."""
    deadline = time.monotonic() + timeout
    start = g.line_start(m)
    n = 0
    while time.monotonic() < deadline and m.running():
        n += 1
        if n > 1:
            tty.type(CTRL_C)
            time.sleep(0.2)
        tty.type_paced(f"echo BENCH-SYNC-$(({n} * 7))\n", *pace)
        retry = time.monotonic() + 3
        while time.monotonic() < retry:
            # Any of the lines typed so far: a slow shell may answer late.
            if m.find_all(g.guest_line(r"BENCH-SYNC-\d+", part), start):
                return
            time.sleep(0.05)
    m.fail(f"the guest's shell did not answer within {timeout:.0f} s")


def _command(m: Machine, tty, part: str | None, command: str, started: str,
             limit: dict, pace: tuple) -> None:
    """Types COMMAND at the shell until a line matching STARTED appears.
    Typed input can reach the guest short of a byte under Bochs, whose
    UART has no flow control (linux_guest.PtyConsole). The shell then says
    there is no such command, or waits for the rest of one (a closing
    parenthesis was lost): after LIMIT["try"] seconds
    without STARTED, Ctrl-C and type it again, LIMIT["tries"] times. PACE
    is (burst, gap) for type_paced."""
    unknown = g.guest_line(r"(?:-?sh: )?\S+: (?:not found|syntax error.*)", part)
    for attempt in range(limit["tries"]):
        if attempt:
            tty.type(CTRL_C)
            time.sleep(0.2)
        start = g.line_start(m)
        tty.type_paced(command + "\n", *pace)
        deadline = time.monotonic() + limit["try"]
        while time.monotonic() < deadline:
            exited = not m.running()  # before looking: the last lines count
            if m.find_all(started, start):
                return
            if m.find_all(unknown, start):
                break
            if exited:
                m.fail(f"the emulator exited after {command!r} was typed")
            time.sleep(0.05)
    m.fail(f"{command!r}: no /{started}/ after {limit['tries']} tries")


def _session(m: Machine, tty, t: Target, emulator: str, res: LinuxRun) -> None:
    """Boot to READY, the workload (unless res.boot_only), power-off: fills
    RES (raises BootFailure). Times are when the lines arrived (the
    recorder's watch), not when a poll of the console found them."""
    part = t.prefix
    limit = TIMEOUT["bochs" if emulator == "bochs" else t.limits]
    pace = TYPE_PACE[emulator]
    first = g.guest_line(KERNEL_FIRST_LINE, part) if part else KERNEL_FIRST_LINE
    events = {"kernel": first, "ready": g.ready(part),
              "work start": g.guest_line(WORKLOAD_START, part),
              "work done": g.workload_done(part)}
    if t.hv_first:
        events["hv"] = t.hv_first
    if t.guest_start:
        events["start"] = t.guest_start
    for attr, pattern in t.hv_steps:
        events[attr] = pattern
    seen = {k: tty.watch(p) for k, p in events.items()}

    def when(key: str) -> float:
        """Seconds from the emulator's start to the first line of KEY."""
        return seen[key][0][0] - m.started if seen[key] else m.elapsed()

    try:
        if t.guest_start:
            m.wait_for(t.guest_start, limit["ready"], fail_on=t.fail_on)
            res.start_wall = when("start")
            res.hv_wall = when("hv") if seen.get("hv") else None
            for attr, _ in t.hv_steps:
                setattr(res, attr, when(attr) if seen[attr] else None)
        m.wait_for(first if part else rf"^.*{KERNEL_FIRST_LINE}$", limit["ready"],
                   fail_on=t.fail_on)
        res.first_wall = when("kernel")
        m.wait_for(g.ready(part), limit["ready"], fail_on=t.fail_on)
        res.ready_wall = when("ready")
        res.kernel_wall = res.ready_wall - res.first_wall
        m.wait_for(g.check_done(part), limit["shell"], fail_on=t.fail_on)
        checks = g.parse_checks(m.transcript(), part)
        try:
            res.uptime = float(checks.get("uptime", ""))
        except ValueError:
            pass
        res.clocksource = checks.get("clocksource", "")
        _shell_ready(m, tty, part, limit["shell"], pace)
        if not res.boot_only:
            _command(m, tty, part, "workload {} {}".format(*res.workload),
                     events["work start"], limit, pace)
            done = m.wait_for(g.workload_done(part), limit["workload"],
                              fail_on=(g.guest_line(r"WORKLOAD FAIL.*", part),) + t.fail_on)
            res.work_wall = when("work done") - when("work start")
            res.work_guest = float(done["seconds"])
            res.checksum = done["checksum"]
    finally:
        for s in seen.values():
            tty.unwatch(s)
    _command(m, tty, part, "poweroff", g.announced("POWEROFF", part), limit, pace)
    if not t.stats:
        if emulator == "qemu":
            m.wait_exit(limit["off"])
        else:  # Bochs does not reliably exit on power-off (tessera_vm.bochs)
            m.wait_for(KERNEL_POWER_DOWN, limit["off"])
        return
    stop = m.wait_for(g.part_stopped(part), limit["off"])
    if stop["reason"] != "powered off (ACPI S5)":
        res.error = f"stopped: {stop['reason']}"
    injected = m.wait_for(for_part(PART_INJECTED, part), limit["off"])
    res.irqs, res.exceptions = int(injected["irqs"]), int(injected["exc"])
    # the exit counts come on one or more lines before that one
    for exits in m.find_all(for_part(PART_EXITS, part), stop.end(), injected.start()):
        for reason, n in parse_exits(exits["exits"]).items():
            res.exits[reason] = res.exits.get(reason, 0) + n
    m.wait_for(g.ON_IDLE_POWEROFF, limit["off"])
    if emulator == "qemu":
        m.wait_exit(limit["off"])


def run_qemu(kind: str, name: str, workload: tuple, *, slat: str = "",
             boot_only: bool = False, machine_mib: int = MACHINE_MIB,
             part_mib: int = PART_MIB) -> LinuxRun:
    """One QEMU boot (-M q35 -cpu EPYC -smp 2), bare, in a Tessera partition
    or as Xen's dom0 (KIND), to the power-off; run files in RUNS/NAME."""
    work = workdir(name)
    sock = work / "serial.sock"
    common = dict(cpu="EPYC", smp=CPUS, memory=f"{machine_mib}M", serial_socket=sock)
    res = LinuxRun(kind=kind, slat=slat, boot_only=boot_only, workload=workload)
    started = time.monotonic()
    tty = None
    try:
        if kind == "bare":
            # -initrd through extra: tessera_vm's modules are Multiboot modules.
            base = qemu(name, work, kernel=g.KERNEL, append=CMDLINE,
                        extra=["-initrd", str(g.INITRD_TEST)], **common)
            target = BARE
        elif kind == "partition":
            files = [(_conf(work, "vmlinuz", part_mib), "hv.conf"), (g.KERNEL, "vmlinuz"),
                     (g.INITRD_TEST, "initrd")]
            base = qemu(name, work, kernel=hv_elf(), modules=files,
                        append=f"slat_max_page={slat}" if slat else None, **common)
            target = TESSERA
        elif kind == "xen":
            iso = xen.make_iso(work / "xen.iso", g.KERNEL, g.INITRD_TEST, XEN_DOM0_CMDLINE)
            base = qemu(name, work, cdrom=iso, extra=xen.QEMU_EXTRA, **common)
            target = XEN
        else:
            raise ValueError(f"kind {kind!r}")
        m = g.GuestMachine.adopt(base)
        with m:
            # QEMU starts the machine once the console has connected.
            tty = g.ConsoleSocket(sock, m.console_path)
            m.recorder = tty
            _session(m, tty, target, "qemu", res)
            if slat and not m.find_all(rf"^hv: slat: .* at most {slat} "):
                res.error = f"the hypervisor did not take slat_max_page={slat}"
    except (BootFailure, OSError, subprocess.SubprocessError) as e:
        res.error = str(e).splitlines()[0] if str(e) else type(e).__name__
        stalled = re.search(xen.SOFT_LOCKUP, res.error) if kind == "xen" else None
        if stalled:
            res.error = (f"dom0 stalled before READY, after {time.monotonic() - started:.0f} s: "
                         f"'{stalled.group(0)}' (docs/performance.md: Xen)")
    finally:
        if tty is not None:
            tty.close()
        res.seconds = time.monotonic() - started
    return res


def _bare_bochs_iso(out: Path) -> None:
    """tools/guest/bare-boot.py's GRUB ISO: `linux` and `initrd`."""
    spec = importlib.util.spec_from_file_location(
        "bare_boot", ROOT / "tools" / "guest" / "bare-boot.py")
    bare_boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare_boot)
    bare_boot.make_iso(out, g.INITRD_TEST, CMDLINE)


def _bochs_iso(iso: Path, files: list[tuple[Path, str]]) -> None:
    """A GRUB ISO (tools/mkiso.sh) booting the hypervisor by Multiboot2."""
    argv = [str(ROOT / "tools" / "mkiso.sh"), "-o", str(iso), "-k", str(hv_elf()), "-t", "0",
            "-d", "0"] + [f"{p}:{n}" for p, n in files]
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=300)


def run_bochs(kind: str, workload: tuple) -> LinuxRun:
    """One Bochs corei7_skylake_x boot, bare (bzImage through GRUB) or in a
    partition (vmlinux through its PVH entry), to the power-off."""
    name = f"skylake-linux-{kind}"
    work = workdir(name)
    res = LinuxRun(kind=kind, workload=workload)
    started = time.monotonic()
    console = None
    try:
        iso = work / f"{kind}.iso"
        if kind == "bare":
            _bare_bochs_iso(iso)
            target = BARE
        else:
            files = [(_conf(work, "vmlinux", PART_MIB), "hv.conf"), (g.VMLINUX, "vmlinux"),
                     (g.INITRD_TEST, "initrd")]
            _bochs_iso(iso, files)
            target = TESSERA
        # It opens console.txt at the first byte, after Machine.start().
        console = g.PtyConsole(work / "console.txt")
        m = g.GuestMachine.adopt(
            bochs(name, work, model=BOCHS_MODEL, cpus=CPUS, memory_mib=MACHINE_MIB, cdrom=iso,
                  ips=BOCHS_IPS, serial_tty=console.slave_path))
        m.recorder = console
        if kind == "bare":
            # Linux reads MSRs Bochs does not model (tools/guest/bare-boot.py).
            rc = work / "bochsrc"
            rc.write_text(rc.read_text().replace("ignore_bad_msrs=0", "ignore_bad_msrs=1"))
        with m:
            _session(m, console, target, "bochs", res)
    except (BootFailure, OSError, subprocess.SubprocessError, SystemExit) as e:
        res.error = str(e).splitlines()[0] if str(e) else type(e).__name__
    finally:
        if console is not None:
            console.close()
        res.seconds = time.monotonic() - started
    return res

