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
    one-partition configuration that owns both CPUs and 768M of the 1G.
    Bare and partition boots alternate, --linux-runs times each (3; 1 with
    --quick), and the table gives medians (the individual values follow
    it) and the ratio partition/bare of:
    - boot to user space, wall clock: emulator start to the guest's
      `TESSERA-GUEST READY` line (includes the firmware, and in a partition
      the hypervisor's own boot);
    - the guest's uptime at READY (the `uptime=` the check prints right
      after it): the kernel's own time, without firmware or hypervisor;
    - the workload (`workload` typed at the shell): its `seconds=` (guest
      time) and the wall clock from its START line to its DONE line; both
      ways must print the same checksum;
    then `poweroff`: the hypervisor's `exits:` line for the partition
    (exits by reason over the whole boot: kernel, check, workload,
    power-off) and its interrupts and exceptions injected, medians over
    the runs, the most frequent reasons first.
    With `--platform skylake` named explicitly (not in the default run:
    each Bochs Linux boot takes minutes), the same once each under Bochs
    corei7_skylake_x (VT-x) with 2 CPUs and 1 GiB: bare is a GRUB ISO
    whose entry loads vmlinuz and the initramfs with `linux`/`initrd`
    (tools/guest/bare-boot.py; Bochs's ignore_bad_msrs=1, as there), the
    partition boots the uncompressed vmlinux through its PVH entry (`make
    linux-vmlinux`). The bare wall clock then includes the kernel's XZ
    decompression (about 40 s under Bochs) and the partition's does not:
    under Bochs compare the guest uptimes, which are emulated time (its
    instruction count) and exclude decompression both ways.

Emulated numbers are noisy and say little in absolute terms: compare ratios
and trends. Runs go to build/bench-runs/NAME/ (console, command, logs).
The default run (all platforms, Linux under QEMU only) takes about ten
minutes here.

    bench/bench.py [--platform qemu|skylake|ryzen ...] [--quick] [--linux-runs N]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "system"))

from hv_console import HV_MEMORY, HV_TSC, part_verdict  # noqa: E402
from tessera_vm import BUILD, BootFailure, Machine, bochs, hv_elf, qemu  # noqa: E402

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
    args = ap.parse_args()
    chosen = [p for p in PLATFORMS if not args.platform or p.key in args.platform]
    started = time.monotonic()

    columns = {}
    for p in chosen:
        print(f"bench: {p.label} ...", file=sys.stderr, flush=True)
        columns[p.label] = measure(p, args.quick)
    footprint = {}
    if any(p.emulator == "qemu" for p in chosen):
        for cpus in FOOTPRINT_CPUS:
            footprint[cpus] = footprint_qemu(cpus)
    lines = cloc()

    errors = [e for col in columns.values() for e in col.pop("_errors")]
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
    print()
    print(f"({time.monotonic() - started:.0f} s; runs in {RUNS}/)")
    for e in errors:
        print(f"error: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
