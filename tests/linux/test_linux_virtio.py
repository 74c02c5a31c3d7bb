"""Partitions that talk and store (docs/virtio.md): Debian's own
virtio_pci, virtio_net and virtio_blk drivers in Linux partitions, on the
hypervisor's switches and disks, under QEMU (AMD-V with NPT) and Bochs
(VT-x with EPT).

One QEMU boot (four Linux partitions on four CPUs) serves the test_qemu_*
tests in file order; each needs only the booted machine, so any one runs
alone (-k). The partitions:

- vnet-a on switch lan0 with the writable disk disk-a.img;
- vnet-b on lan0 with the read-only disk disk-ro.img, its devices on INTx
  (`pci=nomsi`: the path for drivers that do not enable MSI-X);
- vnet-c on lan0, the one that stops reading (its interface goes down);
- vnet-d on switch lan1 only, which must reach nobody.

The Bochs test (VT-x) boots two partitions through the PVH vmlinux and
does the same, smaller: link, ping, 64 MiB with checksums, the disk.
TESSERA_TIMEOUT_SCALE multiplies the timeouts.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import time
from pathlib import Path

import pytest
from harness import linux_guest as g
from harness.hv_console import BANNER, CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR
from harness.tessera_vm import BUILD, ROOT, bochs, hv_elf

import test_linux_partitions as lp

RUNS_DIR = BUILD / "test-runs" / "linux"
DISK_SECTORS = 4096          # 2 MiB disks
SECTOR = 512
TRANSFER_MIB = 64
PORT = 5000
NET = "10.0.0"
BOOT_TIMEOUT = 300
TRANSFER_TIMEOUT = 900

QEMU_CONF = """\
# tests/linux/test_linux_virtio.py
[partition vnet-a]
cpus    = 0
memory  = 384M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0
net     = lan0
disk    = disk-a.img

[partition vnet-b]
cpus    = 1
memory  = 384M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0 pci=nomsi
net     = lan0
disk    = disk-ro.img ro

[partition vnet-c]
cpus    = 2
memory  = 256M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0
net     = lan0

[partition vnet-d]
cpus    = 3
memory  = 256M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0
net     = lan1
"""
IPS = {"vnet-a": f"{NET}.1", "vnet-b": f"{NET}.2", "vnet-c": f"{NET}.3", "vnet-d": f"{NET}.4"}


def mac(partition: str, switch: str) -> str:
    """The MAC address of PARTITION's interface on SWITCH (docs/virtio.md):
    02 and the top five bytes of FNV-1a-64("PARTITION/SWITCH")."""
    h = 0xcbf29ce484222325
    for byte in f"{partition}/{switch}".encode():
        h = ((h ^ byte) * 0x100000001b3) & (2**64 - 1)
    return ":".join(["02"] + [f"{(h >> (24 + 8 * (4 - i))) & 0xff:02x}" for i in range(5)])


def disk_image(path: Path, tag: str) -> Path:
    """DISK_SECTORS sectors, each beginning with its tag and number."""
    data = b"".join(f"{tag} sector {i:06d} ".encode().ljust(SECTOR, b".")
                    for i in range(DISK_SECTORS))
    path.write_bytes(data)
    return path


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# -- one boot -----------------------------------------------------------------

def boot(name: str, conf_text: str, disks: dict[str, Path]) -> lp.Boot:
    """Boots the hypervisor under QEMU with CONF_TEXT and the disk modules;
    waits until every partition's shell answers."""
    return lp.boot_qemu(name, conf_text, timeout=BOOT_TIMEOUT,
                        modules=lambda conf: lp.demo_modules(conf) +
                        [(path, n) for n, path in disks.items()])


def net_up(b: lp.Boot, name: str, switch: str) -> list[str]:
    """NAME's virtio-net interface up with its address; what is wrong."""
    sh = b.shells
    ifaces = sh.value(name, "ls /sys/class/net | grep -v lo").split()
    if ifaces != ["eth0"]:
        return [f"{name}: interfaces {ifaces}, expected eth0 only"]
    sh.run(name, f"ip addr add {IPS[name]}/24 dev eth0 && ip link set eth0 up")
    problems = []
    got = sh.value(name, "cat /sys/class/net/eth0/address")
    if got != mac(name, switch):
        problems.append(f"{name}: MAC {got}, expected {mac(name, switch)}")
    deadline = time.monotonic() + 30
    while sh.value(name, "cat /sys/class/net/eth0/carrier") != "1":
        if time.monotonic() > deadline:
            problems.append(f"{name}: no carrier on eth0")
            break
        time.sleep(1)
    driver = sh.value(name, "basename $(readlink /sys/class/net/eth0/device/driver)")
    if driver != "virtio_net":
        problems.append(f"{name}: eth0's driver is {driver!r}")
    return problems


def ping(b: lp.Boot, name: str, target: str, count: int = 3) -> int:
    """Echo replies NAME got from TARGET (an IP) of COUNT."""
    lines = b.shells.run(name, f"ping -c {count} -W 2 {target} 2>&1 | tail -2", 60)
    got = re.search(r"(\d+) packets received", " ".join(lines))
    return int(got[1]) if got else 0


def transfer(b: lp.Boot, src: str, dst: str, mib: int, timeout: float) -> tuple[str, str, float]:
    """MIB MiB of random data from SRC to DST over TCP (busybox nc): the
    checksum sent, the one received, and the seconds it took."""
    sh = b.shells
    sh.run(dst, f"rm -f /tmp/rx.md5; (nc -l -p {PORT} | md5sum > /tmp/rx.part && "
                "mv /tmp/rx.part /tmp/rx.md5) & true")
    sh.run(src, f"dd if=/dev/urandom of=/tmp/blob bs=1M count={mib} 2>/dev/null", timeout)
    sent = sh.value(src, "md5sum < /tmp/blob | cut -d' ' -f1", timeout)
    t0 = time.monotonic()
    sh.run(src, f"nc {IPS[dst]} {PORT} < /tmp/blob", timeout)
    got = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sh.value(dst, "cat /tmp/rx.md5 2>/dev/null | cut -d' ' -f1")
        if got:
            break
        time.sleep(1)
    seconds = time.monotonic() - t0
    sh.run(src, "rm -f /tmp/blob")
    return sent, got, seconds


# -- the QEMU boot, shared by the tests that follow ----------------------------

@pytest.fixture(scope="module")
def vnet(linux_images) -> lp.Boot:
    work = RUNS_DIR / "virtio-images"
    work.mkdir(parents=True, exist_ok=True)
    disks = {"disk-a.img": disk_image(work / "disk-a.img", "DISK-A"),
             "disk-ro.img": disk_image(work / "disk-ro.img", "DISK-RO")}
    b = boot("virtio-qemu", QEMU_CONF, disks)
    b.disks = disks
    b.up = {}
    yield b
    b.close()


def require_up(b: lp.Boot, *names: str) -> None:
    """The interfaces of NAMES up (once per boot)."""
    switches = {"vnet-d": "lan1"}
    for name in names:
        if name not in b.up:
            b.up[name] = net_up(b, name, switches.get(name, "lan0"))
    problems = [x for n in names for x in b.up[n]]
    b.m.check(not problems, "; ".join(problems))


def test_qemu_link(vnet):
    """Each partition finds its virtio-net function with Debian's
    virtio_net, named eth0, with the MAC address derived from its name and
    its switch's, and carrier."""
    vnet.require()
    require_up(vnet, "vnet-a", "vnet-b", "vnet-c", "vnet-d")


def test_qemu_ping(vnet):
    """Partitions on one switch ping each other, one of them with its
    devices on INTx (vnet-b, pci=nomsi)."""
    vnet.require()
    require_up(vnet, "vnet-a", "vnet-b")
    problems = []
    for src, dst in (("vnet-a", "vnet-b"), ("vnet-b", "vnet-a")):
        got = ping(vnet, src, IPS[dst])
        if got != 3:
            problems.append(f"{src} -> {dst}: {got} of 3 replies")
    vnet.m.check(not problems, "; ".join(problems))


def test_qemu_other_switch_unreachable(vnet):
    """vnet-d, on another switch, reaches nobody, and nobody reaches it."""
    vnet.require()
    require_up(vnet, "vnet-a", "vnet-d")
    problems = []
    for src, dst in (("vnet-d", "vnet-a"), ("vnet-a", "vnet-d")):
        got = ping(vnet, src, IPS[dst], 2)
        if got:
            problems.append(f"{src} -> {dst}: {got} replies across switches")
    vnet.m.check(not problems, "; ".join(problems))


def test_qemu_transfer_64mib(vnet):
    """64 MiB of random data from vnet-a to vnet-b over TCP arrive with the
    checksum they left with."""
    vnet.require()
    require_up(vnet, "vnet-a", "vnet-b")
    sent, got, seconds = transfer(vnet, "vnet-a", "vnet-b", TRANSFER_MIB, TRANSFER_TIMEOUT)
    print(f"64 MiB in {seconds:.1f} s: {TRANSFER_MIB / seconds:.1f} MiB/s")
    vnet.m.check(sent and got == sent, f"sent md5 {sent!r}, received {got!r}")


def disk_sum(b: lp.Boot, name: str) -> str:
    """The md5 of NAME's whole /dev/vda, read past the page cache."""
    b.shells.run(name, "sync; echo 3 > /proc/sys/vm/drop_caches")
    return b.shells.value(name, "md5sum < /dev/vda | cut -d' ' -f1", 120)


def sector(b: lp.Boot, name: str, n: int) -> str:
    b.shells.run(name, "sync; echo 3 > /proc/sys/vm/drop_caches")
    return b.shells.value(name, f"dd if=/dev/vda bs={SECTOR} skip={n} count=1 2>/dev/null "
                                "| head -c 32")


def test_qemu_disk_read_only(vnet):
    """vnet-b's disk, `ro`, reads as the module holds it and refuses
    writes (the kernel sees it read-only; the device would fail them too);
    the disk's ID is the module's name."""
    vnet.require()
    sh, name = vnet.shells, "vnet-b"
    image = vnet.disks["disk-ro.img"].read_bytes()
    problems = []
    if sh.value(name, "cat /sys/block/vda/ro") != "1":
        problems.append("/sys/block/vda/ro is not 1")
    if sh.value(name, "cat /sys/block/vda/serial") != "disk-ro.img":
        problems.append("the disk's serial is not its module's name")
    size = int(sh.value(name, "cat /sys/block/vda/size"))
    if size != DISK_SECTORS:
        problems.append(f"{size} sectors, expected {DISK_SECTORS}")
    out = " ".join(sh.run(name, "dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync 2>&1; "
                                "echo status=$?"))
    if "status=0" in out:
        problems.append(f"a write to the ro disk succeeded: {out!r}")
    if disk_sum(vnet, name) != md5(image):
        problems.append("the ro disk's contents are not the module's")
    vnet.m.check(not problems, "; ".join(problems))


def test_qemu_disk_write_reboot_read_back(vnet):
    """vnet-a reads its disk as the module holds it, writes a sector,
    reboots (the partition restarts: RAM zeroed, image reloaded) and reads
    back what it wrote: the disk lives in the hypervisor, across restarts."""
    vnet.require()
    m, sh, name = vnet.m, vnet.shells, "vnet-a"
    image = bytearray(vnet.disks["disk-a.img"].read_bytes())
    m.check(sector(vnet, name, 0) == image[:32].decode(),
            f"sector 0 reads {sector(vnet, name, 0)!r}")
    m.check(disk_sum(vnet, name) == md5(image), "the disk's contents are not the module's")
    text = "TESSERA-WRITTEN sector seven"
    sh.run(name, f"printf '{text}' | dd of=/dev/vda bs={SECTOR} seek=7 conv=sync,notrunc "
                 "2>/dev/null; sync")
    image[7 * SECTOR:8 * SECTOR] = text.encode().ljust(SECTOR, b"\0")
    m.check(sector(vnet, name, 7).startswith(text), "the sector written does not read back")

    start = g.line_start(m)
    sh.focus(name)
    sh.type("reboot\n")
    g.wait_from(m, start, g.part_restarting(name), 60, fail_on=lp.no_stop("vnet-b"))
    g.wait_from(m, start, g.check_done(name), BOOT_TIMEOUT, fail_on=lp.no_stop("vnet-b"))
    vnet.up.pop(name, None)
    sh.ready(name)
    stats = m.find_all(rf"^hv: partition {name}: disk disk-a\.img: (?P<r>\d+) reads .*, "
                       r"(?P<w>\d+) writes .*$", start)
    m.check(stats and int(stats[-1]["w"]) >= 1, "no disk statistics with a write at the stop")
    got = sector(vnet, name, 7)
    m.check(got.startswith(text), f"after the reboot sector 7 reads {got!r}")
    m.check(disk_sum(vnet, name) == md5(bytes(image)),
            "after the reboot the disk is not what was written")


def test_qemu_reader_that_stops(vnet):
    """vnet-c stops reading (its interface down: its receive buffers run
    out) while vnet-a sends to it and to vnet-b; vnet-b's heartbeat goes on
    without a gap, 16 MiB still reach vnet-b intact, and vnet-c's
    statistics count the frames it lost when it stops."""
    vnet.require()
    require_up(vnet, "vnet-a", "vnet-b", "vnet-c")
    m, sh = vnet.m, vnet.shells
    sh.run("vnet-c", "ip link set eth0 down")
    # a static ARP entry (busybox's ip neigh cannot add one): the pings go
    # to vnet-c's port as unicast frames although vnet-c no longer answers
    sh.run("vnet-a", f"arp -i eth0 -s {IPS['vnet-c']} {mac('vnet-c', 'lan0')}")
    lp.start_heartbeat(vnet, "vnet-b")
    start = g.line_start(m)
    sh.run("vnet-a", f"(ping -q -s 1400 -i 0.002 -c 3000 {IPS['vnet-c']} >/dev/null 2>&1 &) ; "
                     "true")
    sent, got, seconds = transfer(vnet, "vnet-a", "vnet-b", 16, TRANSFER_TIMEOUT)
    m.check(sent and got == sent, f"with vnet-c not reading: sent {sent!r}, received {got!r}")
    lp.beats_unbroken(vnet, "vnet-b", start)
    stop = g.line_start(m)
    sh.focus("vnet-c")
    sh.type("poweroff\n")
    g.wait_from(m, stop, g.part_stopped("vnet-c"), 60, fail_on=lp.no_stop("vnet-a", "vnet-b"))
    lost = g.wait_from(m, stop, r"^hv: partition vnet-c: net lan0 \(.*\): sent .* lost "
                                r"(?P<n>\d+) \(no receive buffer\).*$", 10)
    m.check(int(lost["n"]) > 0, "vnet-c lost no frame while not reading")


# -- Bochs: VT-x with EPT ---------------------------------------------------------

BOCHS_MODEL = "corei7_skylake_x"
BOCHS_MEMORY_MIB = 1024
BOCHS_TIMEOUT = 2400

BOCHS_CONF = """\
# tests/linux/test_linux_virtio.py, under Bochs: nothing is typed, the
# guests run /bin/vnet-check (autorun=) with these settings
[partition vb-a]
cpus    = 0
memory  = 448M
kernel  = vmlinux
initrd  = initrd-test
cmdline = console=ttyS0 autorun=vnet-check vnet_ip=10.0.0.1 vnet_peer=10.0.0.2 vnet_role=send vnet_disk=rw
net     = lan0
disk    = disk-a.img

[partition vb-b]
cpus    = 1
memory  = 448M
kernel  = vmlinux
initrd  = initrd-test
cmdline = console=ttyS0 autorun=vnet-check vnet_ip=10.0.0.2 vnet_peer=10.0.0.1 vnet_role=recv vnet_disk=ro
net     = lan0
disk    = disk-ro.img ro
"""


def vnet_lines(m, name: str) -> dict[str, str]:
    """What NAME's vnet-check printed: {"link": "MAC CARRIER", ...}."""
    return {x["key"]: x["value"] for x in m.find_all(
        rf"^\[{re.escape(name)}\] VNET (?P<key>[a-z-]+) ?(?P<value>.*)$")}


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_vmx_net_and_disk(linux_vmlinux, partition_times):
    """Under Bochs corei7_skylake_x (VT-x with EPT), two Linux partitions
    (vmlinux through its PVH entry) on one switch: each finds its
    virtio-net function with its MAC and carrier, they ping, 64 MiB of
    random data cross with the checksum they left with; vb-a reads its
    disk as the module holds it and writes a sector that reads back;
    vb-b's read-only disk refuses a write. Nothing is typed: the guests
    run /bin/vnet-check from the kernel command line (autorun=)."""
    t0 = time.monotonic()
    times: dict = {}
    workdir = lp.fresh_dir("virtio-bochs-vmx")
    conf = workdir / "hv.conf"
    conf.write_text(BOCHS_CONF)
    disks = {"disk-a.img": disk_image(workdir / "disk-a.img", "DISK-A"),
             "disk-ro.img": disk_image(workdir / "disk-ro.img", "DISK-RO")}
    files = [f"{path}:{name}" for path, name in lp.demo_modules(conf)]
    files += [f"{path}:{name}" for name, path in disks.items()]
    iso = workdir / "virtio.iso"
    proc = subprocess.run([str(ROOT / "tools" / "mkiso.sh"), "-o", str(iso), "-k",
                           str(hv_elf()), "-t", "0", "-d", "0"] + files, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"tools/mkiso.sh failed:\n{proc.stdout}{proc.stderr}")
    m = g.GuestMachine.adopt(bochs("virtio-bochs-vmx", workdir, model=BOCHS_MODEL, cpus=2,
                                   memory_mib=BOCHS_MEMORY_MIB, cdrom=iso, ips=lp.BOCHS_IPS))
    names = ("vb-a", "vb-b")
    try:
        m.start()
        banner = m.wait_for(BANNER, 300, mark="banner")
        m.check(banner["vendor"] == "VT-x with EPT",
                f"the banner says {banner['vendor']!r}, expected 'VT-x with EPT'")
        m.wait_for(CONFIG_ACCEPTED, 60, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
        for name in names:
            m.wait_for(rf"^\[{name}\] VNET DONE$", BOCHS_TIMEOUT, anywhere=True,
                       fail_on=lp.no_stop(*names), mark=f"{name} done")
        a, b = vnet_lines(m, "vb-a"), vnet_lines(m, "vb-b")
        problems = []
        for name, got in (("vb-a", a), ("vb-b", b)):
            if got.get("link") != f"{mac(name, 'lan0')} 1":
                problems.append(f"{name}: link {got.get('link')!r}, expected "
                                f"'{mac(name, 'lan0')} 1'")
            if got.get("ping") != "3":
                problems.append(f"{name}: ping {got.get('ping')!r} of 3")
        if not a.get("sent") or a.get("sent") != b.get("received"):
            problems.append(f"sent {a.get('sent')!r}, received {b.get('received')!r}")
        if a.get("disk") != md5(disks["disk-a.img"].read_bytes()):
            problems.append("vb-a's disk does not read as the module holds it")
        if a.get("disk-write") != "ok":
            problems.append(f"vb-a: disk-write {a.get('disk-write')!r}")
        if b.get("disk") != md5(disks["disk-ro.img"].read_bytes()):
            problems.append("vb-b's disk does not read as the module holds it")
        if b.get("disk-ro") != "refused":
            problems.append(f"vb-b: disk-ro {b.get('disk-ro')!r}")
        m.check(not problems, "; ".join(problems))
    finally:
        times.update(m.marks)
        times["total"] = time.monotonic() - t0
        partition_times("test_bochs_vmx_net_and_disk", times)
        m.kill()
