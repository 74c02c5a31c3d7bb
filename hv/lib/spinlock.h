/* Ticket spinlock: fair, and enough for the few shared structures. */
#pragma once

#include "hv/hw/x86.h"

struct spinlock {
	volatile u16 next;
	volatile u16 owner;
};

/* clang-format off */
#define SPINLOCK_INIT { 0, 0 }
/* clang-format on */

static inline void spin_lock(struct spinlock *l)
{
	u16 ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

/* Takes the lock only if it is free at once (no ticket is queued). */
static inline bool spin_trylock(struct spinlock *l)
{
	u16 owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	u16 expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, (u16)(owner + 1), false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

/* Interrupt-safe variants for locks also taken from exception/NMI paths. */
static inline u64 spin_lock_irqsave(struct spinlock *l)
{
	u64 flags = read_rflags();

	irq_disable();
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	spin_unlock(l);
	if (flags & RFLAGS_IF)
		irq_enable();
}
