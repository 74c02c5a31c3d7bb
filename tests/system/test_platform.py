"""The virtual CPU and platform as the manuals describe them (issue 11,
items 10, 11, 15 and 16), seen by test guests inside partitions:

- apicmode: IA32_APIC_BASE takes the local APIC from xAPIC to x2APIC to
  globally disabled and back to xAPIC, refuses the transitions the SDM's
  state diagram lacks, and a disabled APIC takes no interrupt (SDM 3A
  11.4.3, 11.12.5);
- lvtmode: changing the LVT timer between one-shot and periodic keeps the
  count (SDM 3A 11.5.4);
- devinsn: read-modify-write, CMPS, SCAS and string I/O forms on the
  emulated I/O APIC, PCI ECAM, open bus and COM1 (issue 11 item 15);
- lowload: a Multiboot1 kernel linked below 1 MiB is loaded where it asks,
  with its module above 1 MiB (Multiboot 0.6.96 3.1.3);

under QEMU (`-cpu EPYC`: AMD-V with NPT), Bochs `corei7_skylake_x` (VT-x
with EPT) and Bochs `ryzen` (the stricter AMD-V). The boots, the hv.conf
and the verdict checks are those of test_partitions.py.
"""
from __future__ import annotations

import pytest
from harness.hv_console import part_line

# test_partitions's fixtures: imported, pytest finds them here
from test_partitions import env, qemu_tsc_khz  # noqa: F401
from test_partitions import (BOCHS_SVM, BOCHS_VMX, QEMU_SVM, Emu, Part, _emu_param, boot,
                             expect_pass, no_hypervisor_fault, no_stop, tsc_khz_for)

EMUS = [_emu_param(QEMU_SVM), _emu_param(BOCHS_VMX), _emu_param(BOCHS_SVM)]


def _with_initrd(p: Part, initrd: str) -> Part:
    return Part(p.name, p.cpus, p.memory, p.guest, p.cmdline, p.keys + (("initrd", initrd),))


@pytest.mark.parametrize("emu", EMUS)
def test_low_linked_multiboot(emu: Emu, env):
    """Item 16: lowload (linked at 64 KiB) runs in its partition, its
    data as linked, the information structure and its module (the
    heartbeat guest's image, which the neighbour partition runs) clear of
    it."""
    low = _with_initrd(Part("low", "0", "32M", "lowload"), "heartbeat.elf")
    beat = Part("beat", "1", "32M", "heartbeat", "count=2")
    m = boot(env, emu, 2, [low, beat])
    expect_pass(m, low, emu.guest_timeout,
                r"^image=\[0x10000-0x[0-9a-f]+\) info=0x9[0-9a-f]{4} modules=1$",
                fail_on=no_stop(low.name))
    no_hypervisor_fault(m)


@pytest.mark.parametrize("emu", EMUS)
def test_apic_modes(emu: Emu, env):
    """Item 10: apicmode with 2 vCPUs (the second sends the disabled APIC
    a fixed IPI and an NMI, which must not arrive) goes xAPIC -> x2APIC ->
    disabled -> xAPIC with IPIs and the timer working in each enabled mode."""
    p = Part("apic", "0-1", "32M", "apicmode", "cpus=2")
    m = boot(env, emu, 2, [p])
    expect_pass(m, p, emu.guest_timeout,
                r"^x2apic=yes path=xapic,x2apic,off,xapic ap_ipis=yes$",
                fail_on=no_stop(p.name))
    no_hypervisor_fault(m)


@pytest.mark.parametrize("emu", EMUS)
def test_lvt_timer_mode_switch(emu: Emu, env, request):
    """Item 11: lvtmode switches a counting timer one-shot -> periodic
    (the interrupts go on) and periodic -> one-shot (one more, then none),
    and an ended count stays ended when the mode changes."""
    p = Part("lvt", "0", "32M", "lvtmode", f"tsc_khz={tsc_khz_for(emu, request)}")
    m = boot(env, emu, 1, [p])
    expect_pass(m, p, emu.guest_timeout, r"^ticks_per_ms=\d+ periodic=\d+ tsc_deadline=no$",
                fail_on=no_stop(p.name))
    no_hypervisor_fault(m)


@pytest.mark.parametrize("emu", EMUS)
def test_device_instruction_forms(emu: Emu, env):
    """Item 15: devinsn's LOCK INC/DEC/XADD/CMPXCHG/NOT/NEG/XCHG on the I/O
    APIC, REP MOVSD/REPE CMPSD/REPNE SCASD on the ECAM window, LOCK INC,
    CMPXCHG and REPE CMPSB on open bus, and REP OUTSB/INSB (both
    directions, 16-bit addressing) and INSW on ports all work in a
    partition, and the line sent by REP OUTSB reaches the console."""
    p = Part("dev", "0", "32M", "devinsn", "open_bus=0xfebf0000")
    m = boot(env, emu, 1, [p])
    expect_pass(m, p, emu.guest_timeout,
                r"^ioapic=ok ecam=ok open_bus=ok string_io=ok$", fail_on=no_stop(p.name))
    m.wait_for(part_line(p.name, r"devinsn: this line went out by rep outsb$"), 5,
               anywhere=True)
    no_hypervisor_fault(m)
