"""The Linux guest images' console contract (docs/linux.md), for the tests
that boot them: bare here (test_linux_bare.py), in partitions elsewhere.

What the guest prints on its console (ttyS0), one line each:

    TESSERA-GUEST READY HOSTNAME          /init, both images
    NAME=VALUE                            the check command (the test image
    ...                                   runs it at boot; it can be typed)
    TESSERA-GUEST CHECK DONE
    WORKLOAD START cpus=N chunks=C mib=M  the workload command
    WORKLOAD DONE checksum=MD5 seconds=S
    TESSERA-GUEST POWEROFF | REBOOT | CRASH   before each of those commands

Inside Tessera every line comes prefixed with "[PARTITION] "; the functions
here take the partition's name (None: bare). Typing needs the serial
port's input: qemu_bare() gives QEMU's first serial port a socket, and
SerialInput types into it.
"""
from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from pathlib import Path

from tessera_vm import BUILD, QEMU, Machine, netns_prefix

LINUX_DIR = BUILD / "linux"
KERNEL = LINUX_DIR / "vmlinuz"
INITRD_TEST = LINUX_DIR / "initrd-test.cpio.gz"
INITRD_DEMO = LINUX_DIR / "initrd-demo.cpio.gz"

# The workload's defaults (tests/linux/rootfs/bin/workload).
WORKLOAD_CHUNKS = 8
WORKLOAD_MIB = 2

# Clocksources that are not real time counters: a guest left with one of
# these has no working timer hardware.
FALLBACK_CLOCKSOURCES = ("jiffies", "refined-jiffies")

# The check command's dmesg scan (kept in step with bin/check).
DMESG_BAD = r"WARNING: CPU|BUG:|Oops|Call Trace|clocksource.*unstable"


def guest_line(body: str, partition: str | None = None) -> str:
    """A regex for a whole line BODY (a regex) that the guest printed."""
    prefix = rf"\[{re.escape(partition)}\] " if partition else ""
    return rf"^{prefix}{body}$"


def ready(partition: str | None = None) -> str:
    return guest_line(r"TESSERA-GUEST READY(?: (?P<hostname>\S+))?", partition)


def check_done(partition: str | None = None) -> str:
    return guest_line(r"TESSERA-GUEST CHECK DONE", partition)


def workload_done(partition: str | None = None) -> str:
    return guest_line(r"WORKLOAD DONE checksum=(?P<checksum>[0-9a-f]{32}) "
                      r"seconds=(?P<seconds>[0-9.]+)", partition)


def announced(what: str, partition: str | None = None) -> str:
    """POWEROFF, REBOOT or CRASH: printed just before the act."""
    return guest_line(rf"TESSERA-GUEST {what}", partition)


def kernel_panic(partition: str | None = None) -> str:
    return guest_line(r"(?:\[ *[0-9.]+\] )?Kernel panic - not syncing: (?P<why>.*)",
                      partition)


def parse_checks(text: str, partition: str | None = None) -> dict:
    """The NAME=VALUE lines of the last complete check output in TEXT, as a
    dict; dmesg_bad_line, which may repeat, is a list."""
    start = list(re.finditer(ready(partition), text, re.M))
    ends = list(re.finditer(check_done(partition), text, re.M))
    if not ends:
        return {}
    end = ends[-1].start()
    begin = max([m.end() for m in start if m.end() <= end], default=0)
    # The check command may also be typed: its output follows the prompt.
    begin = max([begin] + [m.end() for m in ends[:-1]])
    values: dict = {"dmesg_bad_line": []}
    line = re.compile(guest_line(r"(?P<key>[a-z_0-9]+)=(?P<value>.*)", partition), re.M)
    for m in line.finditer(text, begin, end):
        if m["key"] == "dmesg_bad_line":
            values["dmesg_bad_line"].append(m["value"])
        else:
            values[m["key"]] = m["value"]
    return values


def workload_checksum(chunks: int = WORKLOAD_CHUNKS, mib: int = WORKLOAD_MIB) -> str:
    """What `workload CHUNKS MIB` must print: the MD5 of the chunks' md5sum
    lines, each chunk being its line repeated and cut at MIB MiB."""
    lines = []
    for k in range(chunks):
        pattern = f"tessera workload chunk {k}\n".encode()
        size = mib << 20
        data = (pattern * (size // len(pattern) + 1))[:size]
        lines.append(f"{hashlib.md5(data).hexdigest()}  -\n")
    return hashlib.md5("".join(lines).encode()).hexdigest()


def memtotal_ok(memtotal_kb: int, ram_mib: int) -> bool:
    """MemTotal is the RAM less what the kernel keeps for itself (its image,
    the page array, firmware areas): under 96 MiB of 512 MiB here (56 MiB
    bare under QEMU with Debian's 6.1)."""
    ram_kb = ram_mib * 1024
    return ram_kb - 96 * 1024 <= memtotal_kb <= ram_kb


def check_problems(checks: dict, *, cpus: int, ram_mib: int) -> list[str]:
    """What is wrong in a check output for a guest with CPUS CPUs and
    RAM_MIB MiB (empty: nothing)."""
    problems = []
    if not checks:
        return ["no check output"]
    if checks.get("nproc") != str(cpus):
        problems.append(f"nproc={checks.get('nproc')}, expected {cpus}")
    want_online = "0" if cpus == 1 else f"0-{cpus - 1}"
    if checks.get("cpus_online") != want_online:
        problems.append(f"cpus_online={checks.get('cpus_online')}, expected {want_online}")
    try:
        mem = int(checks.get("memtotal_kb", ""))
        if not memtotal_ok(mem, ram_mib):
            problems.append(f"memtotal_kb={mem} does not fit {ram_mib} MiB of RAM")
    except ValueError:
        problems.append(f"memtotal_kb={checks.get('memtotal_kb')!r} is not a number")
    cs = checks.get("clocksource", "")
    if not cs or cs in FALLBACK_CLOCKSOURCES:
        problems.append(f"clocksource={cs!r}: no real clocksource "
                        f"(available: {checks.get('clocksources')!r})")
    if checks.get("dmesg_bad") != "0":
        problems.append(f"dmesg_bad={checks.get('dmesg_bad')}: "
                        + " | ".join(checks.get("dmesg_bad_line", [])))
    return problems


class SerialInput:
    """Types into a serial port that QEMU serves on a Unix socket. What the
    guest prints comes back on the socket too: a thread reads it and drops
    it (the console transcript is QEMU's log file), so that the guest's
    UART never waits for a reader."""

    def __init__(self, path: Path, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def type(self, text: str) -> None:
        """Sends TEXT as typed keys (a line ends with Enter: CR)."""
        self.sock.sendall(text.replace("\n", "\r").encode())

    def line(self, command: str) -> None:
        self.type(command + "\n")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def shell_ready(m: Machine, tty: SerialInput, partition: str | None = None,
                timeout: float = 60) -> None:
    """Waits until the guest's shell runs what is typed: types a command
    whose output differs from its echo until the output appears."""
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline and m.running():
        n += 1
        tty.line(f"echo TESSERA-SYNC-$(({n} * 7))")
        # Not wait_for: its time-out ends the machine.
        retry = time.monotonic() + 2
        while time.monotonic() < retry:
            found = m.find_all(guest_line(f"TESSERA-SYNC-{n * 7}", partition), m.cursor)
            if found:
                m.cursor = found[0].end()
                return
            time.sleep(0.05)
    m.fail(f"the guest's shell did not answer within {timeout:.0f} s")


def qemu_bare(name: str, workdir: Path, *, initrd: Path = INITRD_TEST, cpus: int = 2,
              memory_mib: int = 512, cpu: str = "EPYC", append: str = "console=ttyS0",
              extra: list[str] = ()) -> tuple[Machine, Path]:
    """QEMU booting the guest kernel directly (no hypervisor), its first
    serial port on a Unix socket (returned; connect a SerialInput to it
    once the machine has started: QEMU waits for it) and logged to
    WORKDIR/console.txt for Machine.wait_for."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sock = workdir / "serial.sock"
    sock.unlink(missing_ok=True)
    for f in (KERNEL, initrd):
        if not f.exists():
            raise AssertionError(f"{f} does not exist (make linux-images)")
    argv = netns_prefix() + [
        QEMU, "-M", "q35", "-cpu", cpu, "-smp", str(cpus), "-m", f"{memory_mib}M",
        "-nographic", "-no-reboot", "-monitor", "none", "-parallel", "none", "-nic", "none",
        "-chardev", f"socket,id=ttyS0,path={sock},server=on,wait=on,"
                    f"logfile={workdir / 'console.txt'}",
        "-serial", "chardev:ttyS0",
        "-kernel", str(KERNEL), "-initrd", str(initrd), "-append", append,
    ] + list(extra)
    return Machine(name, argv, workdir), sock
