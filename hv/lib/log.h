/*
 * Logging, for every part of the hypervisor and its drivers: printk and
 * the "hv: " message macros. The console (hv/console/console.c) implements
 * printk; host unit tests provide their own.
 */
#pragma once

/* printf to the console, no prefix. */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One console message: "hv: " + the formatted text. */
#define pr_info(fmt, ...) printk("hv: " fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) printk("hv: error: " fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk("hv: warning: " fmt, ##__VA_ARGS__)
