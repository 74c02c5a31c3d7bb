"""The virtual CPU by the manuals, against hostile guests, and the CPUs a
configuration may split (issue 11, items 1, 9 and 13).

- xsetbv (tests/guests/xsetbv.c): every XCR0 value the SDM refuses raises
  #GP in the guest, which goes on to PASS; a heartbeat partition beside it
  keeps beating and the hypervisor does not fault. On Bochs
  corei7_skylake_x (VT-x, AVX-512: XCR0 = 0x27 stopped the hypervisor) and
  on QEMU (AMD-V).
- crwrite (tests/guests/crwrite.c): MOV to CR0/CR4 on VT-x: CR4 bits of
  features the partition's CPUID hides, CR4.PCIDE outside IA-32e mode (it
  failed VM entry and stopped the partition), NW without CD raise #GP;
  reserved CR0 bits are ignored.
- Hyperthread siblings in two partitions are refused at boot, naming the
  sibling, under QEMU `-smp 4,sockets=1,cores=2,threads=2`; whole cores per
  partition, or `allow_shared_cores = yes`, are accepted.
"""
from __future__ import annotations

import pytest

from harness.hv_console import (CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED, ON_IDLE,
                                PART_STARTING)
from harness.tessera_vm import hv_elf, qemu
from test_partitions import (BOCHS_TSC_KHZ, BOCHS_VMX, QEMU_MEMORY, QEMU_SVM, Part,  # noqa: F401
                             beats_go_on, boot, expect_pass, no_hypervisor_fault, no_stop,
                             env, qemu_tsc_khz)

SMT_TOPOLOGY = "4,sockets=1,cores=2,threads=2"   # logical CPUs 0-1 and 2-3 share a core
SIBLING_REFUSED = ('hv.conf:{line}: cpus: CPU {cpu} is a hyperthread sibling of CPU {sib} of '
                   '"{other}" (allow_shared_cores = yes in [hypervisor] allows it)')


def _check_survivors(m, emu, hostile: list[Part], beater: Part) -> None:
    names = [p.name for p in hostile] + [beater.name]
    for p in hostile:
        expect_pass(m, p, emu.guest_timeout, fail_on=no_stop(*names))
    beats_go_on(m, beater.name, 3, emu.beat_timeout)
    no_hypervisor_fault(m)


@pytest.mark.slow
@pytest.mark.bochs
def test_hostile_cpu_guests_bochs_vmx(env):
    """Bochs corei7_skylake_x (VT-x): xsetbv and crwrite PASS in their
    partitions, with AVX-512 among the accepted XCR0 values, and a
    heartbeat partition beats on."""
    a = Part("a", "0", "32M", "xsetbv")
    b = Part("b", "1", "32M", "crwrite")
    c = Part("c", "2", "32M", "heartbeat", f"tsc_khz={BOCHS_TSC_KHZ}")
    m = boot(env, BOCHS_VMX, 3, [a, b, c])
    expect_pass(m, a, BOCHS_VMX.guest_timeout, r"^supported=0x[0-9a-f]*e7 ",
                fail_on=no_stop("a", "b", "c"))
    _check_survivors(m, BOCHS_VMX, [b], c)


def test_hostile_xsetbv_qemu(env, qemu_tsc_khz):
    """QEMU (AMD-V): xsetbv PASSes in its partition and a heartbeat
    partition beats on."""
    a = Part("a", "0", "32M", "xsetbv")
    c = Part("c", "1", "32M", "heartbeat", f"tsc_khz={qemu_tsc_khz}")
    m = boot(env, QEMU_SVM, 2, [a, c])
    _check_survivors(m, QEMU_SVM, [a], c)


# -- hyperthread siblings -----------------------------------------------------

def _boot_smt(env, name: str, conf_text: str):
    work = env.workdir / name
    work.mkdir()
    conf = work / "hv.conf"
    conf.write_text(conf_text)
    m = qemu(f"{env.name}-{name}", work, cpu=QEMU_SVM.model, smp=SMT_TOPOLOGY,
             memory=QEMU_MEMORY, kernel=hv_elf(),
             modules=[(conf, "hv.conf"), (env.guests / "heartbeat.elf", "heartbeat.elf")])
    env.machines.append(m)
    return m.start()


def _conf(parts: list[tuple[str, str]], allow: str | None = None) -> str:
    text = "[hypervisor]\non_idle = poweroff\n"
    if allow is not None:
        text += f"allow_shared_cores = {allow}\n"
    for name, cpus in parts:
        text += f"\n[partition {name}]\ncpus = {cpus}\nmemory = 32M\nkernel = heartbeat.elf\n"
    return text


def _cpus_line(text: str, name: str) -> int:
    lines = text.splitlines()
    start = lines.index(f"[partition {name}]")
    return next(i + 1 for i in range(start, len(lines)) if lines[i].startswith("cpus ="))


def test_sibling_partitions_refused(env):
    """Under QEMU with two threads per core: a on CPU 0 and b on its
    sibling CPU 1 (c on 2-3, a core of its own) is refused before anything
    starts, at b's cpus line, naming CPU 0 and a; c is not mentioned."""
    text = _conf([("a", "0"), ("b", "1"), ("c", "2-3")])
    m = _boot_smt(env, "refused", text)
    problem = m.wait_for(CONFIG_PROBLEM, 60, fail_on=(CONFIG_ACCEPTED,))
    want = SIBLING_REFUSED.format(line=_cpus_line(text, "b"), cpu=1, sib=0, other="a")
    if problem["problem"] != want:
        m.fail(f"expected {want!r}, got {problem['problem']!r}")
    m.wait_for(CONFIG_REJECTED, 10, fail_on=(CONFIG_ACCEPTED,))
    m.wait_for(ON_IDLE, 10)
    if len(m.find_all(CONFIG_PROBLEM)) != 1:
        m.fail(f"more than one problem: {[x.group(0) for x in m.find_all(CONFIG_PROBLEM)]}")


@pytest.mark.parametrize("case", ["whole-cores", "allowed"])
def test_sibling_partitions_accepted(env, case):
    """Whole cores per partition (0-1 and 2-3), or siblings apart with
    allow_shared_cores = yes: accepted, and every partition starts."""
    if case == "whole-cores":
        parts = [("a", "0-1"), ("b", "2-3")]
        text = _conf(parts)
    else:
        parts = [("a", "0"), ("b", "1"), ("c", "2-3")]
        text = _conf(parts, allow="yes")
    m = _boot_smt(env, case, text)
    m.wait_for(CONFIG_ACCEPTED, 60, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED))
    for name, _ in parts:
        started = m.wait_for(PART_STARTING, 30)
        if started["name"] != name:
            m.fail(f"partition {started['name']} started, expected {name}")
