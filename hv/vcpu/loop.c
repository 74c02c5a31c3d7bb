/*
 * The vCPU loop (DESIGN.md, data flow 5): enter the guest, take the exit,
 * let hv/vcpu/exit.c decide, apply, enter again. Requests from other CPUs (stop,
 * INIT, SIPI, a new interrupt) arrive as bits in vcpu->requests plus a kick
 * IPI that makes the guest exit.
 */
#include "hv/vcpu/loop.h"
#include "drivers/lapic.h"
#include "hv/console/console.h"
#include "hv/console/input.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/exit.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"
#include "hv/virt.h"

#define SIPI_CS_SHIFT 8
#define SIPI_BASE_SHIFT 12

/* Kicks and timer interrupts only end a guest run or a wait; the loop then
 * looks at requests and deadlines. */
static void wakeup_handler(struct trap_frame *f)
{
	(void)f;
	lapic_eoi();
}

void vcpu_loop_init(void)
{
	trap_set_handler(VECTOR_KICK, wakeup_handler);
	trap_set_handler(VECTOR_TIMER, wakeup_handler);
}

static u64 earliest(u64 a, u64 b)
{
	return !a || (b && b < a) ? b : a;
}

/* Raises due guest timers and keeps this CPU's timer armed for the next;
 * does the console's work (hv/console/input.h), which a waiting vCPU's
 * CPU also wakes for. vCPU 0's CPU also keeps time for the partition's
 * devices (vdev_timers). */
static void timers_due(struct vcpu *v, u64 now)
{
	u64 deadline, poll;

	v->timer_dirty = 0;
	/*
	 * A host interrupt came (an external-interrupt exit, the end of a
	 * wait). If it was the timer, its one-shot count is spent, and it may
	 * have ended before the deadline it was armed for: the count is
	 * computed from the TSC with the timer's rate measured at boot (on an
	 * emulator both drift apart, and a measurement the host interrupted is
	 * off), and it is cut at 32 bits (SDM 3A 11.5.4). Arm it again for
	 * what is left, so that no due guest timer waits for a later exit or
	 * a kick that may never come (a vCPU halted with nothing armed).
	 */
	if (v->timer_woken) {
		v->timer_woken = 0;
		v->cpu->timer_armed = 0;
	}
	poll = console_poll(false, now);
	deadline = vdev_timers(&v->part->vdevs, v, now);
	v->timer_next = earliest(deadline, poll) ? earliest(deadline, poll) : ~0ULL;
	if (v->run_state != VCPU_RUNNING)
		deadline = earliest(deadline, poll);
	if (deadline != v->cpu->timer_armed) {
		lapic_timer_arm(VECTOR_TIMER, deadline);
		v->cpu->timer_armed = deadline;
	}
}

/* On most entries nothing is due and nothing was reprogrammed: one
 * comparison (v->timer_next is the earliest of all of it). */
static inline void timers(struct vcpu *v)
{
	u64 now = rdtsc();

	if (now >= v->timer_next || v->timer_dirty)
		timers_due(v, now);
}

/* SDM 3A 9.4.4.1: a startup IPI starts the AP in real mode at vector:0000 */
static void sipi_state(struct vcpu *v, u8 vector)
{
	vcpu_init_state(v);
	v->state.cs.sel = (u16)(vector << SIPI_CS_SHIFT);
	v->state.cs.base = (u64)vector << SIPI_BASE_SHIFT;
	v->state.rip = 0;
}

/*
 * The state in v->state (mask: VS_ALL at a (re)start, VS_INIT at INIT and
 * SIPI) into the backend. DR0-DR3 are the physical registers, which
 * neither vendor switches: INIT clears them (SDM 3A 9.1.1, table 9-1).
 */
static void load_new_state(struct vcpu *v, u32 mask)
{
	vcpu_ops->store_state(v, mask);
	vcpu_ops->vcpu_reset(v);
	write_dr0(0);
	write_dr1(0);
	write_dr2(0);
	write_dr3(0);
}

/*
 * The x87, SSE, AVX... registers stay in the CPU across exits (the host uses
 * none of them): a (re)started partition must not find the last run's, but
 * the state after RESET (SDM 3A 9.1.1, table 9-1). XRSTOR of every
 * component the CPU has loads the x87 state and MXCSR from the image below
 * and puts the others in their initial state, zeros (SDM 1 13.8.1);
 * without XSAVE, FXRSTOR of the same image does it for x87 and SSE. XCR0
 * then holds x87 only, as after RESET (SDM 1 13.3).
 */
static void fpu_reset(void)
{
	static const struct xsave_image init = { .fcw = X87_FCW_RESET,
						 .ftw = X87_FTW_RESET_ABRIDGED,
						 .mxcsr = MXCSR_INIT,
						 .xstate_bv = XSTATE_X87 };
	unsigned long cr4 = read_cr4();
	struct cpuid_regs r;

	if (cr4 & CR4_OSXSAVE) {
		cpuid_count(CPUID_XSAVE_LEAF, 0, &r);
		xsetbv(0, ((u64)r.edx << 32) | r.eax);
		xrstor(&init, ~0ULL);
		xsetbv(0, XSTATE_X87);
		return;
	}
	write_cr4(cr4 | CR4_OSFXSR); /* else FXRSTOR leaves MXCSR and XMM alone */
	fxrstor(&init);
	write_cr4(cr4);
}

/* Pending and not blocked: an NMI wakes a halted CPU whatever RFLAGS.IF
 * says (SDM 3A 6.7, HLT), unless NMIs are blocked until an IRET. */
static bool nmi_deliverable(struct vcpu *v)
{
	return virq_nmi_pending(v) && vcpu_ops->nmi_injectable(v);
}

static bool event_pending(struct vcpu *v)
{
	return virq_pending(v) >= 0 || nmi_deliverable(v);
}

/* Waits with interrupts open until a kick or the vCPU's timer. */
static void wait_for_kick(struct vcpu *v)
{
	timers_due(v, rdtsc());
	if (__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) || event_pending(v))
		return;
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	v->timer_woken = 1;
	v->timer_dirty = 1;
	timers(v);
}

static void handle_requests(struct vcpu *v, u32 req)
{
	if (req & VCPU_REQ_INIT) {
		vcpu_init_state(v);
		load_new_state(v, VS_INIT);
		vdev_vcpu_reset(&v->part->vdevs, v);
		v->run_state = VCPU_WAIT_SIPI;
	}
	if ((req & VCPU_REQ_SIPI) && v->run_state == VCPU_WAIT_SIPI) {
		sipi_state(v, v->sipi_vector);
		load_new_state(v, VS_INIT);
		v->run_state = VCPU_RUNNING;
	}
	if (req & VCPU_REQ_FLUSH_TLB)
		vcpu_ops->flush_tlb(v);
}

/*
 * Injects a pending NMI, else the highest pending interrupt, each only when
 * the guest can take it; asks for a window for what must wait. An NMI waits
 * while NMIs are blocked (from its delivery until the guest's IRET, SDM 3A
 * 6.7.1) and stays pending meanwhile (one at most, as on hardware).
 */
static void inject_pending(struct vcpu *v)
{
	static const struct vm_exit none;
	struct vm_apply a;
	int vector;

	if (!__atomic_load_n(&v->event_hint, __ATOMIC_ACQUIRE))
		return;
	a = (struct vm_apply){ 0 };
	vector = virq_pending(v);
	if (virq_nmi_pending(v)) {
		if (vcpu_ops->nmi_injectable(v) && virq_take_nmi(v))
			a.event = (struct vcpu_event){ .type = EVENT_NMI, .vector = X86_EXC_NMI };
		else
			a.nmi_window = true;
	}
	if (vector >= 0) {
		if (a.event.type == EVENT_NONE && vcpu_ops->irq_injectable(v)) {
			a.event = (struct vcpu_event){ .type = EVENT_EXTINT, .vector = (u8)vector };
			virq_ack(v, (u8)vector);
			v->stats.irqs_injected++;
		} else {
			a.irq_window = true;
		}
	}
	if (a.event.type != EVENT_NONE || a.irq_window || a.nmi_window)
		vcpu_ops->apply(v, &none, &a);
}

/* What an exit decided, when it is not to resume (the common case). */
static void exit_act(struct vcpu *v, enum exit_action action)
{
	if (action == EXIT_HALT)
		v->run_state = VCPU_HALTED;
	else
		part_stop(v->part, action, v->part->stop_reason);
}

/* Runs v until its partition stops. */
static void vcpu_run(struct vcpu *v)
{
	enum exit_action action;
	struct vm_exit exit;

	for (;;) {
		/* a request posted after this look comes with a kick, which
		 * ends the next entry at once */
		if (__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE)) {
			u32 req = vcpu_take_requests(v);

			if (req & VCPU_REQ_STOP)
				return;
			handle_requests(v, req);
		}
		if (v->run_state != VCPU_RUNNING) {
			if (v->run_state == VCPU_HALTED && event_pending(v)) {
				v->run_state = VCPU_RUNNING;
			} else {
				wait_for_kick(v);
				continue;
			}
		}
		timers(v);
		inject_pending(v);
		vcpu_ops->run(v, &exit);
		v->stats.exits[exit.reason]++;
		action = exit_dispatch(v, &exit);
		if (action != EXIT_RESUME)
			exit_act(v, action);
	}
}

static void vcpu_start(struct vcpu *v)
{
	struct partition *p = v->part;
	int err = 0;

	if (!v->vendor)
		err = vcpu_ops->vcpu_init(v);
	if (err) {
		pr_err("partition %s: vCPU %u: cannot set up (%d)\n", p->name, v->id, err);
		part_stop(p, EXIT_CRASH, "vCPU set-up failed");
		return;
	}
	/* the partition's boot code chose each vCPU's state and run_state;
	 * a (re)started partition begins as after RESET, MSRs, x87 and vector
	 * registers included (SDM 3A 9.1.1); the guest's XCR0 lives in the
	 * real one (hv/vcpu/exit.c) */
	load_new_state(v, VS_ALL);
	fpu_reset();
	vcpu_run(v);
	lapic_timer_arm(VECTOR_TIMER, 0);
	v->cpu->timer_armed = 0;
}

void cpu_idle_loop(struct percpu *c)
{
	for (;;) {
		struct vcpu *v = c->vcpu;
		u64 wake;

		if (v && part_enter(v->part)) {
			vcpu_start(v);
			part_leave(v->part);
			continue;
		}
		/* nothing to run: the console's work, anyone's lines included */
		wake = console_poll(true, rdtsc());
		if (wake != c->timer_armed) {
			lapic_timer_arm(VECTOR_TIMER, wake);
			c->timer_armed = wake;
		}
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}
