#!/usr/bin/env bash
# mkpxe.sh: a TFTP root that network-boots the hypervisor (SPEC.md 1,
# `make pxe`).
#
#   tools/mkpxe.sh -o DIR [-k HV.ELF] [-t TIMEOUT] [-d DEFAULT] [-c CMDLINE]
#                  [FILE | FILE:NAME]...
#
# DIR is replaced by a tree made with grub-mknetdir for BIOS and UEFI:
#   boot/grub/i386-pc/core.0        DHCP bootfile for BIOS PXE clients
#   boot/grub/x86_64-efi/core.efi   DHCP bootfile for UEFI clients (arch 7, 9)
#   boot/grub/grub.cfg              the menu both read, over TFTP
#   boot/hv.elf, boot/modules/NAME  what the menu loads
# The menu is the ISO's (docs/boot.md): Multiboot2 (entry 0) or Multiboot1.
set -euo pipefail
# shellcheck source=tools/media-common.sh
. "$(dirname "$0")/media-common.sh"

usage()
{
	sed -n 's/^#   //p' "$0" | head -2 >&2
	exit 2
}

out='' kernel=build/hv.elf timeout=3 default=0 cmdline=''
while getopts "o:k:t:d:c:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	k) kernel=$OPTARG ;;
	t) timeout=$OPTARG ;;
	d) default=$OPTARG ;;
	c) cmdline=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ -n $out ]] || usage
[[ -f $kernel ]] || die "$kernel: no such file (run make first)"
media_check_number "$timeout" "the menu timeout (-t)"
media_check_number "$default" "the default entry (-d)"
media_parse_files "$@"
command -v grub-mknetdir >/dev/null || die "grub-mknetdir not found (tools/install-deps.sh)"

# Build beside DIR, then swap, so that DIR is never half-written.
out=${out%/}
stage="$out.tmp.$$"
log="$out.log.$$"
rm -rf "$stage"
trap 'rm -rf "$stage" "$log"' EXIT
mkdir -p "$stage/boot/modules"
for platform in i386-pc x86_64-efi; do
	[[ -d /usr/lib/grub/$platform ]] ||
		die "/usr/lib/grub/$platform missing (tools/install-deps.sh)"
	if ! grub-mknetdir --net-directory="$stage" --subdir=boot/grub \
		--locales= --fonts= --themes= -d "/usr/lib/grub/$platform" \
		>"$log" 2>&1; then
		cat "$log" >&2
		die "grub-mknetdir for $platform failed"
	fi
done
rm -f "$log"
cp "$kernel" "$stage/boot/hv.elf"
for ((i = 0; i < ${#MEDIA_PATHS[@]}; i++)); do
	cp "${MEDIA_PATHS[i]}" "$stage/boot/modules/${MEDIA_NAMES[i]}"
done
# GRUB sets $root to the TFTP server it came from, so absolute paths work.
media_grub_cfg /boot/hv.elf /boot/modules "$timeout" "$default" "$cmdline" \
	>"$stage/boot/grub/grub.cfg"
rm -rf "$out"
mv "$stage" "$out"
names=${MEDIA_NAMES[*]}
echo "${0##*/}: $out/: hv.elf + ${#MEDIA_NAMES[@]} module(s)${names:+ ($names)}"
echo "${0##*/}: DHCP bootfile: boot/grub/i386-pc/core.0 (BIOS), boot/grub/x86_64-efi/core.efi (UEFI)"
