/* Basic freestanding types shared by the hypervisor and its host-built parts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* clang-format would read (a) - 1 as a cast */
/* clang-format off */
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
/* clang-format on */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n)) /* bits 32-63, also in 32-bit builds */

#define KiB (1024UL)
#define MiB (1024UL * KiB)
#define GiB (1024UL * MiB)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define LARGE_PAGE_SIZE (2 * MiB)
#define HUGE_PAGE_SIZE (1 * GiB)

#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))
#define __section(s) __attribute__((section(s)))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Error codes returned (negated) by initialisation functions. */
enum {
	E_OK = 0,
	E_NOMEM = 12,
	E_INVAL = 22,
	E_NODEV = 19,
	E_NOENT = 2,
	E_EXIST = 17,
	E_RANGE = 34,
	E_NOSUPP = 95,
	E_IO = 5,
	E_BUSY = 16,
	E_TOOBIG = 7,
};
