"""A machine whose CPUs have no usable virtualization (issue: foundation):
one clear line says why partitions cannot run, and the hypervisor follows
on_idle (poweroff: QEMU exits) instead of starting anything."""
from __future__ import annotations

import pytest

from harness.hv_console import ON_IDLE, STARTING
from harness.tessera_vm import BUILD, hv_elf, qemu

CANNOT = r"^hv: cannot run partitions: (?P<why>.+)$"
NOT_STARTED = r"^hv: partitions not started: this machine cannot run them$"
STARTED = r"^hv: partition \S+: starting$"

CONF = """[partition a]
cpus = 0
memory = 32M
kernel = smp.elf
"""

# QEMU 7.2's qemu64 model has SVM but no NPT; "-svm" takes SVM away.
CASES = [
    ("qemu64,-svm", "the CPU has neither VT-x nor AMD-V"),
    ("EPYC,-svm", "the CPU has neither VT-x nor AMD-V"),
    ("qemu64", "AMD-V without NPT"),
]


@pytest.mark.parametrize("cpu,why", CASES, ids=[c for c, _ in CASES])
def test_no_usable_virtualization(cpu, why, guests):
    workdir = BUILD / "test-runs" / f"test_no_virt_{cpu.replace(',', '_')}"
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "hv.conf"
    conf.write_text(CONF)
    m = qemu("no-virt-" + cpu, workdir, cpu=cpu, smp=2, memory="512M", kernel=hv_elf(),
             modules=[(conf, "hv.conf"), (BUILD / "guests" / "smp.elf", "smp.elf")])
    with m:
        m.wait_for(STARTING, 20)
        got = m.wait_for(CANNOT, 30)
        assert got["why"] == why
        m.wait_for(NOT_STARTED, 30, fail_on=(STARTED,))
        m.wait_for(ON_IDLE, 30, fail_on=(STARTED,))
        assert m.wait_exit(30) == 0
