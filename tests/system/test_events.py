"""Events and state a partition must find as on hardware, and guests that
attack them (issue 11): NMI blocking and re-delivery, the #AC and #DB
delivery loops (CVE-2015-5307, CVE-2015-8104), single steps over
instructions the hypervisor completes, the guest's own PAT, WBINVD, and the
state a restarted partition starts from.

Each test boots the hypervisor with hostile test guests (tests/guests/) in
partitions beside a heartbeat partition, which must beat on without a gap
whatever its neighbour does, on the vendor paths where the behaviour
exists: QEMU (AMD-V), Bochs corei7_skylake_x (VT-x), Bochs ryzen (AMD-V).
The helpers and platforms are those of test_partitions.py.
"""
from __future__ import annotations

import re

import pytest

from harness.hv_console import (PART_EXITS, PART_INJECTED, PART_RESTARTING, PART_STOPPED,
                                for_part, part_line)
from test_partitions import (BOCHS_SVM, BOCHS_VMX, QEMU_SVM, Emu, Part, _emu_param,
                             beats_go_on, boot, env, expect_pass, no_hypervisor_fault, no_stop,
                             qemu_tsc_khz, tsc_khz_for)

# the fixtures of test_partitions.py, used here by name
__all__ = ["env", "qemu_tsc_khz"]

ALL_EMUS = [_emu_param(QEMU_SVM), _emu_param(BOCHS_VMX), _emu_param(BOCHS_SVM)]


def heartbeat(emu: Emu, request, cpus: str) -> Part:
    return Part("hb", cpus, "32M", "heartbeat", f"tsc_khz={tsc_khz_for(emu, request)}")


def tsc(emu: Emu, request) -> str:
    return f"tsc_khz={tsc_khz_for(emu, request)}"


def expect_stop(m, emu: Emu, name: str, reason: str, survivor: str) -> None:
    """Partition NAME stops for REASON (and only NAME stops)."""
    stop = m.wait_for(for_part(PART_STOPPED, name), emu.guest_timeout, anywhere=True,
                      fail_on=no_stop(survivor))
    if stop["reason"] != reason:
        m.fail(f"partition {name} stopped for {stop['reason']!r}, expected {reason!r}")


def exit_count(m, name: str, reason: str) -> int:
    """How many exits of REASON partition NAME's statistics counted."""
    total = 0
    for line in m.find_all(for_part(PART_EXITS, name)):
        for item in line["exits"].split(", "):
            what, _, count = item.rpartition(" ")
            if what == reason:
                total += int(count)
    return total


# -- NMIs (item 7) ---------------------------------------------------------------

@pytest.mark.parametrize("emu", ALL_EMUS)
def test_nmi(emu: Emu, env, request):
    """Partition n (two CPUs) takes NMIs from itself and a storm from its
    second CPU: none inside the handler before its IRET, the one sent from
    the handler comes after it, an NMI wakes a CPU halted with interrupts
    off. Then, the storm still going, it resets itself: with on_reboot =
    stop it stops. The heartbeat partition beats on."""
    n = Part("n", "0-1", "32M", "nmi", f"storm=300 stop=1 {tsc(emu, request)}",
             keys=(("on_reboot", "stop"),))
    hb = heartbeat(emu, request, "2")
    m = boot(env, emu, 3, [n, hb])
    expect_pass(m, n, emu.guest_timeout, r"nested=0 held=1 hlt_wake=1",
                fail_on=no_stop("n", "hb"))
    expect_stop(m, emu, "n", "reboot (reset register)", "hb")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# -- the guest's own PAT (item 4) ---------------------------------------------------

def passes_twice(m, emu: Emu, p: Part, details: str, survivor: str) -> None:
    """P's guest PASSes, resets itself, the partition restarts (on_reboot =
    restart) and its guest PASSes again: the first run left nothing behind
    that the second would see."""
    fail_on = no_stop(survivor)
    expect_pass(m, p, emu.guest_timeout, details, fail_on=fail_on)
    m.wait_for(for_part(PART_RESTARTING, p.name), emu.guest_timeout, fail_on=fail_on)
    verdict = m.wait_for(part_line(p.name, rf"VERDICT {p.guest}: (?P<result>PASS|FAIL)"
                                   r"(?: (?P<details>.*))?$"),
                         emu.guest_timeout, fail_on=fail_on)
    if verdict["result"] != "PASS":
        m.fail(f"partition {p.name} after its restart: {p.guest} says FAIL: "
               f"{verdict['details']}")


@pytest.mark.parametrize("emu", ALL_EMUS)
def test_pat(emu: Emu, env, request):
    """Partition p reads the power-up PAT, reads back every valid value it
    writes, gets #GP for reserved types and bits, then leaves a PAT of its
    own and resets itself: restarted, it reads the power-up value again
    (its PAT is the VMCS's or the VMCB's, never the CPU's register, which
    stays the hypervisor's). The heartbeat partition beats on."""
    p = Part("p", "0", "32M", "pat", "reboot=1", keys=(("on_reboot", "restart"),))
    hb = heartbeat(emu, request, "1")
    m = boot(env, emu, 2, [p, hb])
    passes_twice(m, emu, p, r"^pat=0x7040600070406 valid=4 reserved_gp=5$", "hb")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# -- what a restarted partition starts from (item 8) ----------------------------------

@pytest.mark.parametrize("emu", ALL_EMUS)
def test_restart_state(emu: Emu, env, request):
    """Partition r checks the reset state a loader leaves alone (debug
    registers, x87/SSE/AVX registers, the SYSCALL and SWAPGS MSRs,
    TSC_AUX), dirties all of it and resets itself: restarted, it finds the
    reset state again. The heartbeat partition beats on."""
    r = Part("r", "0", "32M", "cpustate", "reboot=1", keys=(("on_reboot", "restart"),))
    hb = heartbeat(emu, request, "1")
    m = boot(env, emu, 2, [r, hb])
    passes_twice(m, emu, r, r"^dr=reset x87=reset sse=reset avx=(reset|absent) msrs=reset$",
                 "hb")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# -- single steps over what the hypervisor completes (items 12, 3), WBINVD (item 5) ----

# What each platform can show besides the single steps: INT1 and DR7.GD
# need an emulator that models them (QEMU's TCG raises #UD for INT1 and has
# no general detect). Bochs 2.7's SVM leaves DR6 and DR7 as they were when it
# intercepts a #DB (cpu/exception.cc intercepts before it commits them),
# where AMD-V sets them first, so the guest's own checks of DR6 cannot pass
# there: ryzen is not run.
STEP_CASES = [
    _emu_param(QEMU_SVM, ""),
    _emu_param(BOCHS_VMX, "int1=1 gd=1"),
]
WBINVDS = 64


@pytest.mark.parametrize("emu, extra", STEP_CASES)
def test_single_step(emu: Emu, extra: str, env, request):
    """Partition s single-steps CPUID, OUT to an unowned port, WBINVD and
    RDMSR, which the hypervisor completes, between instructions the CPU
    runs: exactly one #DB after each, at the next instruction, with DR6.BS
    (on VT-x also INT1 past the instruction, and DR7.GD: DR6.BD and GD
    cleared). Then 64 WBINVDs, each of which exits (VT-x too) and is
    completed as a no-op; it resets itself and with on_reboot = stop its
    exit counts are printed. The heartbeat partition beats on."""
    s = Part("s", "0", "32M", "singlestep", f"wbinvd={WBINVDS} reboot=1 {extra}".strip(),
             keys=(("on_reboot", "stop"),))
    hb = heartbeat(emu, request, "1")
    m = boot(env, emu, 2, [s, hb])
    # the verdict may come out after the stop line (its reset follows at once)
    expect_pass(m, s, emu.guest_timeout, rf"^steps=8 .* wbinvd={WBINVDS}$",
                fail_on=no_stop("hb"))
    expect_stop(m, emu, "s", "reboot (reset register)", "hb")
    m.wait_for(for_part(PART_INJECTED, "s"), 10, anywhere=True)
    count = exit_count(m, "s", "INVD/WBINVD")
    if count < WBINVDS + 1:
        m.fail(f"partition s: {count} INVD/WBINVD exits for {WBINVDS + 1} WBINVDs")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# -- the #AC and #DB delivery loops (item 3) ------------------------------------------

# QEMU's TCG checks no alignment (the guest's probe says so), so the #AC
# loop runs under Bochs only.
AC_EMUS = [_emu_param(BOCHS_VMX), _emu_param(BOCHS_SVM)]


@pytest.mark.parametrize("emu", AC_EMUS)
def test_ac_loop(emu: Emu, env, request):
    """CVE-2015-5307: partition a's second CPU loops on the delivery of #AC
    at ring 3 with a misaligned stack; every round is an exit, so when its
    first CPU resets the machine the partition stops (on_reboot = stop),
    looping CPU included. The heartbeat partition beats on and the
    hypervisor does not fault."""
    a = Part("a", "0-1", "32M", "acloop", tsc(emu, request), keys=(("on_reboot", "stop"),))
    hb = heartbeat(emu, request, "2")
    m = boot(env, emu, 3, [a, hb])
    expect_pass(m, a, emu.guest_timeout, r"^probe=#AC loop=entered$", fail_on=no_stop("hb"))
    expect_stop(m, emu, "a", "reboot (reset register)", "hb")
    m.wait_for(for_part(PART_INJECTED, "a"), 10, anywhere=True)
    rounds = exit_count(m, "a", "exception")
    if rounds < 100:
        m.fail(f"partition a: {rounds} exception exits: the loop did not exit at each round")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)


# QEMU 7.2's TCG aborts (an iothread lock assertion) when a data breakpoint
# hits during an event delivery that an SVM intercept ends; the #DB loop
# runs under Bochs.
DB_EMUS = [_emu_param(BOCHS_VMX), _emu_param(BOCHS_SVM)]


@pytest.mark.parametrize("emu", DB_EMUS)
def test_db_loop(emu: Emu, env, request):
    """CVE-2015-8104: partition d's second CPU, in 64-bit mode, sets a data
    breakpoint on the IST slot where #DB's delivery pushes and loops on
    #DB; every round is an exit, so when its first CPU resets the machine
    the partition stops (on_reboot = stop), looping CPU included. The
    heartbeat partition beats on and the hypervisor does not fault."""
    d = Part("d", "0-1", "32M", "dbloop", tsc(emu, request), keys=(("on_reboot", "stop"),))
    hb = heartbeat(emu, request, "2")
    m = boot(env, emu, 3, [d, hb])
    expect_pass(m, d, emu.guest_timeout, r"^probe=#DB loop=entered$", fail_on=no_stop("hb"))
    expect_stop(m, emu, "d", "reboot (reset register)", "hb")
    m.wait_for(for_part(PART_INJECTED, "d"), 10, anywhere=True)
    rounds = exit_count(m, "d", "exception")
    if rounds < 100:
        m.fail(f"partition d: {rounds} exception exits: the loop did not exit at each round")
    beats_go_on(m, "hb", 3, emu.beat_timeout)
    no_hypervisor_fault(m)
