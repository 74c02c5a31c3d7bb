/*
 * The VMX intercept bitmaps (SDM 3C 25.6.4 I/O bitmaps, 25.6.9 MSR bitmaps).
 * A set bit makes the access exit. Bits change with atomic byte operations:
 * vCPUs of the partition may be running on other CPUs.
 */
#include "hv/vmx/logic.h"

/* 25.6.9: four 1 KiB quarters, one bit per MSR */
#define MSR_LOW_FIRST 0x00000000U
#define MSR_HIGH_FIRST 0xc0000000U
#define MSR_RANGE_SIZE 0x2000U
#define MSR_READ_LOW 0x000
#define MSR_READ_HIGH 0x400
#define MSR_WRITE_LOW 0x800
#define MSR_WRITE_HIGH 0xc00

/* 25.6.4: bitmap A covers ports 0000-7fff, B 8000-ffff */
#define IO_BITMAP_B_FIRST 0x8000U

static void bit_to(u8 *map, u32 bit, bool on)
{
	u8 m = (u8)(1U << (bit % 8));

	if (on)
		__atomic_fetch_or(&map[bit / 8], m, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&map[bit / 8], (u8)~m, __ATOMIC_RELAXED);
}

void vmx_msr_bitmap_set(u8 *bitmap, u32 msr, bool read, bool write)
{
	u32 read_off, write_off, bit;

	if (msr - MSR_LOW_FIRST < MSR_RANGE_SIZE) {
		read_off = MSR_READ_LOW;
		write_off = MSR_WRITE_LOW;
		bit = msr - MSR_LOW_FIRST;
	} else if (msr - MSR_HIGH_FIRST < MSR_RANGE_SIZE) {
		read_off = MSR_READ_HIGH;
		write_off = MSR_WRITE_HIGH;
		bit = msr - MSR_HIGH_FIRST;
	} else {
		return; /* outside both ranges: RDMSR/WRMSR always exit */
	}
	bit_to(bitmap + read_off, bit, read);
	bit_to(bitmap + write_off, bit, write);
}

void vmx_io_bitmap_set(u8 *a, u8 *b, u16 port, bool intercept)
{
	if (port < IO_BITMAP_B_FIRST)
		bit_to(a, port, intercept);
	else
		bit_to(b, port - IO_BITMAP_B_FIRST, intercept);
}
