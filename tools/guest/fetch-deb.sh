#!/usr/bin/env bash
# fetch-deb.sh: one Debian binary package, downloaded with `apt-get download`
# and unpacked with `dpkg-deb -x` (SPEC.md 1: the guest images come from
# Debian packages; nothing is vendored).
#
#   tools/guest/fetch-deb.sh [--update] PACKAGE DIR
#
# Unpacks the candidate version of PACKAGE into DIR/pkg/ and writes
# "PACKAGE VERSION" to DIR/package. When DIR already holds PACKAGE it does
# nothing, at once, without asking apt (a build stays on the version it
# started with); --update asks apt for the candidate and replaces what DIR
# holds when that is a different version. The package lists are
# refreshed (apt-get update, as root) only when PACKAGE is unknown or its
# download fails, as it does when the lists are older than the mirror.
# Shared by tools/guest/fetch-kernel.sh and tools/guest/mkinitramfs.py.
set -euo pipefail

die()
{
	echo "${0##*/}: $*" >&2
	exit 1
}

update=
if [[ ${1-} == --update ]]; then
	update=1
	shift
fi
[[ $# -eq 2 ]] || die "usage: ${0##*/} [--update] PACKAGE DIR"
package=$1
dir=$2

# held [VERSION]: DIR holds PACKAGE (that VERSION of it, if given)
held()
{
	local line

	[[ -f $dir/package && -d $dir/pkg ]] || return 1
	line=$(<"$dir/package")
	if [[ -z ${1-} ]]; then
		[[ ${line%% *} == "$package" ]]
	else
		[[ $line == "$package $1" ]]
	fi
}

[[ -z $update ]] && held && exit 0

# One fetch per DIR at a time (parallel make, two scripts at once); the
# second finds the work done.
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
[[ -z $update ]] && held && exit 0

# The candidate version of $package, or nothing when apt does not know it.
candidate()
{
	apt-cache show --no-all-versions "$package" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1
}

refresh_lists()
{
	if ((EUID != 0)); then
		die "$package: not in the package lists or not downloadable; run as root:" \
			"apt-get update"
	fi
	echo "${0##*/}: $package: refreshing the package lists (apt-get update)" >&2
	apt-get update -q >&2
}

version=$(candidate)
if [[ -z $version ]]; then
	refresh_lists
	version=$(candidate)
	[[ -n $version ]] || die "$package: no such Debian package"
fi

held "$version" && exit 0

work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# As root, apt drops privileges to _apt for downloads, and _apt cannot write
# into a build tree owned by root: it warns and downloads as root anyway.
# Say so up front instead of leaving the warning on every build.
apt_opts=(-q)
((EUID != 0)) || apt_opts+=(-o APT::Sandbox::User=root)

download()
{
	(cd "$work" && apt-get "${apt_opts[@]}" download "$package=$version") >&2
}

echo "${0##*/}: downloading $package $version" >&2
if ! download; then
	refresh_lists
	version=$(candidate)
	download || die "$package $version: apt-get download failed"
fi

debs=("$work"/*.deb)
[[ -f ${debs[0]} ]] || die "$package: apt-get download left no .deb"
dpkg-deb -x "${debs[0]}" "$work/pkg"

rm -rf "$dir/pkg"
mv "$work/pkg" "$dir/pkg"
echo "$package $version" >"$dir/package"
