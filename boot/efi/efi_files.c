/*
 * hv.conf and the files it names, read from the directory hv.efi was started
 * from, on the same volume (SPEC.md 2). Each file lands in its own
 * EfiLoaderData pages and becomes a boot_info module named after the file.
 */
#include "boot/efi/conf_files.h"
#include "boot/efi/efi_boot.h"
#include "hv/lib/lib.h"

#define CONF_NAME "hv.conf"
#define PATH_CHARS 512 /* UCS-2 characters of the directory path, with NUL */
#define DIR_SEP L'\\'  /* UEFI file paths (UEFI 2.10, 13.5, EFI_FILE_PROTOCOL.Open) */
/* Modules stay below 4 GiB when they can, as with a Multiboot loader. */
#define MODULE_MAX_PHYS 0xffffffffULL

/* EFI_FILE_INFO with room for the file name GetInfo appends. */
union file_info_buf {
	EFI_FILE_INFO info;
	u8 bytes[sizeof(EFI_FILE_INFO) + PATH_CHARS * sizeof(CHAR16)];
};

static struct conf_file_list conf_files;

static void path_append(CHAR16 *path, size_t *len, CHAR16 c)
{
	if (*len + 1 < PATH_CHARS)
		path[(*len)++] = c;
	path[*len] = 0;
}

/*
 * The directory of the image from its file path: the media file path nodes
 * of the loaded image's FilePath (UEFI 2.10, 10.3.5.4), joined, up to the
 * last separator ("\EFI\BOOT\BOOTX64.EFI" -> "\EFI\BOOT"). The volume root
 * when there is no file path.
 */
static void image_dir(const EFI_DEVICE_PATH *dp, CHAR16 *path)
{
	size_t len = 0, last_sep = 0;

	path_append(path, &len, DIR_SEP); /* relative to the volume root */
	for (; dp && !IsDevicePathEnd(dp); dp = NextDevicePathNode(dp)) {
		size_t node_len = DevicePathNodeLength(dp);
		/* PathName need not be aligned: read it byte by byte */
		const u8 *name = (const u8 *)dp + SIZE_OF_FILEPATH_DEVICE_PATH;
		size_t chars;

		if (node_len < SIZE_OF_FILEPATH_DEVICE_PATH)
			break; /* malformed: stop rather than loop */
		if (DevicePathType(dp) != MEDIA_DEVICE_PATH ||
		    DevicePathSubType(dp) != MEDIA_FILEPATH_DP)
			continue;
		chars = (node_len - SIZE_OF_FILEPATH_DEVICE_PATH) / sizeof(CHAR16);
		for (size_t i = 0; i < chars; i++) {
			CHAR16 c = (CHAR16)(name[2 * i] | name[2 * i + 1] << 8);

			if (!c)
				break;
			if (i == 0 && c != DIR_SEP && path[len - 1] != DIR_SEP)
				path_append(path, &len, DIR_SEP);
			if (c != DIR_SEP || path[len - 1] != DIR_SEP)
				path_append(path, &len, c);
		}
	}
	for (size_t i = 0; i < len; i++)
		if (path[i] == DIR_SEP)
			last_sep = i;
	/* drop the file name, but keep the root: "\hv.efi" -> "\" */
	path[last_sep ? last_sep : 1] = 0;
}

static EFI_STATUS open_image_dir(EFI_HANDLE image, EFI_FILE_HANDLE *dir, CHAR16 *path)
{
	EFI_LOADED_IMAGE *li;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = BS->HandleProtocol(image, &gEfiLoadedImageProtocolGuid, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	image_dir(li->FilePath, path);
	st = BS->HandleProtocol(li->DeviceHandle, &gEfiSimpleFileSystemProtocolGuid, (void **)&fs);
	if (EFI_ERROR(st))
		return st; /* e.g. loaded over the network: no volume */
	st = fs->OpenVolume(fs, &root);
	if (EFI_ERROR(st))
		return st;
	st = root->Open(root, dir, path, EFI_FILE_MODE_READ, 0);
	root->Close(root);
	return st;
}

/*
 * An hv.conf name as a path relative to the directory. Printable ASCII only,
 * and no blanks: a module is named by the last word of its name (SPEC.md 2),
 * so a name with blanks could never be found again.
 */
static bool name_to_path(const char *name, CHAR16 *path)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < PATH_CHARS; i++) {
		u8 c = (u8)name[i];

		if (c < ASCII_PRINTABLE_FIRST || c > ASCII_PRINTABLE_LAST || c == ' ')
			return false; /* control, blank or not ASCII */
		path[i] = c == '/' ? DIR_SEP : c;
	}
	path[i] = 0;
	return true;
}

static EFI_STATUS file_size(EFI_FILE_HANDLE f, u64 *size)
{
	static union file_info_buf buf;
	UINTN len = sizeof(buf);
	EFI_STATUS st;

	st = f->GetInfo(f, &gEfiFileInfoGuid, &len, &buf);
	if (EFI_ERROR(st))
		return st;
	if (buf.info.Attribute & EFI_FILE_DIRECTORY)
		return EFI_NOT_FOUND;
	*size = buf.info.FileSize;
	return EFI_SUCCESS;
}

/* Reads the whole file into fresh EfiLoaderData pages. */
static EFI_STATUS read_file(EFI_FILE_HANDLE dir, const CHAR16 *path, u64 *base, u64 *len)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st;
	u64 off = 0;

	st = dir->Open(dir, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = file_size(f, len);
	if (!EFI_ERROR(st))
		st = efi_alloc_pages(EfiLoaderData, *len, MODULE_MAX_PHYS, base);
	if (st == EFI_OUT_OF_RESOURCES)
		st = efi_alloc_pages(EfiLoaderData, *len, 0, base);
	while (!EFI_ERROR(st) && off < *len) {
		UINTN chunk = *len - off;

		st = f->Read(f, &chunk, (void *)(uintptr_t)(*base + off));
		if (!EFI_ERROR(st) && !chunk)
			st = EFI_END_OF_FILE; /* shorter than GetInfo said */
		off += chunk;
	}
	if (EFI_ERROR(st) && *base)
		BS->FreePages(*base, EFI_SIZE_TO_PAGES(*len ? *len : 1));
	f->Close(f);
	return st;
}

/* Loads one file as a module; reports every failure but EFI_NOT_FOUND,
 * which the caller words. */
static EFI_STATUS load_module(EFI_FILE_HANDLE dir, const char *name, struct boot_info *bi)
{
	static CHAR16 path[PATH_CHARS];
	u64 base = 0, len = 0;
	EFI_STATUS st;

	if (!name_to_path(name, path)) {
		efi_msg(L"%a: file names must be printable ASCII without blanks, "
			"skipped\n",
			name);
		return EFI_INVALID_PARAMETER;
	}
	st = read_file(dir, path, &base, &len);
	if (st == EFI_NOT_FOUND)
		return st;
	if (EFI_ERROR(st)) {
		efi_msg(L"%a: cannot read it (%r), skipped\n", name, st);
		return st;
	}
	if (!boot_add_module(bi, base, len, name)) {
		efi_msg(L"%a: too many modules, skipped\n", name);
		BS->FreePages(base, EFI_SIZE_TO_PAGES(len ? len : 1));
		return EFI_OUT_OF_RESOURCES;
	}
	efi_msg(L"%a: %ld bytes at 0x%lx\n", name, len, base);
	return EFI_SUCCESS;
}

void efi_load_modules(EFI_HANDLE image, struct boot_info *bi)
{
	static CHAR16 dir_path[PATH_CHARS];
	const struct boot_module *conf;
	EFI_FILE_HANDLE dir;
	EFI_STATUS st;

	/* Without hv.conf there is nothing to load; the hypervisor itself
	 * reports the missing configuration, so none of this is fatal. */
	st = open_image_dir(image, &dir, dir_path);
	if (EFI_ERROR(st)) {
		efi_msg(L"cannot open the directory of hv.efi (%r): no " CONF_NAME "\n", st);
		return;
	}
	efi_msg(L"reading files from %s\n", dir_path);
	st = load_module(dir, CONF_NAME, bi);
	if (st == EFI_NOT_FOUND)
		efi_msg(L"no " CONF_NAME " in %s\n", dir_path);
	if (EFI_ERROR(st))
		goto out;
	conf = &bi->modules[bi->module_count - 1];
	conf_files_scan((const char *)(uintptr_t)conf->base, conf->len, &conf_files);
	for (u32 i = 0; i < conf_files.count; i++)
		if (load_module(dir, conf_files.names[i], bi) == EFI_NOT_FOUND)
			efi_msg(L"%a: named in " CONF_NAME " but not found in %s, skipped\n",
				conf_files.names[i], dir_path);
	if (conf_files.dropped)
		efi_msg(L"%d file names in " CONF_NAME " were too long or too many, "
			"skipped\n",
			conf_files.dropped);
out:
	dir->Close(dir);
}
