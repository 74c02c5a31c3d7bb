#!/usr/bin/env python3
"""mkinitramfs.py: the guest initramfs, a gzip-compressed newc cpio made in
pure Python (no cpio binary, no root: device nodes are written straight
into the archive).

    tools/guest/mkinitramfs.py --role demo|test -o OUT.cpio.gz
                               [--busybox PATH] [--rootfs DIR] [--hostname NAME]
                               [--hvctl PATH]

The archive holds Debian's static busybox as /bin/busybox (from the
busybox-static package, fetched with tools/guest/fetch-deb.sh into
build/linux/busybox/ unless --busybox names one), a symlink to it for each
applet in APPLETS, the tree tests/linux/rootfs/ (/init, the commands
check, workload and crash, /etc with the shell's profile), the empty mount
points /dev /proc /sys /tmp, and /dev/console for the kernel to open before
/init mounts devtmpfs. /bin/hvctl is build/tools/hvctl when --hvctl names it (SPEC 7: it works in a
partition with manage = yes, and says plainly that it cannot elsewhere).
/etc/tessera-role holds the role: "demo" prints the
banner and starts a shell on the console, "test" also runs the check
command first. docs/linux.md describes what the guest does.

The output is reproducible: entries are sorted, owned by root, dated
SOURCE_DATE_EPOCH (default 0), and the gzip header carries no time or name.
"""
from __future__ import annotations

import argparse
import gzip
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROOTFS = ROOT / "tests" / "linux" / "rootfs"
DEFAULT_MODULES = ROOT / "build" / "linux" / "pkg" / "lib" / "modules"
BUSYBOX_DIR = ROOT / "build" / "linux" / "busybox"
BUSYBOX_PACKAGE = "busybox-static"
ROLES = ("demo", "test")
DEFAULT_HOSTNAME = "tessera"

# The applets the scripts use, and the usual ones for a look around at the
# shell. A file of the same name in the rootfs wins.
APPLETS = """
    [ acpid awk basename cat chmod clear cmp cp cttyhack cut date dd df dirname
    dmesg du echo env expr false find free grep gunzip gzip head hexdump
    hostname id insmod ip kill less ln ls md5sum mkdir mknod more mount mv nc nproc od
    ping poweroff printf ps pwd readlink reboot rm rmdir sed seq setsid sh
    sha256sum sleep sort stat stty sync sysctl tail taskset tee test time
    top touch tr true tty umount uname uniq uptime vi watch wc which xargs
    yes
""".split()

# newc: "070701", then 13 fields of 8 hex digits; name and data each padded
# to a multiple of 4 bytes (the kernel's Documentation/driver-api/
# early-userspace/buffer-format.rst).
NEWC_MAGIC = b"070701"
NEWC_ALIGN = 4
TRAILER = "TRAILER!!!"

# Linux device numbers (Documentation/admin-guide/devices.txt)
DEV_MEM_MAJOR, DEV_NULL_MINOR = 1, 3
DEV_TTY_MAJOR, DEV_CONSOLE_MINOR = 5, 1


@dataclass
class Entry:
    """One archive member. Path is relative, without a leading '/'."""
    path: str
    mode: int                 # file type and permission bits
    data: bytes = b""         # file contents, or a symlink's target
    rdev: tuple[int, int] = (0, 0)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % NEWC_ALIGN)


def newc_member(ino: int, entry: Entry, mtime: int) -> bytes:
    name = entry.path.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, mtime, len(entry.data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0)
    header = NEWC_MAGIC + b"".join(b"%08x" % f for f in fields)
    head = header + name
    return head + _pad(len(head)) + entry.data + _pad(len(entry.data))


def newc_archive(entries: list[Entry], mtime: int) -> bytes:
    """The whole cpio: every entry (parents first), then the trailer."""
    out = [newc_member(i + 1, e, mtime) for i, e in enumerate(entries)]
    out.append(newc_member(0, Entry(TRAILER, 0), 0))
    return b"".join(out)


class Tree:
    """The archive's contents, by path; directories are added as needed."""

    def __init__(self):
        self.entries: dict[str, Entry] = {}

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def add(self, entry: Entry) -> None:
        if entry.path in self.entries:
            raise SystemExit(f"mkinitramfs: {entry.path}: added twice")
        self._parents(entry.path)
        self.entries[entry.path] = entry

    def dir(self, path: str, perm: int = 0o755) -> None:
        if path not in self.entries:
            self._parents(path)
            self.entries[path] = Entry(path, stat.S_IFDIR | perm)

    def file(self, path: str, data: bytes, perm: int = 0o644) -> None:
        self.add(Entry(path, stat.S_IFREG | perm, data))

    def symlink(self, path: str, target: str) -> None:
        self.add(Entry(path, stat.S_IFLNK | 0o777, target.encode()))

    def chardev(self, path: str, major: int, minor: int, perm: int = 0o600) -> None:
        self.add(Entry(path, stat.S_IFCHR | perm, rdev=(major, minor)))

    def sorted(self) -> list[Entry]:
        # Sorting by path puts every directory before what it holds.
        return [self.entries[p] for p in sorted(self.entries)]


def copy_tree(tree: Tree, src: Path) -> None:
    """Adds the files, directories and symlinks under SRC; a file keeps only
    whether it is executable (0755 or 0644)."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_symlink():
            tree.symlink(rel, os.readlink(path))
        elif path.is_dir():
            tree.dir(rel)
        elif path.is_file():
            perm = 0o755 if os.access(path, os.X_OK) else 0o644
            tree.file(rel, path.read_bytes(), perm)
        else:
            raise SystemExit(f"mkinitramfs: {path}: not a file, directory or symlink")


def fetch_busybox() -> Path:
    """build/linux/busybox/pkg/bin/busybox, from Debian's package."""
    script = ROOT / "tools" / "guest" / "fetch-deb.sh"
    proc = subprocess.run([str(script), BUSYBOX_PACKAGE, str(BUSYBOX_DIR)])
    if proc.returncode != 0:
        raise SystemExit(f"mkinitramfs: fetching {BUSYBOX_PACKAGE} failed")
    return BUSYBOX_DIR / "pkg" / "bin" / "busybox"


def busybox_applets(busybox: Path) -> set[str]:
    """The applets this busybox has (it is a static amd64 binary: the build
    machine can run it)."""
    proc = subprocess.run([str(busybox), "--list"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mkinitramfs: {busybox} --list failed: {proc.stderr.strip()}")
    return set(proc.stdout.split())


# Modules of the guest's own kernel package that /init loads, in this
# order (each needs those before it): the pvpanic driver, through which a
# panicking kernel tells the hypervisor (its on_crash then applies); the
# virtio PCI transport with its network and block drivers (docs/virtio.md);
# the ACPI button driver and the event devices, through which busybox acpid
# hears the power button of a graceful stop (hvctl stop, SPEC 7).
MODULES = ["kernel/drivers/input/evdev.ko",
           "kernel/drivers/acpi/button.ko",
           "kernel/drivers/misc/pvpanic/pvpanic.ko",
           "kernel/drivers/misc/pvpanic/pvpanic-mmio.ko",
           "kernel/drivers/virtio/virtio_ring.ko",
           "kernel/drivers/virtio/virtio.ko",
           "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
           "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
           "kernel/drivers/virtio/virtio_pci.ko",
           "kernel/net/core/failover.ko",
           "kernel/drivers/net/net_failover.ko",
           "kernel/drivers/net/virtio_net.ko",
           "kernel/drivers/block/virtio_blk.ko"]


def add_modules(tree: Tree, modules: Path) -> None:
    trees = sorted(p for p in modules.glob("*") if p.is_dir())
    if len(trees) != 1:
        raise SystemExit(f"mkinitramfs: {modules}: want exactly one kernel's modules, "
                         f"found {len(trees)}")
    tree.dir("lib")
    tree.dir("lib/modules")
    for rel in MODULES:
        src = trees[0] / rel
        if not src.is_file():
            raise SystemExit(f"mkinitramfs: {src}: missing (from the kernel package)")
        tree.file(f"lib/modules/{src.name}", src.read_bytes())
    # /init loads them in this order
    tree.file("lib/modules/order", "".join(f"{Path(r).name}\n" for r in MODULES).encode())


def build_tree(role: str, busybox: Path, rootfs: Path, hostname: str,
               modules: Path, hvctl: Path | None = None) -> Tree:
    tree = Tree()
    for d in ("bin", "dev", "etc", "proc", "root", "sys", "tmp"):
        tree.dir(d)
    tree.entries["tmp"].mode = stat.S_IFDIR | 0o1777
    tree.entries["root"].mode = stat.S_IFDIR | 0o700
    # The kernel opens /dev/console for /init before anything is mounted.
    tree.chardev("dev/console", DEV_TTY_MAJOR, DEV_CONSOLE_MINOR)
    tree.chardev("dev/null", DEV_MEM_MAJOR, DEV_NULL_MINOR, 0o666)

    copy_tree(tree, rootfs)
    if "init" not in tree.entries:
        raise SystemExit(f"mkinitramfs: {rootfs}: no init")
    tree.file("etc/tessera-role", f"{role}\n".encode())
    if hostname:
        tree.entries.pop("etc/hostname", None)
        tree.file("etc/hostname", f"{hostname}\n".encode())

    add_modules(tree, modules)
    if hvctl:
        tree.file("bin/hvctl", hvctl.read_bytes(), 0o755)
    tree.file("bin/busybox", busybox.read_bytes(), 0o755)
    have = busybox_applets(busybox)
    missing = [a for a in APPLETS if a not in have]
    if missing:
        raise SystemExit(f"mkinitramfs: {busybox} lacks the applets {' '.join(missing)}")
    for applet in APPLETS:
        if f"bin/{applet}" not in tree.entries:
            tree.symlink(f"bin/{applet}", "busybox")
    # Scripts elsewhere may say /sbin/... or /usr/bin/...
    for alias in ("sbin", "usr/bin", "usr/sbin"):
        tree.symlink(alias, "/bin")
    return tree


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--role", choices=ROLES, required=True)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--busybox", type=Path, help="a static busybox (default: Debian's "
                    f"{BUSYBOX_PACKAGE}, fetched into {BUSYBOX_DIR.relative_to(ROOT)})")
    ap.add_argument("--modules", type=Path, default=DEFAULT_MODULES,
                    help="the kernel package's lib/modules (default: build/linux/pkg/lib/modules)")
    ap.add_argument("--rootfs", type=Path, default=DEFAULT_ROOTFS,
                    help="the tree to copy in (default: tests/linux/rootfs)")
    ap.add_argument("--hostname", default="",
                    help=f"the default host name (rootfs etc/hostname: {DEFAULT_HOSTNAME}); "
                    "hostname=NAME on the kernel command line overrides it")
    ap.add_argument("--hvctl", type=Path, help="build/tools/hvctl, as /bin/hvctl")
    args = ap.parse_args(argv)

    busybox = args.busybox or fetch_busybox()
    if not busybox.is_file():
        raise SystemExit(f"mkinitramfs: {busybox}: no such file")
    if args.hvctl and not args.hvctl.is_file():
        raise SystemExit(f"mkinitramfs: {args.hvctl}: no such file")
    tree = build_tree(args.role, busybox, args.rootfs, args.hostname, args.modules,
                      args.hvctl)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    cpio = newc_archive(tree.sorted(), mtime)
    # mtime=0 and no file name: the same input gives the same bytes.
    data = gzip.compress(cpio, compresslevel=9, mtime=0)
    write_atomic(args.output, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
