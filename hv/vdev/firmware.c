/* The partition's ACPI tables, from its devices (firmware.h). */
#include "hv/vdev/firmware.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

#define ACPI_OEM "TESSRA"

int firmware_build(struct vdev_registry *reg, u64 *rsdp_gpa)
{
	struct acpi_build_cfg cfg = {
		.cpu_count = reg->owner.vcpu_count,
		.base_gpa = PLAT_ACPI_BASE,
		.size = PLAT_ACPI_SIZE,
		.oem_id = ACPI_OEM,
	};
	u8 *buf = reg->host->gpa_ptr(reg->owner.part, PLAT_ACPI_BASE, PLAT_ACPI_SIZE);
	int rc;

	vdev_firmware(reg, &cfg);
	rc = buf ? acpi_build(&cfg, buf, rsdp_gpa) : -E_RANGE;
	return rc < 0 ? rc : 0;
}
