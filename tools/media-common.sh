# shellcheck shell=bash
# Shared by tools/mkiso.sh, tools/mkpxe.sh and tools/mkesp.sh (sourced, not
# run). Boot media carry the hypervisor and a list of files; each file is
# given as PATH (its name on the media is the basename) or PATH:NAME. The name
# is what the hypervisor sees: the Multiboot module name (SPEC.md 2: the last
# word of the module command line) or, on an ESP, the file name beside hv.efi.

# die MESSAGE: print "PROG: MESSAGE" and fail.
die()
{
	echo "${0##*/}: $*" >&2
	exit 1
}

# media_parse_files SPEC...: fills the arrays MEDIA_PATHS and MEDIA_NAMES,
# checking that every file exists and that the names are usable and unique.
media_parse_files()
{
	local spec path name i

	MEDIA_PATHS=()
	MEDIA_NAMES=()
	for spec in "$@"; do
		path=$spec
		name=${spec##*/}
		# PATH:NAME, unless the part after the last ':' is a directory path
		case $spec in
		*:*)
			if [[ ${spec##*:} != */* ]]; then
				path=${spec%:*}
				name=${spec##*:}
			fi
			;;
		esac
		[[ -f $path ]] || die "$path: no such file"
		[[ $name =~ ^[A-Za-z0-9._+-]+$ ]] ||
			die "$spec: the name '$name' must be one word of A-Z a-z 0-9 . _ + -"
		for ((i = 0; i < ${#MEDIA_NAMES[@]}; i++)); do
			[[ ${MEDIA_NAMES[i]} != "$name" ]] ||
				die "$spec: two files named '$name'"
		done
		MEDIA_PATHS+=("$path")
		MEDIA_NAMES+=("$name")
	done
}

# media_grub_cfg KERNEL MODDIR TIMEOUT DEFAULT CMDLINE: prints a grub.cfg that
# boots KERNEL (a path on the media) by Multiboot2 (entry 0) and Multiboot1
# (entry 1), with one module per MEDIA_NAMES entry, read from MODDIR/NAME and
# named NAME. GRUB talks on COM1 as well as the screen, so that a serial
# console (and the system tests) can follow it.
media_grub_cfg()
{
	local kernel=$1 moddir=$2 timeout=$3 default=$4 cmdline=$5
	local name proto

	cat <<EOF
# Tessera boot menu, written by ${0##*/}; regenerate it rather than editing.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=$timeout
set default=$default
EOF
	for proto in 2 1; do
		local mb=multiboot mod=module
		if [[ $proto == 2 ]]; then
			mb=multiboot2
			mod=module2
		fi
		echo
		echo "menuentry \"Tessera (Multiboot$proto)\" --id tessera-mb$proto {"
		echo "	echo \"Loading $kernel and ${#MEDIA_NAMES[@]} module(s) by Multiboot$proto...\""
		echo "	$mb $kernel${cmdline:+ $cmdline}"
		for name in "${MEDIA_NAMES[@]}"; do
			echo "	$mod $moddir/$name $name"
		done
		echo "}"
	done
}

# media_check_number VALUE WHAT: VALUE must be a non-negative integer.
media_check_number()
{
	[[ $1 =~ ^[0-9]+$ ]] || die "$2 must be a number, not '$1'"
}
