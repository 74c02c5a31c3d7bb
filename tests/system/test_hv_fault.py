"""Tier 3 (STYLE.md): a fault in the hypervisor itself prints its whole dump
and stops every CPU, whatever the others were doing with the console; a
second fault during the dump still stops the machine.

A guest can never cause such a fault, so the test makes one with the test
aid `hv_test_panic=MS[,again]` (docs/boot.md): it is read from the
hypervisor's own command line, which only the boot loader sets (no guest
reaches it), and makes the hypervisor execute UD2 MS milliseconds after
the partitions start, on a CPU that finds another one in the middle of
sending a partition's line to the console (the case that left the old
crash path hung, with no dump, while the other CPUs ran on); `,again` faults once more in the middle of the
dump.

Two partitions print meanwhile as fast as they can (constall, long lines
without a newline) and a third beats: after the fault nothing more may come
from any of them, the dump must come out whole (only `hv: ` lines from its
first line to its last), it must say that the other CPUs stopped, and the
machine must stay stopped (no reset, no more output). Under QEMU (AMD-V:
the NMI that stops a CPU in a guest arrives after the #VMEXIT) and Bochs
corei7_skylake_x (VT-x: an NMI-exiting VM exit).
"""
from __future__ import annotations

import re
import time

import pytest

from harness.hv_console import part_line
from harness.tessera_vm import Machine, bochs, hv_elf, qemu
from test_partitions import (BOCHS_MEMORY_MIB, BOCHS_TSC_KHZ, BOCHS_VMX, QEMU_MEMORY, QEMU_SVM,
                             Emu, Env, Part, _emu_param, conf_text)
from test_partitions import env, qemu_tsc_khz  # noqa: F401 (fixtures)

# The fault, after the partitions start: once every partition printed (the
# BSP loads all three before it runs `beat`; Bochs takes seconds of its
# time for that, and QEMU on a loaded host a few for the output).
FAULT_MS = {"qemu": 8000, "bochs": 15000}
SILENCE_S = 3            # after the dump: nothing more, the machine still there

EXCEPTION = (r"^hv: EXCEPTION #UD invalid opcode \(vector 6\) on cpu (?P<cpu>\d+)$")
STOPPED = r"^hv: the other (?P<n>\d+) CPUs stopped$"
PANIC_END = r"^hv: PANIC: unhandled exception in the hypervisor$"
AGAIN = r"^hv: PANIC: a fault during the dump; machine stopped$"


def parts(tsc_khz: int) -> list[Part]:
    return [Part("beat", "0", "32M", "heartbeat", f"tsc_khz={tsc_khz}"),
            Part("flood", "1", "32M", "constall"),
            Part("lines", "2", "32M", "constall", "width=100")]


def start(env: Env, emu: Emu, cmdline: str, tsc_khz: int) -> Machine:
    conf = env.workdir / "hv.conf"
    ps = parts(tsc_khz)
    conf.write_text(conf_text(ps))
    files = [(conf, "hv.conf")] + [(env.guests / f"{g}.elf", f"{g}.elf")
                                    for g in sorted({p.guest for p in ps})]
    if emu.emulator == "qemu":
        m = qemu(env.name, env.workdir, cpu=emu.model, smp=4, memory=QEMU_MEMORY,
                 kernel=hv_elf(), modules=files, append=cmdline)
    else:
        iso = env.media._make("iso", "mkiso.sh", ".iso", files,
                              ["-k", str(hv_elf()), "-t", "0", "-d", "0", "-c", cmdline])
        m = bochs(env.name, env.workdir, model=emu.model, cpus=4,
                  memory_mib=BOCHS_MEMORY_MIB, cdrom=iso)
    env.machines.append(m)
    m.fatal = []  # the fault is what this test waits for
    return m.start()


def partitions_run(m: Machine, emu: Emu) -> None:
    m.wait_for(r"^hv: hv_test_panic: a fault in \d+ ms.*\(a test aid\)$", emu.banner_timeout)
    m.wait_for(part_line("beat", r"HEARTBEAT 2$"), emu.guest_timeout, anywhere=True)
    m.wait_for(part_line("lines", r"constall: 0 bytes, lines$"), emu.guest_timeout,
               anywhere=True)
    m.wait_for(part_line("flood", r"[!-~]{1024}$"), emu.guest_timeout, anywhere=True)


def stays_stopped(m: Machine, after: int) -> None:
    """No byte after offset AFTER (the dump's end) for SILENCE_S, and the
    emulator still runs: every CPU stopped, none reset the machine."""
    time.sleep(SILENCE_S)
    text = m.transcript()
    if text[after:].strip():
        m.fail(f"output after the machine stopped: {text[after:][:300]!r}")
    if not m.running():
        m.fail("the emulator exited: the machine did not stay stopped")


def dump_whole(m: Machine, first: re.Match, last: re.Match) -> None:
    """Only hypervisor lines from the dump's first line to its last."""
    text = m.transcript()
    inside = [x for x in text[first.start():last.end()].split("\n") if x]
    foreign = [x for x in inside if not x.startswith("hv: ")]
    if foreign:
        m.fail(f"the dump is not whole: {foreign[:3]!r} among its lines")


@pytest.mark.parametrize("emu", [_emu_param(QEMU_SVM), _emu_param(BOCHS_VMX)])
def test_a_hypervisor_fault_dumps_and_stops_every_cpu(emu: Emu, env, request):
    tsc = BOCHS_TSC_KHZ if emu.emulator == "bochs" else request.getfixturevalue("qemu_tsc_khz")
    m = start(env, emu, f"hv_test_panic={FAULT_MS[emu.emulator]}", tsc)
    partitions_run(m, emu)
    first = m.wait_for(EXCEPTION, emu.guest_timeout, anywhere=True)
    if first["cpu"] not in ("0", "1", "2"):
        m.fail(f"the fault came on cpu {first['cpu']}, not in a partition's line")
    stopped = m.wait_for(STOPPED, 30)
    if stopped["n"] != "3":
        m.fail(f"{stopped.group(0)!r}: expected the other 3 CPUs")
    for reg in ("RIP", "RAX", "CR0"):
        m.wait_for(rf"^hv: {reg} [0-9a-f]{{16}}", 30, anywhere=True)
    m.wait_for(r"^hv: backtrace:$", 30)
    last = m.wait_for(PANIC_END, 30)
    dump_whole(m, first, last)
    stays_stopped(m, last.end())


@pytest.mark.parametrize("emu", [_emu_param(QEMU_SVM)])
def test_a_fault_during_the_dump_still_stops_the_machine(emu: Emu, env, request):
    m = start(env, emu, f"hv_test_panic={FAULT_MS[emu.emulator]},again",
              request.getfixturevalue("qemu_tsc_khz"))
    partitions_run(m, emu)
    first = m.wait_for(EXCEPTION, emu.guest_timeout, anywhere=True)
    m.wait_for(STOPPED, 30)
    m.wait_for(r"^hv: RIP [0-9a-f]{16}", 30)
    last = m.wait_for(AGAIN, 30)
    dump_whole(m, first, last)
    m.assert_absent(PANIC_END, "the second fault ended the dump")
    stays_stopped(m, last.end())
