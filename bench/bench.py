#!/usr/bin/python3
"""Tessera's benchmarks (`make bench`; not part of `make test`): what a
partition costs and where the time goes, measured by the test guests
(tests/guests/README.md) and Debian's Linux run bare, inside a partition
and, for Linux, under Xen, on the same emulated machine; and what the
hypervisor itself weighs. Prints tables, writes them as JSON
(build/bench/bench.json) and draws one picture (build/bench/bench.png,
bench/report.py); asserts nothing about time. docs/performance.md reads the
results and says what they would be on hardware.

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
    With the Linux runs under QEMU, also the other exits a Linux partition
    takes, one exitcost operation each (`op=io`: IN from the UART's line
    status port; `op=apic`: an MMIO write to the local APIC; `op=rdmsr`;
    `op=hlt`: a local APIC timer interrupt awaited in HLT, less its two
    APIC writes): partition minus bare, in microseconds, is what one exit
    of that kind adds under the emulator (bench/breakdown.py).
(b) Compute: `compute.elf` (a random walk over a buffer, loads and stores
    that defeat caches and TLB) bare and in a partition; the ratio of their
    TSC counts (partition/bare) is the overhead of running under the
    hypervisor (second-level paging, timer and console exits). Both runs
    print the same checksum, or the table says not.
(c) Footprint: the hypervisor's own RAM, from `hv: memory: hypervisor uses
    N KiB`, for several CPU counts under QEMU (and at one CPU under Bochs),
    and its size in lines of code (`make cloc`).
(d) Linux (docs/linux.md, bench/linux.py): Debian's kernel and the test
    initramfs (`make linux-images`, which this script runs) on the QEMU
    platform `-M q35 -cpu EPYC -smp 2 -m 1G`, three ways:
    - bare: `-kernel vmlinuz -initrd initrd-test.cpio.gz -append
      console=ttyS0`;
    - Tessera: the hypervisor with one partition that owns both CPUs and
      768M of the 1G (the same bzImage and initramfs as modules);
    - Xen (bench/xen.py; --no-xen skips it): Debian's Xen 4.17 from a GRUB
      ISO with the same kernel and initramfs as its PVH dom0, 768M and
      both CPUs, console=hvc0, QEMU with -device amd-iommu.
    The three alternate, --linux-runs times each (3; 1 with --quick; a Xen
    run that fails ends Xen's runs), and the table gives medians (each
    run's values follow it) and the ratios to bare of:
    - boot to user space, wall clock: emulator start to the guest's
      `TESSERA-GUEST READY` line (includes the firmware, and the
      hypervisor's own boot: the rows below it say when the hypervisor
      printed its first line and started the guest);
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
    (exits by reason over the whole run: kernel, check, workload,
    power-off) and its interrupts and exceptions injected, medians over
    the runs, the most frequent reasons first. One more Tessera run powers
    off after the check: its exits are the boot's, and a whole run's less
    those the workload's.
    Then the page-size series (--no-pages skips it): a partition of 1G in a
    machine of 2G booted with slat_max_page=4k, 2m and 1g on the
    hypervisor's command line (docs/boot.md), once each.
(e) Where the time goes (bench/breakdown.py): Tessera minus bare, for the
    boot (to READY) and the workload, split into (a) exits: the exits of
    that phase by reason times the exit costs of (a) above; (b) nested
    translation: the slope of the page-size series' times (partition start
    to READY, and the workload) against the levels of the nested walk,
    times the levels the 768M partition walks (3: its RAM is mapped by
    2 MiB pages); (c) the hypervisor's boot and the partition's build, from
    its first line to `partition linux: starting`; (d) the rest. Beside
    it, the same exits on hardware at cited cycle costs (docs/performance.md).
    With `--platform skylake` named explicitly (not in the default run:
    each Bochs Linux boot takes minutes, about 6 min for both), the Linux
    runs once each bare and in a partition under Bochs corei7_skylake_x
    (VT-x) with 2 CPUs and 1 GiB: bare is a GRUB ISO whose entry loads
    vmlinuz and the initramfs with `linux`/`initrd`
    (tools/guest/bare-boot.py's recipe, with Bochs's ignore_bad_msrs=1 as
    there), the partition boots the uncompressed vmlinux through its PVH
    entry (`make linux-vmlinux`). The bare wall clock to READY then
    includes the kernel's XZ decompression and the partition's does not:
    compare the row from the kernel's first line. Guest times are no ratio
    under Bochs: bare, Linux believes the CPU model's 3.5 GHz TSC, while in
    the partition it is told the rate the hypervisor measured against the
    PM timer (Bochs's emulated time).

Emulated numbers are noisy and say little in absolute terms: compare ratios
and trends; the table's head gives the machine's load average at the start
and the end. Runs go to build/bench-runs/NAME/ (console, command, logs).
bench/bench.mk says how long a run takes.

    bench/bench.py [--platform qemu|skylake|ryzen ...] [--quick] [--linux-runs N]
                   [--no-xen] [--no-pages] [--json PATH]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test harness package, tests/harness/

from harness.hv_console import HV_MEMORY, HV_TSC, part_verdict  # noqa: E402
from harness.tessera_vm import BUILD, BootFailure, Machine, bochs, hv_elf, qemu  # noqa: E402

import breakdown as bd  # noqa: E402
import linux  # noqa: E402
import report  # noqa: E402
import xen  # noqa: E402

RUNS = BUILD / "bench-runs"
BENCH_OUT = BUILD / "bench"      # bench.json, bench.png and their gnuplot files
LINUX_RUNS = 3
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


def run_bare(p: Platform, guest: str, cmdline: str, tag: str = "") -> Result:
    name = f"{p.key}-bare-{guest}{tag}"
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


def run_partition(p: Platform, guest: str, cmdline: str, tag: str = "") -> Result:
    name = f"{p.key}-partition-{guest}{tag}"
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


# -- exit costs by kind, under QEMU -------------------------------------------

# exitcost's operations besides CPUID (measured by measure()), and how many
# of each a run does under QEMU (a tenth with --quick).
EXIT_OP_N = {"io": 20_000, "apic": 20_000, "rdmsr": 20_000, "hlt": 2_000}


def exit_ops_qemu(cpuid_runs: tuple, quick: bool) -> tuple[dict, dict, list]:
    """Every exitcost operation bare and in a partition under QEMU. Returns
    (op -> (bare TSC per op, partition TSC per op, TSC kHz) for
    breakdown.exit_costs, op -> details for the JSON, errors)."""
    p = next(x for x in PLATFORMS if x.key == "qemu")
    per_op, raw, errors = {}, {}, []
    bare, part = cpuid_runs
    runs = {"cpuid": (bare, part)}
    for op, n in EXIT_OP_N.items():
        n //= 10 if quick else 1
        print(f"bench: QEMU exit cost, op={op} ...", file=sys.stderr, flush=True)
        runs[op] = (run_bare(p, "exitcost", f"op={op} n={n}", f"-{op}"),
                    run_partition(p, "exitcost", f"op={op} n={n}", f"-{op}"))
    for op, (b, q) in runs.items():
        key = "tsc_per_cpuid" if op == "cpuid" else "tsc_per_op"
        tb, tp = _int(b, key), _int(q, key)
        per_op[op] = (tb, tp, q.tsc_khz)
        raw[op] = {"n": _int(q, "n"), "bare_tsc_per_op": tb, "partition_tsc_per_op": tp,
                   "tsc_khz": q.tsc_khz, "details": {"bare": b.details, "partition": q.details}}
        errors += [f"exit cost op={op}: {k}: {r.error}" for k, r in (("bare", b), ("partition", q))
                   if r.error]
    return per_op, raw, errors


# -- the Linux runs ----------------------------------------------------------

KINDS = ("bare", "partition", "xen")
KIND_LABEL = {"bare": "bare", "partition": "Tessera", "xen": "Xen"}
# The 768M partition's RAM is no whole GiB: 2 MiB pages (hv/partition/).
MAIN_PAGE = "2m"


@dataclass
class LinuxResults:
    runs: dict = field(default_factory=lambda: {k: [] for k in KINDS})
    boot_only: linux.LinuxRun | None = None
    pages: dict = field(default_factory=dict)    # page size -> LinuxRun
    notes: list = field(default_factory=list)


def linux_measure_qemu(runs: int, workload: tuple, xen_on: bool, pages_on: bool) -> LinuxResults:
    """RUNS rounds of bare, Tessera and Xen in turn (the machine is noisy:
    a slow spell then hurts all alike), one boot-only Tessera run, the
    page-size series."""
    res = LinuxResults()
    kinds = ["bare", "partition"] + (["xen"] if xen_on else [])
    for i in range(runs):
        for kind in kinds:
            if kind == "xen" and res.runs["xen"] and res.runs["xen"][-1].error:
                continue  # Xen failed once: its other runs would too, slowly
            print(f"bench: Linux under QEMU, {KIND_LABEL[kind]}, run {i + 1}/{runs} ...",
                  file=sys.stderr, flush=True)
            res.runs[kind].append(linux.run_qemu(kind, f"qemu-linux-{kind}-{i + 1}", workload))
    if xen_on and res.runs["xen"] and res.runs["xen"][-1].error:
        res.notes.append(f"Xen: runs after a failed one skipped ({len(res.runs['xen'])} of "
                         f"{runs} run)")
    print("bench: Linux under QEMU, Tessera, boot only ...", file=sys.stderr, flush=True)
    res.boot_only = linux.run_qemu("partition", "qemu-linux-partition-boot", workload,
                                   boot_only=True)
    if pages_on:
        for size in linux.PAGE_SIZES:
            print(f"bench: Linux under QEMU, Tessera, slat_max_page={size} ...",
                  file=sys.stderr, flush=True)
            res.pages[size] = linux.run_qemu(
                "partition", f"qemu-linux-pages-{size}", workload, slat=size,
                machine_mib=linux.PAGES_MACHINE_MIB, part_mib=linux.PAGES_PART_MIB)
    return res


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b is not None else None


def _ok(runs: list) -> list:
    return [r for r in runs if not r.error]


# (label, LinuxRun attribute, measured by the guest's clock, kinds it applies to)
LINUX_METRICS = (
    ("boot to READY, wall clock (s)", "ready_wall", False, KINDS),
    ("  the hypervisor's first line (s)", "hv_wall", False, ("partition", "xen")),
    ("  the guest's start (partition / dom0) (s)", "start_wall", False, ("partition", "xen")),
    ("  the kernel's first console line (s)", "first_wall", False, KINDS),
    ("the kernel's first console line to READY (s)", "kernel_wall", False, KINDS),
    ("guest uptime at READY (s)", "uptime", True, KINDS),
    ("workload, guest seconds", "work_guest", True, KINDS),
    ("workload, wall clock (s)", "work_wall", False, KINDS))

# Why Bochs's guest times are no ratio (see the table's footnote).
BOCHS_CLOCK_NOTE = ("* no ratio: the guest clocks differ under Bochs (bare, Linux takes the "
                    "TSC for the CPU\n  model's 3.5 GHz; in a partition it is told the "
                    "rate the hypervisor measured)")


def medians(runs: dict) -> dict:
    """kind -> metric attribute -> median over the runs that succeeded."""
    return {k: {attr: _median(getattr(r, attr) for r in _ok(v))
                for _, attr, _, _ in LINUX_METRICS} for k, v in runs.items()}


def linux_rows(runs: dict, emulator: str) -> tuple[list, list, list[str]]:
    """The table's heads, rows (label, then per kind, then ratios to bare)
    and the lines under it (each run's values)."""
    kinds = [k for k in KINDS if runs.get(k)]
    others = [k for k in kinds if k != "bare"]
    heads = [KIND_LABEL[k] for k in kinds] + [f"{KIND_LABEL[k]}/bare" for k in others]
    med = medians({k: runs[k] for k in kinds})
    rows = []
    for label, attr, guest_clock, applies in LINUX_METRICS:
        vals = [_fmt(med[k][attr], ".2f") if k in applies else "" for k in kinds]
        ratios = []
        for k in others:
            r = _fmt(_ratio(med["bare"][attr], med[k][attr]), ".2f") \
                if "bare" in med and "bare" in applies else ""
            if guest_clock and emulator == "bochs" and med["bare"][attr] is not None:
                r = "*"
            ratios.append(r)
        rows.append([label] + vals + ratios)
    cells = []
    for k in kinds:
        sums = [r.checksum for r in _ok(runs[k]) if r.checksum]
        good = sum(1 for r in _ok(runs[k]) if r.checksum == linux.g.workload_checksum(*r.workload))
        cells.append(f"{good}/{len(runs[k])} ok" if sums else "-")
    rows.append(["workload checksum as expected (runs)"] + cells + [""] * len(others))
    cells = ["/".join(sorted({r.clocksource for r in _ok(runs[k]) if r.clocksource})) or "-"
             for k in kinds]
    rows.append(["guest clocksource at READY (check)"] + cells + [""] * len(others))
    notes = []
    for label, attr, _, applies in LINUX_METRICS:
        each = [f"{KIND_LABEL[k]} " + " ".join(_each(r, attr) for r in runs[k])
                for k in kinds if k in applies]
        if any(re.search(r"\d", c) for c in each):
            notes.append(f"  {label.strip()}: " + "; ".join(each))
    return heads, rows, notes


def _each(r: linux.LinuxRun, attr: str) -> str:
    """One run's value; a failed run's, if it got that far, marked x."""
    v = getattr(r, attr)
    if not r.error:
        return _fmt(v, ".2f")
    return "x" if v is None else f"{v:.2f}x"


def median_exits(runs: list) -> dict:
    """reason -> the median count over RUNS (those with counts)."""
    runs = [r for r in runs if not r.error and r.exits]
    reasons = {reason for r in runs for reason in r.exits}
    return {reason: _median(r.exits.get(reason, 0) for r in runs) for reason in reasons}


def exit_rows(runs: list) -> list[tuple[str, str]]:
    """The partition's exits per run by reason, medians, the most frequent
    first; then the total and the injections."""
    runs = [r for r in runs if not r.error and r.exits]
    if not runs:
        return []
    med = median_exits(runs)
    order = sorted(med, key=lambda reason: (-med[reason], reason))
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


LINUX_EXIT_ROWS = 8  # reasons shown; the rest are summed as "other"
WIDTH = 50


def _table(heads: list, rows: list, colw: int = 14) -> None:
    print(f"{'':<{WIDTH}}" + "".join(f"{h:>{colw}}" for h in heads))
    print("-" * (WIDTH + colw * len(heads)))
    for label, *cells in rows:
        print(f"{label:<{WIDTH}}" + "".join(f"{c:>{colw}}" for c in cells))


def print_linux(title: str, emulator: str, runs: dict) -> list[str]:
    """Prints one emulator's Linux table; returns its errors."""
    n = max(len(v) for v in runs.values())
    heads, rows, notes = linux_rows(runs, emulator)
    print()
    print(f"{title}, {'median of ' + str(n) + ' runs each' if n > 1 else 'one run each'}")
    chunks, mib = next(v for v in runs.values() if v)[0].workload
    print(f"(the workload: `workload {chunks} {mib}`, {chunks} chunks of {mib} MiB "
          "shared out over the CPUs)")
    _table(heads, rows)
    if any(c == "*" for row in rows for c in row):
        print(BOCHS_CLOCK_NOTE)
    exits = exit_rows(runs["partition"])
    if exits:
        ok = sum(1 for r in runs["partition"] if not r.error and r.exits)
        print(f"Tessera's exits per run (boot, check, workload, power-off), "
              f"{'median of ' + str(ok) + ' runs' if ok > 1 else 'one run'}:")
        for label, value in exits:
            shown = label if len(label) < WIDTH + 14 else label[:WIDTH + 10] + "...)"
            print(f"{shown:<{WIDTH + 14}}{value:>14}")
    if n > 1 or any(r.error for v in runs.values() for r in v):
        print("each run (x: the run failed, see the errors below; 12.34x: how far it got):")
        for line in notes:
            print(line)
    return [f"{title}: {KIND_LABEL[kind]} run {i + 1}: {r.error}"
            for kind, rs in runs.items() for i, r in enumerate(rs) if r.error]


# -- where the time goes ------------------------------------------------------

def analyse(lr: LinuxResults, per_op: dict) -> dict:
    """The breakdown of Tessera minus bare, boot and workload, with what
    it rests on (bench/breakdown.py)."""
    med = medians({k: lr.runs[k] for k in ("bare", "partition")})
    bare, tess = med["bare"], med["partition"]
    cost = bd.exit_costs(per_op)
    full = median_exits(lr.runs["partition"])
    boot_counts = lr.boot_only.exits if lr.boot_only and not lr.boot_only.error else None
    work_counts = bd.phase_counts(full, boot_counts) if boot_counts and full else None
    page_ok = {k: r for k, r in lr.pages.items() if not r.error}
    slope_boot = bd.slat_slope({k: r.ready_wall - r.start_wall for k, r in page_ok.items()
                                if r.ready_wall is not None and r.start_wall is not None})
    slope_work = bd.slat_slope({k: r.work_wall for k, r in page_ok.items()})
    levels = bd.NPT_LEVELS[MAIN_PAGE]
    hv = _median(r.start_wall - r.hv_wall for r in _ok(lr.runs["partition"])
                 if r.start_wall is not None and r.hv_wall is not None)
    # (c) in three steps: bring-up (to the banner), configuration and build
    # (to the partition's line), load (its RAM zeroed, the kernel copied)
    steps = {}
    for name, a, b in (("bring-up", "hv_wall", "banner_wall"),
                       ("build", "banner_wall", "built_wall"),
                       ("load", "built_wall", "start_wall")):
        steps[name] = _median(getattr(r, b) - getattr(r, a) for r in _ok(lr.runs["partition"])
                              if getattr(r, a) is not None and getattr(r, b) is not None)
    out = {"exit_cost_s": cost, "slat_levels": levels, "hv_steps_s": steps, "phases": {}}
    for phase, delta, counts, slope, hv_part in (
            ("boot", _diff(tess["ready_wall"], bare["ready_wall"]), boot_counts, slope_boot, hv),
            ("workload", _diff(tess["work_wall"], bare["work_wall"]), work_counts, slope_work,
             None)):
        exits_s, per_reason = bd.exit_time(counts, cost) if counts else (None, [])
        slat_s = slope * levels if slope is not None else None
        out["phases"][phase] = {
            "split": bd.split(delta, exits_s, slat_s, hv_part),
            "exit_counts": counts,
            "exits_by_reason": [{"reason": r, "count": n, "priced_as": op, "seconds": s}
                                for r, n, op, s in per_reason],
            "slat_slope_s_per_level": slope,
            "hw_exits_s": bd.hw_exit_time(counts) if counts else None,
        }
    return out


def _diff(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _s(v: float | None, spec: str = "+.2f") -> str:
    return _fmt(v, spec)


def print_costs(per_op: dict, cost: dict) -> None:
    print()
    print("Exit costs under QEMU TCG: exitcost's operations, partition minus bare (what one "
          "exit adds)")
    names = {"cpuid": "CPUID", "io": "IN from the UART (port 0x3fd)",
             "apic": "local APIC MMIO write", "rdmsr": "RDMSR IA32_APIC_BASE",
             "hlt": "HLT until a timer interrupt, less 2 APIC writes"}
    rows = []
    for op in bd.EXIT_OPS:
        b, p, _ = per_op.get(op, (None, None, None))
        us = cost.get(op)
        rows.append([f"  {names[op]}", _fmt(b), _fmt(p),
                     _fmt(us * 1e6 if us is not None else None, ".1f")])
    _table(["bare TSC/op", "part. TSC/op", "us per exit"], rows)
    prices = {op: [r for r, o in bd.REASON_OP.items() if o == op] for op in bd.EXIT_OPS}
    prices[bd.DEFAULT_OP].append("every other reason")
    print("  each prices the exits: " + "; ".join(f"{op}: {', '.join(prices[op])}"
                                               for op in bd.EXIT_OPS))


def print_breakdown(an: dict) -> None:
    print()
    print("Where Tessera's time goes under QEMU: Tessera minus bare (medians), seconds")
    heads = ["boot to READY", "workload"]
    ph = an["phases"]
    names = (("difference, measured", "delta"),
             ("(a) exits x their cost under QEMU", "exits"),
             (f"(b) nested translation (slope x {an['slat_levels']} levels)", "slat"),
             ("(c) the hypervisor's boot, the partition's build", "hv"),
             ("(d) the rest", "rest"))
    rows = [[label] + [_s(ph[p]["split"][key]) for p in ("boot", "workload")]
            for label, key in names]
    steps = an["hv_steps_s"]
    at = next(i for i, r in enumerate(rows) if r[0].startswith("(c)")) + 1
    for name, text in (("bring-up", "    bring-up, first line to the banner"),
                       ("build", "    configuration and build"),
                       ("load", "    load: RAM zeroed, kernel copied")):
        rows.insert(at, [text, _s(steps.get(name)), ""])
        at += 1
    rows.append(["  exits counted"] + [_fmt(sum(ph[p]["exit_counts"].values())
                                            if ph[p]["exit_counts"] else None)
                                       for p in ("boot", "workload")])
    rows.append(["  nested walk, seconds per level (page runs)"]
                + [_s(ph[p]["slat_slope_s_per_level"], "+.3f") for p in ("boot", "workload")])
    rows.append([f"(a) on hardware, cited {bd.HW_GHZ:.0f} GHz est. (ms)"]
                + [_fmt(ph[p]["hw_exits_s"] * 1e3 if ph[p]["hw_exits_s"] is not None
                        else None, ".1f") for p in ("boot", "workload")])
    _table(heads, rows, 16)
    for p in ("boot", "workload"):
        top = [f"{x['reason']} {x['count']:.0f} = {x['seconds']:.2f} s"
               for x in ph[p]["exits_by_reason"][:4]]
        if top:
            print(f"  {p}, the costliest exits: " + ", ".join(top))
    print("  boot exits: a Tessera run powered off after the check (its check and power-off "
          "included);\n  workload exits: a whole run's (median) less those; (b) from the "
          "page-size series below")


def print_pages(lr: LinuxResults) -> None:
    if not lr.pages:
        return
    print()
    print(f"Page-size series: Tessera, a partition of {linux.PAGES_PART_MIB}M in "
          f"{linux.PAGES_MACHINE_MIB}M, slat_max_page= (one run each)")
    heads = [f"{k} ({bd.NPT_LEVELS[k]} levels)" for k in lr.pages]
    rows = [["partition start to READY (s)"]
            + [_fmt(r.ready_wall - r.start_wall if r.ready_wall and r.start_wall else None,
                    ".2f") for r in lr.pages.values()],
            ["the kernel's first line to READY (s)"]
            + [_fmt(r.kernel_wall, ".2f") for r in lr.pages.values()],
            ["workload, wall clock (s)"] + [_fmt(r.work_wall, ".2f") for r in lr.pages.values()],
            ["exits"] + [_fmt(sum(r.exits.values()) if r.exits else None)
                         for r in lr.pages.values()]]
    _table(heads, rows, 16)


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
    row["_raw"] = {"exitcost_n": n, "bare_tsc_per_cpuid": eb, "partition_tsc_per_cpuid": ep,
                   "tsc_khz": khz, "compute": compute, "compute_bare_tsc": cb,
                   "compute_partition_tsc": cp, "hv_kib_1cpu": part.hv_kib,
                   "instructions_per_exit": ep - eb if p.emulator == "bochs" and eb is not None
                   and ep is not None else None}
    row["_runs"] = (runs["exit_bare"], runs["exit_part"])
    return row


def _git_commit() -> str:
    proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True)
    return proc.stdout.strip()


def _plot_data(lr: LinuxResults, an: dict) -> dict:
    """What report.plot() draws."""
    med = medians(lr.runs)
    times = {}
    for label, attr in (("boot to READY", "ready_wall"),
                        ("kernel's first line\\nto READY", "kernel_wall"),
                        ("workload", "work_wall")):
        times[label] = {"bare": med["bare"][attr], "tessera": med["partition"][attr],
                        "xen": med["xen"][attr] if lr.runs["xen"] else None}
    split = {p: an["phases"][p]["split"] for p in ("boot", "workload")}
    bars = {"bare": {}, "Tessera\\nboot": an["phases"]["boot"]["exit_counts"],
            "Tessera\\nworkload": an["phases"]["workload"]["exit_counts"], "Xen": None}
    notes = {"bare": "none", "Xen": "not counted"}
    if lr.runs["xen"] and not _ok(lr.runs["xen"]):
        notes["Xen"] = "not counted;\\ndid not reach READY"
    if not an["phases"]["boot"]["exit_counts"]:
        bars = {"bare": {}, "Tessera\\nwhole run": median_exits(lr.runs["partition"]),
                "Xen": None}
    return {"times": times, "split": split, "exit_bars": bars, "notes": notes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", action="append", choices=[p.key for p in PLATFORMS],
                    help="only these (repeatable); default: all")
    ap.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    ap.add_argument("--linux-runs", type=int, metavar="N",
                    help=f"Linux boots each way under QEMU ({LINUX_RUNS}; 1 with --quick; "
                         "0: no Linux runs); Bochs boots once each way")
    ap.add_argument("--no-xen", action="store_true", help="no Xen runs")
    ap.add_argument("--no-pages", action="store_true",
                    help="no page-size series (slat_max_page=4k/2m/1g)")
    ap.add_argument("--json", type=Path, default=BENCH_OUT / "bench.json",
                    help="where the results go as JSON (and the picture beside it)")
    args = ap.parse_args()
    chosen = [p for p in PLATFORMS if not args.platform or p.key in args.platform]
    linux_runs = args.linux_runs if args.linux_runs is not None else (1 if args.quick
                                                                      else LINUX_RUNS)
    linux_qemu_on = linux_runs > 0 and any(p.key == "qemu" for p in chosen)
    # Minutes a boot: only when asked for by name.
    linux_bochs_on = linux_runs > 0 and "skylake" in (args.platform or [])
    started = time.monotonic()
    load_start = os.getloadavg()

    def workload(emulator: str) -> tuple:
        return linux.WORKLOAD["bochs" if args.quick else emulator]

    columns = {}
    for p in chosen:
        print(f"bench: {p.label} ...", file=sys.stderr, flush=True)
        columns[p.label] = measure(p, args.quick)
    footprint = {}
    if any(p.emulator == "qemu" for p in chosen):
        for cpus in FOOTPRINT_CPUS:
            footprint[cpus] = footprint_qemu(cpus)
    errors = []
    per_op, op_raw = {}, {}
    qemu_label = next((p.label for p in chosen if p.key == "qemu"), None)
    if linux_qemu_on and qemu_label:
        per_op, op_raw, errs = exit_ops_qemu(columns[qemu_label]["_runs"], args.quick)
        errors += errs
    lr = None
    bochs_runs = None
    image_error = ""
    if linux_qemu_on or linux_bochs_on:
        print("bench: make linux-images ...", file=sys.stderr, flush=True)
        image_error = linux.images(linux_bochs_on)
    xen_on = linux_qemu_on and not args.no_xen
    if xen_on and not image_error:
        print("bench: make xen-image ...", file=sys.stderr, flush=True)
        err = xen.fetch()
        if err:
            errors.append(err)
            xen_on = False
    if not image_error:
        if linux_qemu_on:
            lr = linux_measure_qemu(linux_runs, workload("qemu"), xen_on, not args.no_pages)
        if linux_bochs_on:
            bochs_runs = {"bare": [], "partition": []}
            for kind in bochs_runs:
                print(f"bench: Linux under Bochs skylake, {kind} ...", file=sys.stderr,
                      flush=True)
                bochs_runs[kind].append(linux.run_bochs(kind, workload("bochs")))
    lines = cloc()

    errors = [e for col in columns.values() for e in col.pop("_errors")] + errors
    raw = {label: col.pop("_raw") for label, col in columns.items()}
    for col in columns.values():
        col.pop("_runs")
    if image_error:
        errors.append(image_error)
    errors += [f"QEMU idle boot, {c} CPUs: {r.error}" for c, r in footprint.items() if r.error]
    load_end = os.getloadavg()
    print()
    print(f"Tessera benchmarks ({_git_commit()}); this machine: {os.cpu_count()} CPUs, load "
          f"average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end")
    keys = list(next(iter(columns.values())).keys()) if columns else []
    width = max([len(k) for k in keys] + [48]) + 2
    colw = max([len(c) for c in columns] + [len(v) for col in columns.values()
                                             for v in col.values()] + [12]) + 2
    print()
    print(f"{'':<{width}}" + "".join(f"{c:>{colw}}" for c in columns))
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

    data = {"meta": {"commit": _git_commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                     "host_cpus": os.cpu_count(), "loadavg_start": load_start,
                     "loadavg_end": load_end, "args": vars(args)},
            "platforms": {label: {"table": columns[label], **raw[label]} for label in columns},
            "footprint_kib": {c: r.hv_kib for c, r in footprint.items()},
            "lines_of_code": lines}
    an = None
    if lr is not None:
        if per_op:
            print_costs(per_op, bd.exit_costs(per_op))
        errors += print_linux(f"Linux, QEMU EPYC (AMD-V) -smp {linux.CPUS} -m "
                              f"{linux.MACHINE_MIB}M: bare, Tessera (a partition of "
                              f"{linux.PART_MIB}M), Xen {xen.version().split(' ')[-1]} "
                              f"(PVH dom0 of {xen.DOM0_MIB}M)" if lr.runs["xen"] else
                              f"Linux, QEMU EPYC (AMD-V) -smp {linux.CPUS} -m "
                              f"{linux.MACHINE_MIB}M: bare, and Tessera (a partition of "
                              f"{linux.PART_MIB}M)", "qemu", lr.runs)
        if lr.boot_only is not None and lr.boot_only.error:
            errors.append(f"Linux, QEMU: Tessera boot-only run: {lr.boot_only.error}")
        errors += [f"Linux, QEMU: Tessera slat_max_page={k}: {r.error}"
                   for k, r in lr.pages.items() if r.error]
        for note in lr.notes:
            print(note)
        an = analyse(lr, per_op)
        print_breakdown(an)
        print_pages(lr)
        data["exit_costs_qemu"] = op_raw
        data["linux_qemu"] = {
            "runs": {k: [r.as_dict() for r in v] for k, v in lr.runs.items()},
            "medians": medians(lr.runs),
            "exits_median": median_exits(lr.runs["partition"]),
            "boot_only": lr.boot_only.as_dict() if lr.boot_only else None,
            "pages": {k: r.as_dict() for k, r in lr.pages.items()},
            "xen": xen.version() if lr.runs["xen"] else None,
            "notes": lr.notes}
        data["breakdown"] = an
    if bochs_runs is not None:
        errors += print_linux(f"Linux, Bochs skylake (VT-x) {linux.CPUS} CPUs "
                              f"{linux.MACHINE_MIB}M: bare bzImage (GRUB), a partition of "
                              f"{linux.PART_MIB}M booting vmlinux (PVH)", "bochs", bochs_runs)
        data["linux_bochs"] = {k: [r.as_dict() for r in v] for k, v in bochs_runs.items()}
    seconds = time.monotonic() - started
    data["meta"]["seconds"] = seconds
    data["errors"] = errors
    report.write_json(args.json, data)
    print()
    print(f"({seconds:.0f} s; runs in {RUNS}/; results in {args.json})")
    if lr is not None and an is not None:
        png, err = report.plot(args.json.parent,
                               title=f"Tessera {_git_commit()}: Linux under QEMU TCG "
                                     f"(-smp 2), load average {load_start[0]:.1f}-"
                                     f"{load_end[0]:.1f} on {os.cpu_count()} CPUs",
                               **_plot_data(lr, an))
        if png:
            print(f"(the picture: {png})")
        else:
            errors.append(err)
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
