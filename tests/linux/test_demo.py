"""`make demo` as a user runs it (SPEC.md 1, 4, 5): the demo's own QEMU
command line (`make demo-run`, the step `make demo` ends with, once it has
built everything), the repository's hv.conf and the demo initramfs, with
the test as the user's terminal.

make runs on a pseudo-terminal (linux_guest.PtyConsole: raw, everything it
prints recorded to build/test-runs/linux/demo/console.txt), in a session of
its own so that a failure or a time-out ends make and QEMU together. The
test waits for the banner and both partitions' shells, types a command in
linux-a (the focus at boot), moves the focus with Ctrl-A three times and
types it in linux-b, powers linux-b off (linux-a runs on), moves the focus
back and powers linux-a off: the hypervisor follows on_idle (poweroff) and
make exits with status 0. It types at a human pace (TYPE_BURST bytes every
TYPE_GAP seconds). TESSERA_TIMEOUT_SCALE multiplies the timeouts.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time

from harness import linux_guest as g
import pytest
from harness.hv_console import (BANNER, CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED,
                                HV_ERROR, PART_STARTING, for_part)
from harness.tessera_vm import BUILD, ROOT

RUNS_DIR = BUILD / "test-runs" / "linux"
HV_ELF = BUILD / "hv.elf"  # what demo-run boots (not TESSERA_HV_ELF)

# The demo (hv.conf at the repository root): name, CPUs, in focus order.
PARTS = (("linux-a", 2), ("linux-b", 1))
DEMO_VENDOR = "AMD-V with NPT"   # QEMU's TCG with -cpu EPYC
DEMO_CPUS = 4

BANNER_TIMEOUT = 60
BOOT_TIMEOUT = 120     # make's start to both shells: ~15 s here
COMMAND_TIMEOUT = 60
STOP_TIMEOUT = 30      # `poweroff` typed to the partition's stop
EXIT_TIMEOUT = 30      # on_idle to make's exit

# make demo-run's first line (tests/system/system.mk).
MAKE_BANNER = r"^demo: booting \S*hv\.elf under QEMU \(Multiboot1\); Ctrl-\] x quits$"
# The demo initramfs's /init (tests/linux/rootfs/init): after READY, the
# commands it offers, then the login shell.
DEMO_COMMANDS = r"TESSERA-GUEST commands: workload, check, poweroff, reboot, crash"
STOPPED_S5 = "powered off (ACPI S5)"
# What QEMU prints on its stderr (the user's terminal too): the demo's -cpu
# leaves out what TCG lacks so that it prints no warning.
QEMU_MESSAGE = r"^qemu-system-x86_64: .*$"


class DemoRun(g.GuestMachine):
    """`make demo-run` from the repository root, its stdin, stdout and
    stderr the slave of TTY (a PtyConsole, which records the console), in
    a new session: Machine.kill() ends make and QEMU, its process group."""

    def __init__(self, workdir, tty: g.PtyConsole):
        super().__init__("make demo-run", ["make", "--no-print-directory", "demo-run"],
                         workdir)
        self.tty = tty
        self.recorder = tty

    def start(self) -> "DemoRun":
        self.console_path.unlink(missing_ok=True)
        self.console_path.touch()
        (self.workdir / "command.txt").write_text(shlex.join(self.argv) + "\n")
        # A user's shell, not the make (make test) that runs pytest.
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
        slave = os.open(self.tty.slave_path, os.O_RDWR | os.O_NOCTTY)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave,
                                         cwd=ROOT, env=env, start_new_session=True)
        finally:
            os.close(slave)
        self.started = time.monotonic()
        return self

    def kill(self) -> None:
        super().kill()
        # make gone, a QEMU of its group left (make killed alone): end it.
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def run_command(m: DemoRun, sh: g.PartitionShells, name: str, cpus: int, value: int) -> None:
    """Types `echo DEMO-$((VALUE * 3)); nproc` into NAME's shell (framed by
    PartitionShells' markers): the shell computes the value, the output
    comes with NAME's prefix, from NAME only, and nproc is NAME's CPUs; the
    typed line's echo follows the demo shell's prompt (on its line, or on
    the next when other lines cut the prompt's)."""
    n = sh.launch(name, f"echo DEMO-$(({value} * 3)); nproc")
    lines = sh.collect(name, n, COMMAND_TIMEOUT)
    out = [x for x in lines if not g.INTERJECTION.fullmatch(x)]
    m.check(out == [f"DEMO-{value * 3}", str(cpus)],
            f"partition {name}: `echo DEMO-$(({value} * 3)); nproc` printed {out!r}, "
            f"expected {[f'DEMO-{value * 3}', str(cpus)]!r}")
    _, _, start = sh.typed[n]
    ran = m.find_all(rf"^\[(?P<name>[a-z0-9_-]+)\] TS-B-{n * 7}$", start)
    m.check([x["name"] for x in ran] == [name],
            f"the command typed for {name} ran in {[x['name'] for x in ran]}")
    # The echo's first line (the line editor may wrap the rest) follows the
    # prompt; or the prompt went out alone, shown while the shell waited,
    # and other writers' lines ended it before the echo came: then the
    # echo goes on on a new line (docs/linux.md, the guest's console).
    first = rf"^\[{re.escape(name)}\] (?P<prompt>\S+ )?echo TS-B-\$\(\({n} \* 7\)\)"
    echo = m.find_all(first, start, sh.begins[n].start())
    before = m.find_all(rf"^\[{re.escape(name)}\] (?P<line>.*)$", 0,
                        echo[-1].start()) if echo else []
    last = before[-1]["line"] if before else ""
    follows = bool(echo) and echo[-1]["prompt"] is not None and \
        bool(g.PROMPT.fullmatch(echo[-1]["prompt"]))
    cut = bool(echo) and echo[-1]["prompt"] is None and \
        bool(g.PROMPT.fullmatch(last) or g.PROMPT.fullmatch(last + " "))
    m.check(follows or cut,
            f"partition {name}: the typed line's echo does not follow the shell's prompt "
            f"(tessera:/# ): {[x.group(0) for x in echo]!r}, {name}'s line before it "
            f"{last!r}")


def power_off(m: DemoRun, sh: g.PartitionShells, name: str, running: list[str]) -> None:
    """Types `poweroff` into NAME's shell: NAME announces it and stops
    (ACPI S5); the partitions RUNNING do not stop, and the hypervisor does
    not follow on_idle while one of them runs."""
    sh.focus(name)
    start = g.line_start(m)
    stops = (HV_ERROR,) + tuple(g.part_stopped(x) for x in running)
    if running:
        stops += (g.ON_IDLE_POWEROFF,)
    sh.type("poweroff\n")
    g.wait_from(m, start, g.announced("POWEROFF", name), STOP_TIMEOUT, fail_on=stops)
    stop = g.wait_from(m, start, g.part_stopped(name), STOP_TIMEOUT, fail_on=stops)
    m.check(stop["reason"] == STOPPED_S5,
            f"{name} stopped: {stop['reason']!r}, expected {STOPPED_S5!r}")


def prompt_shown(m: DemoRun, tty: g.PtyConsole, name: str, timeout: float = 10) -> None:
    """Waits until the console's last, unfinished line is NAME's prompt."""
    want = f"[{name}] "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = tty.console.read_bytes().decode("utf-8", "replace")
        last = raw.replace("\r", "").rsplit("\n", 1)[-1]
        if last.startswith(want) and g.PROMPT.search(last):
            return
        time.sleep(0.1)
    m.fail(f"partition {name}: no prompt on the console's unfinished line within "
           f"{timeout:.0f} s (the last line is {last!r})")


@pytest.mark.slow
def test_make_demo(linux_images, partition_times):
    """`make demo-run` on a terminal: the banner, both partitions at their
    shells, a command in each (Ctrl-A x3 between them), `poweroff` in each,
    then on_idle powers the machine off and make exits with status 0."""
    if not HV_ELF.exists():
        pytest.fail(f"{HV_ELF} does not exist (make)")
    workdir = RUNS_DIR / "demo"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    tty = g.PtyConsole(workdir / "console.txt")
    m = DemoRun(workdir, tty)
    names = [name for name, _ in PARTS]
    cpus = dict(PARTS)
    sh = g.PartitionShells(m, tty, names)
    times: dict = {}
    try:
        m.start()
        m.wait_for(MAKE_BANNER, 30)
        banner = m.wait_for(BANNER, BANNER_TIMEOUT, mark="banner")
        m.check(banner["vendor"] == DEMO_VENDOR and banner["cpus"] == str(DEMO_CPUS),
                f"the banner says {banner['cpus']} CPUs, {banner['vendor']!r}; the demo's "
                f"machine has {DEMO_CPUS}, {DEMO_VENDOR!r}")
        conf = m.wait_for(CONFIG_ACCEPTED, 30,
                          fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
        m.check(conf["count"] == str(len(PARTS)),
                f"hv.conf: {conf['count']} partitions, expected {len(PARTS)}")
        never = (HV_ERROR,) + tuple(g.part_stopped(x) for x in names)
        for name in names:
            m.wait_for(for_part(PART_STARTING, name), 30, anywhere=True, fail_on=never)
        for name in names:
            ready = m.wait_for(g.ready(name), BOOT_TIMEOUT, anywhere=True, fail_on=never)
            m.check(ready["hostname"] == "tessera",
                    f"partition {name}: READY names host {ready['hostname']!r}")
            m.wait_for(g.guest_line(DEMO_COMMANDS, name), BOOT_TIMEOUT, anywhere=True,
                       fail_on=never, mark=f"{name} ready")

        # The focus is linux-a's at boot; ready() types until the shell answers.
        sh.ready(names[0], BOOT_TIMEOUT)
        times["shells"] = m.elapsed()
        # Its prompt shows before anything is typed (an unfinished line:
        # hv/vdev/vuart.c shows the focus's line once the guest waits).
        prompt_shown(m, tty, names[0])
        run_command(m, sh, names[0], cpus[names[0]], 14)

        got = sh.switch()
        m.check(got == names[1], f"Ctrl-A x3: the focus went to {got}, expected {names[1]}")
        sh.ready(names[1], BOOT_TIMEOUT)
        run_command(m, sh, names[1], cpus[names[1]], 14)

        power_off(m, sh, names[1], running=[names[0]])
        # The focus stays on the stopped partition until Ctrl-A x3 moves it.
        sh.focus(names[0])
        run_command(m, sh, names[0], cpus[names[0]], 15)
        power_off(m, sh, names[0], running=[])

        m.wait_for(g.ON_IDLE_POWEROFF, EXIT_TIMEOUT, anywhere=True)
        status = m.wait_exit(EXIT_TIMEOUT)
        times["exit"] = m.elapsed()
        m.check(status == 0, f"make demo-run exited with status {status}, expected 0")
        warnings = m.find_all(QEMU_MESSAGE)
        m.check(not warnings, "QEMU printed on the demo's terminal: "
                              + "; ".join(x.group(0) for x in warnings))
    finally:
        m.kill()
        tty.close()
        partition_times("make demo-run (terminal)", {**m.marks, **times})
