# contain: a plain Makefile (git's config.mak.dev flags, bubblewrap's hardening).
#   make            build ./contain
#   make deps       install what is missing (apt-get; idempotent, quiet when all is there)
#   make check      deps, build, every test; last line: tests: N passed, N failed, N skipped
#   make demo       deps, build, a throwaway container walked through every verb
#   make bench      benchmarks against peer tools (tests/bench/)
#   make fuzz       each fuzz target under libFuzzer (clang) for FUZZ_SECONDS (60); not in check
#   make DEVELOPER=1 ...          add -Werror (CI does)
#   make SANITIZE=address,undefined check
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libarchive libmagic yara jansson libcrypto libpcap libnftables

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wwrite-strings -fno-common
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) -Iinclude -MMD -MP
# the shipped YARA rules: this tree's yara-rules/ (an installed build:
# make RULES_DIR=/usr/share/contain/yara-rules)
RULES_DIR ?= $(CURDIR)/yara-rules
ALL_CFLAGS += -DCONTAIN_RULES_DIR='"$(RULES_DIR)"'
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) -pie -Wl,-z,relro,-z,now -Wl,--as-needed

ifeq ($(DEVELOPER),1)
ALL_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif
# FUZZER=1 (make fuzz, clang): coverage for libFuzzer in every object
ifeq ($(FUZZER),1)
ALL_CFLAGS += -fsanitize=fuzzer-no-link
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# Only jansson is linked: the heavy libraries (libarchive, libmagic,
# libyara, libpcap, libnftables and the ~25 they pull in, and libcrypto)
# are opened by the verbs that use them (include/contain/dlib.h), so a
# verb that does not starts in about a millisecond. Their SONAMEs are those
# of the headers built against (read from the development symlinks).
# jansson itself is linked statically when its archive is there (Debian's
# libjansson-dev ships it): one shared object fewer to map and relocate at
# every start. libnftables brings its own libjansson.so; no json_t ever
# passes between the two copies (libnftables takes and gives text).
LINK_PKGS := jansson
JANSSON_A := $(wildcard $(shell $(CC) -print-file-name=libjansson.a))
JANSSON_STATIC := -Wl,-Bstatic -ljansson -Wl,-Bdynamic
PKG_LIBS = $(if $(JANSSON_A),$(JANSSON_STATIC),$(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null || echo -ljansson))
soname = $(shell readelf -d "$$($(CC) -print-file-name=$(1).so)" 2>/dev/null | \
	sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
DLIB_SONAMES := $(foreach l,archive:libarchive magic:libmagic yara:libyara pcap:libpcap \
	nftables:libnftables crypto:libcrypto,$(if $(call soname,$(word 2,$(subst :, ,$(l)))),\
	-DDLIB_SONAME_$(shell echo $(word 1,$(subst :, ,$(l))) | tr a-z A-Z)='"$(call soname,$(word 2,$(subst :, ,$(l))))"'))
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

# a sanitized build has its own dir: make does not track flags
ifneq ($(SANITIZE),)
B ?= build-sanitize
else
B ?= build
endif
# the binary: ./contain for the default build dir, $(B)/contain for another
BIN := $(if $(filter build,$(B)),contain,$(B)/contain)
LIB_SRCS := $(sort $(filter-out src/main.c,$(shell find src -name '*.c')))
LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS))
LIBFUZZER_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%.libfuzzer,$(FUZZ_SRCS))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRCS))

.PHONY: all deps check demo bench fuzz fuzz-bins clean format lint fixtures test-bins
all: $(BIN)

# V=1 shows the whole command lines
Q := $(if $(V),,@)
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  CC      $<";)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/src/util/dlib.o: ALL_CFLAGS += $(DLIB_SONAMES)

$(B)/libcontain.a: $(LIB_OBJS)
	@rm -f $@
	$(if $(V),,@echo "  AR      $@";)ar rcs $@ $^

$(BIN): $(B)/src/main.o $(B)/libcontain.a
	$(if $(V),,@echo "  LINK    $@";)$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libcontain.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/main.c tests/unit/unit.h $(B)/libcontain.a
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@";)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -o $@ $< tests/unit/main.c \
		$(B)/libcontain.a $(ALL_LDFLAGS) $(PKG_LIBS) $(CHECK_LIBS)

$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fz.c tests/fuzz/fz.h $(B)/libcontain.a
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@";)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay.c \
		tests/fuzz/fz.c $(B)/libcontain.a $(ALL_LDFLAGS) $(PKG_LIBS)

# the same targets with libFuzzer's main instead of the replay (make fuzz)
$(B)/tests/fuzz/%.libfuzzer: tests/fuzz/%.c tests/fuzz/fz.c tests/fuzz/fz.h $(B)/libcontain.a
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@";)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< \
		tests/fuzz/fz.c $(B)/libcontain.a $(ALL_LDFLAGS) $(PKG_LIBS)

$(B)/tests/tools/%: tests/tools/%.c $(B)/libcontain.a
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  LINK    $@";)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libcontain.a $(ALL_LDFLAGS) $(PKG_LIBS)

test-bins: $(BIN) $(UNIT_BINS) $(FUZZ_BINS) $(TOOL_BINS)

deps:
	@bash tests/lib/deps.sh

fixtures: deps
	@bash fixtures/build.sh

check: deps
	@$(MAKE) --no-print-directory test-bins
	@bash fixtures/build.sh
	@B=$(B) bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@bash fixtures/build.sh
	@CONTAIN=$(CURDIR)/$(BIN) CONTAIN_BUILD=$(CURDIR)/$(B) bash tests/demo.sh

# libFuzzer needs clang: its own build dir, address and undefined sanitizers;
# new inputs go to build-fuzz/fuzz-corpus/, crashes to build-fuzz/fuzz-crashes/
FUZZ_SECONDS ?= 60
fuzz-bins: $(LIBFUZZER_BINS)

fuzz: deps
	@bash tests/lib/deps.sh --fuzz
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang SANITIZE=address,undefined FUZZER=1 fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/libfuzzer.sh build-fuzz

bench: deps
	@$(MAKE) --no-print-directory test-bins
	@bash fixtures/build.sh
	@B=$(B) bash tests/bench/run.sh

format:
	clang-format -i $$(find src include tests -name '*.[ch]')

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
		--suppress=missingIncludeSystem -Iinclude -D_GNU_SOURCE src
	clang-tidy --quiet $(LIB_SRCS) src/main.c -- -std=gnu11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)

clean:
	rm -rf $(B) $(BIN)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
