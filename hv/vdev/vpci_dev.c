/*
 * Declared PCI functions (see vpci_dev.h): their configuration space,
 * BARs, capabilities, MSI-X and INTx.
 */
#include "hv/vdev/vpci_dev.h"
#include "hv/lib/lib.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/virq.h"

#define CMD_WRITABLE                                                                    \
	(PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR | \
	 PCI_CMD_INTX_DISABLE)
#define BAR_MEM_MIN 16 /* 6.2.5.1: bits 3:0 of a memory BAR are flags */
#define BAR_IO_MIN 4
#define LOW_DWORD 0xffffffffULL
#define DWORD_BYTES 4
#define MSIX_PBA_BYTES 8 /* one qword of pending bits covers VPCI_MSIX_MAX */
#define MSIX_ALIGN 8	 /* 6.8.2.4, 6.8.2.5: table and PBA offsets are qword-aligned */

_Static_assert(VPCI_MSIX_MAX <= 32, "pending bits are one u32");

/* The MSI-X capability after its ID and next pointer (6.8.2) */
struct msix_cap_body {
	u16 ctrl;
	u32 table, pba;
} __packed;

static bool pow2(u64 x)
{
	return x && !(x & (x - 1));
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

/* BAR slot i is the high half of the 64-bit BAR before it. */
static bool high_half(const struct vpci_dev *d, u32 i)
{
	return i > 0 && d->bar[i - 1].type == VPCI_BAR_MEM64;
}

/* The I/O APIC input of its INTA#: slot + pin, swizzled (platform.h). */
static u32 intx_gsi(const struct vpci_dev *d)
{
	return PLAT_PCI_GSI_BASE + (DEVFN_DEV(d->devfn) + PCI_INT_PIN_A - 1) % PLAT_PCI_GSI_COUNT;
}

/* --- declaration ---------------------------------------------------------- */

static bool bar_ok(const struct vpci_dev *d, u32 i)
{
	const struct vpci_bar *b = &d->bar[i];
	bool io = b->type == VPCI_BAR_IO;

	if (high_half(d, i))
		return b->type == VPCI_BAR_NONE;
	if (b->type == VPCI_BAR_NONE)
		return !b->size && !b->mem;
	if (b->type > VPCI_BAR_IO || (b->type == VPCI_BAR_MEM64 && i == PCI_BARS - 1))
		return false;
	if (!pow2(b->size) || b->size < (io ? BAR_IO_MIN : BAR_MEM_MIN) ||
	    b->size > (io ? PLAT_PCI_IO_SIZE : PLAT_PCI_MMIO_SIZE))
		return false;
	return !b->mem || (!io && b->size >= PAGE_SIZE && IS_ALIGNED((uintptr_t)b->mem, PAGE_SIZE));
}

/* The table and PBA in an emulated memory BAR, apart. */
static bool msix_ok(const struct vpci_dev *d)
{
	const struct vpci_bar *b;
	u64 table = (u64)d->msix_vectors * PCI_MSIX_ENTRY_SIZE;

	if (d->msix_vectors > VPCI_MSIX_MAX || d->msix_bar >= PCI_BARS)
		return false;
	b = &d->bar[d->msix_bar];
	if (b->type == VPCI_BAR_NONE || b->type == VPCI_BAR_IO || b->mem ||
	    high_half(d, d->msix_bar))
		return false;
	if (!IS_ALIGNED(d->msix_table, MSIX_ALIGN) || !IS_ALIGNED(d->msix_pba, MSIX_ALIGN))
		return false;
	if (d->msix_table + table > b->size || d->msix_pba + MSIX_PBA_BYTES > b->size)
		return false;
	return d->msix_pba + MSIX_PBA_BYTES <= d->msix_table ||
	       d->msix_table + table <= d->msix_pba;
}

u32 vpci_add_cap(struct vpci_dev *d, u8 id, const void *body, u32 len)
{
	u32 at = ALIGN_UP(d->cap_end, (u32)PCI_CAP_ALIGN);

	if (len > PCI_CFG_SPACE_SIZE || at + 2 + len > PCI_CFG_SPACE_SIZE)
		return 0;
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	memcpy(d->cfg + at + 2, body, len);
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (u8)at;
	d->cap_last = at;
	d->cap_end = at + 2 + len;
	return at;
}

int vpci_dev_init(struct vpci_dev *d, struct vdev_registry *reg, u8 devfn)
{
	struct msix_cap_body msix;

	for (u32 i = 0; i < PCI_BARS; i++)
		if (!bar_ok(d, i))
			return -E_INVAL;
	if (d->msix_vectors && !msix_ok(d))
		return -E_INVAL;
	d->reg = reg;
	d->devfn = devfn;
	if (!d->cap_end)
		d->cap_end = PCI_CFG_HEADER_SIZE;
	d->irq_lock = (struct spinlock)SPINLOCK_INIT;
	if (!d->msix_vectors)
		return 0;
	msix = (struct msix_cap_body){ (u16)(d->msix_vectors - 1), d->msix_table | d->msix_bar,
				       d->msix_pba | d->msix_bar };
	d->msix_cap = vpci_add_cap(d, PCI_CAP_ID_MSIX, &msix, sizeof(msix));
	return d->msix_cap ? 0 : -E_INVAL;
}

/* --- BARs ---------------------------------------------------------------- */

static u32 bar_read(const struct vpci_dev *d, u32 i)
{
	const struct vpci_bar *b = &d->bar[i];

	if (high_half(d, i))
		return (u32)(d->addr[i - 1] >> 32);
	switch (b->type) {
	case VPCI_BAR_IO:
		return (u32)d->addr[i] | PCI_BAR_IO;
	case VPCI_BAR_MEM32:
	case VPCI_BAR_MEM64:
		return (u32)d->addr[i] | (b->type == VPCI_BAR_MEM64 ? PCI_BAR_MEM64 : 0) |
		       (b->prefetch ? PCI_BAR_PREFETCH : 0);
	default:
		return 0;
	}
}

/* The flag bits read-only, the bits below the size zero (sizing, 6.2.5.1). */
static void bar_write(struct vpci_dev *d, u32 i, u32 val)
{
	u32 at = high_half(d, i) ? i - 1 : i;
	const struct vpci_bar *b = &d->bar[at];
	u64 addr = at != i ? (d->addr[at] & LOW_DWORD) | (u64)val << 32 :
			     (d->addr[at] & ~LOW_DWORD) | val;

	if (b->type == VPCI_BAR_NONE)
		return;
	d->addr[at] = addr & ~(b->size - 1) & (b->type == VPCI_BAR_MEM64 ? ~0ULL : LOW_DWORD);
}

/* Whether BAR i decodes now, and where. */
static bool decoded(const struct vpci_dev *d, u32 i, u64 *base)
{
	const struct vpci_bar *b = &d->bar[i];
	bool io = b->type == VPCI_BAR_IO;
	u64 win = io ? PLAT_PCI_IO_BASE : PLAT_PCI_MMIO_BASE;
	u64 win_size = io ? PLAT_PCI_IO_SIZE : PLAT_PCI_MMIO_SIZE;

	if (b->type == VPCI_BAR_NONE || !(d->command & (io ? PCI_CMD_IO : PCI_CMD_MEMORY)))
		return false;
	*base = d->addr[i];
	return *base >= win && *base - win <= win_size - b->size;
}

bool vpci_dev_claims(const struct vpci_dev *d, bool io, u64 addr, u32 *bar, u64 *off)
{
	for (u32 i = 0; i < PCI_BARS; i++) {
		u64 base;

		if ((d->bar[i].type == VPCI_BAR_IO) != io || !decoded(d, i, &base) || addr < base ||
		    addr - base >= d->bar[i].size)
			continue;
		*bar = i;
		*off = addr - base;
		return true;
	}
	return false;
}

/* Mapped BARs follow their decoding: in the second-level table where the
 * guest placed them, or nowhere. Bus lock held. */
static void sync_maps(struct vpci_dev *d)
{
	const struct vdev_host *host = d->reg->host;

	for (u32 i = 0; i < PCI_BARS; i++) {
		const struct vpci_bar *b = &d->bar[i];
		u64 want;

		if (!b->mem)
			continue;
		if (!decoded(d, i, &want))
			want = 0;
		if (want == d->mapped[i])
			continue;
		if (d->mapped[i])
			host->unmap(d->reg->owner.part, d->mapped[i], b->size);
		d->mapped[i] = 0;
		if (want && !host->map(d->reg->owner.part, want, b->mem, b->size))
			d->mapped[i] = want;
	}
}

/* --- interrupts (irq_lock held) ------------------------------------------- */

static void intx_update(struct vpci_dev *d)
{
	bool out = d->intx && d->intx_level && !(d->command & PCI_CMD_INTX_DISABLE) &&
		   !(d->msix_ctrl & PCI_MSIX_CTRL_ENABLE);

	if (out == d->intx_out)
		return;
	d->intx_out = out;
	virq_set_level(d->reg, intx_gsi(d), out);
}

/* Sends vector vec's message to the partition's local APICs (SDM 3A 11.11):
 * an address outside 0xFEExxxxx reaches none. */
static void msix_fire(struct vpci_dev *d, u32 vec)
{
	const u32 *e = d->msix_entry[vec];
	u32 addr = e[PCI_MSIX_ENTRY_ADDR_LO], data = e[PCI_MSIX_ENTRY_DATA];

	if ((addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE || e[PCI_MSIX_ENTRY_ADDR_HI]) {
		d->msi_dropped++;
		return;
	}
	virq_deliver(d->reg, (addr >> MSI_ADDR_DEST_SHIFT) & MSI_ADDR_DEST_MASK,
		     addr & MSI_ADDR_DEST_LOGICAL,
		     (data >> MSI_DATA_MODE_SHIFT) & MSI_DATA_MODE_MASK,
		     (u8)(data & MSI_DATA_VECTOR_MASK), false);
}

static bool msix_masked(const struct vpci_dev *d, u32 vec)
{
	return (d->msix_ctrl & PCI_MSIX_CTRL_MASKALL) ||
	       (d->msix_entry[vec][PCI_MSIX_ENTRY_CTRL] & PCI_MSIX_ENTRY_MASKED);
}

/* 6.8.2.9: a pending message goes out once its vector is unmasked. */
static void msix_flush(struct vpci_dev *d)
{
	if (!(d->msix_ctrl & PCI_MSIX_CTRL_ENABLE))
		return;
	for (u32 vec = 0; vec < d->msix_vectors; vec++) {
		if (!(d->msix_pending & BIT(vec)) || msix_masked(d, vec))
			continue;
		d->msix_pending &= ~(u32)BIT(vec);
		msix_fire(d, vec);
	}
}

void vpci_msix_notify(struct vpci_dev *d, u32 vec)
{
	spin_lock(&d->irq_lock);
	if (vec < d->msix_vectors && (d->msix_ctrl & PCI_MSIX_CTRL_ENABLE)) {
		if (msix_masked(d, vec))
			d->msix_pending |= BIT(vec);
		else
			msix_fire(d, vec);
	}
	spin_unlock(&d->irq_lock);
}

bool vpci_msix_enabled(struct vpci_dev *d)
{
	return __atomic_load_n(&d->msix_ctrl, __ATOMIC_ACQUIRE) & PCI_MSIX_CTRL_ENABLE;
}

void vpci_intx(struct vpci_dev *d, bool level)
{
	spin_lock(&d->irq_lock);
	d->intx_level = level;
	intx_update(d);
	spin_unlock(&d->irq_lock);
}

bool vpci_bus_master(const struct vpci_dev *d)
{
	return __atomic_load_n(&d->command, __ATOMIC_ACQUIRE) & PCI_CMD_MASTER;
}

static void set_msix_ctrl(struct vpci_dev *d, u16 ctrl)
{
	spin_lock(&d->irq_lock);
	d->msix_ctrl = ctrl & (PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	put16(d->cfg + d->msix_cap + PCI_MSIX_CTRL, (u16)(d->msix_ctrl | (d->msix_vectors - 1)));
	msix_flush(d);
	intx_update(d);
	spin_unlock(&d->irq_lock);
}

/* The table: dword or aligned qword accesses (6.8.2); the address's two
 * low bits and the vector control's reserved bits read 0. */
static int msix_table_access(struct vpci_dev *d, u64 off, struct vdev_access *a)
{
	u32 e = (u32)(off / PCI_MSIX_ENTRY_SIZE), w = (u32)(off % PCI_MSIX_ENTRY_SIZE) / 4;

	if ((a->size != 4 && a->size != 8) || !IS_ALIGNED(off, a->size))
		return -E_INVAL;
	spin_lock(&d->irq_lock);
	if (!a->write)
		a->val = 0;
	for (u32 k = 0; k < a->size / 4u; k++, w++) {
		u32 *word = &d->msix_entry[e][w], v = (u32)(a->val >> (32 * k));

		if (!a->write) {
			a->val |= (u64)*word << (32 * k);
			continue;
		}
		if (w == PCI_MSIX_ENTRY_ADDR_LO)
			v &= ~3U;
		else if (w == PCI_MSIX_ENTRY_CTRL)
			v &= PCI_MSIX_ENTRY_MASKED;
		*word = v;
		if (w == PCI_MSIX_ENTRY_CTRL)
			msix_flush(d);
	}
	spin_unlock(&d->irq_lock);
	return 0;
}

static int msix_pba_access(struct vpci_dev *d, u64 off, struct vdev_access *a)
{
	if (a->write) /* read-only */
		return 0;
	spin_lock(&d->irq_lock);
	a->val = off < DWORD_BYTES ? (u64)d->msix_pending >> (8 * off) : 0;
	spin_unlock(&d->irq_lock);
	return 0;
}

int vpci_dev_bar_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a)
{
	const struct vpci_bar *b = &d->bar[bar];

	if (d->msix_vectors && bar == d->msix_bar) {
		if (off - d->msix_table < (u64)d->msix_vectors * PCI_MSIX_ENTRY_SIZE)
			return msix_table_access(d, off - d->msix_table, a);
		if (off - d->msix_pba < MSIX_PBA_BYTES)
			return msix_pba_access(d, off - d->msix_pba, a);
	}
	if (b->mem) {
		/* a mapped BAR whose mapping is missing (an overlap the guest
		 * made, or no memory for tables): its memory all the same */
		if (a->size > b->size - off)
			return -E_INVAL;
		if (a->write) {
			memcpy((u8 *)b->mem + off, &a->val, a->size);
		} else {
			a->val = 0;
			memcpy(&a->val, (u8 *)b->mem + off, a->size);
		}
		return 0;
	}
	return d->ops->bar_access ? d->ops->bar_access(d, bar, off, a) : -E_INVAL;
}

/* --- configuration space ---------------------------------------------------- */

static u32 read_dword(const struct vpci_dev *d, u32 reg)
{
	u16 status = (d->cap_last ? PCI_STATUS_CAP_LIST : 0) |
		     (d->intx_level ? PCI_STATUS_INTX : 0);

	switch (reg) {
	case PCI_CFG_VENDOR:
		return d->vendor | (u32)d->device << 16;
	case PCI_CFG_COMMAND:
		return d->command | (u32)status << 16;
	case PCI_CFG_REVISION:
		return d->revision | d->class_code << 8;
	case PCI_CFG_HEADER_TYPE & ~3U:
		return (u32)PCI_HEADER_TYPE_NORMAL << 16;
	case PCI_CFG_SUBSYS_VENDOR:
		return d->subsys_vendor | (u32)d->subsys_device << 16;
	case PCI_CFG_CAP_PTR:
		return d->cap_last ? PCI_CFG_HEADER_SIZE : 0;
	case PCI_CFG_INT_LINE:
		return d->int_line | (u32)(d->intx ? PCI_INT_PIN_A : 0) << 8;
	default:
		break;
	}
	if (reg >= PCI_CFG_BAR0 && reg < PCI_CFG_BAR0 + PCI_BARS * DWORD_BYTES)
		return bar_read(d, (reg - PCI_CFG_BAR0) / DWORD_BYTES);
	if (reg >= PCI_CFG_HEADER_SIZE && reg < PCI_CFG_SPACE_SIZE)
		return get32(d->cfg + reg);
	return 0; /* the ROM BAR, reserved registers, the extended space */
}

u32 vpci_dev_cfg_read(void *ctx, u32 reg, u32 size)
{
	struct vpci_dev *d = ctx;
	u32 val;

	if (reg >= PCI_CFG_HEADER_SIZE && d->ops->cfg_access &&
	    d->ops->cfg_access(d, reg, size, false, &val))
		return val;
	return read_dword(d, reg & ~3U) >> (8 * (reg & 3));
}

static void set_command(struct vpci_dev *d, u16 cmd)
{
	__atomic_store_n(&d->command, cmd & CMD_WRITABLE, __ATOMIC_RELEASE);
	sync_maps(d);
	spin_lock(&d->irq_lock);
	intx_update(d);
	spin_unlock(&d->irq_lock);
}

void vpci_dev_cfg_write(void *ctx, u32 reg, u32 size, u32 val)
{
	struct vpci_dev *d = ctx;
	u32 at = reg & ~3U, shift = 8 * (reg & 3);
	u32 lanes = (size >= DWORD_BYTES ? ~0U : (u32)BIT(8 * size) - 1) << shift;
	u32 v;

	if (reg >= PCI_CFG_HEADER_SIZE && d->ops->cfg_access &&
	    d->ops->cfg_access(d, reg, size, true, &val))
		return;
	v = (read_dword(d, at) & ~lanes) | ((val << shift) & lanes);
	if (at == PCI_CFG_COMMAND && (lanes & 0xffff)) {
		set_command(d, (u16)v);
	} else if (at >= PCI_CFG_BAR0 && at < PCI_CFG_BAR0 + PCI_BARS * DWORD_BYTES) {
		bar_write(d, (at - PCI_CFG_BAR0) / DWORD_BYTES, v);
		sync_maps(d);
	} else if (at == PCI_CFG_INT_LINE) {
		d->int_line = (u8)v;
	} else if (d->msix_cap && at == d->msix_cap && (lanes >> 16)) {
		set_msix_ctrl(d, (u16)(v >> 16));
	}
}

void vpci_dev_reset(void *ctx)
{
	struct vpci_dev *d = ctx;
	u16 cmd = 0;

	/* as firmware leaves a function: decoding what it placed */
	for (u32 i = 0; i < PCI_BARS; i++)
		if (d->bar[i].type != VPCI_BAR_NONE && d->addr[i])
			cmd |= d->bar[i].type == VPCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEMORY;
	d->command = cmd;
	d->int_line = d->intx ? (u8)intx_gsi(d) : 0;
	sync_maps(d);
	spin_lock(&d->irq_lock);
	d->msix_ctrl = 0;
	if (d->msix_cap)
		put16(d->cfg + d->msix_cap + PCI_MSIX_CTRL, (u16)(d->msix_vectors - 1));
	/* 6.8.2.9: every vector masked after reset */
	memset(d->msix_entry, 0, sizeof(d->msix_entry));
	for (u32 vec = 0; vec < VPCI_MSIX_MAX; vec++)
		d->msix_entry[vec][PCI_MSIX_ENTRY_CTRL] = PCI_MSIX_ENTRY_MASKED;
	d->msix_pending = 0;
	d->intx_level = false;
	intx_update(d);
	spin_unlock(&d->irq_lock);
	if (d->ops->reset)
		d->ops->reset(d);
}
