"""The Linux guest images' console contract (docs/linux.md), for the tests
that boot them: bare (tests/linux/test_linux_bare.py) and in partitions.

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

from .tessera_vm import BUILD, QEMU, Machine, netns_prefix

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
    return GuestMachine(name, argv, workdir), sock


# -- Linux in partitions (test_linux_partitions.py) ---------------------------
#
# Inside Tessera the guests share the hypervisor's console: every line a
# partition prints comes prefixed with "[NAME] ", the hypervisor's own lines
# with "hv: ", and typed input goes to the partition with the focus, which
# Ctrl-A three times moves on to the next one (SPEC.md 4).
#
# The console is read through the connection that types into it (QEMU's
# socket, Bochs's terminal), and copied to console.txt from there: QEMU's own
# logfile writes a byte twice whenever the socket was full for a moment
# (it logs the byte on EAGAIN, then again when the UART retries it), which a
# megabyte of output makes happen.

import os  # noqa: E402
import pty  # noqa: E402
import select  # noqa: E402
import termios  # noqa: E402
import tty as _tty  # noqa: E402

from .tessera_vm import TIMEOUT_SCALE, BootFailure  # noqa: E402

VMLINUX = LINUX_DIR / "vmlinux"

FOCUS_SWITCH = "\x01" * 3  # Ctrl-A three times (SPEC.md 4)

# Typed input waits in the partition's 4 KiB input queue until its guest
# reads it (hv/vdev/vuart.c), and QEMU's UART holds what the hypervisor has
# not read yet, so a socket console may send at any speed (see
# test_qemu_typed_line_arrives_whole). Bochs's does not wait (PtyConsole):
# commands are typed like a person would, in bursts of TYPE_BURST bytes,
# TYPE_GAP seconds apart (about 130 B/s).
TYPE_BURST = 8
TYPE_GAP = 0.06


def focus_line(name: str | None = None) -> str:
    who = re.escape(name) if name else r"(?P<name>[a-z0-9_-]{1,16})"
    return rf"^hv: console -> {who}$"


def part_stopped(name: str, reason: str = r".*") -> str:
    return rf"^hv: partition {re.escape(name)} stopped: (?P<reason>{reason})$"


def part_restarting(name: str) -> str:
    return rf"^hv: partition {re.escape(name)}: restarting \(restart (?P<count>\d+)\)$"


ON_IDLE_POWEROFF = r"^hv: on_idle: poweroff$"


class _Recorder:
    """What a console connection receives: appended to CONSOLE (opened at
    the first byte, so after Machine.start() has emptied it), and split
    into lines for watch()."""

    def _recorder_init(self, console: Path) -> None:
        self.console = Path(console)
        self._out = None
        self._partial = b""
        self._watches: list[tuple[re.Pattern, list]] = []
        self._lock = threading.Lock()

    def _record(self, data: bytes) -> None:
        now = time.monotonic()
        if self._out is None:
            self._out = open(self.console, "ab", buffering=0)
        self._out.write(data)
        with self._lock:
            if not self._watches:
                self._partial = b""
                return
            lines = (self._partial + data).split(b"\n")
            self._partial = lines.pop()
            for raw in lines:
                line = raw.decode("utf-8", "replace").replace("\r", "")
                for regex, seen in self._watches:
                    m = regex.search(line)
                    if m:
                        seen.append((now, m))

    def watch(self, pattern: str) -> list:
        """From now on, every complete line matching PATTERN is appended to
        the list returned, as (host time.monotonic() when it arrived,
        match)."""
        seen: list = []
        with self._lock:
            self._partial = b""
            self._watches.append((re.compile(pattern), seen))
        return seen

    def unwatch(self, seen: list) -> None:
        with self._lock:
            self._watches = [w for w in self._watches if w[1] is not seen]

    def _recorder_close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def _type_paced(send, text: str, burst: int, gap: float) -> None:
    data = text.replace("\n", "\r").encode()
    for i in range(0, len(data), burst):
        send(data[i:i + burst])
        if i + burst < len(data):
            time.sleep(gap)


class ConsoleSocket(SerialInput, _Recorder):
    """A SerialInput that also records: what the machine prints is copied to
    CONSOLE (for Machine.wait_for) as it arrives on the socket. For
    tessera_vm.qemu(serial_socket=...), where QEMU waits for this
    connection before it starts the machine."""

    def __init__(self, path: Path, console: Path, timeout: float = 10.0):
        self._recorder_init(console)
        super().__init__(path, timeout)

    def _drain(self) -> None:
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self._record(data)
        except OSError:
            pass

    def type_paced(self, text: str, burst: int | None = None, gap: float | None = None) -> None:
        """Sends TEXT as typed keys, BURST bytes at a time, GAP seconds apart
        (default: TYPE_BURST, TYPE_GAP)."""
        _type_paced(self.sock.sendall, text, burst or TYPE_BURST, gap or TYPE_GAP)

    def finish(self, timeout: float = 5.0) -> None:
        """Once the emulator has exited: waits until all it printed is in
        the console file."""
        self._reader.join(timeout)

    def close(self) -> None:
        super().close()
        self._reader.join(2)
        self._recorder_close()


class PtyConsole(_Recorder):
    """A pseudo-terminal for an emulator's serial port (Bochs's `term`
    mode takes the slave's path): a thread copies what the machine prints
    to CONSOLE, which Machine.wait_for reads, and type() sends keys. Open it
    before the emulator starts; close it after.

    Bochs reads the terminal at the line's pace whether or not its UART's
    16-byte receive FIFO has room (QEMU waits), and the hypervisor empties
    that FIFO only when a vCPU leaves its guest, which an idle Linux does
    rarely: typed bytes are lost unless the guest keeps waking up (KEEPALIVE)
    or the typing is slow. type_paced() sends BURST bytes every GAP seconds
    by default; set them for the time before a keep-alive runs."""

    def __init__(self, console: Path, burst: int = TYPE_BURST, gap: float = TYPE_GAP):
        self._recorder_init(console)
        self.burst, self.gap = burst, gap
        self.master, slave = pty.openpty()
        # Raw both ways: no echo of what is typed, no line discipline
        # between the machine and the test (Bochs sets the slave raw too).
        _tty.setraw(slave, termios.TCSANOW)
        self.slave_path = os.ttyname(slave)
        self._slave = slave  # kept open: the master reads EIO once none is
        self._stop = False
        self._idle = threading.Event()
        self._reader = threading.Thread(target=self._copy, daemon=True)
        self._reader.start()

    def _copy(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                self._idle.set()
                continue
            self._idle.clear()
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if data:
                self._record(data)

    def type(self, text: str) -> None:
        os.write(self.master, text.replace("\n", "\r").encode())

    def type_paced(self, text: str, burst: int | None = None, gap: float | None = None) -> None:
        _type_paced(lambda b: os.write(self.master, b), text, burst or self.burst,
                    gap or self.gap)

    def line(self, command: str) -> None:
        self.type(command + "\n")

    def slow_down(self) -> None:
        """Types slower from now on (after a line arrived garbled)."""
        self.burst = max(1, self.burst // 2)
        self.gap = min(1.0, self.gap * 2)

    def finish(self, timeout: float = 5.0) -> None:
        """Once the emulator has exited: waits until the terminal is drained."""
        self._idle.clear()
        self._idle.wait(timeout)

    def close(self) -> None:
        self._stop = True
        self._reader.join(2)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self._recorder_close()


class GuestMachine(Machine):
    """A Machine whose console a recorder (ConsoleSocket, PtyConsole)
    writes: once the emulator has exited, it is "running" until the
    recorder has written all, so that a wait never misses the last lines.
    Its failure reports stay readable when the console has megabytes in it
    (the console flood): the first and last lines of the transcript, the
    whole of it in console.txt."""

    REPORT_HEAD = 300
    REPORT_TAIL = 500

    recorder = None
    joiner: LineJoiner | None = None

    @classmethod
    def adopt(cls, m: Machine) -> "GuestMachine":
        return cls(m.name, m.argv, m.workdir, logs=m.logs, stop_signal=m.stop_signal)

    def transcript(self) -> str:
        """The transcript with the lines that kernel messages cut in two
        joined again (LineJoiner); console.txt keeps them as they came."""
        if self.joiner is None:
            self.joiner = LineJoiner()
        return self.joiner.join(super().transcript())

    def running(self) -> bool:
        alive = super().running()
        if not alive and self.recorder is not None:
            self.recorder.finish()
        return alive

    def report(self, why: str) -> str:
        text = super().report(why)
        lines = text.split("\n")
        if len(lines) <= self.REPORT_HEAD + self.REPORT_TAIL:
            return text
        left = len(lines) - self.REPORT_HEAD - self.REPORT_TAIL
        return "\n".join(lines[:self.REPORT_HEAD]
                         + [f"... {left} lines left out (all in {self.console_path}) ..."]
                         + lines[-self.REPORT_TAIL:])

    def check(self, ok: bool, why: str) -> None:
        """Fails with WHY unless OK, but leaves the machine running (the
        next test of the same boot may still pass)."""
        if not ok:
            raise BootFailure(self.report(why))


def line_start(m: Machine) -> int:
    """Where the console's next line will start (offsets into
    m.transcript()): a position to search from for what comes next."""
    text = m.transcript()
    return text.rfind("\n") + 1


def wait_from(m: Machine, start: int, pattern: str, timeout: float, *, fail_on=(),
              poll: float = 0.05) -> re.Match:
    """Machine.wait_for from offset START (FAIL_ON counts from there too),
    looking every POLL seconds: every look decodes the whole console, which
    the flood makes megabytes long."""
    return m.wait_for(pattern, timeout, fail_on=fail_on, start=start, poll=poll)


# A background loop that wakes the guest ten times a second: each wake-up
# takes its vCPU out of the guest, where the hypervisor reads the console's
# input (hv/console/input.c), before a real or Bochs 16550 without flow
# control overruns. Under QEMU, whose UART waits, it is not needed.
KEEPALIVE = "(while :; do sleep 0.1; done) & true"

# The shell's prompt (/etc/profile: PS1='\h:\w\$ ') as it ends each echo.
PROMPT = re.compile(r"[\w.-]+:/\S*# ")

# Lines that other writers may print in the middle of the echo of what is
# typed, each to the end of its line: the kernel's messages (with their
# time stamp) and a heartbeat (test_linux_partitions.py).
INTERJECTION = re.compile(r"\[ *\d+\.\d{6}\] .*|TESSERA-BEAT \d+ [0-9.]+$")


# The kernel writes its console messages straight to the UART, also in the
# middle of a line that a program's output has half sent (as on any serial
# console): the message takes the rest of that console line, and the
# program's line goes on at the start of the partition's next one.
KERNEL_MESSAGE = re.compile(r"\[ *\d+\.\d{6}\] ")
# A partition's line on the console: "[NAME] BODY" (a bare guest's: BODY).
PREFIXED = re.compile(r"(\[[a-z0-9_-]+\] )(.*)")


class LineJoiner:
    """Reads a console transcript as its lines were written: a program's
    line that a kernel message cut in two is joined again where its second
    half comes (the first half waits per partition), and the message keeps
    a line of its own. Line by line as the transcript grows; what the
    lines before say is never changed, so offsets into the result stay
    valid. The guest must not print time stamps in the middle of its own
    lines (the check script strips them from the kernel lines it shows)."""

    def __init__(self):
        self.src = 0     # how much of the raw transcript is joined
        self.text = ""   # the joined lines
        self.cut: dict[str, str] = {}  # per prefix, the first half waiting

    def join(self, raw: str) -> str:
        """RAW (a transcript that only grew) with its complete lines joined,
        any unfinished last line as it is."""
        done = raw.rfind("\n") + 1
        if done > self.src:
            self.text += "".join(self._line(x) + "\n"
                                 for x in raw[self.src:done - 1].split("\n"))
            self.src = done
        return self.text + raw[done:]

    def _line(self, line: str) -> str:
        x = PREFIXED.fullmatch(line)
        prefix, body = (x[1], x[2]) if x else ("", line)
        k = KERNEL_MESSAGE.search(body)
        if k and k.start() > 0:
            self.cut[prefix] = self.cut.get(prefix, "") + body[:k.start()]
            return prefix + body[k.start():]
        if k or prefix not in self.cut:
            return line
        return prefix + self.cut.pop(prefix) + body


def partition_lines(m: Machine, name: str, start: int = 0,
                    end: int | None = None) -> list[tuple[int, str]]:
    """NAME's console lines from START to END as (offset, text)."""
    return [(x.start(), x["body"])
            for x in m.find_all(guest_line(r"(?P<body>.*)", name), start, end)]


class GarbledInput(BootFailure):
    """A typed command did not reach the guest's shell as it was typed."""


class PartitionShells:
    """The shells of the partitions of one Tessera boot, typed into through
    the hypervisor's console: it moves the focus (Ctrl-A three times, in
    configuration order, SPEC.md 4) to the partition a command is for, and
    reads the command's output from that partition's lines.

    NAMES are the partitions in configuration order; the first has the
    focus at boot. A command's output is framed by marker lines that the
    shell computes (`echo TS-B-$((N * 7))`), so that the echo of the typed
    line never matches them. What the shell echoed of the typed line is
    checked against what was typed: input that reached the guest garbled
    (or not at all within ECHO_TIMEOUT seconds) fails the test with both,
    unless RETRIES allows to clear the line (Ctrl-C) and type it again,
    slower if the console can (slow_down()); the retries are counted in
    `retried`. QEMU's console input must be exact
    (retries 0); a console without flow control (Bochs) may lose bytes."""

    def __init__(self, m: Machine, tty, names: list[str], *, retries: int = 0,
                 echo_timeout: float = 30):
        self.m = m
        self.tty = tty
        self.names = list(names)
        self.focus_name = self.names[0]
        self.serial = 0
        self.retries = retries
        self.retried = 0
        self.echo_timeout = echo_timeout
        self.typed: dict[int, tuple[str, str, int]] = {}  # n -> (name, line, start)
        self.begins: dict[int, re.Match] = {}

    def type(self, text: str) -> None:
        self.tty.type_paced(text)

    def switch(self, timeout: float = 20) -> str:
        """Ctrl-A three times: the focus moves on; returns the partition the
        hypervisor names."""
        start = line_start(self.m)
        self.tty.type(FOCUS_SWITCH)
        got = wait_from(self.m, start, focus_line(), timeout)["name"]
        self.focus_name = got
        return got

    def focus(self, name: str, timeout: float = 20) -> None:
        """Moves the focus on until it is NAME's."""
        for _ in range(len(self.names)):
            if self.focus_name == name:
                return
            self.switch(timeout)
        if self.focus_name != name:
            self.m.fail(f"the console focus never reached {name} (at {self.focus_name})")

    def ready(self, name: str, timeout: float = 60) -> None:
        """Waits until NAME's shell runs what is typed."""
        self.focus(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.m.running():
            self.serial += 1
            start = line_start(self.m)
            self.type(f"echo TS-S-$(({self.serial} * 7))\n")
            retry = time.monotonic() + 3
            while time.monotonic() < retry:
                if self.m.find_all(guest_line(f"TS-S-{self.serial * 7}", name), start):
                    return
                time.sleep(0.05)
        self.m.fail(f"partition {name}: the shell did not answer within {timeout:.0f} s")

    def start(self, name: str, command: str) -> int:
        """Types COMMAND into NAME's shell, framed by markers; returns the
        command's number for confirm() and collect()."""
        self.focus(name)
        self.serial += 1
        n = self.serial
        line = f"echo TS-B-$(({n} * 7)); {command}; echo TS-E-$(({n} * 7))"
        self.typed[n] = (name, line, line_start(self.m))
        self.type(line + "\n")
        return n

    def echoed(self, n: int, end: int | None = None) -> str:
        """What the shell echoed of command N's line (up to offset END): the
        partition's lines joined (the line editor wraps long ones), from the
        last prompt on, kernel messages and heartbeats taken out."""
        name, _, start = self.typed[n]
        lines = self.m.find_all(guest_line(r"(?P<body>.*)", name), start, end)
        text = "".join(INTERJECTION.sub("", x["body"]) for x in lines)
        prompts = list(PROMPT.finditer(text))
        return text[prompts[-1].end():] if prompts else text

    def confirm(self, n: int) -> re.Match:
        """Waits until command N has started, and checks that the shell got
        it as it was typed; raises GarbledInput (the machine still runs)
        otherwise."""
        if n in self.begins:
            return self.begins[n]
        name, typed, start = self.typed[n]
        regex = re.compile(guest_line(f"TS-B-{n * 7}", name), re.M)
        deadline = time.monotonic() + self.echo_timeout * TIMEOUT_SCALE
        while True:
            found = regex.search(self.m.complete(), start)
            if found or not self.m.running() or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        echo = self.echoed(n, found.start() if found else None)
        if not found:
            raise GarbledInput(self.m.report(
                f"partition {name}: command {typed!r} did not start; the shell echoed "
                f"{echo!r}"))
        if echo != typed:
            raise GarbledInput(self.m.report(
                f"partition {name}: console input arrived garbled: typed {typed!r}, the "
                f"shell echoed {echo!r}"))
        self.begins[n] = found
        return found

    def recover(self, name: str) -> None:
        """After garbled input: Ctrl-C ends what runs and clears the line."""
        self.focus(name)
        self.tty.type("\x03")
        time.sleep(1)

    def launch(self, name: str, command: str) -> int:
        """start() and confirm(), typing again up to RETRIES times."""
        for attempt in range(self.retries + 1):
            n = self.start(name, command)
            try:
                self.confirm(n)
                return n
            except GarbledInput as e:
                if attempt == self.retries or not self.m.running():
                    self.m.kill()
                    raise e from None
                self.retried += 1
                if hasattr(self.tty, "slow_down"):
                    self.tty.slow_down()
                self.recover(name)
        raise AssertionError("not reached")

    def collect(self, name: str, n: int, timeout: float, *, slow: bool = False) -> list[str]:
        """The lines NAME printed for command N (started with launch(), or
        start())."""
        _, typed, start = self.typed[n]
        begin = self.confirm(n)
        try:
            end = wait_from(self.m, begin.end(), guest_line(f"TS-E-{n * 7}", name), timeout,
                            poll=0.5 if slow else 0.05)
        except BootFailure as e:
            raise BootFailure(f"partition {name}: command {typed!r} did not finish\n{e}") \
                from None
        return [text for _, text in partition_lines(self.m, name, begin.end(), end.start())]

    def span(self, n: int) -> tuple[int, int]:
        """Where command N's output lies in the transcript (once collected)."""
        name, _, _ = self.typed[n]
        begin = self.begins[n]
        end = self.m.find_all(guest_line(f"TS-E-{n * 7}", name), begin.end())[0]
        return begin.end(), end.start()

    def run(self, name: str, command: str, timeout: float = 60) -> list[str]:
        """Runs COMMAND in NAME's shell; returns the lines it printed."""
        return self.collect(name, self.launch(name, command), timeout)

    def value(self, name: str, command: str, timeout: float = 60) -> str:
        """COMMAND's output (`echo "V=$(COMMAND)"`), its lines joined by
        spaces."""
        lines = self.run(name, f'echo "V=$({command})"', timeout)
        for i, line in enumerate(lines):
            if line.startswith("V="):
                rest = [x for x in lines[i + 1:] if not INTERJECTION.fullmatch(x)]
                return " ".join([line[2:]] + rest)
        self.m.fail(f"partition {name}: no output from {command!r} (got {lines!r})")


def dmesg_problems(lines: list[str]) -> list[str]:
    """The kernel log lines (the output of `dmesg`) that are never normal."""
    bad = re.compile(DMESG_BAD)
    return [line for line in lines if bad.search(line)]


def expected_clocksource(cpus: int, invariant_tsc: bool) -> str:
    """What Linux settles on in a partition: the TSC when one CPU makes it
    trivially synchronized or the CPU says it is invariant (CPUID
    0x80000007 EDX bit 8, `nonstop_tsc` in /proc/cpuinfo); the ACPI PM
    timer otherwise (the partition has no HPET)."""
    return "tsc" if cpus == 1 or invariant_tsc else "acpi_pm"


def memtotal_problem(memtotal_kb: int, ram_mib: int) -> str | None:
    """MemTotal must be 85-100 % of the partition's RAM and fit
    memtotal_ok() (the kernel keeps less than 96 MiB)."""
    ram_kb = ram_mib * 1024
    if not (ram_kb * 85 // 100 <= memtotal_kb <= ram_kb and memtotal_ok(memtotal_kb, ram_mib)):
        return (f"memtotal_kb={memtotal_kb} ({memtotal_kb * 100 / ram_kb:.1f} % of "
                f"{ram_mib} MiB): not 85-100 % of the partition's RAM")
    return None


# The console flood: FLOOD_LINES lines of FLOOD_WIDTH bytes (newline
# included), 256 KiB in all (16 times the console's queue; COM1 paced at
# 115200 baud takes 23 s for it at best, and a loaded host's TCG several
# times that), each numbered, the rest a window on a 62-letter alphabet
# that moves by one letter a line: no two neighbouring lines are alike, and
# a lost, doubled or reordered line changes the MD5.
FLOOD_LINES = 4096
FLOOD_WIDTH = 64
FLOOD_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FLOOD_FILE = "/tmp/flood"


def flood_line(i: int) -> str:
    body = FLOOD_WIDTH - 8  # "%06d ", the window, "\n"
    k = i % len(FLOOD_ALPHABET)
    return f"{i:06d} " + (FLOOD_ALPHABET * 2)[k:k + body]


def flood_text() -> str:
    return "".join(flood_line(i) + "\n" for i in range(FLOOD_LINES))


def flood_make_command() -> str:
    """The shell command that writes flood_text() to FLOOD_FILE."""
    body = FLOOD_WIDTH - 8
    return (f"awk 'BEGIN {{ s = \"{FLOOD_ALPHABET}\"; s = s s; "
            f"for (i = 0; i < {FLOOD_LINES}; i++) "
            f"printf \"%06d %s\\n\", i, substr(s, i % {len(FLOOD_ALPHABET)} + 1, {body}) }}' "
            f">{FLOOD_FILE}")
