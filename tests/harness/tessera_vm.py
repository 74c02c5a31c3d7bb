"""Boot the hypervisor under QEMU or Bochs and read its serial console.

The system tests' runner, free of pytest so that it can be used from a
script too:

    m = qemu("mb1", workdir, kernel=hv_elf())
    with m:
        match = m.wait_for(r"^hv: Tessera \\S+ starting \\((\\w+)", timeout=10)

An emulator starts with its first serial port written to WORKDIR/console.txt
and its own output to WORKDIR/emulator.txt. wait_for() polls the console
until a regular expression matches a complete line, and raises BootFailure
(an AssertionError) carrying the whole console transcript when the time runs
out, when the emulator exits first, or as soon as the hypervisor reports a
fatal fault (`hv: PANIC: ...`, `hv: EXCEPTION ...`). Leaving the `with`
block, or kill(), always ends the emulator.

Neither emulator gets a network: QEMU runs with `-nic none` unless a test
asks for the restricted user-mode network of the PXE tests, and both run in
a network namespace of their own (`unshare -n`) when the system allows it,
which also keeps Bochs's VNC port (its only display here) off the host.

TESSERA_TIMEOUT_SCALE multiplies every timeout (for slow machines).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BUILD = ROOT / "build"

TIMEOUT_SCALE = float(os.environ.get("TESSERA_TIMEOUT_SCALE", "1"))

# What may precede the hypervisor's first line on the same line: firmware
# output without a newline ("Booting from ROM.."). Not a '[', which starts a
# partition's lines ("[linux-a] ...").
FIRMWARE_PREFIX = r"[^\n\[]*?"

# Lines after which there is no point in waiting (see the module comment).
FATAL_PATTERNS = (rf"^{FIRMWARE_PREFIX}hv: PANIC:.*$", rf"^{FIRMWARE_PREFIX}hv: EXCEPTION.*$")

# Terminal control sequences (GRUB and OVMF draw their menus with them).
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?=]*[ -/]*[@-~]|[@-Z\\-_]|c)")

QEMU = "qemu-system-x86_64"
BOCHS = "bochs-bin"
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
BOCHS_BIOS = Path("/usr/share/bochs/BIOS-bochs-latest")
BOCHS_VGABIOS = Path("/usr/share/vgabios/vgabios.bin")
BOCHSRC_TEMPLATE = HERE / "bochsrc.in"

# The PXE tests' network: link-local, restricted (PLATFORMS.md).
PXE_NET = "169.254.10.0/24"


def hv_elf() -> Path:
    """The Multiboot image under test (TESSERA_HV_ELF overrides)."""
    return Path(os.environ.get("TESSERA_HV_ELF", BUILD / "hv.elf"))


def hv_efi() -> Path:
    """The UEFI application under test (TESSERA_HV_EFI overrides)."""
    return Path(os.environ.get("TESSERA_HV_EFI", BUILD / "hv.efi"))


class BootFailure(AssertionError):
    """A boot did not show what a test waited for; the message has the
    console transcript."""


def _netns_prefix() -> list[str]:
    """`unshare -n` (or, unprivileged, `unshare -rn`) if it works here."""
    if os.environ.get("TESSERA_NO_UNSHARE"):
        return []
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            ok = subprocess.run(prefix + ["true"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return prefix
    return []


_NETNS: list[str] | None = None


def netns_prefix() -> list[str]:
    global _NETNS
    if _NETNS is None:
        _NETNS = _netns_prefix()
    return _NETNS


# QEMU's warnings that TCG lacks some of -cpu EPYC's features: the same at
# every run, they would fill a failure report's emulator tail.
NOISE = re.compile(r"TCG doesn't support requested feature")


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if not NOISE.search(line)]
    return "\n".join(kept[-lines:])


class Machine:
    """One emulator run: the process, its console and its logs."""

    def __init__(self, name: str, argv: list[str], workdir: Path, *,
                 logs: dict[str, Path] | None = None, stop_signal=signal.SIGTERM):
        self.name = name
        self.argv = list(argv)
        self.workdir = Path(workdir)
        self.console_path = self.workdir / "console.txt"
        self.emulator_log = self.workdir / "emulator.txt"
        self.logs = dict(logs or {})  # extra logs worth a look on failure
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.cursor = 0          # wait_for() searches from here
        self._raw = b""
        self._fh = None
        self._offset = 0         # how much of the console file is in _raw
        self.fatal = [re.compile(p, re.M) for p in FATAL_PATTERNS]
        self.marks: dict[str, float] = {}  # event -> seconds since start

    # -- life cycle -------------------------------------------------------

    def start(self) -> "Machine":
        self.console_path.unlink(missing_ok=True)
        self.console_path.touch()
        (self.workdir / "command.txt").write_text(
            " ".join(_quote(a) for a in self.argv) + "\n")
        with open(self.emulator_log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir, start_new_session=True)
        self.started = time.monotonic()
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Ends the emulator (its whole process group); safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            for sig, grace in ((self.stop_signal, 3.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._fh is not None:
            self._refresh()
            self._fh.close()
            self._fh = None  # transcript() reopens at _offset

    def __enter__(self) -> "Machine":
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # -- the console ------------------------------------------------------

    def _refresh(self) -> None:
        if self._fh is None:
            try:
                self._fh = open(self.console_path, "rb")
            except OSError:
                return
            self._fh.seek(self._offset)
        chunk = self._fh.read()
        if chunk:
            self._raw += chunk
            self._offset += len(chunk)

    def transcript(self) -> str:
        """Everything the machine printed so far, without terminal control
        sequences, CR and NUL."""
        self._refresh()
        text = self._raw.decode("utf-8", "replace")
        return ANSI_ESCAPE.sub("", text).replace("\r", "").replace("\0", "")

    def _complete(self, exited: bool) -> str:
        """The transcript up to the last newline (all of it once the
        emulator has exited): a pattern never matches half a line."""
        text = self.transcript()
        if not exited:
            text = text[: text.rfind("\n") + 1]
        return text

    def complete(self) -> str:
        """The transcript's complete lines (all of it once the emulator has
        exited)."""
        return self._complete(not self.running())

    def wait_for(self, pattern: str, timeout: float, *, fail_on=(),
                 anywhere: bool = False, mark: str | None = None, start: int | None = None,
                 poll: float = 0.02) -> re.Match:
        """Waits until PATTERN (a regex, multi-line mode: ^ and $ are line
        bounds) matches the console after the previous match (anywhere: from
        the start; START: from that offset), and returns the match. Fails at
        once on a fatal line or a line matching one of fail_on (after START
        when given), when the emulator exits first, or after TIMEOUT seconds
        (times TESSERA_TIMEOUT_SCALE). MARK records the time the line was
        seen under that name. POLL is how often it looks: every look decodes
        the whole console."""
        regex = re.compile(pattern, re.M)
        stops = [re.compile(p, re.M) for p in fail_on]
        begin = start if start is not None else 0 if anywhere else self.cursor
        limit = timeout * TIMEOUT_SCALE
        deadline = time.monotonic() + limit
        while True:
            exited = not self.running()
            text = self._complete(exited)
            seen = [f.search(text) for f in self.fatal] + \
                [s.search(text, start or 0) for s in stops]
            bad = next((b for b in seen if b), None)
            if bad:
                self.fail(f"the hypervisor printed {bad.group(0)!r} "
                          f"while waiting for /{pattern}/")
            m = regex.search(text, begin)
            if m:
                self.cursor = max(self.cursor, m.end())
                if mark:
                    self.marks[mark] = self.elapsed()
                return m
            if exited:
                self.fail(f"the emulator exited (status {self.proc.returncode}) "
                          f"before /{pattern}/ appeared")
            if time.monotonic() > deadline:
                self.fail(f"/{pattern}/ did not appear within {limit:.0f} s")
            time.sleep(poll)

    def find_all(self, pattern: str, start: int = 0, end: int | None = None) -> list[re.Match]:
        """Every match of PATTERN in the complete lines of the console."""
        text = self._complete(not self.running())
        end = len(text) if end is None else end
        return list(re.compile(pattern, re.M).finditer(text, start, end))

    def assert_absent(self, pattern: str, why: str = "") -> None:
        m = re.search(pattern, self._complete(not self.running()), re.M)
        if m:
            self.fail(f"unexpected line {m.group(0)!r}" + (f": {why}" if why else ""))

    def wait_exit(self, timeout: float) -> int:
        """Waits for the emulator to exit by itself; returns its status."""
        limit = timeout * TIMEOUT_SCALE
        try:
            return self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            self.fail(f"the emulator did not exit by itself within {limit:.0f} s")

    # -- reporting --------------------------------------------------------

    def report(self, why: str) -> str:
        parts = [f"{self.name}: {why} (after {self.elapsed():.1f} s)",
                 f"command: {' '.join(_quote(a) for a in self.argv)}",
                 f"--- console transcript ({self.console_path}) ---",
                 self.transcript().rstrip("\n"),
                 "--- end of console ---"]
        emu = _tail(self.emulator_log, 30)
        if emu.strip():
            parts += [f"--- emulator output, last lines ({self.emulator_log}) ---", emu]
        for label, path in self.logs.items():
            text = _tail(path, 40)
            if text.strip():
                parts += [f"--- {label}, last lines ({path}) ---", text]
        return "\n".join(parts)

    def fail(self, why: str):
        self.kill()
        raise BootFailure(self.report(why))


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def _require(path: Path, what: str) -> Path:
    if not Path(path).exists():
        raise BootFailure(f"{what} {path} does not exist (make all iso pxe; "
                          f"tools/install-deps.sh)")
    return Path(path)


# -- QEMU ------------------------------------------------------------------

@dataclass
class Pxe:
    """Network boot from a TFTP root: BOOTFILE is the DHCP bootfile name,
    relative to ROOT."""
    root: Path
    bootfile: str


def qemu(name: str, workdir: Path, *, firmware: str = "bios", cpu: str = "EPYC",
         smp: int = 4, memory: str = "2G", kernel: Path | None = None,
         modules: list[tuple[Path, str]] = (), append: str | None = None,
         cdrom: Path | None = None, usb: Path | None = None, disk: Path | None = None,
         pxe: Pxe | None = None, extra: list[str] = (),
         serial_socket: Path | None = None) -> Machine:
    """A QEMU machine as PLATFORMS.md describes (q35, TCG), not yet started.

    firmware: "bios" (SeaBIOS) or "uefi" (OVMF, with a private copy of the
    variable store). Boot from one of: kernel (+ modules, a list of (path,
    name): Multiboot1 through -kernel/-initrd), cdrom, usb (a raw image on a
    usb-storage device on qemu-xhci, as a stick), disk (a raw image on the
    AHCI controller) or pxe (an e1000 whose iPXE ROM has BIOS and UEFI
    images, on the restricted user-mode network).

    serial_socket: the first serial port is served on this Unix socket
    instead, so that a test can type into the console. QEMU starts the
    machine once a client has connected; the client gets everything the
    machine prints and copies it to WORKDIR/console.txt for wait_for()
    (tests/harness/linux_guest.py ConsoleSocket). QEMU's own logfile would
    not do: it writes a byte twice when the socket was full for a moment."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    console = workdir / "console.txt"
    serial = ["-serial", f"file:{console}"]
    if serial_socket is not None:
        Path(serial_socket).unlink(missing_ok=True)
        serial = ["-chardev", f"socket,id=serial0,path={serial_socket},server=on,wait=on",
                  "-serial", "chardev:serial0"]
    argv = netns_prefix() + [
        QEMU, "-M", "q35", "-cpu", cpu, "-smp", str(smp), "-m", memory,
        "-nographic", "-no-reboot", "-monitor", "none", "-parallel", "none",
    ] + serial + [
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    if firmware == "uefi":
        vars_copy = workdir / "OVMF_VARS.fd"
        shutil.copyfile(_require(OVMF_VARS, "OVMF variable store"), vars_copy)
        argv += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,"
                 f"file={_require(OVMF_CODE, 'OVMF')}",
                 "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
    elif firmware != "bios":
        raise ValueError(f"firmware must be bios or uefi, not {firmware!r}")
    boots = [x for x in (kernel, cdrom, usb, disk, pxe) if x is not None]
    if len(boots) != 1:
        raise ValueError("give exactly one of kernel, cdrom, usb, disk, pxe")
    if kernel is not None:
        argv += ["-kernel", str(_require(kernel, "kernel"))]
        if append:
            argv += ["-append", append]
        if modules:
            for path, mod_name in modules:
                _require(path, "module")
                if "," in f"{path} {mod_name}":
                    raise ValueError(f"-initrd cannot carry a ',' ({path})")
            argv += ["-initrd", ",".join(f"{p} {n}" for p, n in modules)]
    if cdrom is not None:
        argv += ["-drive", f"if=none,id=cd0,format=raw,readonly=on,media=cdrom,"
                 f"file={_require(cdrom, 'ISO')}",
                 "-device", "ide-cd,drive=cd0,bootindex=0"]
    if usb is not None:
        argv += ["-device", "qemu-xhci,id=xhci",
                 "-drive", f"if=none,id=stick,format=raw,readonly=on,"
                 f"file={_require(usb, 'USB image')}",
                 "-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=0"]
    if disk is not None:
        argv += ["-drive", f"if=none,id=disk0,format=raw,snapshot=on,"
                 f"file={_require(disk, 'disk image')}",
                 "-device", "ide-hd,drive=disk0,bootindex=0"]
    if pxe is not None:
        _require(Path(pxe.root) / pxe.bootfile, "PXE bootfile")
        argv += ["-netdev", f"user,id=net0,restrict=on,net={PXE_NET},"
                 f"tftp={pxe.root},bootfile={pxe.bootfile}",
                 "-device", "e1000,netdev=net0,bootindex=0"]
    else:
        argv += ["-nic", "none"]
    argv += list(extra)
    return Machine(name, argv, workdir)


# -- Bochs -----------------------------------------------------------------

def render_template(template: Path, values: dict[str, str]) -> str:
    """Replaces @NAME@ in TEMPLATE; every placeholder must have a value."""
    text = Path(template).read_text()

    def sub(m: re.Match) -> str:
        if m.group(1) not in values:
            raise KeyError(f"{template}: no value for @{m.group(1)}@")
        return str(values[m.group(1)])
    return re.sub(r"@([A-Z0-9_]+)@", sub, text)


def bochs(name: str, workdir: Path, *, model: str, cpus: int = 2, memory_mib: int = 512,
          cdrom: Path, ips: int = 10_000_000, serial_tty: str | None = None) -> Machine:
    """A Bochs machine (Bochs BIOS) booting CDROM, not yet started.

    The bochsrc is generated from tests/harness/bochsrc.in into WORKDIR; the
    first serial port goes to WORKDIR/console.txt, the log to
    WORKDIR/bochs.log. Bochs has no display-less build here: its VNC
    display (rfb) waits for no viewer (timeout=0) and takes the first free
    port from 5900 up, inside the run's own network namespace when
    possible. Bochs does not reliably exit on power-off: callers stop it
    (Machine.kill) once they have seen what they wait for.

    IPS is Bochs's emulated instructions per emulated second. Lower is
    faster in real time for a boot, which waits on timers and the paced
    UART (PLATFORMS.md): a GRUB-booted hypervisor reaches its banner in
    2.3 s at 10 M against 4 s at 50 M and 10.5 s at 200 M.

    serial_tty: the first serial port is this terminal device instead
    (Bochs's `term` mode: a pty's slave, say), so that a test can type into
    the console; the test then copies what it prints to WORKDIR/console.txt."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    values = {
        "MEMORY": str(memory_mib),
        "MODEL": model,
        "CPUS": str(cpus),
        "IPS": str(ips),
        "BIOS": str(_require(BOCHS_BIOS, "Bochs BIOS")),
        "VGABIOS": str(_require(BOCHS_VGABIOS, "VGA BIOS")),
        "CDROM": str(_require(cdrom, "ISO")),
        "CONSOLE": str(workdir / "console.txt"),
        "LOG": str(workdir / "bochs.log"),
    }
    rc = workdir / "bochsrc"
    text = render_template(BOCHSRC_TEMPLATE, values)
    if serial_tty is not None:
        text = re.sub(r"^com1:.*$", f"com1: enabled=1, mode=term, dev={serial_tty}", text,
                      count=1, flags=re.M)
    rc.write_text(text)
    cont = workdir / "continue.rc"
    cont.write_text("c\n")  # the debugger is built in: start running at once
    argv = netns_prefix() + [BOCHS, "-q", "-f", str(rc), "-rc", str(cont)]
    return Machine(name, argv, workdir, logs={"bochs log": workdir / "bochs.log"},
                   stop_signal=signal.SIGKILL)
