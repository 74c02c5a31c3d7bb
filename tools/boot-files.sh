#!/usr/bin/env bash
# boot-files.sh: the files that go with the hypervisor by default (make iso,
# make pxe, make demo): the configuration hv.conf at the repository root, if
# there is one, and the images it names, taken from build/guest/.
#
#   tools/boot-files.sh [--qemu-initrd] [CONF [IMAGE-DIR]]
#
# Prints the files as PATH or PATH:NAME words (the form tools/mkiso.sh and
# tools/mkpxe.sh take), or with --qemu-initrd as the argument of QEMU's
# -initrd ("PATH NAME,PATH NAME"). Prints nothing when there is no CONF.
# The images are the values of the kernel and initrd keys (SPEC.md 3), and
# any other value that names a file in IMAGE-DIR. Whether the files exist is
# for the consumer to check (make builds them first).
set -euo pipefail

initrd=
if [[ ${1-} == --qemu-initrd ]]; then
	initrd=1
	shift
fi
conf=${1:-hv.conf}
images=${2:-build/guest}
[[ -f $conf ]] || exit 0

words=("$conf:hv.conf")
# key = value lines, comments and blanks dropped; "key value" out
while read -r key value; do
	[[ -n $value ]] || continue
	IFS=, read -r -a names <<<"$value"
	for name in "${names[@]}"; do
		name=${name//[[:space:]]/}
		[[ $name =~ ^[A-Za-z0-9._+-]+$ ]] || continue
		if [[ $key == kernel || $key == initrd || -f $images/$name ]]; then
			word="$images/$name"
			[[ " ${words[*]} " == *" $word "* ]] || words+=("$word")
		fi
	done
done < <(sed -e 's/#.*//' -n \
	-e 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\(.*\)$/\1 \2/p' "$conf")

if [[ -n $initrd ]]; then
	out=
	for word in "${words[@]}"; do
		path=$word
		name=${word##*/}
		if [[ $word == *:* && ${word##*:} != */* ]]; then
			path=${word%:*}
			name=${word##*:}
		fi
		out+="${out:+,}$path $name"
	done
	echo "$out"
else
	echo "${words[*]}"
fi
