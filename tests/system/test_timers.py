"""Guest timers that the hypervisor must not sleep through (issue 11, under
load): the test guest longtimer halts on a one-shot local APIC count of
six seconds, longer than the physical CPU's own count-down timer holds
where it has no TSC-deadline mode (QEMU's: 4.29 s at divide-by-1), then on
one of 50 ms; each must wake it on time (SDM 3A 11.5.4). The hypervisor
arms its CPU's timer for the guest's deadline; when that timer ends first
it must be armed again for the rest, not leave the halted vCPU waiting for
an interrupt that no one sends.

Under QEMU (`-cpu EPYC`: AMD-V with NPT, a count-down timer). The boots,
the hv.conf and the verdict checks are those of test_partitions.py.
"""
from __future__ import annotations

# test_partitions's fixtures: imported, pytest finds them here
from test_partitions import env, qemu_tsc_khz  # noqa: F401
from test_partitions import QEMU_SVM, Part, boot, expect_pass, no_hypervisor_fault, no_stop

LONG_MS = 6000


def test_halted_vcpu_wakes_for_a_long_timer(env, qemu_tsc_khz):
    """longtimer: the 6 s and the 50 ms counts each wake the halted vCPU
    within 500 ms of their time, never before it."""
    p = Part("long", "0", "32M", "longtimer", f"tsc_khz={qemu_tsc_khz} wait_ms={LONG_MS}")
    m = boot(env, QEMU_SVM, 1, [p])
    expect_pass(m, p, QEMU_SVM.guest_timeout + LONG_MS / 1000,
                r"^ticks_per_ms=\d+ long_ms=\d+ short_ms=\d+$",
                fail_on=no_stop(p.name))
    no_hypervisor_fault(m)
