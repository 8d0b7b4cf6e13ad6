// The code path the silicon_rows fuzzer drives, shared with the regression test that replays
// fuzz/regressions/silicon_rows_fuzzer/* (src/sim/fuzz_regression_test.cc). Kept apart from
// fuzz_entry.h because it needs the perf and sim stages, which the catalog's replay test must
// not depend on. It may not crash, hang or throw on any input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/file_system.h"
#include "perf/batch.h"
#include "perf/csv.h"
#include "sim/estimate.h"
#include "sim/sim.h"

namespace dyprof::fuzz {

// Bytes as `estimate --from-csv` rows (silicon columns) → RequestFromSiliconRow → the default
// (hybrid) latency model, as `estimate --from-csv` and `accuracy` run them. Bytes after a line
// "--recipes--" are a recipes table (keyed by id) laid over the rows first, as `--recipes` does.
// Up to 8 rows per input;
// no local model directories (an empty file system: catalog ids only); simulations above 200,000
// engine iterations are refused so that one input stays well under the fuzzer's time limit.
inline void SiliconRowsEntry(const uint8_t* data, size_t size) {
  // The estimator (and its engine cache) is rebuilt every 256 inputs: reused, it keeps the fuzzer
  // fast (building engines dominates an input); rebuilt, its cache cannot grow with every model,
  // GPU, backend and format combination the fuzzer invents.
  static const MemFileSystem kNoFiles;
  static std::unique_ptr<BatchEstimator> shared;
  static int inputs = 0;
  if (!shared || ++inputs % 256 == 0) {
    shared = std::make_unique<BatchEstimator>(&kNoFiles, PerfOptions{});
    SimOptions options;
    options.max_steps = 2e5;
    UseLatencyModel(*shared, "hybrid", options);
  }
  BatchEstimator& estimator = *shared;
  std::string text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kRecipes = "\n--recipes--\n";
  std::string recipes_text;
  if (size_t at = text.find(kRecipes); at != std::string::npos) {
    recipes_text = text.substr(at + kRecipes.size());
    text.resize(at + 1);
  }
  Result<CsvTable> table = CsvTable::Parse(text);
  if (!table.ok()) return;
  if (!recipes_text.empty()) {
    Result<CsvTable> recipes = CsvTable::Parse(recipes_text);
    if (!recipes.ok()) return;
    Result<CsvOverlay> overlay = OverlayCsv(*table, *recipes, "id");
    if (!overlay.ok()) return;
    table = std::move(overlay->table);
  }
  for (size_t i = 0; i < std::min<size_t>(table->num_rows(), 8); ++i) {
    Result<EstimateRequest> request = RequestFromSiliconRow(*table, i);
    if (!request.ok()) continue;
    (void)estimator.Predict(*request);
  }
}

}  // namespace dyprof::fuzz
