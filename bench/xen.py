"""Xen, the peer in `make bench` (bench/bench.py): Debian's Xen 4.17 booting
the bench's Linux kernel and initramfs as its PVH dom0, on the same QEMU
machine as the bare and Tessera runs.

The hypervisor comes from Debian's `xen-hypervisor-4.17-amd64`, fetched with
`apt-get download` and unpacked into build/xen/ (`make xen-image`, which runs
tools/guest/fetch-deb.sh, as the kernel is fetched); nothing is installed.
It boots from a GRUB ISO (PLATFORMS.md: QEMU's -kernel cannot load it) whose
one entry is the recipe that works under TCG:

    multiboot2 /boot/xen.gz console=com1 com1=115200,8n1 dom0_mem=768M,max:768M
               dom0=pvh smap=0 cpuidle=0 cpuid=no-rdtscp
    module2 /boot/vmlinuz console=hvc0
    module2 /boot/initrd

with QEMU's `-device amd-iommu` (a PVH dom0 needs an IOMMU). dom0 gets the
partition's 768 MiB and both CPUs; its command line is the bare one with
the console on hvc0, Xen's console for dom0, which Xen copies to COM1
without a prefix (its own lines start with "(XEN) ") and to which it passes
what is typed on COM1 (Xen: "Serial input to DOM0"). The initramfs's /init
and check write to /dev/console, so READY and the check arrive as bare.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XEN_DIR = ROOT / "build" / "xen"
XEN_GZ = XEN_DIR / "xen.gz"            # make xen-image
XEN_PACKAGE = "xen-hypervisor-4.17-amd64"

DOM0_MIB = 768                         # the Tessera partition's RAM
XEN_CMDLINE = (f"console=com1 com1=115200,8n1 dom0_mem={DOM0_MIB}M,max:{DOM0_MIB}M "
               "dom0=pvh smap=0 cpuidle=0 cpuid=no-rdtscp")
QEMU_EXTRA = ["-device", "amd-iommu"]

# Console lines (Xen's own start with "(XEN) ").
XEN_FIRST_LINE = r"\(XEN\) Xen version .*"  # after GRUB's terminal codes
# The last line before Xen unpauses dom0.
XEN_DOM0_START = r"^\(XEN\) Freed \d+kB init memory$"
# dom0 stuck (seen under a loaded TCG: Xen traps every RDTSC of a PVH dom0
# when the TSC is not invariant, as TCG's is not; docs/performance.md)
SOFT_LOCKUP = r"watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s!.*"

GRUB_MODULES = ("multiboot2 normal configfile echo test serial terminal iso9660 "
                "part_gpt part_msdos gzio")


def fetch() -> str:
    """`make xen-image`; returns an error, or ''."""
    proc = subprocess.run(["make", "--no-print-directory", "-s", "xen-image"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not XEN_GZ.exists():
        return f"make xen-image failed: {(proc.stdout + proc.stderr).strip()[-300:]}"
    return ""


def version() -> str:
    """"PACKAGE VERSION" of the Xen that make xen-image unpacked."""
    try:
        return (XEN_DIR / "package").read_text().strip()
    except OSError:
        return ""


def make_iso(out: Path, kernel: Path, initrd: Path, dom0_cmdline: str) -> Path:
    """A GRUB ISO that boots Xen with KERNEL and INITRD as its PVH dom0."""
    if not shutil.which("grub-mkrescue"):
        raise OSError("grub-mkrescue not found (tools/install-deps.sh)")
    stage = out.parent / "xen-iso"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "boot" / "grub").mkdir(parents=True)
    shutil.copy(XEN_GZ, stage / "boot" / "xen.gz")
    shutil.copy(kernel, stage / "boot" / "vmlinuz")
    shutil.copy(initrd, stage / "boot" / "initrd")
    (stage / "boot" / "grub" / "grub.cfg").write_text(
        "# written by bench/xen.py\n"
        "serial --unit=0 --speed=115200\n"
        "terminal_input serial console\n"
        "terminal_output serial console\n"
        "set timeout=0\n"
        "set default=0\n\n"
        'menuentry "Xen 4.17, Linux as PVH dom0" {\n'
        f"\tmultiboot2 /boot/xen.gz {XEN_CMDLINE}\n"
        f"\tmodule2 /boot/vmlinuz {dom0_cmdline}\n"
        "\tmodule2 /boot/initrd\n"
        "}\n")
    proc = subprocess.run(["grub-mkrescue", "-o", str(out), "--compress=xz", "--locales=",
                           "--fonts=", "--themes=", f"--install-modules={GRUB_MODULES}",
                           str(stage)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise OSError(f"grub-mkrescue failed: {proc.stderr.strip()[-300:]}")
    return out
