"""XSAVEC and the compacted XSAVE format under Bochs 2.7 (tests/guests/xsavec.c).

Bochs 2.7's XSAVEC lays the extended components out from byte 160 (its SSE
area) instead of 576, over the area's header, and its XRSTOR reads them from
576: a state saved with XSAVEC does not come back (Bochs 2.8 fixed both).
Linux 6.1 saves its tasks' state with XSAVEC when CPUID offers it without
XSAVES: a user process preempted between loading a vector register and
storing it stores something else. Under Tessera on Bochs corei7_skylake_x
that was busybox's TLS image copied as zeros (`segfault at 0 ip ...4a4d02`,
glibc's __ctype_init) and the Linux workload's wrong checksums
(test_linux_partitions.py::test_bochs_vmx_linux). The partitions' CPUID does
not offer XSAVEC (hv/policy/cpuid.c); Linux then uses XSAVEOPT and the
standard format, which Bochs gets right.

- bare Bochs (tests/guests/test_guests_bare.py::test_xsavec_bare_bochs_deviates):
  the guest FAILs, showing where XSAVEC put YMM0's upper half;
- in a partition (VT-x, and AMD-V on Bochs ryzen): the guest sees no
  XSAVEC and PASSes, a heartbeat partition beside it beats on.
"""
from __future__ import annotations

import pytest

from test_partitions import (BOCHS_SVM, BOCHS_TSC_KHZ, BOCHS_VMX, Part,  # noqa: F401
                             beats_go_on, boot, expect_pass, no_hypervisor_fault, no_stop, env)


@pytest.mark.slow
@pytest.mark.bochs
@pytest.mark.parametrize("emu", [BOCHS_VMX, BOCHS_SVM], ids=lambda e: e.id)
def test_xsavec_not_offered(emu, env):
    a = Part("a", "0", "32M", "xsavec")
    c = Part("c", "1", "32M", "heartbeat", f"tsc_khz={BOCHS_TSC_KHZ}")
    m = boot(env, emu, 2, [a, c])
    expect_pass(m, a, emu.guest_timeout, r"^xsavec=no$", fail_on=no_stop("a", "c"))
    beats_go_on(m, "c", 3, emu.beat_timeout)
    no_hypervisor_fault(m)
