/*
 * Second-level address translation: one walker for every table format
 * (Intel EPT, AMD NPT, and later the IOMMUs), after Jailhouse's struct paging.
 * A format says how entries are built and read; the walker does the rest:
 * map (with 1 GiB / 2 MiB pages where alignment allows), unmap (splitting
 * large pages when needed), translate, destroy.
 *
 * Pure code: table pages come from, and are reached through, the caller's
 * struct slat_env, so the walker runs unchanged in host unit tests.
 *
 * Rules for callers:
 * - The walker never flushes a TLB. After changing a table that a CPU or
 *   device may be using, the caller flushes (INVEPT, an ASID flush, an
 *   IOTLB invalidation) before relying on the change.
 * - Tables that map/unmap make unused go back to env.free_table at once.
 *   If the table is live, a CPU may still hold cached walks through them
 *   until the flush: free_table must then not hand them out again before
 *   the flush (defer them), or the caller stops the table's users first.
 * - One caller at a time per struct slat (the caller locks).
 * - map and unmap are all or nothing: every table they need is allocated
 *   before the first entry changes, so -E_NOMEM leaves the tables exactly
 *   as they were. Each entry is changed by one 64-bit store, and a new
 *   table is complete before an entry points at it.
 */
#pragma once

#include "hv/lib/types.h"

#define SLAT_LEVELS 4 /* PML4, PDPT, PD, PT */

/* Access rights of a leaf */
#define SLAT_R BIT(0)
#define SLAT_W BIT(1)
#define SLAT_X BIT(2)
#define SLAT_RWX (SLAT_R | SLAT_W | SLAT_X)

/* Memory types a leaf may carry */
enum slat_memtype {
	SLAT_MEM_WB = 0, /* RAM */
	SLAT_MEM_UC = 1, /* device memory */
};

struct slat_format {
	const char *name;
	/* the entry that points at a next-level table */
	u64 (*table_entry)(u64 table_pa);
	/* a leaf at level (0 = PML4 .. 3 = PT); level 1 = 1 GiB, 2 = 2 MiB */
	u64 (*leaf_entry)(u64 pa, u32 perms, u32 memtype, int level);
	bool (*present)(u64 entry);
	/* whether a present entry at level maps memory (rather than a table) */
	bool (*is_leaf)(u64 entry, int level);
	/* the physical address in an entry (a table, or a leaf's frame) */
	u64 (*entry_addr)(u64 entry, int level);
	u32 (*entry_perms)(u64 entry);
	u32 (*entry_memtype)(u64 entry);
	/* whether a leaf can carry exactly these rights (none wider) */
	bool (*perms_ok)(u32 perms);
};

struct slat_env {
	/* a zeroed page for a table; 0 when out of memory */
	u64 (*alloc_table)(void *ctx);
	void (*free_table)(u64 pa, void *ctx);
	/* where the walker reads and writes the table at pa */
	u64 *(*table_ptr)(u64 pa, void *ctx);
	void *ctx;
};

struct slat {
	const struct slat_format *fmt;
	struct slat_env env;
	u64 root_pa;
	bool allow_1g; /* large pages the hardware supports */
	bool allow_2m;
};

/* Allocates the root table. allow_1g needs allow_2m (every CPU with 1 GiB
 * pages has 2 MiB pages; splitting relies on it). -E_INVAL, -E_NOMEM. */
int slat_init(struct slat *s, const struct slat_format *fmt, const struct slat_env *env,
	      bool allow_2m, bool allow_1g);
/* Maps [gpa, gpa + size) to [hpa, hpa + size); page-aligned; replaces any
 * existing mapping in that range. The largest page that the alignment of
 * gpa and hpa and the remaining size allow is used. perms must pass
 * fmt->perms_ok, memtype is an enum slat_memtype, size > 0, the guest range
 * ends at or below 2^48 and the host range at or below 2^52.
 * -E_INVAL (bad argument, nothing changed), -E_NOMEM (nothing changed). */
int slat_map(struct slat *s, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype);
/* Removes [gpa, gpa + size); splits large pages that straddle the edges and
 * frees tables left empty. Same argument rules and errors as slat_map. */
int slat_unmap(struct slat *s, u64 gpa, u64 size);
/* Returns 0 and the host address (and rights) for gpa, or -E_NOENT.
 * hpa and perms may be NULL. */
int slat_translate(const struct slat *s, u64 gpa, u64 *hpa, u32 *perms);
/* Frees every table, the root included; s may then be initialised again. */
void slat_destroy(struct slat *s);
