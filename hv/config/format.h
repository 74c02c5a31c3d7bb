/*
 * hv.conf's plan and problems as text, in the words hv.conf uses: part of
 * the public API of hv/config/config.h, which includes this header.
 */
#pragma once

#include "hv/lib/types.h"

struct config_partition;

/* "hv.conf:LINE: MSG" into buf; returns what snprintf returns. */
int config_format_report(char *buf, size_t size, u32 line, const char *msg);

/* A size in the largest unit that divides it: "512M", "2G", "1536K", "7". */
int config_format_size(char *buf, size_t size, u64 bytes);

/* A CPU bitmap as a list with ranges: "0-1,5". */
int config_format_cpus(char *buf, size_t size, const u64 *cpus);

/* The plan of one partition on one line (cmdline excluded). */
int config_format_partition(char *buf, size_t size, const struct config_partition *p);

/* Names of enum values, as written in hv.conf. */
const char *config_hv_console_name(u32 console);
const char *config_on_idle_name(u32 on_idle);
const char *config_part_console_name(u32 console);
const char *config_action_name(u32 action);
