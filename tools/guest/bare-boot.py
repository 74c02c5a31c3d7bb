#!/usr/bin/env python3
"""bare-boot.py: boots the guest kernel and an initramfs bare (no
hypervisor) under QEMU or Bochs, once, and prints how long each stage took:
the measurement behind the bare baseline in docs/linux.md. Not a test (the
tests are tests/linux/test_linux_bare.py); run it by hand, on a quiet
machine.

    tools/guest/bare-boot.py qemu  [--cpus 2] [--memory 512] [--initrd FILE]
    tools/guest/bare-boot.py bochs [--cpus 2] [--memory 512] [--initrd FILE]
                                   [--model corei7_skylake_x] [--ips 50000000]
                                   [--strict-msrs]

QEMU boots the kernel with -kernel/-initrd (q35, -cpu EPYC). Bochs boots a
GRUB ISO (build/linux/bare-bochs.iso, made here with grub-mkrescue) whose
only entry loads the same files with `linux` and `initrd`. Both use the
command line console=ttyS0. The run's files are in build/linux/bare-EMULATOR/.

Bochs models no MSR it does not know, and Linux reads some that
corei7_skylake_x lacks (IA32_MISC_ENABLE, 0x1a0, in its very first
instructions): with the system tests' `ignore_bad_msrs=0` it triple-faults
there. This script sets ignore_bad_msrs=1 (unknown MSRs read as 0, writes
are dropped) unless --strict-msrs is given, and lists the MSRs Bochs did
not know: what a hypervisor must answer for Linux on that CPU.
"""
from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the test harness package, tests/harness/

from harness import linux_guest as g  # noqa: E402
from harness import tessera_vm  # noqa: E402

GRUB_CFG = """\
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "Linux, bare" {{
	linux /boot/vmlinuz {cmdline}
	initrd /boot/initrd
}}
"""
GRUB_MODULES = "linux normal iso9660 serial terminal echo test all_video"

# Stages, as (name, regex of the line that ends it).
STAGES = (
    ("loader starts", r"^(?:.*)(?:Booting .Linux, bare.|Booting from ROM)"),
    ("kernel starts", r"^(?:.*\] )?Linux version "),
    ("/init runs", r"^(?:.*\] )?Run /init as init process"),
    ("READY", g.ready()),
    ("checks done", g.check_done()),
)


def wait_stages(m: tessera_vm.Machine, timeout: float) -> None:
    """Waits for the last stage, noting when each line first appeared
    (with `quiet` on the command line the kernel prints none of its own)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while STAGES[-1][0] not in seen:
        for name, pattern in STAGES:
            if name not in seen and m.find_all(pattern):
                seen[name] = m.elapsed()
                print(f"  {name:<14} {seen[name]:7.1f} s")
        if not m.running():
            m.fail("the emulator exited before the guest's checks were done")
        if time.monotonic() > deadline:
            m.fail(f"the guest's checks were not done within {timeout:.0f} s")
        time.sleep(0.05)


def make_iso(out: Path, initrd: Path, cmdline: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "root"
        (stage / "boot" / "grub").mkdir(parents=True)
        shutil.copy(g.KERNEL, stage / "boot" / "vmlinuz")
        shutil.copy(initrd, stage / "boot" / "initrd")
        (stage / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG.format(cmdline=cmdline))
        proc = subprocess.run(["grub-mkrescue", "-o", str(out), "--compress=xz",
                               "--locales=", "--fonts=", "--themes=",
                               f"--install-modules={GRUB_MODULES}", str(stage)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"grub-mkrescue failed:\n{proc.stdout}{proc.stderr}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("emulator", choices=("qemu", "bochs"))
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--memory", type=int, default=512, help="MiB")
    ap.add_argument("--initrd", type=Path, default=g.INITRD_TEST)
    ap.add_argument("--cmdline", default="console=ttyS0")
    ap.add_argument("--model", default="corei7_skylake_x", help="Bochs CPU model")
    ap.add_argument("--ips", type=int, default=50_000_000, help="Bochs instructions/s")
    ap.add_argument("--strict-msrs", action="store_true",
                    help="Bochs: keep ignore_bad_msrs=0 (#GP on unknown MSRs)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    # The emulator runs in a session of its own: on SIGTERM (timeout(1))
    # unwind, so that leaving the `with` block stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bare-boot: terminated"))

    workdir = g.LINUX_DIR / f"bare-{args.emulator}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if args.emulator == "qemu":
        m, sock = g.qemu_bare("bare-qemu", workdir, initrd=args.initrd, cpus=args.cpus,
                              memory_mib=args.memory, append=args.cmdline)
        m.start()
        tty = g.SerialInput(sock)
    else:
        iso = g.LINUX_DIR / "bare-bochs.iso"
        make_iso(iso, args.initrd, args.cmdline)
        m = tessera_vm.bochs("bare-bochs", workdir, model=args.model, cpus=args.cpus,
                             memory_mib=args.memory, cdrom=iso, ips=args.ips)
        if not args.strict_msrs:
            rc = workdir / "bochsrc"
            rc.write_text(rc.read_text().replace("ignore_bad_msrs=0", "ignore_bad_msrs=1"))
        m.start()
        tty = None
    print(f"{args.emulator}: {' '.join(m.argv)}")
    try:
        with m:
            wait_stages(m, args.timeout)
            checks = g.parse_checks(m.transcript())
            for key in ("kernel", "nproc", "memtotal_kb", "clocksource", "clocksources",
                        "uptime", "dmesg_bad"):
                print(f"  {key}={checks.get(key)}")
            for line in checks.get("dmesg_bad_line", []):
                print(f"  dmesg_bad_line={line}")
    finally:
        if tty:
            tty.close()
    # Kernel time stamps: where the guest's own time went.
    text = m.transcript()
    last = re.findall(r"^\[ *([0-9.]+)\]", text, re.M)
    if last:
        print(f"  last kernel time stamp: {last[-1]} s; console: {m.console_path}")
    log = workdir / "bochs.log"
    if log.exists():
        msrs = sorted(set(re.findall(r"(RDMSR|WRMSR): Unknown register (0x[0-9a-f]+)",
                                     log.read_text(errors="replace"))))
        if msrs:
            print("  MSRs Bochs does not know: "
                  + ", ".join(f"{op.lower()} {msr}" for op, msr in msrs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
