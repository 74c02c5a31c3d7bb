#!/usr/bin/env python3
"""Extract the uncompressed vmlinux ELF from a Linux x86 bzImage.

    tools/extract-vmlinux.py BZIMAGE OUTPUT

The payload is found through the setup header (Documentation/arch/x86/boot.rst:
"HdrS" at 0x202, protocol 2.08 or later for payload_offset/payload_length at
0x248/0x24c, counted from the protected-mode kernel, which starts after
(setup_sects + 1) * 512 bytes, setup_sects 0 meaning 4). Its format is told
by its magic number: gzip, XZ (Debian's), LZMA and bzip2 are decompressed with
Python's own modules; zstd, LZ4 and LZO with the zstd, lz4 or lzop program
when it is installed. The result is an ELF file (the kernel appends its
relocation table after it, which is cut off) whose PT_NOTE segment carries the
PVH entry that hv/loader/pvh.c boots. An input that already is an ELF file is
copied as it is. Exits non-zero with a one-line message on any error.
"""
import bz2
import lzma
import os
import shutil
import struct
import subprocess
import sys
import zlib

SETUP_SECTS = 0x1F1
HDR_MAGIC_OFF = 0x202
HDR_MAGIC = b"HdrS"
VERSION_OFF = 0x206
PAYLOAD_OFF = 0x248  # payload_offset, payload_length: u32 each
PROTOCOL_PAYLOAD = 0x0208
SECTOR = 512
ELF_MAGIC = b"\x7fELF"


class ExtractError(Exception):
    pass


def payload_of(image):
    """The compressed payload bytes of a bzImage."""
    if len(image) < PAYLOAD_OFF + 8 or image[HDR_MAGIC_OFF:HDR_MAGIC_OFF + 4] != HDR_MAGIC:
        raise ExtractError('no Linux setup header ("HdrS" at 0x202): not a bzImage')
    (version,) = struct.unpack_from("<H", image, VERSION_OFF)
    if version < PROTOCOL_PAYLOAD:
        raise ExtractError(
            "boot protocol %d.%02d has no payload fields (2.08 or later needed)"
            % (version >> 8, version & 0xFF))
    sects = image[SETUP_SECTS] or 4
    start = (sects + 1) * SECTOR
    offset, length = struct.unpack_from("<II", image, PAYLOAD_OFF)
    begin = start + offset
    if not length or begin + length > len(image):
        raise ExtractError(
            "payload [%#x, +%#x) lies outside the file (%d bytes)" % (begin, length, len(image)))
    return image[begin:begin + length]


def one_stream(decompressor, data):
    """Decompresses one stream; what follows it (the kernel's appended
    4-byte size) is ignored."""
    out = decompressor.decompress(data)
    if not decompressor.eof:
        raise ExtractError("the compressed payload is truncated")
    return out


def run_tool(argv, data, what):
    if not shutil.which(argv[0]):
        raise ExtractError("a %s payload needs the %s program (not installed)" % (what, argv[0]))
    proc = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)
    # the size suffix after the stream makes some tools complain; the
    # output is checked as an ELF file afterwards
    if not proc.stdout:
        raise ExtractError("%s failed: %s" % (argv[0], proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


def decompress(data):
    if data[:2] in (b"\x1f\x8b", b"\x1f\x9e"):
        return "gzip", one_stream(zlib.decompressobj(16 + zlib.MAX_WBITS), data)
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz", one_stream(lzma.LZMADecompressor(lzma.FORMAT_XZ), data)
    if data[:3] == b"\x5d\x00\x00":
        return "lzma", one_stream(lzma.LZMADecompressor(lzma.FORMAT_ALONE), data)
    if data[:3] == b"BZh":
        return "bzip2", one_stream(bz2.BZ2Decompressor(), data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard  # pylint: disable=import-outside-toplevel
            return "zstd", zstandard.ZstdDecompressor().decompressobj().decompress(data)
        except ImportError:
            return "zstd", run_tool(["zstd", "-d", "-c", "-q"], data, "zstd")
    if data[:2] == b"\x02\x21":
        return "lz4", run_tool(["lz4", "-d", "-c", "-q"], data, "LZ4")
    if data[:3] == b"\x89LZ":
        return "lzo", run_tool(["lzop", "-d", "-c", "-q"], data, "LZO")
    raise ExtractError("unknown payload format (magic %s)" % data[:6].hex())


def elf_extent(elf):
    """The length of the ELF file at the start of elf (the ELF header, the
    program and section header tables, and every segment's and section's
    file bytes), so the relocation table appended after it is left out."""
    if elf[:4] != ELF_MAGIC:
        raise ExtractError("the decompressed payload is not an ELF file (starts with %s)"
                           % elf[:4].hex())
    is64 = elf[4] == 2
    if elf[4] not in (1, 2) or elf[5] != 1:
        raise ExtractError("the decompressed ELF file is not little-endian 32/64-bit")
    if is64:
        phoff, shoff = struct.unpack_from("<QQ", elf, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", elf, 0x36)
    else:
        phoff, shoff = struct.unpack_from("<II", elf, 0x1C)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", elf, 0x2A)
    end = max(0x40 if is64 else 0x34, phoff + phentsize * phnum, shoff + shentsize * shnum)
    for i in range(phnum):
        at = phoff + i * phentsize
        if is64:
            _, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", elf, at)
        else:
            _, offset, _, _, filesz = struct.unpack_from("<IIIII", elf, at)
        end = max(end, offset + filesz)
    for i in range(shnum):
        at = shoff + i * shentsize
        if is64:
            _, sh_type, _, _, offset, size = struct.unpack_from("<IIQQQQ", elf, at)
        else:
            _, sh_type, _, _, offset, size = struct.unpack_from("<IIIIII", elf, at)
        if sh_type != 8:  # SHT_NOBITS has no file bytes
            end = max(end, offset + size)
    if end > len(elf):
        raise ExtractError("the decompressed ELF file is truncated (%d of %d bytes)"
                           % (len(elf), end))
    return end


def extract(image):
    """Returns (format, vmlinux bytes) for a bzImage (or an ELF file)."""
    if image[:4] == ELF_MAGIC:
        return "none (already ELF)", image
    payload = payload_of(image)
    fmt, out = decompress(payload)
    (size_suffix,) = struct.unpack_from("<I", payload, len(payload) - 4)
    if size_suffix != len(out) & 0xFFFFFFFF:
        print("extract-vmlinux: warning: the payload says %d bytes, %d decompressed"
              % (size_suffix, len(out)), file=sys.stderr)
    return fmt, out[:elf_extent(out)]


def main(argv):
    if len(argv) != 3:
        print("usage: %s BZIMAGE OUTPUT" % os.path.basename(argv[0]), file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        with open(src, "rb") as f:
            image = f.read()
        fmt, elf = extract(image)
    except (OSError, ExtractError, lzma.LZMAError, zlib.error, EOFError, struct.error) as e:
        print("extract-vmlinux: %s: %s" % (src, e), file=sys.stderr)
        return 1
    tmp = dst + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(elf)
        os.replace(tmp, dst)
    except OSError as e:
        print("extract-vmlinux: %s: %s" % (dst, e), file=sys.stderr)
        return 1
    print("extract-vmlinux: %s -> %s (%s, %d bytes)" % (src, dst, fmt, len(elf)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
