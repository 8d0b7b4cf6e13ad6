#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan, in build-fuzz/) and runs each for a
# bounded time: scripts/run_fuzzers.sh [SECONDS] (default 60). The fuzzers run side by side, one
# per core. Seeds: the example, reference and golden specs (spec_fuzzer), the catalog's
# config.json documents (hf_config_fuzzer) and fuzz/seeds/silicon_rows_fuzzer/*.csv
# (silicon_rows_fuzzer: `estimate --from-csv` rows), the shipped calibration table
# (calibration_table_fuzzer: `estimate --calibration-table`), plus every saved regression input.
# A crashing, leaking, slow or memory-hungry input is written to fuzz/regressions/<fuzzer>/
# (commit it: src/spec/fuzz_regression_test.cc replays it in every build) and the script fails.
# Needs clang and libclang-rt-dev: scripts/install-deps.sh --with-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
BUILD="${FUZZ_BUILD:-build-fuzz}"
FUZZERS=(spec_fuzzer hf_config_fuzzer silicon_rows_fuzzer calibration_table_fuzzer)

CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DDYPROF_BUILD_FUZZERS=ON -DDYPROF_BUILD_TESTS=OFF \
  -DDYPROF_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target "${FUZZERS[@]}"

# Seed corpora (rebuilt each run; the growing corpus is kept under $BUILD/corpus/).
seeds="$BUILD/seeds"
rm -rf "$seeds"
mkdir -p "$seeds/spec_fuzzer" "$seeds/hf_config_fuzzer" "$seeds/silicon_rows_fuzzer" "$seeds/calibration_table_fuzzer"
cp fuzz/seeds/silicon_rows_fuzzer/*.csv "$seeds/silicon_rows_fuzzer/"
cp data/calibration/silicon.csv "$seeds/calibration_table_fuzzer/"
# The whole table is longer than -max_len, which cuts it mid-row: its first families whole too.
head -n 12 data/calibration/silicon.csv >"$seeds/calibration_table_fuzzer/silicon-head.csv"
for f in examples/*.yaml tests/specs/reference/*.yaml tests/golden/*/spec.yaml; do
  cp "$f" "$seeds/spec_fuzzer/$(echo "$f" | tr / _)"
done
python3 - "$seeds/hf_config_fuzzer" data/models/*.json <<'PY'
import json, os, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    entry = json.load(open(path))
    name = os.path.basename(path)[:-5]
    json.dump(entry["config"], open(os.path.join(out, name + ".json"), "w"), indent=1)
    if "hf_quant_config" in entry:
        cfg = dict(entry["config"], quantization=entry["hf_quant_config"].get("quantization", entry["hf_quant_config"]))
        json.dump(cfg, open(os.path.join(out, name + "-quant.json"), "w"), indent=1)
PY

status=0
declare -A pids
for fz in "${FUZZERS[@]}"; do
  mkdir -p "$BUILD/corpus/$fz" "fuzz/regressions/$fz"
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: over 2 GB is a runaway allocation.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/fuzz/$fz" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -dict=fuzz/"$fz".dict -artifact_prefix="fuzz/regressions/$fz/" \
    "$BUILD/corpus/$fz" "$seeds/$fz" "fuzz/regressions/$fz" >"$BUILD/$fz.log" 2>&1 &
  pids[$fz]=$!
done
for fz in "${FUZZERS[@]}"; do
  rc=0
  wait "${pids[$fz]}" || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$BUILD/$fz.log" | awk '{print $2}' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$BUILD/$fz.log" | tail -1 | awk '{print $2}')
  if [ "$rc" -ne 0 ]; then
    echo "run_fuzzers: $fz FAILED (exit $rc) after ${execs:-?} executions; input saved under fuzz/regressions/$fz/:"
    grep -E 'ERROR|SUMMARY|artifact|Test unit written' "$BUILD/$fz.log" | head -20
    status=1
  else
    echo "run_fuzzers: $fz ok: ${execs:-?} executions in ${SECONDS_EACH}s, coverage ${cov:-?} edges"
  fi
done
exit $status
