/*
 * The ELF headers the guest loaders read (System V gABI, "ELF Header" and
 * "Program Header"; ELF-64 Object File Format 1.5): file header, program
 * headers and note headers, in their 32-bit and 64-bit forms.
 */
#pragma once

#include "hv/lib/types.h"

#define ELF_MAGIC 0x464c457f /* "\x7fELF" read as a little-endian u32 */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

struct elf32_ehdr {
	u32 magic;
	u8 cls, data, version, osabi, pad[8];
	u16 type, machine;
	u32 version2, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

struct elf64_ehdr {
	u32 magic;
	u8 cls, data, version, osabi, pad[8];
	u16 type, machine;
	u32 version2;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
} __packed;

struct elf_note {
	u32 namesz, descsz, type;
} __packed;

_Static_assert(sizeof(struct elf32_ehdr) == 52, "Elf32_Ehdr");
_Static_assert(sizeof(struct elf32_phdr) == 32, "Elf32_Phdr");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "Elf64_Ehdr");
_Static_assert(offsetof(struct elf64_ehdr, phoff) == 32, "e_phoff");
_Static_assert(offsetof(struct elf64_ehdr, phentsize) == 54, "e_phentsize");
_Static_assert(sizeof(struct elf64_phdr) == 56, "Elf64_Phdr");
_Static_assert(offsetof(struct elf64_phdr, paddr) == 24, "p_paddr");
_Static_assert(sizeof(struct elf_note) == 12, "Elf64_Nhdr");
