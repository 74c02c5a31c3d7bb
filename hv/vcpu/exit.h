/* The core's decision for each neutral exit (hv/vcpu/vm_exit.h). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vm_exit.h"

struct vcpu;

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, struct vm_exit *e);

/* Handles e; applies its result through vcpu_ops->apply. */
enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e);
/* The table, for the unit test that checks every reason has a handler. */
extern const exit_handler_fn exit_handlers[VMEXIT_REASON_COUNT];

/* Resumes after skipping the exiting instruction. */
enum exit_action exit_skip(struct vcpu *v, struct vm_exit *e);
/* Injects an exception and resumes. */
enum exit_action exit_inject(struct vcpu *v, struct vm_exit *e, u8 vector, bool has_error,
			     u32 error_code);
/* Records why the partition stops and returns the action. */
enum exit_action exit_fatal(struct vcpu *v, enum exit_action action, const char *reason);
