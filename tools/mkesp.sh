#!/usr/bin/env bash
# mkesp.sh: a FAT disk image that UEFI firmware boots hv.efi from.
#
#   tools/mkesp.sh -o OUT.img [-e HV.EFI] [-p EFI-DIR] [FILE | FILE:NAME]...
#
# The image holds one FAT file system (no partition table: firmware reads
# such a "superfloppy" as an ESP) with the hypervisor as
# EFI/BOOT/BOOTX64.EFI (the default EFI-DIR: the removable-media boot path,
# UEFI 2.10 section 3.5.1.1) or EFI-DIR/hv.efi, and every FILE beside it as NAME:
# hv.efi reads hv.conf and the files it names from its own directory
# (SPEC.md 2). Write the image to a stick with dd, or copy the same files
# into one directory of an existing ESP (docs/boot.md).
set -euo pipefail
# shellcheck source=tools/media-common.sh
. "$(dirname "$0")/media-common.sh"

usage()
{
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

out='' efi=build/hv.efi dir=EFI/BOOT
while getopts "o:e:p:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	e) efi=$OPTARG ;;
	p) dir=${OPTARG%/} ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ -n $out ]] || usage
[[ -f $efi ]] || die "$efi: no such file (run make first)"
[[ $dir =~ ^[A-Za-z0-9_/-]+$ ]] || die "$dir: use A-Z a-z 0-9 _ - / in EFI-DIR"
media_parse_files "$@"
for tool in mkfs.fat mmd mcopy; do
	command -v "$tool" >/dev/null || die "$tool not found (tools/install-deps.sh)"
done

# Room for the files, FAT overhead and some slack; at least 8 MiB.
kib=$(du -k --apparent-size -c "$efi" "${MEDIA_PATHS[@]}" | tail -1 | cut -f1)
kib=$((kib + kib / 8 + 2048))
((kib >= 8192)) || kib=8192

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
trap 'rm -f "$tmp_out"' EXIT
rm -f "$tmp_out"
mkfs.fat -C -n TESSERA "$tmp_out" "$kib" >/dev/null
path=
IFS=/ read -r -a parts <<<"$dir"
for part in "${parts[@]}"; do
	path="$path/$part"
	mmd -i "$tmp_out" "::$path"
done
# The removable-media path needs the architecture's default name; elsewhere
# the application keeps its own.
app=hv.efi
[[ ${dir^^} != EFI/BOOT ]] || app=BOOTX64.EFI
mcopy -i "$tmp_out" "$efi" "::$dir/$app"
for ((i = 0; i < ${#MEDIA_PATHS[@]}; i++)); do
	mcopy -i "$tmp_out" "${MEDIA_PATHS[i]}" "::$dir/${MEDIA_NAMES[i]}"
done
mv -f "$tmp_out" "$out"
trap - EXIT
names=${MEDIA_NAMES[*]}
echo "${0##*/}: $out: $dir/$app + ${#MEDIA_NAMES[@]} file(s)${names:+ ($names)}"
