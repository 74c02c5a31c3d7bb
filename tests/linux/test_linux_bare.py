"""The bare baseline: Debian's kernel and the test initramfs booted directly
under QEMU (no hypervisor), on the machine the partitions will imitate:
q35, -cpu EPYC, 2 CPUs, 512 MiB. What the guest reports here is what is
normal for this kernel under TCG, and the times are what partitions are
compared with (docs/linux.md).

Each test boots once; the guest's console is typed into through a Unix
socket (linux_guest.SerialInput). TESSERA_TIMEOUT_SCALE multiplies the
timeouts.
"""
from __future__ import annotations

import time

from harness import linux_guest as g
import pytest

CPUS = 2
MEMORY_MIB = 512
READY_TIMEOUT = 120   # about 5-10 s on a quiet machine
WORKLOAD_TIMEOUT = 180
EXIT_TIMEOUT = 60


def boot(name: str, workdir, initrd=g.INITRD_TEST):
    m, sock = g.qemu_bare(name, workdir, initrd=initrd, cpus=CPUS, memory_mib=MEMORY_MIB)
    m.start()
    try:
        tty = g.SerialInput(sock)
    except OSError as e:
        m.fail(f"cannot connect to the serial socket {sock}: {e}")
    return m, tty


def test_bare_boot_checks_workload_poweroff(linux_images, linux_workdir, boot_times):
    """Boots to the READY line, checks what the guest sees (CPUs, memory,
    a real clocksource, no kernel warnings), runs the workload and checks
    its checksum, then powers off: QEMU exits with status 0."""
    m, tty = boot("bare-linux", linux_workdir)
    times = {}
    try:
        with m:
            m.wait_for(g.ready(), READY_TIMEOUT, mark="ready")
            m.wait_for(g.check_done(), 30, mark="checks")
            checks = g.parse_checks(m.transcript())
            problems = g.check_problems(checks, cpus=CPUS, ram_mib=MEMORY_MIB)
            if checks.get("kernel") != (g.LINUX_DIR / "version").read_text().strip():
                problems.append(f"kernel={checks.get('kernel')}, build/linux/version says "
                                f"{(g.LINUX_DIR / 'version').read_text().strip()}")
            if problems:
                m.fail("the guest's checks: " + "; ".join(problems))
            times["uptime_at_check"] = float(checks["uptime"])

            g.shell_ready(m, tty)
            start = time.monotonic()
            tty.line("workload")
            done = m.wait_for(g.workload_done(), WORKLOAD_TIMEOUT)
            times["workload"] = time.monotonic() - start
            times["workload_guest"] = float(done["seconds"])
            want = g.workload_checksum()
            if done["checksum"] != want:
                m.fail(f"workload checksum {done['checksum']}, expected {want}")
            m.assert_absent(r"^WORKLOAD FAIL", "a chunk's copy differed")

            tty.line("poweroff")
            m.wait_for(g.announced("POWEROFF"), 30)
            status = m.wait_exit(EXIT_TIMEOUT)
            m.marks["exit"] = m.elapsed()
            if status != 0:
                m.fail(f"QEMU exited with status {status} after poweroff, expected 0")
    finally:
        tty.close()
        times.update(m.marks)
        boot_times(f"QEMU EPYC x{CPUS}, {MEMORY_MIB}M, initrd-test", times)


def test_bare_demo_banner(linux_images, linux_workdir, boot_times):
    """The demo image prints its banner with the host name and gives a
    shell; `reboot` resets the machine (QEMU runs with -no-reboot, so it
    exits)."""
    m, tty = boot("bare-linux-demo", linux_workdir, initrd=g.INITRD_DEMO)
    try:
        with m:
            ready = m.wait_for(g.ready(), READY_TIMEOUT, mark="ready")
            if ready["hostname"] != "tessera":
                m.fail(f"banner names host {ready['hostname']!r}, expected 'tessera'")
            g.shell_ready(m, tty)
            tty.line("reboot")
            m.wait_for(g.announced("REBOOT"), 30)
            m.wait_for(r"^(?:\[ *[0-9.]+\] )?reboot: Restarting system$", 30)
            status = m.wait_exit(EXIT_TIMEOUT)
            m.marks["exit"] = m.elapsed()
            if status != 0:
                m.fail(f"QEMU exited with status {status} after reboot, expected 0")
    finally:
        tty.close()
        boot_times(f"QEMU EPYC x{CPUS}, {MEMORY_MIB}M, initrd-demo", m.marks)


@pytest.mark.parametrize("how", ["spin", "reboot"])
def test_bare_crash(how, linux_images, linux_workdir):
    """`crash` panics the kernel through SysRq: Debian's kernel then spins
    for ever (CONFIG_PANIC_TIMEOUT=0) and QEMU keeps running; `crash
    reboot` panics with panic=-1 semantics, so the kernel resets the
    machine and QEMU (-no-reboot) exits."""
    m, tty = boot(f"bare-linux-crash-{how}", linux_workdir)
    try:
        with m:
            m.wait_for(g.check_done(), READY_TIMEOUT)
            g.shell_ready(m, tty)
            tty.line("crash" if how == "spin" else "crash reboot")
            m.wait_for(g.announced("CRASH"), 30)
            panic = m.wait_for(g.kernel_panic(), 30)
            if "sysrq" not in panic["why"].lower():
                m.fail(f"the kernel panicked for another reason: {panic['why']}")
            if how == "spin":
                m.wait_for(r"^(?:\[ *[0-9.]+\] )?---\[ end Kernel panic", 30)
                time.sleep(3)
                if not m.running():
                    m.fail("QEMU exited after a panic; the kernel should spin")
            else:
                status = m.wait_exit(EXIT_TIMEOUT)
                if status != 0:
                    m.fail(f"QEMU exited with status {status}, expected 0")
    finally:
        tty.close()
