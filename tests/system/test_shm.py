"""Shared memory between partitions (docs/virtio.md, section 6): two
bare-metal test guests (tests/guests/shm.c) find the ivshmem device the
region `ring0` gives each, and pass eight rounds of messages through the
whole region, each announced by a doorbell that interrupts the peer
through MSI-X; a third partition, which does not name the region, has no
such device and reads all-ones where the others have it. Under QEMU
(AMD-V with NPT) and Bochs corei7_skylake_x (VT-x with EPT).
"""
from __future__ import annotations

import pytest

import test_partitions as tp
from test_partitions import env, qemu_tsc_khz  # noqa: F401 (fixtures used here)

SHM_SIZE = 1 << 20
REGION_GPA = 0xc0000000  # the largest BAR first in the PCI window: BAR 2


@pytest.mark.parametrize("emu", [tp._emu_param(tp.QEMU_SVM), tp._emu_param(tp.BOCHS_VMX)])
def test_shm_doorbells(emu: tp.Emu, env, request):
    tsc = tp.tsc_khz_for(emu, request)
    shm = (("shm", "ring0 1M"),)
    a = tp.Part("a", "0", "32M", "shm", f"tsc_khz={tsc}", keys=shm)
    b = tp.Part("b", "1", "32M", "shm", f"tsc_khz={tsc}", keys=shm)
    c = tp.Part("c", "2", "32M", "shm", f"absent=1 probe={REGION_GPA:#x}")
    m = tp.boot(env, emu, 3, [a, b, c])
    names = ("a", "b", "c")
    for p, peer in ((a, 0), (b, 1)):
        tp.expect_pass(m, p, emu.guest_timeout,
                       rf"^peer={peer} rounds=8 size={SHM_SIZE} interrupts=8$",
                       fail_on=tp.no_stop(*names))
    tp.expect_pass(m, c, emu.guest_timeout, rf"^no ivshmem, {REGION_GPA:#x} reads all-ones$",
                   fail_on=tp.no_stop(*names))
    tp.no_hypervisor_fault(m)
