#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages that building and testing
# Tessera need, when any is missing (SPEC.md 1: make test and make demo work
# on a fresh machine with nothing installed by hand).
#
#   tools/install-deps.sh [PACKAGE...]
#
# The PACKAGEs are added to the built-in list (Makefile fragments pass theirs
# through DEB_PACKAGES). When everything is installed it only checks, which
# takes a fraction of a second. Otherwise, as root, it runs apt-get update and
# apt-get install; as another user it prints the command to run and fails.
set -euo pipefail

packages=(
	# build
	make gcc libc6-dev binutils nasm clang lld gnu-efi
	# unit tests, fuzzing (libclang-rt-14-dev: libFuzzer, which clang-14
	# only recommends), the C style check (make format-check)
	libcmocka-dev python3 python3-pytest libclang-rt-14-dev clang-format
	# boot media
	grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools dosfstools
	# emulators and firmware (ipxe-qemu: the NICs' PXE ROMs)
	qemu-system-x86 ovmf seabios ipxe-qemu bochs bochsbios vgabios
	# unshare, to keep emulators off the network
	util-linux
	"$@"
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

if ((EUID != 0)); then
	echo "${0##*/}: missing Debian packages: ${missing[*]}" >&2
	echo "${0##*/}: install them with: sudo make deps   (or, as root:" \
		"apt-get update && apt-get install --no-install-recommends ${missing[*]})" >&2
	exit 1
fi

echo "${0##*/}: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
