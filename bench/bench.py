#!/usr/bin/python3
"""Tessera's benchmarks (`make bench`; not part of `make test`): what a
partition costs, measured by the test guests (tests/guests/README.md) run
bare and inside a one-CPU partition on the same emulated machine, and what
the hypervisor itself weighs. Prints one table; asserts nothing about time.

(a) Exit cost: `exitcost.elf n=N` times N CPUIDs between two RDTSCs. Bare
    a CPUID is an instruction; in a partition each is a VM exit, handled by
    the hypervisor, and a re-entry.
    - Bochs (corei7_skylake_x: VT-x; ryzen: AMD-V): the TSC counts emulated
      instructions, so TSC per CPUID in the partition minus bare is the
      instructions of one exit round trip, guest and hypervisor together.
    - QEMU (-cpu EPYC, TCG: AMD-V): the TSC is the host's, so the partition's
      TSC per CPUID at the frequency the hypervisor measured (`hv: tsc: N
      kHz`) gives exits per second; the TSC ratio partition/bare shows the
      price of an exit against the instruction.
(b) Compute: `compute.elf` (a random walk over a buffer, loads and stores
    that defeat caches and TLB) bare and in a partition; the ratio of their
    TSC counts (partition/bare) is the overhead of running under the
    hypervisor (second-level paging, timer and console exits). Both runs
    print the same checksum, or the table says not.
(c) Footprint: the hypervisor's own RAM, from `hv: memory: hypervisor uses
    N KiB`, for several CPU counts under QEMU (and at one CPU under Bochs),
    and its size in lines of code (`make cloc`).
(d) Linux (docs/linux.md): Debian's kernel and the test initramfs
    (`make linux-images`, which this script runs) booted bare and in a
    partition under the same emulator, with the QEMU platform: `-M q35
    -cpu EPYC -smp 2 -m 1G`, bare with `-kernel vmlinuz -initrd
    initrd-test.cpio.gz -append console=ttyS0`, and the hypervisor with a
    one-partition configuration that owns both CPUs and 768M of the 1G
    (the same bzImage and initramfs as modules). Bare and partition boots
    alternate, --linux-runs times each (3; 1 with --quick), and the table
    gives medians (each run's values follow it) and the ratio
    partition/bare of:
    - boot to user space, wall clock: emulator start to the guest's
      `TESSERA-GUEST READY` line (includes the firmware, and in a partition
      the hypervisor's own boot: the row below it says until when the
      hypervisor printed `partition NAME: starting`);
    - the wall clock from the kernel's first console line (`Linux
      version`, printed when its console starts) to READY: the kernel's
      boot without firmware, loader, decompression or hypervisor;
    - the guest's uptime at READY (the `uptime=` that the check prints
      right after it): the kernel's own clock;
    - the workload (typed at the shell: `workload 16 4` under QEMU, 64 MiB
      written, copied and hashed over both CPUs, a few seconds; `workload`,
      16 MiB, under Bochs and with --quick): its `seconds=` (guest time)
      and the wall clock from its START line to its DONE line; each run
      must print the expected checksum (its clocksource, which the check
      prints at READY, is in the table: it is what guest time reads);
    then `poweroff`: the hypervisor's `exits:` line for the partition
    (exits by reason over the whole boot: kernel, check, workload,
    power-off) and its interrupts and exceptions injected, medians over
    the runs, the most frequent reasons first. Wall times are when a line
    arrived on the console connection (linux_guest's recorder).
    With `--platform skylake` named explicitly (not in the default run:
    each Bochs Linux boot takes minutes, about 6 min for both), the same
    once each under Bochs corei7_skylake_x (VT-x) with 2 CPUs and 1 GiB:
    bare is a GRUB ISO whose entry loads vmlinuz and the initramfs with
    `linux`/`initrd` (tools/guest/bare-boot.py's recipe, with Bochs's
    ignore_bad_msrs=1 as there), the partition boots the uncompressed
    vmlinux through its PVH entry (`make linux-vmlinux`). The bare wall
    clock to READY then includes the kernel's XZ decompression and the
    partition's does not: compare the row from the kernel's first line.
    Guest times are no ratio under Bochs: bare, Linux believes the CPU
    model's 3.5 GHz TSC, while in the partition it is told the rate the
    hypervisor measured against the PM timer (Bochs's emulated time).

Emulated numbers are noisy and say little in absolute terms: compare ratios
and trends. Runs go to build/bench-runs/NAME/ (console, command, logs).
The default run (all platforms, Linux under QEMU only) takes about two
minutes here on a quiet machine, several on a busy one.

    bench/bench.py [--platform qemu|skylake|ryzen ...] [--quick] [--linux-runs N]
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test harness package, tests/harness/

from harness import linux_guest as g  # noqa: E402
from harness.hv_console import (HV_MEMORY, HV_TSC, PART_EXITS, PART_INJECTED,  # noqa: E402
                                PART_STARTING, for_part, part_verdict)
from harness.tessera_vm import BUILD, BootFailure, Machine, bochs, hv_elf, qemu  # noqa: E402

RUNS = BUILD / "bench-runs"
GUESTS = BUILD / "guests"
IDLE_CONF = ROOT / "tests" / "system" / "data" / "idle.conf"

PART_NAME = "bench"
PART_MEMORY = "64M"          # compute's buffer is at 4 MiB, 16 MiB long
BARE_QEMU_MEMORY = "64M"     # the same RAM bare
BARE_BOCHS_MEMORY_MIB = 64
HV_QEMU_MEMORY = "512M"
HV_BOCHS_MEMORY_MIB = 256
FOOTPRINT_CPUS = (1, 2, 4, 8)
BOOT_TIMEOUT = {"qemu": 60, "bochs": 180}
RUN_TIMEOUT = {"qemu": 120, "bochs": 600}
BARE_VERDICT = r"^VERDICT {guest}: (?P<result>PASS|FAIL)(?: (?P<details>.*))?$"


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    emulator: str            # qemu | bochs
    model: str
    exitcost_n: int
    compute_args: str


PLATFORMS = [
    Platform("qemu", "QEMU EPYC (AMD-V)", "qemu", "EPYC", 200_000, "iters=16000000 buf=16M"),
    Platform("skylake", "Bochs skylake (VT-x)", "bochs", "corei7_skylake_x", 20_000,
             "iters=2000000 buf=16M"),
    Platform("ryzen", "Bochs ryzen (AMD-V)", "bochs", "ryzen", 20_000, "iters=2000000 buf=16M"),
]


@dataclass
class Result:
    details: str = ""
    hv_kib: int | None = None
    cpus: int | None = None
    tsc_khz: int | None = None
    seconds: float = 0.0
    error: str = ""
    fields: dict = field(default_factory=dict)


def numbers(details: str) -> dict:
    """'n=10 tsc_per_cpuid=3 checksum=0x1f' -> {'n': '10', ...}"""
    return dict(re.findall(r"(\w+)=(\S+)", details))


def _workdir(name: str) -> Path:
    path = RUNS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def _iso(out: Path, kernel: Path, files: list[tuple[Path, str]], entry: int,
         cmdline: str = "") -> Path:
    """A GRUB ISO (tools/mkiso.sh): entry 0 Multiboot2, 1 Multiboot1."""
    argv = [str(ROOT / "tools" / "mkiso.sh"), "-o", str(out), "-k", str(kernel),
            "-t", "0", "-d", str(entry)]
    if cmdline:
        argv += ["-c", cmdline]
    argv += [f"{p}:{n}" for p, n in files]
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return out


def _finish(m: Machine, verdict: str, emulator: str, res: Result) -> Result:
    try:
        with m:
            v = m.wait_for(verdict, BOOT_TIMEOUT[emulator] + RUN_TIMEOUT[emulator])
            res.seconds = m.elapsed()
            if v["result"] != "PASS":
                res.error = f"FAIL: {v['details']}"
            res.details = v["details"] or ""
            res.fields = numbers(res.details)
            for match in m.find_all(HV_MEMORY):
                res.hv_kib = int(match["kib"])
            for match in m.find_all(HV_TSC):
                res.tsc_khz = int(match["khz"])
            cpus = m.find_all(r"^hv: Tessera \S+: booted via .*, (\d+) CPUs? online")
            if cpus:
                res.cpus = int(cpus[-1][1])
    except BootFailure as e:
        res.error = str(e).splitlines()[0]
    return res


def run_bare(p: Platform, guest: str, cmdline: str) -> Result:
    name = f"{p.key}-bare-{guest}"
    work = _workdir(name)
    kernel = GUESTS / f"{guest}.elf"
    if p.emulator == "qemu":
        m = qemu(name, work, cpu=p.model, smp=1, memory=BARE_QEMU_MEMORY, kernel=kernel,
                 append=cmdline)
    else:
        iso = _iso(work / "bare.iso", kernel, [], 1, cmdline)
        m = bochs(name, work, model=p.model, cpus=1, memory_mib=BARE_BOCHS_MEMORY_MIB,
                  cdrom=iso)
    return _finish(m, BARE_VERDICT.format(guest=re.escape(guest)), p.emulator, Result())


def run_partition(p: Platform, guest: str, cmdline: str) -> Result:
    name = f"{p.key}-partition-{guest}"
    work = _workdir(name)
    conf = work / "hv.conf"
    conf.write_text(f"# written by bench/bench.py\n[hypervisor]\non_idle = poweroff\n\n"
                    f"[partition {PART_NAME}]\ncpus = 0\nmemory = {PART_MEMORY}\n"
                    f"kernel = {guest}.elf\ncmdline = {cmdline}\n")
    files = [(conf, "hv.conf"), (GUESTS / f"{guest}.elf", f"{guest}.elf")]
    if p.emulator == "qemu":
        m = qemu(name, work, cpu=p.model, smp=1, memory=HV_QEMU_MEMORY, kernel=hv_elf(),
                 modules=files)
    else:
        iso = _iso(work / "hv.iso", hv_elf(), files, 0)
        m = bochs(name, work, model=p.model, cpus=1, memory_mib=HV_BOCHS_MEMORY_MIB,
                  cdrom=iso)
    return _finish(m, part_verdict(PART_NAME, guest), p.emulator, Result())


def footprint_qemu(cpus: int) -> Result:
    """An idle boot (no partition) with CPUS CPUs: the footprint line."""
    name = f"qemu-idle-{cpus}cpus"
    m = qemu(name, _workdir(name), smp=cpus, memory=HV_QEMU_MEMORY, kernel=hv_elf(),
             modules=[(IDLE_CONF, "hv.conf")])
    res = Result()
    try:
        with m:
            got = m.wait_for(HV_MEMORY, BOOT_TIMEOUT["qemu"])
            res.hv_kib, res.cpus = int(got["kib"]), cpus
    except BootFailure as e:
        res.error = str(e).splitlines()[0]
    return res


def cloc() -> str:
    proc = subprocess.run(["make", "--no-print-directory", "-s", "cloc"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    m = re.search(r"(\d+)", proc.stdout)
    return m.group(1) if m else f"make cloc failed: {proc.stderr.strip()[:60]}"


# -- Linux: bare against a partition ------------------------------------------

LINUX_PART = "linux"
LINUX_CPUS = 2
LINUX_MACHINE_MIB = 1024     # the emulated machine, both ways
LINUX_PART_MIB = 768
LINUX_CMDLINE = "console=ttyS0,115200"
LINUX_RUNS = 3
# `workload CHUNKS MIB`: CHUNKS chunks of MIB MiB over the CPUs. Under QEMU
# four times the default, so that it runs a few seconds and noise matters
# less; the default under Bochs (--quick: everywhere).
LINUX_WORKLOAD = {"qemu": (16, 4), "bochs": (g.WORKLOAD_CHUNKS, g.WORKLOAD_MIB)}
LINUX_BOCHS_MODEL = "corei7_skylake_x"
LINUX_BOCHS_IPS = 10_000_000  # tests/linux: boots fastest
# Seconds for each step; "try": for a typed command to start, "tries": how
# often it is typed (_command).
LINUX_TIMEOUT = {"qemu": {"ready": 180, "shell": 60, "workload": 240, "off": 60,
                          "try": 15, "tries": 3},
                 "bochs": {"ready": 1200, "shell": 180, "workload": 900, "off": 180,
                           "try": 90, "tries": 3}}
CTRL_C = "\x03"
# Typing: (bytes a burst, seconds between bursts); None: the console's
# default (linux_guest: PtyConsole's suits Bochs).
LINUX_TYPE_PACE = {"qemu": (1, 0.03), "bochs": (None, None)}
LINUX_EXIT_ROWS = 8           # reasons shown; the rest are summed as "other"

WORKLOAD_START = r"WORKLOAD START .*"
# The kernel's first line (bare under QEMU, after what its set-up code
# printed on the same line).
KERNEL_FIRST_LINE = r"\[ *[0-9.]+\] Linux version .*"
KERNEL_POWER_DOWN = r"^(?:\[ *[0-9.]+\] )?reboot: Power down$"


@dataclass
class LinuxRun:
    ready_wall: float | None = None      # emulator start to READY, s
    start_wall: float | None = None      # emulator start to the partition's start, s
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


def parse_exits(text: str) -> dict:
    """'CPUID 12, I/O 345, external interrupt 7' -> {'CPUID': 12, ...}"""
    counts = {}
    for item in text.split(", "):
        reason, _, n = item.rpartition(" ")
        if reason and n.isdigit():
            counts[reason] = counts.get(reason, 0) + int(n)
    return counts


def _linux_images(bochs_too: bool) -> str:
    """Builds what the Linux runs boot; returns an error, or ''."""
    targets = ["linux-images"] + (["linux-vmlinux"] if bochs_too else [])
    proc = subprocess.run(["make", "--no-print-directory", "-s"] + targets, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return f"make {' '.join(targets)} failed: {(proc.stdout + proc.stderr).strip()[-300:]}"
    return ""


def _linux_conf(work: Path, kernel: str) -> Path:
    conf = work / "hv.conf"
    conf.write_text(f"# written by bench/bench.py\n[hypervisor]\non_idle = poweroff\n\n"
                    f"[partition {LINUX_PART}]\ncpus = 0-{LINUX_CPUS - 1}\n"
                    f"memory = {LINUX_PART_MIB}M\nkernel = {kernel}\ninitrd = initrd\n"
                    f"cmdline = {LINUX_CMDLINE}\n")
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


def _linux_session(m: Machine, tty, part: str | None, emulator: str, res: LinuxRun) -> None:
    """Boot to READY, the workload, power-off: fills RES (raises
    BootFailure). Times are when the lines arrived (the recorder's watch),
    not when a poll of the console found them."""
    limit = LINUX_TIMEOUT[emulator]
    pace = LINUX_TYPE_PACE[emulator]
    events = {"kernel": g.guest_line(KERNEL_FIRST_LINE, part) if part else KERNEL_FIRST_LINE,
              "ready": g.ready(part),
              "work start": g.guest_line(WORKLOAD_START, part),
              "work done": g.workload_done(part)}
    if part is not None:
        events["start"] = for_part(PART_STARTING, part)
    seen = {k: tty.watch(p) for k, p in events.items()}

    def when(key: str) -> float:
        """Seconds from the emulator's start to the first line of KEY."""
        return seen[key][0][0] - m.started if seen[key] else m.elapsed()

    try:
        if part is not None:
            m.wait_for(events["start"], limit["ready"])
            res.start_wall = when("start")
        m.wait_for(events["kernel"] if part else rf"^.*{KERNEL_FIRST_LINE}$", limit["ready"])
        first = when("kernel")
        m.wait_for(g.ready(part), limit["ready"])
        res.ready_wall = when("ready")
        res.kernel_wall = res.ready_wall - first
        m.wait_for(g.check_done(part), limit["shell"])
        checks = g.parse_checks(m.transcript(), part)
        try:
            res.uptime = float(checks.get("uptime", ""))
        except ValueError:
            pass
        res.clocksource = checks.get("clocksource", "")
        _shell_ready(m, tty, part, limit["shell"], pace)
        _command(m, tty, part, "workload {} {}".format(*res.workload), events["work start"],
                 limit, pace)
        done = m.wait_for(g.workload_done(part), limit["workload"],
                          fail_on=(g.guest_line(r"WORKLOAD FAIL.*", part),))
        res.work_wall = when("work done") - when("work start")
        res.work_guest = float(done["seconds"])
        res.checksum = done["checksum"]
    finally:
        for s in seen.values():
            tty.unwatch(s)
    _command(m, tty, part, "poweroff", g.announced("POWEROFF", part), limit, pace)
    if part is None:
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


def linux_qemu(kind: str, run: int, workload: tuple) -> LinuxRun:
    """One QEMU boot, bare or in a partition (KIND), to the power-off."""
    name = f"qemu-linux-{kind}-{run}"
    work = _workdir(name)
    sock = work / "serial.sock"
    common = dict(cpu="EPYC", smp=LINUX_CPUS, memory=f"{LINUX_MACHINE_MIB}M",
                  serial_socket=sock)
    if kind == "bare":
        # -initrd through extra: tessera_vm's modules are Multiboot modules.
        base = qemu(name, work, kernel=g.KERNEL, append=LINUX_CMDLINE,
                    extra=["-initrd", str(g.INITRD_TEST)], **common)
        part = None
    else:
        files = [(_linux_conf(work, "vmlinuz"), "hv.conf"), (g.KERNEL, "vmlinuz"),
                 (g.INITRD_TEST, "initrd")]
        base = qemu(name, work, kernel=hv_elf(), modules=files, **common)
        part = LINUX_PART
    m = g.GuestMachine.adopt(base)
    res = LinuxRun(workload=workload)
    tty = None
    started = time.monotonic()
    try:
        with m:
            # QEMU starts the machine once the console has connected.
            tty = g.ConsoleSocket(sock, m.console_path)
            m.recorder = tty
            _linux_session(m, tty, part, "qemu", res)
    except (BootFailure, OSError) as e:
        res.error = str(e).splitlines()[0]
    finally:
        if tty is not None:
            tty.close()
        res.seconds = time.monotonic() - started
    return res


def _bare_bochs_iso(out: Path) -> None:
    """tools/guest/bare-boot.py's GRUB ISO: `linux` and `initrd`."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bare_boot", ROOT / "tools" / "guest" / "bare-boot.py")
    bare_boot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare_boot)
    bare_boot.make_iso(out, g.INITRD_TEST, LINUX_CMDLINE)


def linux_bochs(kind: str, workload: tuple) -> LinuxRun:
    """One Bochs corei7_skylake_x boot, bare (bzImage through GRUB) or in a
    partition (vmlinux through its PVH entry), to the power-off."""
    name = f"skylake-linux-{kind}"
    work = _workdir(name)
    res = LinuxRun(workload=workload)
    started = time.monotonic()
    console = None
    try:
        iso = work / f"{kind}.iso"
        if kind == "bare":
            _bare_bochs_iso(iso)
            part = None
        else:
            files = [(_linux_conf(work, "vmlinux"), "hv.conf"), (g.VMLINUX, "vmlinux"),
                     (g.INITRD_TEST, "initrd")]
            _iso(iso, hv_elf(), files, 0)
            part = LINUX_PART
        # It opens console.txt at the first byte, after Machine.start().
        console = g.PtyConsole(work / "console.txt")
        m = g.GuestMachine.adopt(
            bochs(name, work, model=LINUX_BOCHS_MODEL, cpus=LINUX_CPUS,
                  memory_mib=LINUX_MACHINE_MIB, cdrom=iso, ips=LINUX_BOCHS_IPS,
                  serial_tty=console.slave_path))
        m.recorder = console
        if kind == "bare":
            # Linux reads MSRs Bochs does not model (tools/guest/bare-boot.py).
            rc = work / "bochsrc"
            rc.write_text(rc.read_text().replace("ignore_bad_msrs=0", "ignore_bad_msrs=1"))
        with m:
            _linux_session(m, console, part, "bochs", res)
    except (BootFailure, OSError, subprocess.SubprocessError, SystemExit) as e:
        res.error = str(e).splitlines()[0] if str(e) else type(e).__name__
    finally:
        if console is not None:
            console.close()
        res.seconds = time.monotonic() - started
    return res


def linux_measure(emulator: str, runs: int, workload: tuple) -> dict:
    """RUNS boots each way, bare and partition alternately (the machine is
    noisy: a slow spell then hurts both alike)."""
    results: dict = {"bare": [], "partition": []}
    label = "QEMU" if emulator == "qemu" else "Bochs skylake"
    for i in range(runs):
        for kind in results:
            print(f"bench: Linux under {label}, {kind}, run {i + 1}/{runs} ...",
                  file=sys.stderr, flush=True)
            res = (linux_qemu(kind, i + 1, workload) if emulator == "qemu"
                   else linux_bochs(kind, workload))
            results[kind].append(res)
    return results


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b is not None else None


# (label, LinuxRun attribute, measured by the guest's clock)
LINUX_METRICS = (("boot to READY, wall clock (s)", "ready_wall", False),
                 ("  of which to the partition's start (s)", "start_wall", False),
                 ("  the kernel's first console line to READY (s)", "kernel_wall", False),
                 ("guest uptime at READY (s)", "uptime", True),
                 ("workload, guest seconds", "work_guest", True),
                 ("workload, wall clock (s)", "work_wall", False))

# Why Bochs's guest times are no ratio (see the table's footnote).
BOCHS_CLOCK_NOTE = ("* no ratio: the guest clocks differ under Bochs (bare, Linux takes the "
                    "TSC for the CPU\n  model's 3.5 GHz; in a partition it is told the "
                    "rate the hypervisor measured)")


def linux_rows(results: dict, emulator: str) -> tuple[list, list[str]]:
    """The table's rows, (label, bare, partition, ratio) with strings, and
    the lines under it (each run's values)."""
    ok = {k: [r for r in v if not r.error] for k, v in results.items()}
    rows = []
    for label, attr, guest_clock in LINUX_METRICS:
        bare = _median(getattr(r, attr) for r in ok["bare"])
        part = _median(getattr(r, attr) for r in ok["partition"])
        ratio = _fmt(_ratio(bare, part), ".2f")
        if guest_clock and emulator == "bochs" and bare is not None:
            ratio = "*"
        rows.append((label, _fmt(bare, ".2f"), _fmt(part, ".2f"), ratio))
    cells = []
    for kind in ("bare", "partition"):
        sums = [r.checksum for r in ok[kind] if r.checksum]
        good = sum(1 for r in ok[kind] if r.checksum == g.workload_checksum(*r.workload))
        cells.append(f"{good}/{len(results[kind])} ok" if sums else "-")
    rows.append(("workload checksum as expected (runs)", cells[0], cells[1], ""))
    cells = ["/".join(sorted({r.clocksource for r in ok[k] if r.clocksource})) or "-"
             for k in ("bare", "partition")]
    rows.append(("guest clocksource at READY (check)", cells[0], cells[1], ""))

    notes = []
    for label, attr, _ in LINUX_METRICS:
        each = [" ".join("x" if r.error else _fmt(getattr(r, attr), ".2f")
                         for r in results[k]) for k in ("bare", "partition")]
        if any(c.strip("- ") for c in each):
            notes.append(f"  {label.strip()}: bare {each[0]}; partition {each[1]}")
    return rows, notes


def exit_rows(runs: list[LinuxRun]) -> list[tuple[str, str]]:
    """The partition's exits per boot by reason, medians over RUNS, the
    most frequent first; then the total and the injections."""
    runs = [r for r in runs if not r.error and r.exits]
    if not runs:
        return []
    reasons = {reason for r in runs for reason in r.exits}
    med = {reason: _median(r.exits.get(reason, 0) for r in runs) for reason in reasons}
    order = sorted(reasons, key=lambda reason: (-med[reason], reason))
    rows = [("total", _fmt(_median(sum(r.exits.values()) for r in runs), ".0f"))]
    for reason in order[:LINUX_EXIT_ROWS]:
        rows.append((f"  {reason}", _fmt(med[reason], ".0f")))
    rest = order[LINUX_EXIT_ROWS:]
    if rest:
        rows.append((f"  other ({', '.join(rest)})",
                     _fmt(_median(sum(r.exits.get(x, 0) for x in rest) for r in runs), ".0f")))
    rows.append(("interrupts injected", _fmt(_median(r.irqs for r in runs), ".0f")))
    rows.append(("exceptions injected", _fmt(_median(r.exceptions for r in runs), ".0f")))
    return rows


def print_linux(title: str, emulator: str, results: dict) -> list[str]:
    """Prints one emulator's Linux table; returns its errors."""
    n = max(len(v) for v in results.values())
    rows, notes = linux_rows(results, emulator)
    width, colw = 50, 16
    heads = ("bare", "partition", "partition/bare")
    print()
    print(f"{title}, {'median of ' + str(n) + ' runs each' if n > 1 else 'one run each'}")
    chunks, mib = next(iter(results.values()))[0].workload
    print(f"(the workload: `workload {chunks} {mib}`, {chunks} chunks of {mib} MiB "
          "shared out over the CPUs)")
    print(f"{'':<{width}}" + "".join(f"{h:>{colw}}" for h in heads))
    print("-" * (width + colw * len(heads)))
    for label, *cells in rows:
        print(f"{label:<{width}}" + "".join(f"{c:>{colw}}" for c in cells))
    if any(cells[-1] == "*" for _, *cells in rows):
        print(BOCHS_CLOCK_NOTE)
    exits = exit_rows(results["partition"])
    if exits:
        ok = sum(1 for r in results["partition"] if not r.error and r.exits)
        print(f"exits per partition boot (boot, check, workload, power-off), "
              f"{'median of ' + str(ok) + ' runs' if ok > 1 else 'one run'}:")
        for label, value in exits:
            shown = label if len(label) < width + colw else label[:width + colw - 4] + "...)"
            print(f"{shown:<{width + colw}}{value:>{colw}}")
    if n > 1:
        print("each run (x: failed, see the errors below):")
        for line in notes:
            print(line)
    return [f"{title}: {kind} run {i + 1}: {r.error}"
            for kind, runs in results.items() for i, r in enumerate(runs) if r.error]


# -- the table ----------------------------------------------------------------

def _int(res: Result, key: str) -> int | None:
    if res.error or key not in res.fields:
        return None
    try:
        return int(res.fields[key], 0)
    except ValueError:
        return None


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def _si(value: float | None) -> str:
    if value is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.1f}{suffix}"
    return f"{value:.0f}"


def measure(p: Platform, quick: bool) -> dict:
    n = p.exitcost_n // (10 if quick else 1)
    compute = p.compute_args if not quick else "iters=250000 buf=4M"
    runs = {
        "exit_bare": run_bare(p, "exitcost", f"n={n}"),
        "exit_part": run_partition(p, "exitcost", f"n={n}"),
        "comp_bare": run_bare(p, "compute", compute),
        "comp_part": run_partition(p, "compute", compute),
    }
    eb, ep = _int(runs["exit_bare"], "tsc_per_cpuid"), _int(runs["exit_part"], "tsc_per_cpuid")
    cb, cp = _int(runs["comp_bare"], "tsc"), _int(runs["comp_part"], "tsc")
    khz = runs["exit_part"].tsc_khz
    row = {
        "exitcost n": str(n),
        "  bare TSC per CPUID": _fmt(eb),
        "  partition TSC per CPUID": _fmt(ep),
        "  TSC ratio partition/bare": _fmt(ep / eb if eb and ep else None, ".1f"),
        "  instructions per exit round trip": "-",
        "  exits per second": "-",
        "compute": compute,
        "  bare TSC": _si(cb),
        "  partition TSC": _si(cp),
        "  ratio partition/bare": _fmt(cp / cb if cb and cp else None, ".3f"),
        "  same checksum": "-",
    }
    if p.emulator == "bochs" and eb is not None and ep is not None:
        row["  instructions per exit round trip"] = _fmt(ep - eb)
    if p.emulator == "qemu" and ep and khz:
        row["  exits per second"] = _si(khz * 1000 / ep)
    sums = [runs[k].fields.get("checksum") for k in ("comp_bare", "comp_part")]
    if all(sums) and not any(runs[k].error for k in ("comp_bare", "comp_part")):
        row["  same checksum"] = "yes" if sums[0] == sums[1] else f"NO ({sums[0]} {sums[1]})"
    part = runs["exit_part"]
    row["hypervisor RAM at 1 CPU (KiB)"] = _fmt(part.hv_kib if part.cpus == 1 else None)
    row["_errors"] = [f"{p.label}: {k}: {r.error}" for k, r in runs.items() if r.error]
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", action="append", choices=[p.key for p in PLATFORMS],
                    help="only these (repeatable); default: all")
    ap.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    ap.add_argument("--linux-runs", type=int, metavar="N",
                    help=f"Linux boots each way under QEMU ({LINUX_RUNS}; 1 with --quick; "
                         "0: no Linux runs); Bochs boots once each way")
    args = ap.parse_args()
    chosen = [p for p in PLATFORMS if not args.platform or p.key in args.platform]
    linux_runs = args.linux_runs if args.linux_runs is not None else (1 if args.quick
                                                                      else LINUX_RUNS)
    linux_qemu_on = linux_runs > 0 and any(p.key == "qemu" for p in chosen)
    # Minutes a boot: only when asked for by name.
    linux_bochs_on = linux_runs > 0 and "skylake" in (args.platform or [])
    started = time.monotonic()

    def workload(emulator: str) -> tuple:
        return LINUX_WORKLOAD["bochs" if args.quick else emulator]

    columns = {}
    for p in chosen:
        print(f"bench: {p.label} ...", file=sys.stderr, flush=True)
        columns[p.label] = measure(p, args.quick)
    footprint = {}
    if any(p.emulator == "qemu" for p in chosen):
        for cpus in FOOTPRINT_CPUS:
            footprint[cpus] = footprint_qemu(cpus)
    linux = {}  # title -> (emulator, results)
    image_error = ""
    if linux_qemu_on or linux_bochs_on:
        print("bench: make linux-images ...", file=sys.stderr, flush=True)
        image_error = _linux_images(linux_bochs_on)
    if not image_error:
        if linux_qemu_on:
            linux[f"Linux, QEMU EPYC (AMD-V) -smp {LINUX_CPUS} -m {LINUX_MACHINE_MIB}M: "
                  f"bare, and a partition of {LINUX_PART_MIB}M"] = (
                      "qemu", linux_measure("qemu", linux_runs, workload("qemu")))
        if linux_bochs_on:
            linux[f"Linux, Bochs skylake (VT-x) {LINUX_CPUS} CPUs {LINUX_MACHINE_MIB}M: "
                  f"bare bzImage (GRUB), a partition of {LINUX_PART_MIB}M booting "
                  "vmlinux (PVH)"] = ("bochs", linux_measure("bochs", 1, workload("bochs")))
    lines = cloc()

    errors = [e for col in columns.values() for e in col.pop("_errors")]
    if image_error:
        errors.append(image_error)
    errors += [f"QEMU idle boot, {c} CPUs: {r.error}" for c, r in footprint.items() if r.error]
    keys = list(next(iter(columns.values())).keys()) if columns else []
    width = max([len(k) for k in keys] + [48]) + 2
    colw = max([len(c) for c in columns] + [len(v) for col in columns.values()
                                             for v in col.values()] + [12]) + 2
    print()
    print(f"{'Tessera benchmarks':<{width}}" + "".join(f"{c:>{colw}}" for c in columns))
    print("-" * (width + colw * len(columns)))
    for key in keys:
        cells = [columns[c][key] for c in columns]
        print(f"{key:<{width}}" + "".join(f"{v:>{colw}}" for v in cells))
    if footprint:
        qemu_col = [c for c in columns if c.startswith("QEMU")]
        for cpus, res in footprint.items():
            label = f"hypervisor RAM, QEMU idle, {cpus} CPU{'s' if cpus > 1 else ''} (KiB)"
            cells = [(_fmt(res.hv_kib) if c in qemu_col else "") for c in columns]
            print(f"{label:<{width}}" + "".join(f"{v:>{colw}}" for v in cells))
        ok = [(c, r.hv_kib) for c, r in footprint.items() if r.hv_kib is not None]
        if len(ok) >= 2:
            (c0, k0), (c1, k1) = ok[0], ok[-1]
            per = (k1 - k0) / (c1 - c0)
            print(f"{'  per additional CPU (KiB)':<{width}}{per:>{colw}.1f}")
    print(f"{'hypervisor lines of code (make cloc)':<{width}}{lines:>{colw}}")
    for title, (emulator, results) in linux.items():
        errors += print_linux(title, emulator, results)
    print()
    print(f"({time.monotonic() - started:.0f} s; runs in {RUNS}/)")
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
