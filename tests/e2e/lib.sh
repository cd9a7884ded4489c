# lib.sh - helpers for end-to-end scripts (sourced): a scratch directory per script, real git repos
# made with the git CLI, and test_expect_success/test_must_fail in the style of git's test-lib.
# Every script: `. "$(dirname "$0")/lib.sh"`, then test_expect_success "desc" 'commands', then test_done.
set -u
: "${MLCI_BIN:?MLCI_BIN must point at the mlci binary}"
: "${TOP:?TOP must be the source root}"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mlci-e2e.XXXXXX")
export MLCI_HOME="$SCRATCH/home"
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.com"
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL="committer@example.com"
export GIT_CONFIG_NOSYSTEM=1 HOME="$SCRATCH"
git config --global init.defaultBranch main
git config --global user.name "Test Author"
git config --global user.email author@example.com
unset NO_COLOR
test_count=0
test_failed=0
cleanup() { cd / && rm -rf "$SCRATCH"; }
trap cleanup EXIT
mlci() { "$MLCI_BIN" "$@"; }

# js EXPR: evaluate a Python expression over the JSON document on stdin (bound to d), print it
js() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# sql QUERY [ARG...]: rows of a query on $MLCI_HOME/mlci.db, columns joined by |, NULL as empty
sql() {
	python3 -c "
import sqlite3,sys
db=sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2], sys.argv[3:]): print('|'.join('' if c is None else str(c) for c in row))" \
		"$MLCI_HOME/mlci.db" "$@"
}

test_expect_success() {
	test_count=$((test_count + 1))
	if (cd "$SCRATCH" && eval "$2") >"$SCRATCH/.out" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$SCRATCH/.out"
		test_failed=$((test_failed + 1))
	fi
}

# test_must_fail CODE cmd...: cmd must exit with exactly CODE
test_must_fail() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "expected exit $want, got $got from: $*" >&2
		return 1
	fi
	return 0
}

# test_grep PATTERN FILE: like grep -q but shows the file on failure
test_grep() {
	if ! grep -q -- "$1" "$2"; then
		echo "pattern '$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

# make_repo DIR: a fresh git repo with one commit of the files written by the caller afterwards
make_repo() {
	git init -q -b main "$1"
}

commit_all() {
	(cd "$1" && git add -A && git commit -q -m "${2:-change}")
}

# alive PID: the process exists and is not a zombie (an orphan may wait a moment for init to reap it)
alive() {
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case "$st" in Z*) return 1 ;; esac
	return 0
}

# until_ok SECONDS MESSAGE COMMAND...: run COMMAND every 50 ms until it succeeds (a readiness check with
# a deadline, not a fixed wait); after SECONDS, print MESSAGE and fail
until_ok() {
	_ok_limit=$(($1 * 20)) _ok_msg=$2 _ok_n=0
	shift 2
	until "$@"; do
		_ok_n=$((_ok_n + 1))
		[ $_ok_n -lt $_ok_limit ] || { echo "$_ok_msg" >&2; return 1; }
		sleep 0.05
	done
}

# wait_file FILE [SECONDS]: until FILE exists and is not empty (default 10 s)
wait_file() { until_ok "${2:-10}" "timed out waiting for $1" test -s "$1"; }

# wait_for FILES PATTERN [SECONDS]: until PATTERN appears in FILES (a glob, so unquoted; default 30 s)
files_have() { cat $1 2>/dev/null | grep -q -- "$2"; }
wait_for() {
	until_ok "${3:-30}" "timed out waiting for '$2' in $1" files_have "$1" "$2" ||
		{ cat $1 >&2 2>/dev/null; return 1; }
}

# gone PID [SECONDS]: until the process has exited (default 30 s)
not_alive() { ! alive "$1"; }
gone() { until_ok "${2:-30}" "$1 still alive" not_alive "$1"; }

test_done() {
	echo "# $test_count tests, $test_failed failed"
	[ "$test_failed" -eq 0 ]
}
