#!/bin/sh
# t0002-layers.sh - the source tree keeps its layering (docs/architecture.md): tests/check_layers.sh passes
# on the tree and fails, naming the file and line, on a tree that includes upward or sideways.
. "$(dirname "$0")/lib.sh"

test_expect_success 'every C file includes only its own folder and lower layers' '
	sh "$TOP/tests/check_layers.sh" "$TOP" >out 2>&1 || { cat out; false; }
'

test_expect_success 'an include from a layer above, from the same layer, or of an unknown folder is reported' '
	mkdir -p t/common t/ci t/cd t/cmd t/extra &&
	printf "#include \"ci/run.h\"\n" >t/common/a.c &&
	printf "#include \"common/buf.h\"\n#include \"cd/state.h\"\n" >t/ci/run.c &&
	printf "#include \"ci/run.h\"\n" >t/cd/promote.c &&
	printf "#include \"cd/state.h\"\n#include \"ci/run.h\"\n" >t/cmd/run.c &&
	printf "int x;\n" >t/extra/x.c &&
	test_must_fail 1 sh "$TOP/tests/check_layers.sh" t >out &&
	test_grep "^common/a.c:1: includes \"ci/run.h\": ci/ (layer 3) is not below common/ (layer 0)" out &&
	test_grep "^ci/run.c:2: includes \"cd/state.h\": cd/ (layer 3) is not below ci/ (layer 3)" out &&
	test_grep "^cd/promote.c:1: includes \"ci/run.h\"" out &&
	test_grep "^extra/: a folder of C sources that has no layer" out &&
	! grep -q "^cmd/" out &&
	test "$(wc -l <out)" = 4
'

test_done
