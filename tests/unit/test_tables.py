"""The dispatch tables in the built image have no empty slot (STYLE.md: "a
unit test asserts no slot is NULL"), and no function slot of the vendor
contract is dead.

Reads build/hv.elf (make test builds it before the tests run): the vendor ops
tables `vmx_ops` and `svm_ops` (struct vcpu_ops, the contract in
hv/vcpu/vcpu_ops.h; hv/virt.c picks one) and the exit dispatch table
`exit_handlers` (one handler per enum vm_exit_reason, hv/vcpu/vm_exit.h). The
image is a statically linked ET_EXEC, so the bytes in the file are the final
addresses. Slot names come from the C headers, so a failure names the empty
member or exit reason.

Every function slot of struct vcpu_ops is also called through `vcpu_ops->`
somewhere in the core (hv/ outside the backends hv/vmx/, hv/svm/, hv/ept/):
a slot nothing calls is removed from the contract and both backends.

Only the standard library: the ELF64 section headers and .symtab are parsed
with struct. Set HV_TREE to check another tree (its build/hv.elf and headers).
"""
import os
import pathlib
import re
import struct

import pytest

ROOT = pathlib.Path(os.environ.get("HV_TREE") or pathlib.Path(__file__).resolve().parents[2])
HV_ELF = ROOT / "build" / "hv.elf"
SLOT = 8  # every table entry is one 64-bit pointer

# ELF64 (System V gABI; x86-64 psABI)
ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
ET_EXEC = 2
EM_X86_64 = 62
SHT_SYMTAB = 2
SHT_RELA = 4
SHT_NOBITS = 8
SHT_REL = 9
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
STT_OBJECT = 1
STT_FUNC = 2

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
RELA = struct.Struct("<QQq")
REL = struct.Struct("<QQ")


class Section:
    def __init__(self, raw, fields):
        (self.name_off, self.type, self.flags, self.addr, self.offset, self.size,
         self.link, self.info, self.align, self.entsize) = fields
        self.name = ""
        self._raw = raw

    def contains(self, addr, size=1):
        return self.addr <= addr and addr + size <= self.addr + self.size

    def data(self):
        return self._raw[self.offset:self.offset + self.size]


class Elf:
    """The parts of an ELF64 executable these tests need."""

    def __init__(self, path):
        raw = path.read_bytes()
        self.raw = raw
        (ident, self.type, self.machine, _, _, _, shoff, _, _, _, _, shentsize,
         shnum, shstrndx) = EHDR.unpack_from(raw, 0)
        assert ident[:4] == ELF_MAGIC, f"{path} is not an ELF file"
        assert ident[4] == ELFCLASS64 and ident[5] == ELFDATA2LSB, \
            f"{path} is not a little-endian ELF64 file"
        assert self.machine == EM_X86_64, f"{path} is not an x86-64 ELF file"
        assert shentsize == SHDR.size and shnum, f"{path} has no usable section headers"
        self.sections = [Section(raw, SHDR.unpack_from(raw, shoff + i * shentsize))
                         for i in range(shnum)]
        names = self.sections[shstrndx].data()
        for s in self.sections:
            s.name = _cstr(names, s.name_off)
        self.symbols = {}
        self.funcs = {}
        for symtab in (s for s in self.sections if s.type == SHT_SYMTAB):
            strtab = self.sections[symtab.link].data()
            data = symtab.data()
            for off in range(0, len(data) - SYM.size + 1, SYM.size):
                name_off, info, _, shndx, value, size = SYM.unpack_from(data, off)
                name = _cstr(strtab, name_off)
                kind = info & 0xF
                if kind == STT_FUNC:
                    self.funcs.setdefault(value, name)
                if name and kind in (STT_OBJECT, STT_FUNC):
                    self.symbols[name] = (value, size, shndx, kind)
        assert self.symbols, f"{path} has no symbol table (stripped?)"

    def section(self, name):
        for s in self.sections:
            if s.name == name:
                return s
        pytest.fail(f"{HV_ELF} has no {name} section")

    def image_section(self, addr, size=1):
        """The allocated section holding [addr, addr + size), or None."""
        for s in self.sections:
            if s.flags & SHF_ALLOC and s.size and s.contains(addr, size):
                return s
        return None

    def dynamic_relocs_into(self, addr, size):
        """Run-time relocations that would change [addr, addr + size)."""
        hits = []
        for s in self.sections:
            if s.type not in (SHT_RELA, SHT_REL) or not s.flags & SHF_ALLOC:
                continue  # .rela.X from --emit-relocs: already applied
            ent = RELA if s.type == SHT_RELA else REL
            data = s.data()
            for off in range(0, len(data) - ent.size + 1, ent.size):
                r_offset = ent.unpack_from(data, off)[0]
                if addr <= r_offset < addr + size:
                    hits.append((s.name, r_offset))
        return hits

    def object_bytes(self, name):
        """The initialised bytes of a global object, as the image holds them."""
        if name not in self.symbols:
            pytest.fail(f"{HV_ELF} has no symbol {name}")
        value, size, shndx, kind = self.symbols[name]
        assert kind == STT_OBJECT, f"{name} is not a data object"
        assert 0 < shndx < len(self.sections), f"{name} is not in a section"
        sec = self.sections[shndx]
        assert sec.type != SHT_NOBITS, \
            f"{name} is in {sec.name} (zero-filled): the table is not initialised"
        assert sec.contains(value, size), f"{name} lies outside its section {sec.name}"
        assert self.type == ET_EXEC, f"{HV_ELF} is not a static executable"
        relocs = self.dynamic_relocs_into(value, size)
        assert not relocs, \
            f"{name} is patched at run time ({relocs[:3]}): its file bytes are not final"
        start = sec.offset + value - sec.addr
        return self.raw[start:start + size]

    def cstring_at(self, addr):
        sec = self.image_section(addr)
        if sec is None or sec.type == SHT_NOBITS:
            return None
        data = sec.data()[addr - sec.addr:]
        end = data.find(b"\0")
        return None if end < 0 else data[:end].decode("utf-8", "replace")


def _cstr(table, off):
    end = table.find(b"\0", off)
    return table[off:end if end >= 0 else len(table)].decode("utf-8", "replace")


def _strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _header(rel):
    path = ROOT / rel
    assert path.exists(), f"{path} is missing"
    return _strip_c_comments(path.read_text())


def struct_members(header, struct_name):
    """[(member, is_function)] of a struct whose members are all pointers, in
    declaration order; fails on a member that is not one pointer-sized slot."""
    text = _header(header)
    m = re.search(r"\bstruct\s+%s\s*\{(.*?)\}\s*;" % struct_name, text, re.S)
    assert m, f"struct {struct_name} not found in {header}"
    members = []
    for decl in (d.strip() for d in m.group(1).split(";")):
        if not decl:
            continue
        fn = re.fullmatch(r"[\w\s\*]+\(\s*\*\s*(\w+)\s*\)\s*\(.*\)", decl, re.S)
        if fn:
            members.append((fn.group(1), True))
            continue
        head = re.match(r"([\w\s]+?)\s*(\*.*)$", decl, re.S)
        assert head, f"{header}: struct {struct_name} member '{decl}' is not a pointer slot"
        for d in head.group(2).split(","):
            ptr = re.fullmatch(r"\s*\*\s*(?:const\s+)?(\w+)\s*", d)
            assert ptr, f"{header}: struct {struct_name} member '{decl}' is not a pointer slot"
            members.append((ptr.group(1), False))
    assert members, f"struct {struct_name} in {header} has no members"
    return members


def enum_values(header, enum_name):
    """{name: value} of a C enum whose values are plain integers."""
    text = _header(header)
    m = re.search(r"\benum\s+%s\s*\{(.*?)\}" % enum_name, text, re.S)
    assert m, f"enum {enum_name} not found in {header}"
    values, nxt = {}, 0
    for item in (i.strip() for i in m.group(1).split(",")):
        if not item:
            continue
        em = re.fullmatch(r"(\w+)\s*(?:=\s*(\w+))?", item)
        assert em, f"{header}: cannot read enum {enum_name} item '{item}'"
        if em.group(2) is not None:
            nxt = int(em.group(2), 0)
        values[em.group(1)] = nxt
        nxt += 1
    return values


@pytest.fixture(scope="module")
def elf():
    if not HV_ELF.exists():
        pytest.fail(f"{HV_ELF} is missing: build it first (make, or make test)")
    return Elf(HV_ELF)


def _slots(data):
    assert len(data) % SLOT == 0
    return [struct.unpack_from("<Q", data, i)[0] for i in range(0, len(data), SLOT)]


@pytest.mark.parametrize("table", ["vmx_ops", "svm_ops"])
def test_vcpu_ops_no_empty_slot(elf, table):
    members = struct_members("hv/vcpu/vcpu_ops.h", "vcpu_ops")
    data = elf.object_bytes(table)
    assert len(data) == len(members) * SLOT, (
        f"{table} is {len(data)} bytes but struct vcpu_ops in hv/vcpu/vcpu_ops.h has "
        f"{len(members)} pointer members ({len(members) * SLOT} bytes): the "
        f"image or the header parse is out of date")
    text = elf.section(".text")
    problems = []
    for (member, is_fn), ptr in zip(members, _slots(data)):
        where = f"{table}.{member}"
        if ptr == 0:
            problems.append(f"{where} is NULL (empty slot)")
        elif is_fn:
            if not text.contains(ptr):
                problems.append(f"{where} = {ptr:#x} is not in .text")
            elif ptr not in elf.funcs:
                problems.append(f"{where} = {ptr:#x} is not the start of a function")
        elif elf.image_section(ptr) is None:
            problems.append(f"{where} = {ptr:#x} points outside the image")
        elif member == "name" and not elf.cstring_at(ptr):
            problems.append(f"{where} = {ptr:#x} is not a non-empty string")
    assert not problems, f"{table} (struct vcpu_ops, hv/vcpu/vcpu_ops.h):\n  " + \
        "\n  ".join(problems)


BACKEND_DIRS = ("hv/vmx/", "hv/svm/", "hv/ept/")


def test_vcpu_ops_every_slot_called():
    members = [m for m, is_fn in struct_members("hv/vcpu/vcpu_ops.h", "vcpu_ops") if is_fn]
    core = [p for p in sorted((ROOT / "hv").rglob("*.c"))
            if not p.relative_to(ROOT).as_posix().startswith(BACKEND_DIRS)]
    assert core, f"no core sources under {ROOT / 'hv'}"
    text = "\n".join(_strip_c_comments(p.read_text()) for p in core)
    unused = [m for m in members if not re.search(r"\bvcpu_ops->%s\s*\(" % m, text)]
    assert not unused, (
        "struct vcpu_ops (hv/vcpu/vcpu_ops.h) slots the core never calls through "
        f"vcpu_ops->: {', '.join(unused)} (call them where they belong, or remove them "
        "from the contract and both backends)")


def _exit_reasons():
    values = enum_values("hv/vcpu/vm_exit.h", "vm_exit_reason")
    assert "VMEXIT_REASON_COUNT" in values, "hv/vcpu/vm_exit.h: enum has no VMEXIT_REASON_COUNT"
    count = values.pop("VMEXIT_REASON_COUNT")
    names = {}
    for name, v in values.items():
        names.setdefault(v, name)
    return count, names


def test_exit_handlers_size(elf):
    count, _ = _exit_reasons()
    size = len(elf.object_bytes("exit_handlers"))
    assert size == count * SLOT, (
        f"exit_handlers is {size} bytes, want VMEXIT_REASON_COUNT ({count}) * "
        f"{SLOT} = {count * SLOT}")


def test_exit_handlers_no_empty_slot(elf):
    count, names = _exit_reasons()
    data = elf.object_bytes("exit_handlers")
    text = elf.section(".text")
    problems = []
    for i, ptr in enumerate(_slots(data)):
        where = f"exit_handlers[{names.get(i, i)}]"
        if ptr == 0:
            problems.append(f"{where} is NULL (no handler)")
        elif not text.contains(ptr):
            problems.append(f"{where} = {ptr:#x} is not in .text")
        elif ptr not in elf.funcs:
            problems.append(f"{where} = {ptr:#x} is not the start of a function")
    missing = [names[i] for i in range(len(data) // SLOT, count) if i in names]
    if missing:
        problems.append(f"no slot at all for {', '.join(missing)}")
    assert not problems, "exit_handlers (hv/vcpu/exit.c):\n  " + "\n  ".join(problems)
