/*
 * smp: starts every other CPU with INIT-SIPI-SIPI, one at a time, to APIC
 * IDs 1..N-1 (N from CPUID, which must equal cpus=N when given). Each AP
 * records its APIC ID from the local APIC's ID register and from
 * CPUID.1:EBX[31:24]. PASS when exactly N-1 APs came in, each once, and
 * the N CPUs have the distinct IDs 0..N-1, each AP the one it was sent.
 *
 * PASS details: cpus=N ids=0,1,...
 */
#include "smp.h"
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lapic.h"
#include "lib.h"
#include "multiboot.h"
#include "tsc.h"

#define AP_CHECKIN_TIMEOUT_MS 1000
#define STRAY_ENTRY_WAIT_MS 20 /* for a second, unwanted start of an AP */
#define ID_NONE 0xffffffffU

const char guest_name[] = "smp";

struct ap_record {
	volatile u32 done;
	u32 lapic_id, cpuid_id;
};

static struct ap_record ap_records[SMP_MAX_CPUS];

static void ap_main(u32 ticket)
{
	struct ap_record *rec = &ap_records[ticket];

	rec->lapic_id = lapic_id();
	rec->cpuid_id = cpuid(CPUID_FEATURES_LEAF).ebx >> CPUID_1_EBX_APIC_ID_SHIFT;
	__atomic_store_n(&rec->done, 1, __ATOMIC_RELEASE);
}

static void start_one(u32 ticket, u32 apic_id)
{
	struct ap_record *rec = &ap_records[ticket];
	u64 start;

	if (!smp_start_ap(apic_id))
		guest_fail("IPI to APIC ID %u stayed pending (ICR delivery status)", apic_id);
	if (!smp_wait_entries(ticket + 1, AP_CHECKIN_TIMEOUT_MS))
		guest_fail("APIC ID %u did not start (%u AP entries so far)", apic_id,
			   smp_ap_entries());
	start = rdtsc();
	while (!__atomic_load_n(&rec->done, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > tsc_ticks_ms(AP_CHECKIN_TIMEOUT_MS))
			guest_fail("AP %u (APIC ID %u) entered but did not check in", ticket,
				   apic_id);
		cpu_relax();
	}
	con_printf("smp: AP for APIC ID %u is up: LAPIC ID %u, CPUID ID %u\n", apic_id,
		   rec->lapic_id, rec->cpuid_id);
	if (rec->lapic_id != apic_id || rec->cpuid_id != apic_id)
		guest_fail("sent INIT-SIPI to APIC ID %u, the CPU that came says LAPIC ID %u, "
			   "CPUID ID %u",
			   apic_id, rec->lapic_id, rec->cpuid_id);
}

void guest_main(void)
{
	u32 cpus = smp_cpu_count(), want = (u32)cmdline_u64("cpus", cpus);
	u32 bsp_lapic, bsp_cpuid;
	char ids[SMP_MAX_CPUS * 4] = "";
	size_t len = 0;

	if (cpus != want)
		guest_fail("CPUID says %u CPUs, cmdline cpus=%u", cpus, want);
	if (cpus > SMP_MAX_CPUS)
		guest_fail("%u CPUs, this guest handles %u", cpus, SMP_MAX_CPUS);
	if (!mb_is_ram(SMP_TRAMPOLINE_BASE))
		guest_fail("no RAM at 0x%x for the AP trampoline", SMP_TRAMPOLINE_BASE);

	lapic_enable();
	bsp_lapic = lapic_id();
	bsp_cpuid = cpuid(CPUID_FEATURES_LEAF).ebx >> CPUID_1_EBX_APIC_ID_SHIFT;
	con_printf("smp: %u CPUs, BSP LAPIC ID %u (CPUID %u), LAPIC at 0x%x version 0x%x\n", cpus,
		   bsp_lapic, bsp_cpuid, (u32)lapic_base(), lapic_read(APIC_VERSION));
	if (bsp_lapic != 0 || bsp_cpuid != 0)
		guest_fail("BSP has LAPIC ID %u, CPUID ID %u; want 0", bsp_lapic, bsp_cpuid);

	smp_prepare(ap_main);
	for (u32 id = 1; id < cpus; id++)
		start_one(id - 1, id);

	/* an AP that starts twice (a SIPI not ignored) takes a second ticket */
	tsc_delay_us(STRAY_ENTRY_WAIT_MS * 1000);
	if (smp_ap_entries() != cpus - 1)
		guest_fail("%u AP entries for %u APs: an AP started more than once",
			   smp_ap_entries(), cpus - 1);

	/* distinct and 0..N-1: the BSP is 0 and AP k answered as the ID k it was sent */
	for (u32 id = 0; id < cpus; id++)
		len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%u", id ? "," : "", id);
	guest_pass("cpus=%u ids=%s", cpus, ids);
}
