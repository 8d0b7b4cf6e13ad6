# dynamo-profiler: the two entry points are `make demo` and `make test`.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build demo test test-sanitize fuzz bench clean

all: build

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

# Profiles the bundled example spec and prints the decision; outputs land in demo_results/.
demo: build
	./$(BUILD)/dynamo-profiler --config examples/qwen3-32b-h200.yaml --output-dir demo_results
	@echo "--- demo_results/final_config.yaml"
	@cat demo_results/final_config.yaml

# Unit, golden and end-to-end tests.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (CI runs it after `test`).
# -O1 keeps the build and the run short; asserts stay on (no NDEBUG). Tests labelled nosanitize are
# skipped: see the comment where the label is set.
ASAN_BUILD ?= build-asan
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DDYPROF_SANITIZE=ON -DDYPROF_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && $(SANITIZE_ENV) ctest --output-on-failure -j$(JOBS) -LE nosanitize

# libFuzzer targets (clang) run for FUZZ_SECONDS each; see scripts/run_fuzzers.sh.
FUZZ_SECONDS ?= 60
fuzz:
	./scripts/run_fuzzers.sh $(FUZZ_SECONDS)

bench: build
	./scripts/bench_rapid.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz demo_results
