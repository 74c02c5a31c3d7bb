/* Console input focus (SPEC 4): Ctrl-A three times moves it to the next partition. */
#pragma once

#include "hv/lib/types.h"

#define FOCUS_CTRL_A 0x01
#define FOCUS_SWITCH_PRESSES 3
#define FOCUS_COMMAND_KEY ':' /* after one Ctrl-A: the command prompt (SPEC 7) */

struct focus_state {
	u32 presses; /* Ctrl-A bytes held back so far */
};

/*
 * Feeds one input byte. Returns true when it completed the switch sequence;
 * otherwise *n bytes in out (at most FOCUS_SWITCH_PRESSES) go to the
 * partition with the focus: held-back Ctrl-As are released when another
 * byte breaks the sequence.
 */
bool focus_feed(struct focus_state *f, u8 byte, u8 *out, u32 *n);
/* Whether byte, after exactly one held Ctrl-A, asks for the command
 * prompt; then the Ctrl-A is consumed. Ask before focus_feed. */
bool focus_command(struct focus_state *f, u8 byte);
