#!/usr/bin/python3
"""The seed corpora of the fuzz targets, tests/fuzz/corpus/NAME/, made again.

    /usr/bin/python3 tests/fuzz/seeds.py insn [ELF...]   objdump's memory
        instructions of the ELF files (default: build/hv.elf and the test
        guests, build/guests/*.elf), one per encoding shape, in 16-, 32- and
        64-bit mode, with a register state each
    /usr/bin/python3 tests/fuzz/seeds.py gpt             a valid walk in each
        paging mode and page size, and some that fault
    /usr/bin/python3 tests/fuzz/seeds.py loader [GUEST]  small synthetic
        images of each format, a truncated bzImage header, and a test guest
        (default: build/guests/marker.elf, stripped)

Each writes the files the layout of its target (tests/fuzz/fuzz_NAME.c)
expects; the corpora are small and checked in, so this is run by hand when
a layout changes.
"""

import collections
import glob
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def out_dir(name):
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    return d


def write(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def q(v):
    return struct.pack('<Q', v & (2**64 - 1))


# ---- insn: ctl, 15 bytes, match byte, GPA, RFLAGS, 16 GPRs, 2 values,
# 2 translations, a failure byte (tests/fuzz/fuzz_insn.c) ----

MEM_OP = re.compile(r'^(rep[a-z]* |lock )?(mov|add|or|adc|sbb|and|sub|xor|cmp|test|xchg|bt'
                    r'|stos|lods)')


def objdump_insns(path):
    out = subprocess.run(['objdump', '-d', '-w', path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        m = re.match(r'^\s*[0-9a-f]+:\t([0-9a-f ]+?)\s*\t(.*)$', line)
        if m:
            yield bytes.fromhex(m.group(1).replace(' ', '')), m.group(2)


def shape(b):
    """Which prefixes, the opcode, RIP-relative or SIB: one seed for each."""
    i = 0
    while i < len(b) and (b[i] in b'\xf0\xf2\xf3\x26\x2e\x36\x3e\x64\x65\x66\x67'
                          or 0x40 <= b[i] <= 0x4f):
        i += 1
    op = b[i:i + 2] if b[i:i + 1] == b'\x0f' else b[i:i + 1]
    rest = b[i + len(op):]
    legacy = bytes(sorted(set(c for c in b[:i] if not 0x40 <= c <= 0x4f)))
    rex_w = any(0x48 <= c <= 0x4f for c in b[:i])
    mod = rest[0] >> 6 if rest else 0
    rm = rest[0] & 7 if rest else 0
    return legacy, rex_w, op, mod == 0 and rm == 5, rm == 4


def insn_seed(rnd, mode, insn):
    gpr = [rnd.choice([0, 1, 0x1000, 0xfee00000, 2**64 - 1, rnd.getrandbits(64)])
           for _ in range(16)]
    rflags = 0x2 | (0x400 if rnd.random() < 0.25 else 0) | rnd.choice([0, 1, 0x8d5])
    return (bytes([mode]) + insn.ljust(15, b'\0')[:15] + bytes([rnd.randrange(8)])
            + q(0xfec00000 + rnd.randrange(64)) + q(rflags) + b''.join(q(v) for v in gpr)
            + q(rnd.getrandbits(64)) + q(rnd.getrandbits(64)) + q(0x2000) + q(0xfee00010)
            + b'\0')


def seeds_insn(paths):
    if not paths:
        paths = ['build/hv.elf'] + sorted(glob.glob('build/guests/*.elf'))
    rnd = random.Random(11)
    picked = collections.OrderedDict()
    for path in paths:
        mode = 2 if 'hv.elf' in path else 1
        for b, text in objdump_insns(path):
            if MEM_OP.match(text) and ('(' in text or text.startswith(('rep', 'stos', 'lods',
                                                                        'movs'))):
                picked.setdefault((mode, shape(b)), b)
    d = out_dir('insn')
    # by hand: what compilers rarely emit (mode, bytes, insn_match's opcode)
    for mode, hexbytes, sel in [
            (2, '643ea5', 0),          # movs %fs:(%rsi),%es:(%rdi): DS a null prefix
            (0, 'f3a4', 0),            # rep movsb, 16-bit
            (1, '67f3ab', 0),          # rep stos with 16-bit addresses
            (2, 'f348ad', 0),          # rep lods %ds:(%rsi),%rax
            (2, '48a1f0debc9a78563412', 0),  # movabs 0x123456789abcdef0,%rax
            (0, 'a30010', 0),          # mov %ax,0x1000 in 16-bit code
            (2, 'f00fab08', 0),        # lock bts %ecx,(%rax)
            (2, '4486a0ff0f0000', 0),  # xchg %r12b,0xfff(%rax)
            (1, '8625ff0fe0fe', 0),    # xchg %ah,0xfee00fff
            (2, '48660f32', 6),        # rdmsr with a REX before 66: ignored
            (2, '40480fa2', 0),        # cpuid with two REX prefixes
            (0, '2e660f01d9', 2)]:     # vmmcall, prefixed
        write(d, 'hand-m%d-%s' % (16 << mode, hexbytes), insn_seed(rnd, mode, bytes.fromhex(
            hexbytes))[:16] + bytes([sel]) + insn_seed(rnd, mode, b'')[17:])
    for (mode, _), b in picked.items():
        write(d, 'm%d-%s' % (16 << mode, b.hex()), insn_seed(rnd, mode, b))
        if mode == 1 and b[0] not in (0x66, 0x67):
            # the same bytes as 16-bit code: other sizes, 16-bit addressing
            write(d, 'm16-%s' % b.hex(), insn_seed(rnd, 0, b))
    print('insn: %d seeds from %s' % (len(os.listdir(d)), ' '.join(paths)))


# ---- gpt: ctl, CR0 CR3 CR4 EFER RFLAGS, MAXPHYADDR, GLA, access, fold,
# entries by level 1..5, PDPTE registers, fetch length, RAM bytes
# (tests/fuzz/fuzz_gpt.c) ----

CR0_PE, CR0_WP, CR0_PG = 1, 1 << 16, 1 << 31
CR4_PSE, CR4_PAE, CR4_LA57, CR4_SMEP, CR4_SMAP = 1 << 4, 1 << 5, 1 << 12, 1 << 20, 1 << 21
EFER_LME, EFER_LMA, EFER_NXE = 1 << 8, 1 << 10, 1 << 11
P, RW, US, PS, XD = 1, 2, 4, 0x80, 1 << 63
ACC_W, ACC_U, ACC_X = 1, 4, 2  # the target's access byte: bits 1:0 kind, bit 2 user


def gpt_seed(cr0, cr4, efer, gla, entries, access=0, maxphy=0, ctl=0, pdpte=(0, 0, 0, 0),
             fetch=0, rflags=2, cr3=0x1000):
    ent = list(entries) + [0] * (5 - len(entries))
    return (bytes([ctl]) + q(cr0) + q(cr3) + q(cr4) + q(efer) + q(rflags) + bytes([maxphy])
            + q(gla) + bytes([access, 0x1f]) + b''.join(q(e) for e in ent)
            + b''.join(q(e) for e in pdpte) + bytes([fetch]))


def seeds_gpt(_):
    d = out_dir('gpt')
    pg = CR0_PG | CR0_PE | CR0_WP
    lm = EFER_LME | EFER_LMA | EFER_NXE
    t = P | RW | US
    s = {
        'off': gpt_seed(CR0_PE, 0, 0, 0x12345678, []),
        '32-4k': gpt_seed(pg, 0, 0, 0x00401234, [0x5000 | t, 0x2000 | t]),
        '32-4k-user-write': gpt_seed(pg, 0, 0, 0x00401ffc, [0x5000 | P | US, 0x2000 | t],
                                     access=ACC_U | ACC_W, fetch=14),
        '32-4m-pse': gpt_seed(pg, CR4_PSE, 0, 0x00c01234, [0, 0x00c00000 | t | PS]),
        '32-4m-pse36': gpt_seed(pg, CR4_PSE, 0, 0x00c01234, [0, 0x00c0e000 | t | PS],
                                maxphy=40),
        'pae-4k': gpt_seed(pg, CR4_PAE, EFER_NXE, 0x40201234,
                           [0x5000 | t, 0x3000 | t, 0x2000 | P], cr3=0x1020),
        'pae-2m-xd-fetch': gpt_seed(pg, CR4_PAE, EFER_NXE, 0x40201234,
                                    [0, 0x200000 | t | PS | XD, 0x2000 | P], access=ACC_X),
        'pae-pdpte-regs': gpt_seed(pg, CR4_PAE, 0, 0xc0001234, [0x5000 | t, 0x3000 | t],
                                   ctl=2, pdpte=(0, 0, 0, 0x2000 | P)),
        'pae-rsvd': gpt_seed(pg, CR4_PAE, 0, 0x1234, [0x5000 | t, 0x3000 | t | XD, 0x2000 | P]),
        '4l-4k': gpt_seed(pg, CR4_PAE, lm, 0x7f0000401234,
                          [0x6000 | t, 0x5000 | t, 0x4000 | t, 0x2000 | t]),
        '4l-2m-smap': gpt_seed(pg, CR4_PAE | CR4_SMAP, lm, 0x7f0000401234,
                               [0, 0x400000 | t | PS, 0x4000 | t, 0x2000 | t]),
        '4l-1g-smep-fetch': gpt_seed(pg, CR4_PAE | CR4_SMEP, lm, 0x40001234,
                                     [0, 0, 0x40000000 | t | PS, 0x2000 | t], access=ACC_X,
                                     fetch=15),
        '4l-noncanonical': gpt_seed(pg, CR4_PAE, lm, 0x0000800000001234, []),
        '4l-pml4-ps': gpt_seed(pg, CR4_PAE, lm, 0x1234, [0, 0, 0, 0x2000 | t | PS]),
        '4l-maxphy36': gpt_seed(pg, CR4_PAE, lm, 0x1234,
                                [0x6000 | t, 0x5000 | t, 0x4000 | t | (1 << 40), 0x2000 | t],
                                maxphy=36),
        '5l-4k': gpt_seed(pg, CR4_PAE | CR4_LA57, lm, 0x00ff000000401234,
                          [0x7000 | t, 0x6000 | t, 0x5000 | t, 0x4000 | t, 0x2000 | t],
                          fetch=5),
        '5l-noncanonical': gpt_seed(pg, CR4_PAE | CR4_LA57, lm, 0x0100000000000000, []),
        'raw-lma-no-pae': gpt_seed(pg, 0, lm, 0xffff800000001234, [0x5000 | t, 0x2000 | t],
                                   ctl=1),
        'raw-cr3-high': gpt_seed(pg, CR4_PAE, lm, 0x1234, [], ctl=5, cr3=0xfffffffff000),
    }
    for name, data in s.items():
        write(d, name, data)
    print('gpt: %d seeds' % len(s))


# ---- loader: an 8-byte header (RAM layout, command line, initrd), then
# the image (tests/fuzz/fuzz_loader.c) ----

def loader_hdr(low_2m=4, high_2m=0, cmdline=8, initrd_pages=0, flags=0):
    return bytes([low_2m, high_2m, cmdline & 0xff, cmdline >> 8, initrd_pages, flags, 0, 0])


def elf32(entry, segs):
    """An ELF32 i386 executable: segs = [(paddr, data, memsz)]."""
    phoff, n = 52, len(segs)
    off = phoff + 32 * n
    ph, body = b'', b''
    for paddr, data, memsz in segs:
        ph += struct.pack('<8I', 1, off + len(body), paddr, paddr, len(data), memsz, 7, 4)
        body += data
    eh = (b'\x7fELF\x01\x01\x01' + b'\0' * 9
          + struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, entry, phoff, 0, 0, 52, 32, n, 0, 0, 0))
    return eh + ph + body


def mb1_header(flags, addrs=()):
    magic = 0x1badb002
    return (struct.pack('<3I', magic, flags, (-(magic + flags)) & 0xffffffff) + b''.join(
        struct.pack('<I', a) for a in addrs)).ljust(32, b'\0')


def elf64_pvh(entry, segs, note_desc_size=4):
    """An ELF64 x86-64 executable with a PT_NOTE holding XEN_ELFNOTE_PHYS32_ENTRY."""
    note = struct.pack('<3I', 4, note_desc_size, 18) + b'Xen\0' + struct.pack(
        '<Q' if note_desc_size == 8 else '<I', entry)
    phoff, n = 64, len(segs) + 1
    off = phoff + 56 * n
    ph = struct.pack('<IIQQQQQQ', 4, 4, off, 0, 0, len(note), len(note), 4)
    body = note
    for paddr, data, memsz in segs:
        ph += struct.pack('<IIQQQQQQ', 1, 7, off + len(body), paddr, paddr, len(data), memsz,
                          0x1000)
        body += data
    eh = (b'\x7fELF\x02\x01\x01' + b'\0' * 9
          + struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, phoff, 0, 0, 64, 56, n, 0, 0, 0))
    return eh + ph + body


def bzimage(kernel, setup_sects=1, version=0x020f, xlf=1, pref=0x200000, init_size=0x100000,
            hdr_len=0x6a):
    """A bzImage: boot sector and setup header, setup_sects sectors, then kernel."""
    setup = bytearray(512 * (setup_sects + 1))
    h = struct.pack('<BHIHHHHHI', setup_sects, 0, (len(kernel) + 15) // 16, 0, 0xffff, 0,
                    0xaa55, 0xeb | (hdr_len << 8), 0x53726448)
    setup[0x1f1:0x1f1 + len(h)] = h
    struct.pack_into('<H', setup, 0x206, version)
    setup[0x211] = 1  # loadflags: LOADED_HIGH
    struct.pack_into('<I', setup, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into('<IBBH', setup, 0x230, 0x200000, 1, 21, xlf)
    struct.pack_into('<I', setup, 0x238, 2047)  # cmdline_size
    struct.pack_into('<II', setup, 0x248, 0, len(kernel))  # payload
    struct.pack_into('<QI', setup, 0x258, pref, init_size)
    return bytes(setup) + kernel


def seeds_loader(args):
    guest = args[0] if args else 'build/guests/marker.elf'
    d = out_dir('loader')
    code = b'\xfa\xf4' * 8
    s = {
        'mb1-elf': loader_hdr() + elf32(0x100010, [(0x100000, mb1_header(3) + code, 0x3000)]),
        'mb1-aout': loader_hdr(initrd_pages=2) + mb1_header(
            0x10003, (0x100000, 0x100000, 0, 0x104000, 0x100020)) + code,
        'mb1-two-segs': loader_hdr(high_2m=1) + elf32(
            0x100010, [(0x100000, mb1_header(2) + code, 0x1000),
                       (0x200000, code, 0x20)]),
        'pvh': loader_hdr(initrd_pages=1) + elf64_pvh(0x100000, [(0x100000, code, 0x2000)]),
        'pvh-8-byte-note': loader_hdr(cmdline=300) + elf64_pvh(0x100004, [
            (0x100000, code, 0x10), (0x300000, code, 0x10)], note_desc_size=8),
        'bzimage-64': loader_hdr(low_2m=2, initrd_pages=3) + bzimage(code * 40),
        'bzimage-32': loader_hdr(flags=1) + bzimage(code, xlf=0, version=0x020c),
        'bzimage-truncated-header': loader_hdr() + bzimage(code)[:0x240],
        # was entered past its kernel (a 64-bit entry needs 0x200 bytes before it)
        'bzimage-64-entry-past-kernel': loader_hdr() + bzimage(code * 4),
        'none': loader_hdr() + b'\0' * 64,
        # layouts the loaders must refuse: RAM only to 1 MiB, no RAM, not at 0,
        # on the ECAM window
        'pvh-ram-1m': loader_hdr(low_2m=0x40) + elf64_pvh(0x100000, [(0x100000, code, 0x10)]),
        'bzimage-no-ram': loader_hdr(low_2m=0x80) + bzimage(code * 40),
        'mb1-ram-not-at-0': loader_hdr(low_2m=0xc0) + elf32(
            0x100010, [(0x100000, mb1_header(3) + code, 0x100)]),
        'pvh-ram-on-ecam': loader_hdr(high_2m=0x81) + elf64_pvh(
            0x100000, [(0x100000, code, 0x10)]),
    }
    for name, data in s.items():
        write(d, name, data)
    if os.path.exists(guest):
        with tempfile.TemporaryDirectory() as tmp:
            stripped = os.path.join(tmp, 'guest.elf')
            subprocess.run(['strip', '-s', '-o', stripped, guest], check=True)
            with open(stripped, 'rb') as f:
                write(d, 'guest-' + os.path.basename(guest), loader_hdr() + f.read())
    print('loader: %d seeds' % len(os.listdir(d)))


if __name__ == '__main__':
    targets = {'insn': seeds_insn, 'gpt': seeds_gpt, 'loader': seeds_loader}
    if len(sys.argv) < 2 or sys.argv[1] not in targets:
        sys.exit(__doc__)
    targets[sys.argv[1]](sys.argv[2:])
