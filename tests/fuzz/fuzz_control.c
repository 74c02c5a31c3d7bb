/*
 * libFuzzer target for the control protocol's request parser
 * (hv/control/proto.c): any bytes as the mailbox's request, of any length
 * up to the request area. Besides the sanitizers it checks what the
 * parser promises: a status it defines, the request only for CTL_OK, and
 * then every field within its rules (the service relies on them).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hv/control/proto.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_control: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                        \
		}                                                                                \
	} while (0)

static u8 mailbox[CTL_REQ_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request out;
	u32 len = size > CTL_REQ_MAX ? CTL_REQ_MAX : (u32)size, st;
	size_t n;

	memset(mailbox, 0, sizeof(mailbox));
	memcpy(mailbox, data, len);
	memset(&out, 0x5a, sizeof(out));
	st = ctl_parse(mailbox, len, &out);
	CHECK(st < CTL_E_COUNT);
	CHECK(ctl_status_text(st) != NULL);
	if (st != CTL_OK) {
		for (size_t i = 0; i < sizeof(out); i++)
			CHECK(((u8 *)&out)[i] == 0x5a);
		return 0;
	}
	CHECK(len == sizeof(out) && out.length == sizeof(out));
	CHECK(out.magic == CTL_REQ_MAGIC && out.version == CTL_VERSION);
	CHECK(out.op > 0 && out.op < CTL_OP_COUNT);
	CHECK(!(out.flags & ~CTL_F_ALL));
	CHECK(!out.offset || out.op == CTL_OP_CONSOLE);
	n = strnlen(out.name, CTL_NAME_SIZE);
	CHECK(n <= CTL_NAME_MAX);
	CHECK(out.op <= CTL_OP_LIST ? n == 0 : ctl_name_ok(out.name, n));
	return 0;
}
