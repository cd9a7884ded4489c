#!/bin/sh
# check_layers.sh - the dependency rule of docs/architecture.md: a C file may include headers of its own
# folder and of folders of a LOWER layer only; never of its own layer's other folders nor of a layer above.
# Usage: tests/check_layers.sh [ROOT]   (default: the repository). Prints each violation; exit 1 if any.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# layer of a source folder; "" for folders that are not part of the layering
layer() {
	case "$1" in
	common) echo 0 ;;
	spec | git | record) echo 1 ;;
	checks | registry) echo 2 ;;
	ci | cd) echo 3 ;;
	pipeline) echo 4 ;;
	cmd) echo 5 ;;
	*) echo "" ;;
	esac
}

bad=0
for dir in "$ROOT"/*/; do
	d=$(basename "$dir")
	case "$d" in tests | fuzz | tools | bench | docs | scripts | templates | build* | .*) continue ;; esac
	ls "$dir" | grep -q '\.[ch]$' || continue
	ld=$(layer "$d")
	if [ -z "$ld" ]; then
		echo "$d/: a folder of C sources that has no layer (add it to tests/check_layers.sh and docs/architecture.md)"
		bad=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
			n=${line%%:*}
			inc=$(printf '%s' "$line" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
			case "$inc" in */*) ;; *)
				echo "$d/$(basename "$f"):$n: includes \"$inc\" without its folder"
				continue ;;
			esac
			t=${inc%%/*}
			[ "$t" = "$d" ] && continue
			lt=$(layer "$t")
			if [ -z "$lt" ]; then
				echo "$d/$(basename "$f"):$n: includes \"$inc\" from $t/, which has no layer"
			elif [ "$lt" -ge "$ld" ]; then
				echo "$d/$(basename "$f"):$n: includes \"$inc\": $t/ (layer $lt) is not below $d/ (layer $ld)"
			fi
		done
	done
done >"${TMPDIR:-/tmp}/check_layers.$$"
if [ -s "${TMPDIR:-/tmp}/check_layers.$$" ]; then
	cat "${TMPDIR:-/tmp}/check_layers.$$"
	bad=1
fi
rm -f "${TMPDIR:-/tmp}/check_layers.$$"
exit $bad
