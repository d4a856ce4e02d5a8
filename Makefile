# The two commands of README.md: `make run` and `make test`.
SHELL      := /bin/bash
BUILD      ?= build/release
SAN_BUILD  ?= build/sanitize
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := command_json event_decode http_request multipart
DATA       ?= ./data
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: deps fuzz-deps configure build run test test-sanitize fuzz fuzz-smoke clean

deps:
	@scripts/install-deps

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/fieldledgerd --data $(DATA) --listen $(LISTEN)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

$(SAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(SAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DFIELDLEDGER_SANITIZE=ON

test-sanitize: deps $(SAN_BUILD)/build.ninja
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

fuzz-deps:
	@scripts/install-deps --fuzz

$(FUZZ_BUILD)/build.ninja: | fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-16 -DFIELDLEDGER_FUZZ=ON -DFIELDLEDGER_TESTS=OFF

# Runs each libFuzzer target for FUZZ_SECONDS from its seed corpus (new inputs go to
# $(FUZZ_BUILD)/corpus-<target>; a crash leaves crash-* in $(FUZZ_BUILD) and fails).
fuzz: fuzz-deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/ -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus-$$t fuzz/corpus/$$t 2>&1 | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)|ERROR" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# What CI runs: a short smoke of each target.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=20

clean:
	rm -rf build
