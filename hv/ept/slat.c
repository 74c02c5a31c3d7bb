/*
 * The second-level walker (see slat.h). A format builds and reads entries;
 * everything about ranges, page sizes, splitting and freeing is here, once.
 *
 * map and unmap run the same walk twice. The first pass changes nothing and
 * counts the tables the operation will need (a table under an empty entry,
 * or one that splits a large leaf); those are then allocated into a pool,
 * and only then does the second pass change entries, taking tables from
 * the pool. So running out of memory happens before any change, and the
 * second pass cannot fail.
 *
 * Levels are numbered from the root: 0 = PML4 (512 GiB per entry), 1 = PDPT
 * (1 GiB), 2 = PD (2 MiB), 3 = PT (4 KiB). The recursion follows the levels,
 * so it is at most SLAT_LEVELS deep, and each pass visits only the entries
 * that the range touches.
 *
 * No TLB is flushed here: callers must flush (INVEPT, ASID, IOTLB) after
 * changing a table in use.
 */
#include "hv/ept/slat.h"
#include "hv/cpu/panic.h"

#define SLAT_INDEX_BITS 9
#define SLAT_ENTRIES (1U << SLAT_INDEX_BITS)
#define SLAT_ROOT_LEVEL 0
#define SLAT_LEAF_LEVEL (SLAT_LEVELS - 1)
#define SLAT_1G_LEVEL 1
#define SLAT_2M_LEVEL 2
/* Four levels translate 48 bits of guest-physical address. */
#define SLAT_GPA_LIMIT BIT(PAGE_SHIFT + SLAT_INDEX_BITS * SLAT_LEVELS)
/* MAXPHYADDR is at most 52 (SDM 3A 4.1.4). */
#define SLAT_HPA_LIMIT BIT(52)

/* How the entries of a table under construction look in the counting pass,
 * where the table does not exist yet. */
enum slat_child {
	SLAT_CHILD_REAL,  /* the table exists: read its entries */
	SLAT_CHILD_EMPTY, /* a new table: all entries absent */
	SLAT_CHILD_SPLIT, /* a new table that splits a leaf: its pieces */
};

struct slat_op {
	struct slat *s;
	bool map;  /* map, or unmap */
	bool dry;  /* the counting pass: change nothing */
	u64 delta; /* hpa - gpa, modulo 2^64 */
	u32 perms;
	u32 memtype;
	u64 needed; /* tables counted by the dry pass */
	u64 pool;   /* tables allocated for the second pass, chained by word 0 */
};

static u64 level_size(int level)
{
	return BIT(PAGE_SHIFT + SLAT_INDEX_BITS * (SLAT_LEAF_LEVEL - level));
}

static u32 level_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + SLAT_INDEX_BITS * (SLAT_LEAF_LEVEL - level))) &
	       (SLAT_ENTRIES - 1);
}

static u64 *table_at(const struct slat *s, u64 pa)
{
	u64 *t = s->env.table_ptr(pa, s->env.ctx);

	BUG_ON(!t);
	return t;
}

/* One store, so a walking CPU sees the old entry or the new one. */
static void set_entry(u64 *slot, u64 val)
{
	*(volatile u64 *)slot = val;
}

static bool is_table(const struct slat *s, u64 entry, int level)
{
	return level < SLAT_LEAF_LEVEL && s->fmt->present(entry) && !s->fmt->is_leaf(entry, level);
}

/* Frees the table at pa (holding entries of level) and every table below. */
static void free_tree(const struct slat *s, u64 pa, int level)
{
	u64 *t = table_at(s, pa);

	for (u32 i = 0; i < SLAT_ENTRIES; i++)
		if (is_table(s, t[i], level))
			free_tree(s, s->fmt->entry_addr(t[i], level), level + 1);
	s->env.free_table(pa, s->env.ctx);
}

static bool table_empty(const struct slat *s, const u64 *t)
{
	for (u32 i = 0; i < SLAT_ENTRIES; i++)
		if (s->fmt->present(t[i]))
			return false;
	return true;
}

/* ---- the pool of tables for the second pass ---- */

static void pool_drain(struct slat_op *op)
{
	const struct slat *s = op->s;

	while (op->pool) {
		u64 pa = op->pool;
		u64 *t = table_at(s, pa);

		op->pool = t[0];
		t[0] = 0;
		s->env.free_table(pa, s->env.ctx);
	}
}

static int pool_fill(struct slat_op *op, u64 count)
{
	const struct slat *s = op->s;

	for (u64 n = 0; n < count; n++) {
		u64 pa = s->env.alloc_table(s->env.ctx);

		if (!pa) {
			pool_drain(op);
			return -E_NOMEM;
		}
		table_at(s, pa)[0] = op->pool;
		op->pool = pa;
	}
	return 0;
}

/* A zeroed table; the dry pass counted it, so the pool has it. */
static u64 pool_take(struct slat_op *op)
{
	u64 pa = op->pool;
	u64 *t;

	BUG_ON(!pa);
	t = table_at(op->s, pa);
	op->pool = t[0];
	t[0] = 0;
	return pa;
}

/* ---- the walk ---- */

/* Whether a leaf at level can map base (to base + delta). */
static bool leaf_fits(const struct slat_op *op, int level, u64 base)
{
	const struct slat *s = op->s;

	if (level == SLAT_LEAF_LEVEL)
		return true;
	if (level == SLAT_2M_LEVEL && !s->allow_2m)
		return false;
	if (level == SLAT_1G_LEVEL && !s->allow_1g)
		return false;
	if (level != SLAT_2M_LEVEL && level != SLAT_1G_LEVEL)
		return false;
	return IS_ALIGNED(base + op->delta, level_size(level));
}

/* The piece i of the leaf entry at level, as a leaf one level down. */
static u64 split_piece(const struct slat *s, u64 leaf, int level, u32 i)
{
	const struct slat_format *f = s->fmt;

	return f->leaf_entry(f->entry_addr(leaf, level) + i * level_size(level + 1),
			     f->entry_perms(leaf), f->entry_memtype(leaf), level + 1);
}

static void op_entry(struct slat_op *op, int level, u64 *slot, u64 base, u64 lo, u64 hi);

/*
 * Runs the operation on [lo, hi) over the entries of a table at level: the
 * real table t, or in the dry pass (t == NULL) a table still to be made,
 * whose entries kind and parent (the leaf being split) describe.
 */
static void op_children(struct slat_op *op, int level, u64 *t, enum slat_child kind, u64 parent,
			u64 lo, u64 hi)
{
	u64 size = level_size(level);

	for (u64 base = ALIGN_DOWN(lo, size); base < hi; base += size) {
		u32 i = level_index(base, level);
		u64 *slot = t ? &t[i] : NULL;
		u64 copy;

		if (op->dry) {
			/* the dry pass works on copies: nothing real changes */
			if (kind == SLAT_CHILD_REAL)
				copy = t[i];
			else if (kind == SLAT_CHILD_SPLIT)
				copy = split_piece(op->s, parent, level - 1, i);
			else
				copy = 0;
			slot = &copy;
		}
		op_entry(op, level, slot, base, MAX(lo, base), MIN(hi, base + size));
	}
}

/* Replaces *slot (at level) by val and frees the tables it pointed to. */
static void op_replace(struct slat_op *op, int level, u64 *slot, u64 val)
{
	u64 old = *slot;

	if (op->dry)
		return;
	set_entry(slot, val);
	if (is_table(op->s, old, level))
		free_tree(op->s, op->s->fmt->entry_addr(old, level), level + 1);
}

/*
 * A new table under *slot: empty, or the pieces of the leaf *slot when the
 * operation keeps part of it. It is complete before *slot points at it.
 */
static void op_new_table(struct slat_op *op, int level, u64 *slot, bool split, u64 lo, u64 hi)
{
	const struct slat_format *f = op->s->fmt;
	u64 old = *slot, pa;
	u64 *t;

	if (op->dry) {
		op->needed++;
		op_children(op, level + 1, NULL, split ? SLAT_CHILD_SPLIT : SLAT_CHILD_EMPTY, old,
			    lo, hi);
		return;
	}
	pa = pool_take(op);
	t = table_at(op->s, pa);
	if (split) {
		for (u32 i = 0; i < SLAT_ENTRIES; i++)
			t[i] = split_piece(op->s, old, level, i);
	}
	op_children(op, level + 1, t, SLAT_CHILD_REAL, 0, lo, hi);
	/* the old entry was a leaf or absent: no table to free */
	set_entry(slot, f->table_entry(pa));
}

/* The operation on [lo, hi) within the entry *slot at level, which covers
 * [base, base + level_size(level)). */
static void op_entry(struct slat_op *op, int level, u64 *slot, u64 base, u64 lo, u64 hi)
{
	const struct slat *s = op->s;
	const struct slat_format *f = s->fmt;
	u64 old = *slot, pa;
	bool whole = lo == base && hi - lo == level_size(level);
	u64 *t;

	if (whole && !op->map) {
		op_replace(op, level, slot, 0);
		return;
	}
	if (whole && leaf_fits(op, level, base)) {
		op_replace(op, level, slot,
			   f->leaf_entry(base + op->delta, op->perms, op->memtype, level));
		return;
	}
	/* Part of the entry, or all of it with smaller pages: a table below.
	 * (At the leaf level every range is whole, so level < SLAT_LEAF_LEVEL.) */
	BUG_ON(level >= SLAT_LEAF_LEVEL);
	if (!f->present(old)) {
		if (op->map)
			op_new_table(op, level, slot, false, lo, hi);
		return;
	}
	if (f->is_leaf(old, level)) {
		/* a map over all of it rewrites every piece: no need to split */
		op_new_table(op, level, slot, !whole, lo, hi);
		return;
	}
	pa = f->entry_addr(old, level);
	t = table_at(s, pa);
	op_children(op, level + 1, t, SLAT_CHILD_REAL, 0, lo, hi);
	/* An unmap that empties an existing table frees it. (A table made
	 * above by a split never ends empty: the unmap kept part of the leaf.) */
	if (!op->dry && !op->map && table_empty(s, t)) {
		set_entry(slot, 0);
		s->env.free_table(pa, s->env.ctx);
	}
}

static int op_run(struct slat_op *op, u64 gpa, u64 size)
{
	u64 *root = table_at(op->s, op->s->root_pa);
	int err;

	op->dry = true;
	op->needed = 0;
	op_children(op, SLAT_ROOT_LEVEL, root, SLAT_CHILD_REAL, 0, gpa, gpa + size);

	op->pool = 0;
	err = pool_fill(op, op->needed);
	if (err)
		return err;
	op->dry = false;
	op_children(op, SLAT_ROOT_LEVEL, root, SLAT_CHILD_REAL, 0, gpa, gpa + size);
	/* both passes make the same decisions: the pool is used up exactly */
	BUG_ON(op->pool);
	return 0;
}

/* ---- the interface ---- */

static bool gpa_range_ok(u64 gpa, u64 size)
{
	return size && IS_ALIGNED(gpa | size, PAGE_SIZE) && gpa < SLAT_GPA_LIMIT &&
	       size <= SLAT_GPA_LIMIT - gpa;
}

int slat_init(struct slat *s, const struct slat_format *fmt, const struct slat_env *env,
	      bool allow_2m, bool allow_1g)
{
	if (!s || !fmt || !env || !env->alloc_table || !env->free_table || !env->table_ptr)
		return -E_INVAL;
	if (allow_1g && !allow_2m)
		return -E_INVAL;
	s->fmt = fmt;
	s->env = *env;
	s->allow_2m = allow_2m;
	s->allow_1g = allow_1g;
	s->root_pa = env->alloc_table(env->ctx);
	if (!s->root_pa)
		return -E_NOMEM;
	return 0;
}

int slat_map(struct slat *s, u64 gpa, u64 hpa, u64 size, u32 perms, u32 memtype)
{
	struct slat_op op = {
		.s = s,
		.map = true,
		.delta = hpa - gpa,
		.perms = perms,
		.memtype = memtype,
	};

	if (!s || !s->root_pa || !gpa_range_ok(gpa, size))
		return -E_INVAL;
	if (!IS_ALIGNED(hpa, PAGE_SIZE) || hpa >= SLAT_HPA_LIMIT || size > SLAT_HPA_LIMIT - hpa)
		return -E_INVAL;
	if (!s->fmt->perms_ok(perms))
		return -E_INVAL;
	if (memtype != SLAT_MEM_WB && memtype != SLAT_MEM_UC)
		return -E_INVAL;
	return op_run(&op, gpa, size);
}

int slat_unmap(struct slat *s, u64 gpa, u64 size)
{
	struct slat_op op = { .s = s, .map = false };

	if (!s || !s->root_pa || !gpa_range_ok(gpa, size))
		return -E_INVAL;
	return op_run(&op, gpa, size);
}

int slat_translate(const struct slat *s, u64 gpa, u64 *hpa, u32 *perms)
{
	const struct slat_format *f;
	u64 pa;

	if (!s || !s->root_pa || gpa >= SLAT_GPA_LIMIT)
		return -E_NOENT;
	f = s->fmt;
	pa = s->root_pa;
	for (int level = SLAT_ROOT_LEVEL; level < SLAT_LEVELS; level++) {
		u64 e = table_at(s, pa)[level_index(gpa, level)];

		if (!f->present(e))
			return -E_NOENT;
		if (level == SLAT_LEAF_LEVEL || f->is_leaf(e, level)) {
			if (hpa)
				*hpa = f->entry_addr(e, level) + (gpa & (level_size(level) - 1));
			if (perms)
				*perms = f->entry_perms(e);
			return 0;
		}
		pa = f->entry_addr(e, level);
	}
	return -E_NOENT;
}

void slat_destroy(struct slat *s)
{
	if (!s || !s->root_pa)
		return;
	free_tree(s, s->root_pa, SLAT_ROOT_LEVEL);
	s->root_pa = 0;
}
