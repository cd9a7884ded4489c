#!/bin/sh
# t0001-cli.sh - the command line itself: help, version, unknown commands and options, exit codes.
. "$(dirname "$0")/lib.sh"

test_expect_success 'mlci --help lists every command of the table' '
	mlci --help >out &&
	for c in help init run validate version; do grep -q "^  $c " out || exit 1; done
'

test_expect_success 'mlci --version prints the version file' '
	mlci --version >out &&
	grep -q "^mlci $(cat "$TOP/VERSION")$" out
'

test_expect_success 'mlci version -o json names the libraries' '
	mlci -o json version >out &&
	python3 -c "import json,sys; d=json.load(open(\"out\")); assert d[\"libgit2\"] and d[\"sqlite\"], d"
'

test_expect_success 'mlci help run and mlci run --help print the same usage' '
	mlci help run >a &&
	mlci run --help >b &&
	cmp a b &&
	grep -q "^usage: mlci run" a &&
	grep -q -- "--jobs N" a
'

test_expect_success 'unknown command exits 2 with a clear message' '
	test_must_fail 2 mlci frobnicate 2>err &&
	test_grep "unknown command .frobnicate." err
'

test_expect_success 'unknown option exits 2 and names the option' '
	test_must_fail 2 mlci run --frob 2>err &&
	test_grep "unknown option .--frob. for .mlci run." err &&
	test_must_fail 2 mlci --frob run 2>err &&
	test_grep "unknown option .--frob." err
'

test_expect_success 'missing option value and bad -j exit 2' '
	test_must_fail 2 mlci run --rev 2>err &&
	test_grep "needs a value" err &&
	test_must_fail 2 mlci run -j 0 2>err &&
	test_grep "invalid --jobs .0." err
'

test_expect_success 'bad -o format exits 2' '
	test_must_fail 2 mlci -o yaml version 2>err &&
	test_grep "invalid output format" err
'

test_expect_success 'no command prints usage and exits 2' '
	test_must_fail 2 mlci 2>err &&
	test_grep "^usage: mlci" err
'

test_expect_success 'wrong number of arguments exits 2' '
	test_must_fail 2 mlci init 2>err &&
	test_grep "wrong number of arguments" err
'

test_expect_success 'every command in the table has --help, a man page section and a README section' '
	mlci --help | sed -n "s/^  \([a-z][a-z-]*\) .*/\1/p" >cmds &&
	test -s cmds &&
	while read -r c; do
		mlci "$c" --help >h 2>&1 || { [ "$c" = help ] && mlci help help >h; } || exit 1
		grep -q "^usage: mlci $c" h || { echo "no usage for $c"; exit 1; }
		grep -q "^\.SS \"\?mlci $c" "$TOP/docs/mlci.1" || { echo "no man section for $c"; exit 1; }
		grep -q "^### \`mlci $c" "$TOP/README.md" || { echo "no README section for $c"; exit 1; }
	done <cmds
'

test_done
