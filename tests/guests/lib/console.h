/* Output to COM1, polled; safe to call from several CPUs at once. */
#pragma once

#include "types.h"

void con_init(void); /* once, on the boot CPU, before any output */
void con_putc(char c);
void con_write(const char *s);
void con_vprintf(const char *fmt, va_list ap);
void con_printf(const char *fmt, ...) __printf(1, 2);
