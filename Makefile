# dynamo-profiler: the two entry points are `make demo` and `make test`.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build demo test bench clean

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

bench: build
	./scripts/bench_rapid.sh

clean:
	rm -rf $(BUILD) demo_results
