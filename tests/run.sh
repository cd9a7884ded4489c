#!/bin/sh
# run.sh - runs the unit tests (cmocka binaries) and the end-to-end scripts, then prints one
# closing line "N passed, N failed". Usage: tests/run.sh BUILD_DIR MLCI_BIN [unit|e2e]
set -u
BUILD=${1:-build}
MLCI_BIN=${2:-./mlci}
WHAT=${3:-all}
TOP=$(cd "$(dirname "$0")/.." && pwd)
case "$MLCI_BIN" in /*) ;; *) MLCI_BIN="$TOP/$MLCI_BIN" ;; esac
export MLCI_BIN TOP
passed=0
failed=0
failed_names=""
out=$(mktemp)

if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
	for t in "$TOP/$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		if [ "${MLCI_VALGRIND:-}" = 1 ]; then
			valgrind -q --error-exitcode=99 --leak-check=full --suppressions="$TOP/tests/valgrind.supp" --errors-for-leak-kinds=definite,indirect \
				--trace-children=no "$t" >"$out" 2>&1
		else
			"$t" >"$out" 2>&1
		fi
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
		p=${p:-0}
		f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failed_names="$failed_names $name"
			cat "$out"
		fi
		printf '%-28s %3d passed, %d failed\n' "$name" "$p" "$f"
	done
fi

if [ "$WHAT" = all ] || [ "$WHAT" = e2e ]; then
	for t in "$TOP"/tests/e2e/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		sh "$t" >"$out" 2>&1
		rc=$?
		p=$(grep -c '^ok ' "$out")
		f=$(grep -c '^not ok ' "$out")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failed_names="$failed_names $name"
			cat "$out"
		fi
		printf '%-28s %3d passed, %d failed\n' "$name" "$p" "$f"
	done
fi
rm -f "$out"
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
