# libpacing: GNU make build.
#
#   make               build/libpacing.so.X.Y.Z (+ .so.X, .so links), build/libpacing.a,
#                      build/pacing.pc, and the `pacing` command, build/pacing
#   make test          build and run tests/test_*.c (static lib) and tests/cxx_header.cpp
#                      (shared lib); check each include/*.h compiles alone (C11, C++11)
#   make test-asan     the same with ASan+UBSan, in build-asan/
#   make test-tsan     the unit tests (tests/test_*.c) with ThreadSanitizer (clang-14),
#                      in build-tsan/; test_threads with TSAN_STRESS_OPS operations
#   make valgrind      the tests (of build/) under valgrind
#   make examples      build examples/*.c into build/examples/
#   make demo          build and run build/examples/kiosk
#   make bench         build bench/*.c into build/bench/
#   make check-exports only pacing_* exported, SONAME libpacing.so.MAJOR, exported
#                      pacing_* == PACING_API functions declared in include/*.h
#   make abi-dump      regenerate abi/libpacing.abi (the committed ABI baseline)
#   make abi-check     check-exports + abidiff against abi/libpacing.abi
#   make install       PREFIX=/usr/local DESTDIR= (LIBDIR, INCLUDEDIR too)
#   make uninstall / clean
#
# Tests run with the repository root as the working directory.

BUILD        ?= build
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

# The version comes from include/pacing.h only.
version_part = $(shell sed -n 's/^.define PACING_VERSION_$(1)  *\([0-9][0-9]*\).*/\1/p' include/pacing.h)
MAJOR   := $(call version_part,MAJOR)
MINOR   := $(call version_part,MINOR)
PATCH   := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)
ifeq ($(strip $(MAJOR)),)
$(error cannot read PACING_VERSION_MAJOR from include/pacing.h)
endif

# Flags. CFLAGS/CXXFLAGS/CPPFLAGS/LDFLAGS may be overridden; EXTRA_CFLAGS and
# EXTRA_LDFLAGS are added to every compile and link (test-asan uses them).
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN      = -Wall -Wextra -Werror
BASE_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -Iinclude $(CPPFLAGS)
LIB_CFLAGS    = -std=c11 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden $(BASE_CPPFLAGS) $(EXTRA_CFLAGS)
APP_CFLAGS    = -std=c11 $(WARN) $(CFLAGS) $(BASE_CPPFLAGS) -Ilib $(EXTRA_CFLAGS)
APP_CXXFLAGS  = -std=c++11 $(WARN) $(CXXFLAGS) -Iinclude $(CPPFLAGS) $(EXTRA_CFLAGS)
LIBS          = -lyaml -lz -lm -lpthread
DEPFLAGS      = -MMD -MP -MF $@.d -MT $@
# Programs linked to the shared library find it through the rpath.
LINK_SHARED   = -L$(BUILD) -lpacing -Wl,-rpath,'$$ORIGIN/..' $(LDFLAGS) $(EXTRA_LDFLAGS) $(LIBS)
LINK_STATIC   = $(STLIB) $(LDFLAGS) $(EXTRA_LDFLAGS) $(LIBS)

ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# ThreadSanitizer. clang links its runtime into programs, not into shared
# libraries, so test-tsan runs only the unit tests (linked to the static
# archive); those that run the pacing command use the one of build/.
TSAN_CC    ?= clang-14
TSAN_FLAGS  = -fsanitize=thread -g -O1
TSAN_STRESS_OPS ?= 50000
VALGRIND   = valgrind -q --leak-check=full --error-exitcode=1 \
             --errors-for-leak-kinds=definite,indirect,possible
# --headers-dir + --drop-private-types: only types of include/ count (the
# definition of the opaque pacing_ctx does not); --load-all-types: also the
# public enums, which no function signature mentions.
ABIDW      = abidw --no-corpus-path --no-comp-dir-path --headers-dir include \
             --drop-private-types --load-all-types
ABIDIFF    = abidiff --non-reachable-types --leaf-changes-only --no-added-syms

# Files.
SRCS     := $(wildcard lib/*.c)
OBJS     := $(SRCS:lib/%.c=$(BUILD)/obj/%.o)
SONAME   := libpacing.so.$(MAJOR)
SHLIB    := $(BUILD)/libpacing.so.$(VERSION)
SHLINKS  := $(BUILD)/$(SONAME) $(BUILD)/libpacing.so
STLIB    := $(BUILD)/libpacing.a
PC       := $(BUILD)/pacing.pc
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
CXXTEST  := $(BUILD)/tests/cxx_header
HDRCHECK := $(patsubst include/%.h,$(BUILD)/hdrcheck/%.ok,$(wildcard include/*.h))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
CXX_EXAMPLES := $(patsubst examples/%.cpp,$(BUILD)/examples/%,$(wildcard examples/*.cpp))
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
# The `pacing` command: tools/pacing.c (main) plus any other tools/*.c.
TOOL     := $(BUILD)/pacing
TOOL_SRCS := $(wildcard tools/*.c)

GEN_PC = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
             -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' pacing.pc.in

# Run each program of $(1) from the repository root ($(TEST_WRAPPER) in
# front); print "N passed, N failed" last and fail if any failed.
run_all = pass=0; fail=0; failed=; \
	for t in $(1); do \
	    echo "=== $$t"; \
	    if $(TEST_WRAPPER) $$t; then pass=$$((pass + 1)); \
	    else echo "FAILED: $$t"; fail=$$((fail + 1)); failed="$$failed $$t"; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "failed:$$failed"; fi; \
	echo "$$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

.PHONY: all test test-asan test-tsan test-units valgrind examples demo bench check-exports \
        abi-dump abi-check install uninstall clean
.DELETE_ON_ERROR:

all: $(SHLIB) $(SHLINKS) $(STLIB) $(PC) $(TOOL)

# ---- library -------------------------------------------------------------

$(BUILD)/obj/%.o: lib/%.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(STLIB): $(OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(OBJS)

$(SHLIB): $(OBJS) lib/libpacing.map
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(OBJS) $(LDFLAGS) $(EXTRA_LDFLAGS) \
	    -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libpacing.map \
	    -Wl,--no-undefined $(LIBS)

$(BUILD)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $<) $@

$(BUILD)/libpacing.so: $(BUILD)/$(SONAME)
	ln -sf $(notdir $<) $@

$(PC): pacing.pc.in include/pacing.h
	@mkdir -p $(@D)
	$(GEN_PC) > $@

# ---- the pacing command ----------------------------------------------------

# Linked to the shared library; the rpath finds it in build/ (the tool sits
# in build/, hence $$ORIGIN, not $$ORIGIN/..). It also reads YAML itself.
$(TOOL): $(TOOL_SRCS) $(wildcard tools/*.h) include/pacing.h $(SHLINKS)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $(TOOL_SRCS) -o $@ -L$(BUILD) -lpacing \
	    -Wl,-rpath,'$$ORIGIN' $(LDFLAGS) $(EXTRA_LDFLAGS) $(LIBS)

# ---- tests ---------------------------------------------------------------

# Unit tests link the static archive, so internal (hidden) functions are
# reachable; they may include "internal.h" (-Ilib) or "../lib/internal.h".
$(BUILD)/tests/test_%: tests/test_%.c $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $(DEPFLAGS) $< -o $@ -lcmocka $(LINK_STATIC)

# The C++ header test links the shared library.
$(CXXTEST): tests/cxx_header.cpp $(SHLINKS)
	@mkdir -p $(@D)
	$(CXX) $(APP_CXXFLAGS) $(DEPFLAGS) $< -o $@ $(LINK_SHARED)

# Every public header compiles on its own, as pedantic C11 and as C++11.
$(BUILD)/hdrcheck/%.ok: include/%.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -fsyntax-only -x c $<
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -fsyntax-only -x c++ $<
	@touch $@

# tests/test_config.c runs the pacing command named by PACING_TOOL.
test valgrind: export PACING_TOOL = $(BUILD)/pacing

# Suites: scripts that test the bindings, examples and docs against the
# library of $(BUILD) (not run by test-asan or valgrind).
SUITES ?= $(sort $(wildcard tests/suites/*.sh))

test: export PACING_BUILD = $(BUILD)
test: $(HDRCHECK) $(TESTS) $(CXXTEST) $(TOOL) $(EXAMPLES) $(CXX_EXAMPLES)
	@$(call run_all,$(TESTS) $(CXXTEST) $(SUITES))

valgrind: TEST_WRAPPER = $(VALGRIND)
valgrind: export PACING_ROBUST_EVENTS = 1000000
valgrind: export PACING_STRESS_OPS = 20000
valgrind: $(TESTS) $(CXXTEST) $(TOOL)
	@$(call run_all,$(TESTS) $(CXXTEST))

test-asan:
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) BUILD=build-asan EXTRA_CFLAGS="$(ASAN_FLAGS)" EXTRA_LDFLAGS="$(ASAN_FLAGS)" SUITES= test

# The unit tests alone (what test-tsan runs, in build-tsan/).
test-units: $(TESTS)
	@$(call run_all,$(TESTS))

test-tsan: $(TOOL)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 PACING_TOOL=$(TOOL) \
	PACING_STRESS_OPS=$(TSAN_STRESS_OPS) PACING_ROBUST_EVENTS=1000000 \
	$(MAKE) BUILD=build-tsan CC=$(TSAN_CC) EXTRA_CFLAGS="$(TSAN_FLAGS)" \
	    EXTRA_LDFLAGS="-fsanitize=thread" test-units

# ---- examples and benchmarks ---------------------------------------------

$(BUILD)/examples/%: examples/%.c $(SHLINKS)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $(DEPFLAGS) $< -o $@ $(LINK_SHARED)

$(BUILD)/examples/%: examples/%.cpp $(SHLINKS)
	@mkdir -p $(@D)
	$(CXX) $(APP_CXXFLAGS) -pthread $(DEPFLAGS) $< -o $@ $(LINK_SHARED)

$(BUILD)/bench/%: bench/%.c $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $(DEPFLAGS) $< -o $@ $(LINK_STATIC)

examples: $(EXAMPLES) $(CXX_EXAMPLES)

demo: $(EXAMPLES) $(BUILD)/examples/kiosk
	$(BUILD)/examples/kiosk

bench: $(BENCHES)

# ---- ABI -----------------------------------------------------------------

check-exports: $(SHLIB) $(SHLINKS)
	@echo "checking exported symbols of $(SHLIB)"
	@bad=$$(nm -D --defined-only $(SHLIB) | awk '{ sub(/@.*/, "", $$3); print $$3 }' \
	    | grep -v -E '^(pacing_[A-Za-z0-9_]+|_init|_fini|_edata|_end|__bss_start|PACING_[0-9.]+)$$' || true); \
	if [ -n "$$bad" ]; then echo "non-pacing_ symbols exported:"; echo "$$bad"; exit 1; fi
	@nm -D --defined-only $(SHLIB) | awk '{ sub(/@.*/, "", $$3); print $$3 }' \
	    | grep '^pacing_' | sort > $(BUILD)/exported.txt
	@cat include/*.h | grep -o '^PACING_API[^(]*(' | grep -o 'pacing_[A-Za-z0-9_]*($$' \
	    | tr -d '(' | sort -u > $(BUILD)/declared.txt
	@missing=$$(comm -23 $(BUILD)/declared.txt $(BUILD)/exported.txt); \
	if [ -n "$$missing" ]; then echo "declared in include/ but not exported:"; echo "$$missing"; exit 1; fi
	@extra=$$(comm -13 $(BUILD)/declared.txt $(BUILD)/exported.txt); \
	if [ -n "$$extra" ]; then echo "exported but not declared in include/ (make it static?):"; echo "$$extra"; exit 1; fi
	@readelf -d $(SHLIB) | grep -q 'SONAME.*\[$(SONAME)\]' \
	    || { echo "SONAME is not $(SONAME)"; readelf -d $(SHLIB) | grep SONAME; exit 1; }
	@echo "exports OK: $$(wc -l < $(BUILD)/exported.txt) pacing_ symbols, SONAME $(SONAME)"

abi-dump: $(SHLIB)
	@mkdir -p abi
	$(ABIDW) --out-file abi/libpacing.abi.tmp $(SHLIB)
	mv abi/libpacing.abi.tmp abi/libpacing.abi

# abidiff: status 0 = no change (added functions and enumerators do not
# count). Otherwise the change passes only if it is nothing but members
# appended at the end of pacing_* structs (they start with a size field):
# abi/only-appends.awk checks the report. Anything else fails.
abi-check: check-exports
	@test -f abi/libpacing.abi || { echo "abi/libpacing.abi missing: run 'make abi-dump' and commit it"; exit 1; }
	$(ABIDW) --out-file $(BUILD)/libpacing.abi $(SHLIB)
	@rc=0; $(ABIDIFF) abi/libpacing.abi $(BUILD)/libpacing.abi > $(BUILD)/abidiff.txt || rc=$$?; \
	if [ $$rc -eq 0 ]; then echo "abi-check: OK, no change from abi/libpacing.abi"; exit 0; fi; \
	cat $(BUILD)/abidiff.txt; \
	if [ $$((rc & 3)) -ne 0 ]; then echo "abi-check: abidiff failed (status $$rc)"; exit 1; fi; \
	if awk -f abi/only-appends.awk $(BUILD)/abidiff.txt; then \
	    echo "abi-check: OK, only members appended to size-versioned structs, or internal types changed"; \
	else echo "abi-check: FAILED, incompatible with abi/libpacing.abi (abidiff status $$rc)"; exit 1; fi

# ---- install -------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpacing.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(wildcard include/*.h) $(DESTDIR)$(INCLUDEDIR)/
	$(GEN_PC) > $(DESTDIR)$(PKGCONFIGDIR)/pacing.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libpacing.so $(DESTDIR)$(LIBDIR)/libpacing.a \
	      $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(wildcard include/*.h))) \
	      $(DESTDIR)$(PKGCONFIGDIR)/pacing.pc

clean:
	rm -rf $(BUILD) build-asan build-tsan

-include $(wildcard $(BUILD)/*/*.d)

# ---- fuzzing (fuzz/) --------------------------------------------------------
#
#   make fuzz            build the libFuzzer harnesses fuzz/fuzz_*.c (clang,
#                        -fsanitize=fuzzer,address,undefined) into build-fuzz/
#   make fuzz-smoke      fuzz each harness for FUZZ_SECONDS (default 60) from a
#                        copy of its seed corpus fuzz/corpus/<name>, after
#                        replaying fuzz/regressions/<name>; fails on any crash
#   make fuzz-replay     run each libFuzzer harness once over its committed
#                        corpus and regressions (no fuzzing)
#   make fuzz-replay-gcc the same without libFuzzer: $(BUILD)/fuzz-replay-<name>
#                        (fuzz/replay_main.c + the harness + the static library,
#                        built with $(CC); with no arguments they replay
#                        fuzz/corpus/<name> and fuzz/regressions/<name>)
#   make fuzz-corpus     regenerate the snapshot seeds in fuzz/corpus/fuzz_snapshot
#   make clean-fuzz      remove build-fuzz/

FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build-fuzz
FUZZ_CFLAGS  ?= -g -O1
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_COMPILE  = $(FUZZ_CC) -std=c11 $(FUZZ_CFLAGS) $(FUZZ_SAN) \
                -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib
# -rss_limit_mb: the harnesses cap their own allocations well below it.
FUZZ_OPTS    ?= -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))
FUZZ_OBJS    := $(SRCS:lib/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_REPLAY  := $(addprefix $(BUILD)/fuzz-replay-,$(FUZZ_NAMES))
FUZZ_HDRS    := $(wildcard fuzz/*.h) include/pacing.h

.PHONY: fuzz fuzz-smoke fuzz-replay fuzz-replay-gcc fuzz-corpus clean-fuzz
# objects named only by a pattern rule would be deleted as intermediates
.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_BUILD)/obj/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_COMPILE) -fsanitize=fuzzer-no-link -MMD -MP -MF $@.d -MT $@ -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJS) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_COMPILE) -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ $(LIBS)

fuzz: $(FUZZ_BINS)

# A harness's dictionary, if fuzz/<name>.dict exists.
fuzz_dict = $(if $(wildcard fuzz/$(1).dict),-dict=fuzz/$(1).dict)

fuzz-smoke: $(FUZZ_BINS)
	@fail=; for n in $(FUZZ_NAMES); do \
	    c=$(FUZZ_BUILD)/corpus-$$n; a=$(FUZZ_BUILD)/artifacts-$$n; \
	    rm -rf $$c $$a; mkdir -p $$c $$a; \
	    if [ -d fuzz/corpus/$$n ]; then cp fuzz/corpus/$$n/* $$c/ 2>/dev/null || true; fi; \
	    if [ -d fuzz/regressions/$$n ] && [ -n "$$(ls fuzz/regressions/$$n)" ]; then \
	        echo "=== $$n: regressions"; \
	        $(FUZZ_BUILD)/$$n -timeout=30 -artifact_prefix=$$a/ fuzz/regressions/$$n/* \
	            || { fail="$$fail $$n(regressions)"; continue; }; \
	    fi; \
	    echo "=== $$n: fuzzing for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/$$n -max_total_time=$(FUZZ_SECONDS) $(FUZZ_OPTS) \
	        -artifact_prefix=$$a/ $(call fuzz_dict,$$n) $$c \
	        || { echo "FAILED: $$n (input kept in $$a/)"; ls -l $$a; fail="$$fail $$n"; }; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz-smoke failed:$$fail"; exit 1; fi; \
	echo "fuzz-smoke: $(FUZZ_NAMES) ran $(FUZZ_SECONDS) s each without a crash"

fuzz-replay: $(FUZZ_BINS)
	@fail=; for n in $(FUZZ_NAMES); do \
	    files=$$(ls -d fuzz/corpus/$$n/* fuzz/regressions/$$n/* 2>/dev/null); \
	    [ -n "$$files" ] || continue; \
	    echo "=== $$n: $$(echo $$files | wc -w) inputs"; \
	    $(FUZZ_BUILD)/$$n -timeout=30 $$files > $(FUZZ_BUILD)/replay-$$n.log 2>&1 \
	        || { tail -n 40 $(FUZZ_BUILD)/replay-$$n.log; fail="$$fail $$n"; }; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz-replay failed:$$fail"; exit 1; fi

$(BUILD)/fuzz-replay-%: fuzz/replay_main.c fuzz/%.c $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -DFUZZ_REPLAY_NAME='"$*"' fuzz/replay_main.c fuzz/$*.c \
	    -o $@ $(LINK_STATIC)

fuzz-replay-gcc: $(FUZZ_REPLAY)
	@$(call run_all,$(FUZZ_REPLAY))

$(BUILD)/fuzz-gen-snapshot: fuzz/gen_snapshot_corpus.c $(FUZZ_HDRS) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) $< -o $@ $(LINK_STATIC)

fuzz-corpus: $(BUILD)/fuzz-gen-snapshot
	@mkdir -p fuzz/corpus/fuzz_snapshot
	$(BUILD)/fuzz-gen-snapshot fuzz/corpus/fuzz_snapshot

clean-fuzz:
	rm -rf $(FUZZ_BUILD)

-include $(wildcard $(FUZZ_BUILD)/obj/*.d)
