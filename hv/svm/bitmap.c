/*
 * The AMD-V permission maps: the I/O permission map (APM 2 15.10.1, one bit
 * per port) and the MSR permission map (15.11, two bits per MSR). A set bit
 * makes the access exit. They change while the partition is built, before
 * any of its vCPUs runs.
 */
#include "hv/svm/logic.h"

/* APM 2 15.11: three 2 KiB ranges of 8 Ki MSRs, two bits (read, write) per
 * MSR; the last 2 KiB of the map are reserved */
#define MSRPM_RANGE_MSRS 0x2000U

long svm_msrpm_bit(u32 msr)
{
	static const struct {
		u32 first;
		u32 offset; /* in bytes */
	} ranges[] = {
		{ 0x00000000, 0x0000 },
		{ 0xc0000000, 0x0800 },
		{ 0xc0010000, 0x1000 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		if (msr >= ranges[i].first && msr - ranges[i].first < MSRPM_RANGE_MSRS)
			return (long)ranges[i].offset * 8 + (msr - ranges[i].first) * 2;
	return -1; /* outside the map: always intercepted */
}

static void set_bit_to(u8 *map, long bit, bool on)
{
	if (on)
		map[bit / 8] |= (u8)BIT(bit % 8);
	else
		map[bit / 8] &= (u8)~BIT(bit % 8);
}

void svm_msrpm_set(u8 *msrpm, u32 msr, bool read, bool write)
{
	long bit = svm_msrpm_bit(msr);

	if (bit < 0)
		return;
	set_bit_to(msrpm, bit, read);
	set_bit_to(msrpm, bit + 1, write);
}

void svm_iopm_set(u8 *iopm, u16 port, bool intercept)
{
	set_bit_to(iopm, port, intercept);
}
