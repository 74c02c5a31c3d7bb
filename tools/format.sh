#!/usr/bin/env bash
# format.sh: applies the C style in .clang-format (make format), or checks
# it (make format-check; tests/unit/test_format.py in make test).
#
#   tools/format.sh [FILE...]            reformat the files (default: all)
#   tools/format.sh --check [FILE...]    list the files that are not formatted
#
# All: every .c and .h under boot/ hv/ drivers/ tests/unit/ tests/guests/
# tests/fuzz/, and tools/*.c. The style is set for Debian 12's clang-format
# 14; another version may format some lines differently (it says so).
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
STYLE_VERSION=14
prog=${0##*/}

check=false
if [[ ${1-} == --check ]]; then
	check=true
	shift
fi

if (($# == 0)); then
	mapfile -t files < <({
		find boot hv drivers tests/unit tests/guests tests/fuzz -type f -name '*.[ch]'
		find tools -maxdepth 1 -type f -name '*.c'
	} | LC_ALL=C sort)
else
	files=("$@")
fi

if ! command -v "$CLANG_FORMAT" >/dev/null; then
	echo "$prog: missing tools: $CLANG_FORMAT (package clang-format)" >&2
	echo "$prog: install it with: sudo make deps" \
		"  (or: sudo apt-get install --no-install-recommends clang-format)" >&2
	exit 1
fi
version=$("$CLANG_FORMAT" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p')
if [[ $version != "$STYLE_VERSION" ]]; then
	echo "$prog: note: clang-format ${version:-of unknown version} here; the style is set for" \
		"version $STYLE_VERSION (Debian 12), others may format some lines differently" >&2
fi

if ! $check; then
	printf '%s\0' "${files[@]}" | xargs -0 "$CLANG_FORMAT" -i
	exit 0
fi

# --dry-run prints one "FILE:LINE:COL: warning: code should be clang-formatted"
# per place; its status is non-zero only when clang-format itself fails.
out=$(printf '%s\0' "${files[@]}" | xargs -0 "$CLANG_FORMAT" --dry-run 2>&1) || {
	printf '%s\n' "$out" >&2
	echo "$prog: clang-format failed" >&2
	exit 1
}
mapfile -t bad < <(printf '%s\n' "$out" |
	sed -n 's/^\(.*\):[0-9]*:[0-9]*: [a-z]*: code should be clang-formatted.*/\1/p' | LC_ALL=C sort -u)
((${#bad[@]} == 0)) && exit 0

places=$(printf '%s\n' "$out" | grep -c 'code should be clang-formatted' || true)
echo "$prog: ${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says" \
	"($places places):" >&2
printf '  %s\n' "${bad[@]}" >&2
echo "$prog: fix them with: make format   (or: tools/format.sh FILE...)" >&2
exit 1
