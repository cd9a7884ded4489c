# Makefile - builds ./mlci, its tests, fuzz harnesses and benchmarks; installs dependencies (make deps).
# Sources are picked up by wildcard: a new .c file in a module directory needs no edit here.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
PKGS     := libgit2 libcurl libcjson yaml-0.1 libssh2 sqlite3 libcrypto
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN     := -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wundef -Wvla
OPT      ?= -O2 -g
SAN      ?=
CPPFLAGS += -I. -D_GNU_SOURCE -DMLCI_VERSION='"$(VERSION)"'
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SAN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# http_parser (libhttp-parser-dev, the parser wrk uses) ships no pkg-config file
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm
LDFLAGS  += $(SAN)

LIB_SRC  := $(wildcard common/*.c spec/*.c git/*.c record/*.c checks/*.c registry/*.c ci/*.c cd/*.c pipeline/*.c)
CMD_SRC  := $(wildcard cmd/*.c)
TPL_FILES:= $(shell find templates -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null | LC_ALL=C sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/templates.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)

.PHONY: all deps test test-only unit e2e check valgrind fuzz bench demo install uninstall clean format format-check

all: mlci

mlci: $(BUILD)/mlci
	cp $(BUILD)/mlci $@.tmp && mv -f $@.tmp $@

$(BUILD)/mlci: $(CMD_OBJ) $(BUILD)/libmlci.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libmlci.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard */*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# mlci init writes templates compiled into the binary, so ./mlci needs no data files at run time.
$(BUILD)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/templates.c: $(BUILD)/embed $(TPL_FILES)
	@mkdir -p $(dir $@)
	$(BUILD)/embed templates $(TPL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/templates.o: $(BUILD)/gen/templates.c
	$(CC) $(CPPFLAGS) -std=c11 -O0 -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libmlci.a $(BUILD)/gen/templates.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $^ \
		$(shell pkg-config --libs cmocka) $(LDLIBS) $(LDFLAGS)

# test_commands checks the command table against its help and docs: it links cmd/ (all but main.o)
# and reads docs/mlci.1 and README.md of this source tree.
$(BUILD)/tests/test_commands: tests/unit/test_commands.c $(filter-out $(BUILD)/cmd/main.o,$(CMD_OBJ)) \
		$(BUILD)/libmlci.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DMLCI_SRCDIR='"$(CURDIR)"' $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $^ \
		$(shell pkg-config --libs cmocka) $(LDLIBS) $(LDFLAGS)

deps:
	@sh scripts/deps.sh

# The README's test command: install dependencies, build, run unit and end-to-end tests.
test: deps
	@$(MAKE) --no-print-directory test-only

test-only: mlci $(UNIT_BIN)
	@sh tests/run.sh $(BUILD) ./mlci

unit: $(UNIT_BIN)
	@sh tests/run.sh $(BUILD) ./mlci unit

e2e: mlci
	@sh tests/run.sh $(BUILD) ./mlci e2e

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer, in its own build directory.
check: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' build-asan/mlci $(UNIT_BIN:$(BUILD)/%=build-asan/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh tests/run.sh build-asan build-asan/mlci

valgrind: $(UNIT_BIN)
	@MLCI_VALGRIND=1 sh tests/run.sh $(BUILD) ./mlci unit

fuzz: $(BUILD)/gen/templates.c
	@mkdir -p build-fuzz
	@for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); \
		echo "building $$n"; \
		clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
			$$(pkg-config --cflags $(PKGS)) -o build-fuzz/$$n $$f $(LIB_SRC) $(BUILD)/gen/templates.c $(LDLIBS) || exit 1; \
	done
	@for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); c=fuzz/corpus/$${n#fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
		echo "running $$n for $${FUZZ_SECONDS:-30}s"; \
		build-fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-30} -max_len=8192 build-fuzz/corpus-$$n $$c || exit 1; \
	done

bench: mlci
	@sh bench/run.sh ./mlci

demo: deps
	@$(MAKE) --no-print-directory mlci
	@sh scripts/demo.sh ./mlci

install: mlci
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 mlci $(DESTDIR)$(PREFIX)/bin/mlci
	install -m 0644 docs/mlci.1 $(DESTDIR)$(PREFIX)/share/man/man1/mlci.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mlci $(DESTDIR)$(PREFIX)/share/man/man1/mlci.1

format:
	clang-format -i $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(wildcard */*.h)

# CI: every C source and header formatted as .clang-format says (nothing is changed).
format-check:
	@clang-format --dry-run --Werror $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(wildcard */*.h) tools/embed.c && \
		echo "format-check: $(words $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(wildcard */*.h)) files formatted"

clean:
	rm -rf build build-asan build-fuzz mlci
