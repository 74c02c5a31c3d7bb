/* The command line, the ACPI RSDP and the framebuffer, from the firmware. */
#include "boot/efi/efi_boot.h"
#include "hv/lib/lib.h"

/* ACPI 6.5, 5.2.5.3: the RSDP and where its revision says how long it is */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIGNATURE_LEN 8
#define RSDP_REVISION_OFFSET 15
#define RSDP_V1_LEN 20 /* revision 0: ACPI 1.0 */
#define RSDP_V2_LEN 36 /* revision 2 and later */
#define RSDP_REVISION_V2 2

#define GOP_BPP_8888 32 /* both 8-bit-per-colour GOP pixel formats */
#define BITS_PER_BYTE 8

static const EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static const EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

static bool is_printable(CHAR16 c)
{
	return (c >= ASCII_PRINTABLE_FIRST && c <= ASCII_PRINTABLE_LAST) || c == L'\t';
}

/* Appends UCS-2 s (at most max characters, NUL-terminated or not) to the
 * command line; a character outside printable ASCII becomes '?'. */
static void cmdline_append(struct boot_info *bi, const CHAR16 *s, size_t max)
{
	size_t len = strlen(bi->cmdline);

	for (size_t i = 0; i < max && s[i] && len + 1 < sizeof(bi->cmdline); i++)
		bi->cmdline[len++] = is_printable(s[i]) ? (char)s[i] : '?';
	bi->cmdline[len] = '\0';
}

static bool has_blank(const CHAR16 *s)
{
	for (; *s; s++)
		if (*s == L' ' || *s == L'\t')
			return true;
	return false;
}

/* The shell puts its parsed arguments on the image handle (UEFI Shell 2.2,
 * 2.3 EFI_SHELL_PARAMETERS_PROTOCOL); Argv[0] is the program. The shell has
 * removed the quotes: put them back around an argument with blanks. */
static bool cmdline_from_shell(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_SHELL_PARAMETERS_PROTOCOL *sp;

	if (EFI_ERROR(BS->HandleProtocol(image, &ShellParametersProtocolGuid, (void **)&sp)))
		return false;
	for (UINTN i = 1; i < sp->Argc; i++) {
		bool quote = !sp->Argv[i][0] || has_blank(sp->Argv[i]);

		if (i > 1)
			cmdline_append(bi, L" ", 1);
		if (quote)
			cmdline_append(bi, L"\"", 1);
		cmdline_append(bi, sp->Argv[i], SIZE_MAX);
		if (quote)
			cmdline_append(bi, L"\"", 1);
	}
	return true;
}

/*
 * Otherwise the load options are the boot option's optional data (UEFI 2.10,
 * 3.1.3), which is text only by convention: firmware-created options carry
 * binary data there. Take them only when they read as printable UCS-2.
 */
static void cmdline_from_load_options(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li;
	const CHAR16 *opt;
	size_t chars;

	if (EFI_ERROR(BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&li)))
		return;
	opt = li->LoadOptions;
	chars = li->LoadOptionsSize / sizeof(CHAR16);
	if (!opt || li->LoadOptionsSize % sizeof(CHAR16))
		return;
	for (size_t i = 0; i < chars && opt[i]; i++)
		if (!is_printable(opt[i]))
			return;
	cmdline_append(bi, opt, chars);
}

void efi_get_cmdline(EFI_HANDLE image, struct boot_info *bi)
{
	bi->cmdline[0] = '\0';
	if (!cmdline_from_shell(image, bi))
		cmdline_from_load_options(image, bi);
	if (bi->cmdline[0])
		efi_msg(L"command line: %a\n", bi->cmdline);
}

/* The RSDP from the configuration table (UEFI 2.10, 4.6): the ACPI 2.0 entry
 * when there is one, else the ACPI 1.0 entry. */
void efi_get_rsdp(struct boot_info *bi)
{
	const u8 *rsdp = NULL;
	u32 len;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		const EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

		if (!memcmp(&t->VendorGuid, &acpi20_guid, sizeof(EFI_GUID))) {
			rsdp = t->VendorTable;
			break;
		}
		if (!memcmp(&t->VendorGuid, &acpi10_guid, sizeof(EFI_GUID)))
			rsdp = t->VendorTable;
	}
	if (!rsdp) {
		efi_msg(L"no ACPI RSDP in the configuration table\n");
		return;
	}
	if (memcmp(rsdp, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN)) {
		efi_msg(L"the configuration table's ACPI RSDP has a bad signature\n");
		return;
	}
	len = rsdp[RSDP_REVISION_OFFSET] >= RSDP_REVISION_V2 ? RSDP_V2_LEN : RSDP_V1_LEN;
	memcpy(bi->rsdp, rsdp, len);
	bi->rsdp_len = len;
}

/* Bits per pixel of a PixelBitMask mode: up to the highest mask bit. */
static u8 bitmask_bpp(const EFI_PIXEL_BITMASK *m)
{
	u32 all = m->RedMask | m->GreenMask | m->BlueMask | m->ReservedMask;
	u8 bpp = 0;

	while (all) {
		bpp++;
		all >>= 1;
	}
	return bpp;
}

/* The current GOP mode, when it has a linear framebuffer (UEFI 2.10, 12.9). */
void efi_get_framebuffer(struct boot_info *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	u8 bpp;

	if (EFI_ERROR(BS->LocateProtocol(&gEfiGraphicsOutputProtocolGuid, NULL, (void **)&gop)) ||
	    !gop->Mode || !gop->Mode->Info)
		return;
	info = gop->Mode->Info;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
	case PixelBlueGreenRedReserved8BitPerColor:
		bpp = GOP_BPP_8888;
		break;
	case PixelBitMask:
		bpp = bitmask_bpp(&info->PixelInformation);
		break;
	default:
		return; /* PixelBltOnly: no framebuffer to hand over */
	}
	bi->fb.addr = gop->Mode->FrameBufferBase;
	bi->fb.width = info->HorizontalResolution;
	bi->fb.height = info->VerticalResolution;
	bi->fb.pitch = info->PixelsPerScanLine * ALIGN_UP((u32)bpp, BITS_PER_BYTE) / BITS_PER_BYTE;
	bi->fb.bpp = bpp;
}
