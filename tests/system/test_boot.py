"""Boot the hypervisor by every path of SPEC.md 2, under QEMU (AMD-V/NPT,
SeaBIOS and OVMF) and Bochs (VT-x/EPT and AMD-V/NPT, Bochs BIOS), and check
what it reports: the loader, the firmware, every CPU online, the vendor
path, and the power-off that follows when there is no partition to run."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from harness.hv_console import (BOCHS_RYZEN, BOCHS_SKYLAKE, QEMU_EPYC, BootResult,
                                Platform, check_boot, check_idle_poweroff)
from harness.tessera_vm import BUILD, Machine, Pxe, bochs, hv_efi, hv_elf, qemu

PXE_BIOS_BOOTFILE = "boot/grub/i386-pc/core.0"
PXE_UEFI_BOOTFILE = "boot/grub/x86_64-efi/core.efi"


@dataclass(frozen=True)
class BootPath:
    id: str
    platform: Platform
    loader: str                  # multiboot1 | multiboot2 | uefi
    firmware: str                # BIOS | UEFI
    config: bool                 # an hv.conf goes with the hypervisor
    launch: Callable             # (ctx) -> Machine, not started
    start_timeout: float         # seconds to the first line
    banner_timeout: float        # seconds from there to the banner
    slow: bool = False


@dataclass
class Ctx:
    media: object
    workdir: Path
    conf: Path
    name: str

    @property
    def conf_files(self):
        return [(self.conf, "hv.conf")]


def _kernel(with_conf: bool):
    def launch(c: Ctx) -> Machine:
        modules = [(c.conf, "hv.conf")] if with_conf else []
        return qemu(c.name, c.workdir, kernel=hv_elf(), modules=modules)
    return launch


def _iso_cd(firmware: str, entry: int = 0):
    def launch(c: Ctx) -> Machine:
        iso = c.media.iso(c.conf_files, default=entry)
        return qemu(c.name, c.workdir, firmware=firmware, cdrom=iso)
    return launch


def _iso_usb(firmware: str):
    def launch(c: Ctx) -> Machine:
        return qemu(c.name, c.workdir, firmware=firmware, usb=c.media.iso(c.conf_files))
    return launch


def _esp(c: Ctx) -> Machine:
    return qemu(c.name, c.workdir, firmware="uefi", disk=c.media.esp(c.conf_files))


def _pxe(firmware: str):
    def launch(c: Ctx) -> Machine:
        root = c.media.pxe(c.conf_files)
        bootfile = PXE_UEFI_BOOTFILE if firmware == "uefi" else PXE_BIOS_BOOTFILE
        return qemu(c.name, c.workdir, firmware=firmware, pxe=Pxe(root, bootfile))
    return launch


def _bochs(model: str):
    def launch(c: Ctx) -> Machine:
        return bochs(c.name, c.workdir, model=model, cpus=2, memory_mib=512,
                     cdrom=c.media.iso(c.conf_files))
    return launch


# Timeouts: generous against the times measured here (the table at the end
# of a run shows them); a fatal line fails a test at once anyway.
PATHS = [
    BootPath("qemu-kernel-mb1", QEMU_EPYC, "multiboot1", "BIOS", False,
             _kernel(False), 20, 30),
    BootPath("qemu-kernel-mb1-conf", QEMU_EPYC, "multiboot1", "BIOS", True,
             _kernel(True), 20, 30),
    BootPath("qemu-seabios-iso-mb2", QEMU_EPYC, "multiboot2", "BIOS", True,
             _iso_cd("bios", 0), 30, 30),
    BootPath("qemu-seabios-iso-mb1", QEMU_EPYC, "multiboot1", "BIOS", True,
             _iso_cd("bios", 1), 30, 30),
    BootPath("qemu-seabios-usb", QEMU_EPYC, "multiboot2", "BIOS", True,
             _iso_usb("bios"), 30, 30),
    BootPath("qemu-ovmf-iso-mb2", QEMU_EPYC, "multiboot2", "UEFI", True,
             _iso_cd("uefi", 0), 90, 30, slow=True),
    BootPath("qemu-ovmf-usb", QEMU_EPYC, "multiboot2", "UEFI", True,
             _iso_usb("uefi"), 90, 30, slow=True),
    BootPath("qemu-ovmf-esp-hv.efi", QEMU_EPYC, "uefi", "UEFI", True,
             _esp, 90, 30, slow=True),
    BootPath("qemu-seabios-pxe", QEMU_EPYC, "multiboot2", "BIOS", True,
             _pxe("bios"), 60, 30, slow=True),
    BootPath("qemu-ovmf-pxe", QEMU_EPYC, "multiboot2", "UEFI", True,
             _pxe("uefi"), 120, 30, slow=True),
    BootPath("bochs-skylake-iso-mb2", BOCHS_SKYLAKE, "multiboot2", "BIOS", True,
             _bochs("corei7_skylake_x"), 90, 120, slow=True),
    BootPath("bochs-ryzen-iso-mb2", BOCHS_RYZEN, "multiboot2", "BIOS", True,
             _bochs("ryzen"), 90, 120, slow=True),
]


def _param(p: BootPath):
    marks = []
    if p.slow:
        marks.append(pytest.mark.slow)
    if p.platform.emulator == "bochs":
        marks.append(pytest.mark.bochs)
    if p.firmware == "UEFI":
        marks.append(pytest.mark.uefi)
    return pytest.param(p, id=p.id, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in PATHS])
def test_boot(path: BootPath, media, idle_conf, workdir, machines, boot_record):
    if path.loader == "uefi" and not hv_efi().exists():
        pytest.fail(f"{hv_efi()} is missing (make all)")
    m = path.launch(Ctx(media, workdir, idle_conf, path.id))
    machines.append(m)
    result = None
    try:
        with m:
            result = check_boot(m, path.platform, path.loader, path.firmware,
                                start_timeout=path.start_timeout,
                                banner_timeout=path.banner_timeout)
            check_idle_poweroff(m, config=path.config, timeout=30,
                                exits=path.platform.emulator == "qemu")
    finally:
        boot_record(path.id, m, result)


def test_boot_paths_agree(recorded_boots):
    """Every path that booted on one platform saw the same machine: CPU
    count, vendor path and vendor features do not depend on the loader or
    the firmware. (Each boot test also compares with the platform's
    expected values; this catches a path that differs in a way those
    checks allow, e.g. a feature they do not assert.)"""
    by_platform: dict[str, dict[tuple, list[str]]] = {}
    platform_of = {p.id: p.platform.name for p in PATHS}
    for b in recorded_boots:
        res: BootResult | None = b["result"]
        if res is None or b["label"] not in platform_of:
            continue
        seen = by_platform.setdefault(platform_of[b["label"]], {})
        seen.setdefault(res.identity(), []).append(b["label"])
    if not by_platform:
        pytest.skip("no boot reached its banner in this run")
    disagree = {name: seen for name, seen in by_platform.items() if len(seen) > 1}
    assert not disagree, "boot paths on one platform reported different machines:\n" + \
        "\n".join(f"{name}: {ident} <- {labels}"
                  for name, seen in disagree.items() for ident, labels in seen.items())


@pytest.mark.parametrize("what", ["iso", "pxe"])
def test_shipped_media_boot(what, workdir, machines, boot_record):
    """The artefacts `make iso` and `make pxe` leave in build/ (default
    modules, the menu's own timeout) boot to the banner under SeaBIOS."""
    if what == "iso":
        m = qemu(f"shipped-{what}", workdir, cdrom=BUILD / "hv.iso")
    else:
        m = qemu(f"shipped-{what}", workdir,
                 pxe=Pxe(BUILD / "pxe", PXE_BIOS_BOOTFILE))
    machines.append(m)
    result = None
    try:
        with m:
            result = check_boot(m, QEMU_EPYC, "multiboot2", "BIOS",
                                start_timeout=60, banner_timeout=30)
    finally:
        boot_record(f"shipped build/{'hv.iso' if what == 'iso' else 'pxe/'}", m, result)

