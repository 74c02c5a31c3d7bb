/*
 * constall: a hostile console writer (the console-stall test). It sends
 * COM1 long lines without a newline, polled, as fast as the UART takes
 * them: forever, or with bytes=N, N bytes and then the verdict. width=W
 * makes every W-th byte a newline (0, the default: none). Under the old
 * console each 1024 bytes went out to the physical UART in one piece while
 * every other CPU that wanted to print waited.
 *
 * PASS details: bytes=N width=W
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"

#define PATTERN_FIRST '!' /* printable ASCII, a byte's position in it */
#define PATTERN_SPAN 94

const char guest_name[] = "constall";

void guest_main(void)
{
	u32 bytes = (u32)cmdline_u64("bytes", 0), width = (u32)cmdline_u64("width", 0);

	con_printf("constall: %u bytes, %s\n", bytes, width ? "lines" : "no newline");
	for (u32 i = 0; !bytes || i < bytes; i++)
		con_putc(width && i % width == width - 1 ?
				 '\n' :
				 (char)(PATTERN_FIRST + i % PATTERN_SPAN));
	if (!width || bytes % width)
		con_putc('\n'); /* the verdict on a line of its own */
	guest_pass("bytes=%u width=%u", bytes, width);
}
