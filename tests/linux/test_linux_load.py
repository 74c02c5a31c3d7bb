"""Linux in partitions on a loaded host: the demo configuration under QEMU
while busy loops keep every host core busy (one `nice -n 0` spinner per
core, started and stopped here), so that the emulator's vCPU threads are
descheduled at any moment, as a loaded machine does to them.

What a descheduled emulator CPU looks like from inside is a CPU that
stops for a while and finds its timers overdue: the guests' clocks (TSC,
PIT, PM timer, APIC timer) must still agree with one another, the
hypervisor must still wake a halted vCPU for its due timer, and nothing
in the guests may stall. One boot serves all the checks (its duration is
part of `make test`'s budget): the boot checks (among them a kernel log
without an unstable clocksource: Linux watches its early TSC against
jiffies, which count tick interrupts, so a pause of the vCPU must not lose
ticks), the clocksource, `sleep` by the guest's clock against the host's,
the workload in both partitions with a heartbeat running (its `sleep 1`
timers, each due on time: no gap of more than lp.BEAT_GAP_MAX seconds),
the kernel logs (no unstable clocksource, no RCU stall, no soft or hard
lockup, no hung task). Every check runs; the test fails at the end with
all that was wrong.

Not checked: `date +%s` against the uptime (two processes apart, which a
loaded emulator starts seconds apart), and the kernel's "Long readout
interval" warning (the clocksource watchdog's own timer run late inside
the guest: its clocks agreed).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from harness.tessera_vm import BootFailure

import test_linux_partitions as lp

# Kernel log lines of a guest whose time or CPU stalled, beyond g.DMESG_BAD
# (which has the unstable clocksource, BUG: soft lockup, WARNING, traces).
STALL_BAD = (r"rcu: INFO: .*detected stall|self-detected stall|detected stalls on CPU"
             r"|soft lockup|hard LOCKUP|blocked for more than \d+ seconds"
             r"|Marking TSC unstable due to clocksource watchdog|timekeeping watchdog")
LOAD_BOOT_TIMEOUT = 240
LOAD_WORKLOAD = (4, 1)  # chunks, MiB: the workload, smaller than unloaded
BEAT_SECONDS = 20       # the heartbeat runs at least this long, the workloads with it


@pytest.fixture
def host_load():
    """A busy loop on each host core for the test's duration."""
    n = os.cpu_count() or 2
    spin = "while True:\n    pass\n"
    procs = [subprocess.Popen(["nice", "-n", "0", sys.executable, "-c", spin],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(n)]
    try:
        time.sleep(0.5)
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            pytest.fail(f"a spinner ended at once: {dead}")
        yield n
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def stall_problems(b: lp.Boot, names: list[str]) -> list[str]:
    """The kernel log lines of NAMES that say a CPU or its time stalled."""
    problems = []
    bad = re.compile(STALL_BAD)
    for name in names:
        log = [x for x in b.shells.run(name, "dmesg", lp.COMMAND_TIMEOUT) if lp.not_beat(x)]
        stalls = [x for x in log if bad.search(x)]
        if stalls:
            problems.append(f"{name}: the kernel log says a CPU or its time stalled: "
                            + " | ".join(stalls[:6]))
    return problems


def test_qemu_partitions_under_host_load(linux_images, partition_times, host_load):
    """The demo configuration under QEMU with every host core busy boots,
    keeps time and works as it does on an idle host (see the module's
    docstring for the checks)."""
    t0 = time.monotonic()
    times: dict = {}
    problems: list[str] = []
    conf = lp.DEMO_CONF.read_text()
    workdir_name = "load-qemu-demo"
    b = None
    try:
        b = boot_loaded(workdir_name, conf)
        times["shells"] = time.monotonic() - t0
        m = b.m
        names = [p.name for p in b.parts]
        for p in b.parts:
            problems += lp.boot_checks(b, p)
        for p in b.parts:
            problems += lp.clocksource_problems(b, p)

        results = lp.clock_run(b, names, lp.COMMAND_TIMEOUT)
        problems += [x for x in lp.clock_problems(results, host_reference=True)
                     if "`date +%s`" not in x and ": date advanced" not in x]

        beater = names[-1]
        lp.start_heartbeat(b, beater)
        t1 = time.monotonic()
        problems += lp.run_workloads(b, names, lp.WORKLOAD_TIMEOUT, times, *LOAD_WORKLOAD)
        times["workload"] = time.monotonic() - t1
        # the heartbeat's line every second: none lost, none late
        left = BEAT_SECONDS - (time.monotonic() - t1)
        if left > 0:
            time.sleep(left)
        try:
            lp.beats_unbroken(b, beater)
        except BootFailure as e:
            problems.append(str(e).split("\n")[0])

        problems += lp.kernel_log_problems(b, names)
        problems += stall_problems(b, names)

        m.check(not problems, "; ".join(problems))
    except BootFailure as e:
        if problems and not str(e).startswith("; ".join(problems)):
            raise BootFailure("before that: " + "; ".join(problems) + "\n" + str(e)) from None
        raise
    finally:
        times["total"] = time.monotonic() - t0
        partition_times("test_qemu_partitions_under_host_load", times)
        if b:
            b.close()


def boot_loaded(name: str, conf_text: str) -> lp.Boot:
    """lp.boot_qemu() with the longer boot timeout a loaded host needs."""
    return lp.boot_qemu(name, conf_text, timeout=LOAD_BOOT_TIMEOUT)
