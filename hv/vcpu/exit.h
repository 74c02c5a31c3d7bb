/* The core's decision for each neutral exit (hv/vcpu/vm_exit.h). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vm_exit.h"

struct vcpu;

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, struct vm_exit *e);

/* The table: one handler per reason (a unit test checks every reason has
 * one). */
extern const exit_handler_fn exit_handlers[VMEXIT_REASON_COUNT];

/* Handles e; applies its result through vcpu_ops->apply. A reason past the
 * table is VMEXIT_UNHANDLED's. Inline: every exit runs it. */
static inline enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
	return exit_handlers[e->reason < VMEXIT_REASON_COUNT ? e->reason : VMEXIT_UNHANDLED](v, e);
}

/* Resumes after skipping the exiting instruction. */
enum exit_action exit_skip(struct vcpu *v, struct vm_exit *e);
/* Injects an exception and resumes. */
enum exit_action exit_inject(struct vcpu *v, struct vm_exit *e, u8 vector, bool has_error,
			     u32 error_code);
/* Records why the partition stops and returns the action. */
enum exit_action exit_fatal(struct vcpu *v, enum exit_action action, const char *reason);
