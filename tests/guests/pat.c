/*
 * pat: the guest's own IA32_PAT (SDM 3A 12.12). It reads the power-up
 * value 0007040600070406H at start (after a restart too), reads back what
 * it writes (every memory type in every entry), and a write with a reserved
 * memory type or bit raises #GP and changes nothing (12.12.2). With
 * reboot=1 it then leaves a PAT of its own in place and resets the machine
 * (port 0xCF9): inside a partition with on_reboot = restart, the next run
 * must find the power-up value again, not what the last run left.
 *
 * Keys: reboot=1
 * PASS details: pat=0x0007040600070406 valid=N reserved_gp=N
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/msr.h"
#include "hv/hw/x86.h"
#include "trap.h"

#define PAT_POWER_UP 0x0007040600070406ULL
#define PAT_LEFT_BEHIND 0x0101010101010101ULL /* all write-combining */

const char guest_name[] = "pat";

static const u64 valid[] = {
	0x0706050401000706ULL, /* UC- WB WP WT WC UC UC- WB */
	0x0000000000000000ULL, /* all UC */
	0x0606060606060606ULL, /* all WB */
	0x0007010600070106ULL, /* Linux's: WC in entry 1 */
};

static const u64 reserved[] = {
	0x0007040600070402ULL, /* type 2 in entry 0 */
	0x0307040600070406ULL, /* type 3 in entry 7 */
	0x0007040600080406ULL, /* type 8 in entry 2 */
	0x0007040600070416ULL, /* bit 4 of entry 0 */
	0x8007040600070406ULL, /* bit 63 */
};

static u64 pat_read(void)
{
	u64 val;

	if (!msr_read_safe(MSR_IA32_PAT, &val))
		guest_fail("RDMSR IA32_PAT raised #GP");
	return val;
}

void guest_main(void)
{
	u64 pat = pat_read(), now;

	if (pat != PAT_POWER_UP)
		guest_fail("IA32_PAT is 0x%llx at start, not the power-up 0x%llx", pat,
			   PAT_POWER_UP);
	for (u32 i = 0; i < ARRAY_SIZE(valid); i++) {
		if (!msr_write_safe(MSR_IA32_PAT, valid[i]))
			guest_fail("WRMSR IA32_PAT 0x%llx raised #GP", valid[i]);
		now = pat_read();
		if (now != valid[i])
			guest_fail("IA32_PAT reads 0x%llx after writing 0x%llx", now, valid[i]);
	}
	for (u32 i = 0; i < ARRAY_SIZE(reserved); i++) {
		if (msr_write_safe(MSR_IA32_PAT, reserved[i]))
			guest_fail("WRMSR IA32_PAT 0x%llx (reserved) did not raise #GP",
				   reserved[i]);
		now = pat_read();
		if (now != valid[ARRAY_SIZE(valid) - 1])
			guest_fail("IA32_PAT reads 0x%llx after a refused write of 0x%llx", now,
				   reserved[i]);
	}
	if (!cmdline_flag("reboot"))
		guest_pass("pat=0x%llx valid=%u reserved_gp=%u", pat, (u32)ARRAY_SIZE(valid),
			   (u32)ARRAY_SIZE(reserved));
	guest_pass_continue("pat=0x%llx valid=%u reserved_gp=%u", pat, (u32)ARRAY_SIZE(valid),
			    (u32)ARRAY_SIZE(reserved));
	msr_write_safe(MSR_IA32_PAT, PAT_LEFT_BEHIND);
	con_printf("pat: left IA32_PAT at 0x%llx, resetting\n", PAT_LEFT_BEHIND);
	guest_reboot();
}
