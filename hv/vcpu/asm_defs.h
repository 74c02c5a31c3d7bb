/*
 * Numbers the assembly stubs take from C (Jailhouse's asm-defines.c is the
 * idea). The files that use ASM_DEFINE (the Makefile's ASM_DEFS_C: this
 * folder's asm_defs.c and each backend's) are compiled to assembly only,
 * never linked; each "=>NAME value" line they produce becomes "%define NAME
 * value" in the one generated $(BUILD)/gen/asm_defs.inc that the stubs
 * %include. A value is computed by the compiler from its C definition (an
 * enum, a #define, offsetof), so C and NASM cannot disagree.
 */
#pragma once

#include "hv/lib/types.h"

#define ASM_DEFINE(name, value) __asm__ volatile("\n=>" #name " %c0" : : "i"((u64)(value)))
