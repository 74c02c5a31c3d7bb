#!/usr/bin/env bash
# fetch-kernel.sh: the guest kernel, Debian's current linux-image-amd64
# (SPEC.md 1), into build/linux/.
#
#   tools/guest/fetch-kernel.sh [--update] [DIR]    DIR defaults to build/linux
#
# Resolves the kernel package the linux-image-amd64 metapackage depends on
# (linux-image-6.1.0-N-amd64 on Debian 12), downloads and unpacks it into
# DIR/pkg/ (the kernel, its config and the whole module tree under
# DIR/pkg/lib/modules/) with tools/guest/fetch-deb.sh, and leaves:
#
#   DIR/vmlinuz    the bzImage
#   DIR/config     its build configuration
#   DIR/version    the kernel release, as `uname -r` prints it
#   DIR/package    "PACKAGE VERSION" of the Debian package
#
# When DIR already has them it does nothing, at once and without asking apt,
# so that a build keeps the kernel it started with; --update resolves the
# metapackage again and fetches its kernel if that changed. Fails if the
# kernel lacks, built in, what the guest images need to reach a shell on the
# serial console without modules (the initramfs carries none).
set -euo pipefail

die()
{
	echo "${0##*/}: $*" >&2
	exit 1
}

update=()
if [[ ${1-} == --update ]]; then
	update=(--update)
	shift
fi
here=$(dirname "$0")
dir=${1:-build/linux}
meta=linux-image-amd64

if ((${#update[@]} == 0)); then
	have=1
	for f in vmlinuz config version package; do
		[[ -s $dir/$f ]] || have=
	done
	[[ -z $have ]] || exit 0
fi

# The first "Depends: linux-image-..." of the metapackage's candidate.
resolve()
{
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[^ <>]*\)$/\1/p' | head -n 1
}

package=$(resolve)
if [[ -z $package ]]; then
	((EUID == 0)) || die "$meta: not in the package lists; run as root: apt-get update"
	echo "${0##*/}: $meta: refreshing the package lists (apt-get update)" >&2
	apt-get update -q >&2
	package=$(resolve)
	[[ -n $package ]] || die "$meta: cannot tell which kernel package it depends on"
fi

"$here/fetch-deb.sh" "${update[@]}" "$package" "$dir"

# linux-image-6.1.0-56-amd64 holds boot/vmlinuz-6.1.0-56-amd64
release=${package#linux-image-}
kernel=$dir/pkg/boot/vmlinuz-$release
config=$dir/pkg/boot/config-$release
[[ -f $kernel ]] || die "$package: no boot/vmlinuz-$release in the package"
[[ -f $config ]] || die "$package: no boot/config-$release in the package"

# What /init and the tests rely on, and none of it may be a module: the
# 16550 console, ACPI (tables, S5 power-off, PM timer), the initramfs
# (gzip), devtmpfs, tmpfs, /proc, /sys, SMP with the local and I/O APIC,
# and magic SysRq for the crash trigger.
required="SERIAL_8250 SERIAL_8250_CONSOLE ACPI ACPI_SLEEP X86_PM_TIMER BLK_DEV_INITRD
	RD_GZIP DEVTMPFS TMPFS PROC_FS SYSFS SMP X86_LOCAL_APIC X86_IO_APIC
	BINFMT_ELF BINFMT_SCRIPT MAGIC_SYSRQ PRINTK"
missing=()
for opt in $required; do
	grep -qx "CONFIG_$opt=y" "$config" || missing+=("CONFIG_$opt")
done
((${#missing[@]} == 0)) || die "$config: not built in: ${missing[*]}"

# Copy only what changed, so that make sees a new kernel only when it is one.
if ! cmp -s "$kernel" "$dir/vmlinuz"; then
	cp "$kernel" "$dir/vmlinuz.tmp"
	mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
fi
cmp -s "$config" "$dir/config" || cp "$config" "$dir/config"
[[ -f $dir/version && $(<"$dir/version") == "$release" ]] || echo "$release" >"$dir/version"
