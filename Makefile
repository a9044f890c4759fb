# The two set-up commands of the README:
#   make demo   installs what is missing, builds everything, trains on the default corpus, samples
#   make test   installs what is missing, builds everything, runs the whole test suite
# and, for CI and format work:
#   make fuzz   fuzzes the safetensors parser for FUZZ_SECONDS (libFuzzer + AddressSanitizer)
# and to install like a system library (bin/, lib/libautoglm.so, lib/autoglm/plugins/, include/,
# lib/pkgconfig/autoglm.pc; see scripts/install.sh):
#   make install PREFIX=/usr/local     make uninstall PREFIX=/usr/local
SWIFT ?= swift
SWIFTC ?= swiftc
CONFIG ?= release
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
BUILD_DIR := .build/$(CONFIG)
# The C API's major (include/autoglm/autoglm.h): the major of libautoglm's soname.
API_MAJOR := $(shell sed -n 's/^\#define AGLM_API_MAJOR \([0-9]*\)$$/\1/p' include/autoglm/autoglm.h)

.PHONY: deps build demo test fuzz readme clean install uninstall install-completions uninstall-completions

deps:
	./scripts/install-deps.sh

# SwiftPM names the C API library libAutoGLMC.so (a product may not share the executable's
# name); the links give it the names a C program links with (-lautoglm) and runs with (its
# soname), so that `cc -I include -L .build/release -lautoglm` works in the tree.
build: deps
	$(SWIFT) build -c $(CONFIG)
	ln -sfn libAutoGLMC.so $(BUILD_DIR)/libautoglm.so.$(API_MAJOR)
	ln -sfn libautoglm.so.$(API_MAJOR) $(BUILD_DIR)/libautoglm.so

install: build
	./scripts/install.sh install "$(DESTDIR)$(PREFIX)" $(BUILD_DIR)
	$(MAKE) install-completions PREFIX="$(PREFIX)"

uninstall: uninstall-completions
	./scripts/install.sh uninstall "$(DESTDIR)$(PREFIX)"

# Hooks for the shell completions (`make completions`): they install into and remove from
# $(DESTDIR)$(PREFIX)/share once that target exists; until then there is nothing to install.
install-completions:
	@echo "install-completions: no shell completions yet"

uninstall-completions:
	@echo "uninstall-completions: no shell completions yet"

demo: build
	$(SWIFT) run -c $(CONFIG) autoglm train --config examples/demo.yaml
	$(SWIFT) run -c $(CONFIG) autoglm sample --run runs/demo --prompt "Q:" --tokens 300

test: build
	$(SWIFT) test -c $(CONFIG)

# Regenerates README.md's config reference from the key table (a test checks it is current).
readme: build
	./scripts/update-readme.sh .build/$(CONFIG)/autoglm

# The fuzz target compiles only the parser's standard-library files and its entry point
# (Tests/Fuzz/safetensors/FuzzEntry.swift). New inputs go to .build/fuzz/corpus (the seeds in
# Tests/Fuzz/safetensors/corpus are only read); a crashing input is saved as
# .build/fuzz/crash-*: add it to the seeds as corpus/crash-NAME and a regression test.
FUZZ_OUT := .build/fuzz
FUZZ_SOURCES := $(addprefix Sources/AutoGLM/Checkpoint/,StrictJSONReader.swift SafetensorsDType.swift SafetensorsLayout.swift) \
	Tests/Fuzz/safetensors/FuzzEntry.swift

$(FUZZ_OUT)/safetensors: $(FUZZ_SOURCES)
	mkdir -p $(FUZZ_OUT)
	$(SWIFTC) -O -g -sanitize=fuzzer,address -parse-as-library -module-name SafetensorsFuzz -use-ld=lld \
		$(FUZZ_SOURCES) -o $@

# SWIFT_BACKTRACE=enable=no: libFuzzer reports the crash itself (Swift's backtracer, reading the
# crashed process's memory, would trip AddressSanitizer and bury the finding).
fuzz: $(FUZZ_OUT)/safetensors
	mkdir -p $(FUZZ_OUT)/corpus
	SWIFT_BACKTRACE=enable=no $(FUZZ_OUT)/safetensors -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
		-dict=Tests/Fuzz/safetensors/safetensors.dict -artifact_prefix=$(FUZZ_OUT)/ \
		$(FUZZ_OUT)/corpus Tests/Fuzz/safetensors/corpus

clean:
	rm -rf .build runs
