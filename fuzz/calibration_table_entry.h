// The code path the calibration_table fuzzer drives, shared with the regression test that replays
// fuzz/regressions/calibration_table_fuzzer/* (src/perf/fuzz_regression_test.cc). It needs the perf
// stage only. It may not crash, hang or throw on any input, and traps when a property below fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "perf/calibration.h"

namespace dyprof::fuzz {

// Bytes as a calibration table (`estimate --calibration-table FILE`) → Calibration::Parse. A table
// that parses must give, for every entry, factors within [1/kCalibrationMaxFactor,
// kCalibrationMaxFactor] wherever it is read (inside, at and beyond its ranges, at 0), and must read
// back what it writes: Parse(ToCsv()) succeeds with the same entries.
inline void CalibrationTableEntry(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Calibration> table = Calibration::Parse(text);
  if (!table.ok()) return;
  auto within = [](double factor) {
    return factor >= 1 / kCalibrationMaxFactor && factor <= kCalibrationMaxFactor;
  };
  for (const CalibrationEntry& e : table->entries()) {
    for (double c : {0.0, e.concurrency_min, e.concurrency_max, 1e12}) {
      for (double len : {0.0, e.isl_min, e.osl_max, 1e12}) {
        const CalibrationFactors f = table->Lookup(e.key, c, len, len);
        if (!f.applied || !within(f.ttft) || !within(f.tpot)) __builtin_trap();
      }
    }
  }
  Result<Calibration> back = Calibration::Parse(table->ToCsv());
  if (!back.ok() || back->entries().size() != table->entries().size()) __builtin_trap();
  for (size_t i = 0; i < back->entries().size(); ++i) {
    if (!(back->entries()[i].key == table->entries()[i].key)) __builtin_trap();
  }
}

}  // namespace dyprof::fuzz
