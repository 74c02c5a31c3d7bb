/* Console focus switching (SPEC 4): pure, unit-tested on the host. */
#include "hv/console/focus.h"

bool focus_feed(struct focus_state *f, u8 byte, u8 *out, u32 *n)
{
	*n = 0;
	if (byte == FOCUS_CTRL_A) {
		if (++f->presses < FOCUS_SWITCH_PRESSES)
			return false;
		f->presses = 0;
		return true;
	}
	while (f->presses) {
		out[(*n)++] = FOCUS_CTRL_A;
		f->presses--;
	}
	out[(*n)++] = byte;
	return false;
}

bool focus_command(struct focus_state *f, u8 byte)
{
	if (f->presses != 1 || byte != FOCUS_COMMAND_KEY)
		return false;
	f->presses = 0;
	return true;
}
