/*
 * Guest image loaders: put a kernel into a partition's RAM and say how its
 * first vCPU starts. Pure code over a guest-memory view, so the rules are
 * unit-tested on the host with malformed images.
 */
#pragma once

#include "hv/types.h"

#define LOADER_MAX_REGIONS 2
#define LOADER_ERR_MAX 128

/* The partition's guest-physical RAM, and how to reach it. */
struct guest_mem {
	u32 region_count;
	struct {
		u64 gpa, size;
	} regions[LOADER_MAX_REGIONS];
	/* a pointer to [gpa, gpa + len) if all of it is RAM, else NULL */
	void *(*ptr)(void *ctx, u64 gpa, u64 len);
	void *ctx;
};

struct loader_module {
	const u8 *data;
	u64 len;
	const char *name;
};

/* How vCPU 0 starts: mode and registers. */
enum loader_entry_mode {
	LOADER_ENTRY_PROTECTED32, /* flat 32-bit protected mode, paging off */
	LOADER_ENTRY_LONG64,	  /* 64-bit mode with identity page tables */
};

struct loader_entry {
	u32 mode; /* enum loader_entry_mode */
	u64 rip;
	u64 rax, rbx, rsi; /* boot protocol registers */
	u64 cr3;	   /* LONG64: the page tables the loader built */
	u64 gdt_base;	   /* LONG64: a GDT the loader built, 0 if none */
};

/* Multiboot1 (Multiboot 0.6.96): an ELF32 kernel or one with the a.out kludge. */
#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_BOOT_MAGIC 0x2badb002
#define MB1_SEARCH_LEN 8192
#define MB1_INFO_GPA 0x90000ULL /* the information structure, below the BIOS hole */
#define MB1_INFO_LIMIT 0x9f000ULL

/* Whether image looks like a Multiboot1 kernel (a valid header). */
bool mb1_probe(const u8 *image, u64 len);
/* Loads it; on failure returns a negative error and a message in err. */
int mb1_load(const u8 *image, u64 len, const char *cmdline,
	     const struct loader_module *mods, u32 mod_count,
	     const struct guest_mem *mem, struct loader_entry *entry,
	     char *err, size_t err_size);
