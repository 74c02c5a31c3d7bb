/*
 * The console's command mode (SPEC 7): Ctrl-A then ':' opens a `hv> `
 * prompt on the physical console that takes hvctl's commands (list,
 * start NAME, stop NAME [--force], restart NAME [--force], stats NAME,
 * info, help), with backspace; Enter runs the line and the console
 * returns to the partition with the focus (Ctrl-C or Esc: nothing runs).
 * Meanwhile the console holds everyone else's output and shows it after
 * (console_hold).
 */
#pragma once

#include "hv/hw/control.h"
#include "hv/lib/types.h"

#define COMMAND_LINE_MAX 64

struct command_line {
	bool open;
	u32 len;
	char buf[COMMAND_LINE_MAX];
};

/* Whether the prompt is open: then every input byte is command_feed's. */
static inline bool command_open(const struct command_line *l)
{
	return l->open;
}

/* Opens the prompt (after Ctrl-A ':'). */
void command_start(struct command_line *l);
/* One typed byte of an open prompt: edits, echoes, or runs the line. */
void command_feed(struct command_line *l, u8 byte);

/*
 * The request a command line asks for, into *r: NULL, or a message for
 * the user (an unknown command, a missing name); *help for "help" (no
 * request). Pure (unit-tested).
 */
const char *command_parse(const char *line, struct ctl_request *r, bool *help);
