/*
 * The isolation marker: a 64-byte block that the marker guest writes all
 * over its RAM and the scanner guest looks for. It is built from the
 * marker=HEX value of the command line, so that each test run has its own.
 */
#pragma once

#include "types.h"

#define MARKER_SIZE 64
#define MARKER_HEX_MAX 32

/* Builds the block from marker= (fails the guest if it is missing or not
 * hex); hex gets the normalised value (lower case, no 0x). */
void marker_from_cmdline(u8 block[MARKER_SIZE], char hex[MARKER_HEX_MAX + 1]);
