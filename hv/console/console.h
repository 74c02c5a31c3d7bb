/* The hypervisor console: its own "hv: " lines on the physical UART. */
#pragma once

#include "hv/lib/log.h"
#include "hv/lib/types.h"

/* Picks the UART named by "console=com1..com4|none" (default com1). */
void console_init(const char *cmdline);
/* [hypervisor] console = com1..com4 (index 0-3) or none (-1). */
void console_select(int com_index);
/* Writes raw bytes, holding the console lock for the whole buffer. */
void console_write(const char *s, size_t len);
/*
 * A partition's output (SPEC 4): TEXT continues the console line that
 * partition NAME has open (a shown prompt), or starts "[NAME] " on a new
 * one; EOL ends the line. A line left open ends before anyone else's
 * output, which then starts on a line of its own.
 */
void console_partition_text(const char *name, const char *text, size_t len, bool eol);
/* TEXT continues NAME's open console line if it still is; false, and
 * nothing written, once other output has ended it. */
bool console_partition_more(const char *name, const char *text, size_t len);
/* The command prompt (hv/console/command.c) opens (on) or closes: while
 * it is open everything else written waits, and goes out at the close. */
void console_hold(bool on);
/* The prompt's own output, written while the console holds the rest. */
void console_prompt_write(const char *s, size_t len);
/* Returns -1 when no input is waiting. */
int console_getc(void);
/* Used by the fatal path: take the console even if a crashed CPU holds it. */
void console_force_unlock(void);
