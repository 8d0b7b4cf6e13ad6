// Replays every input under fuzz/regressions/calibration_table_fuzzer/ through that fuzzer's entry
// point (fuzz/calibration_table_entry.h): tables that once crashed or broke a property must now
// be handled, in the ordinary build and under the sanitizers (make test-sanitize).
#include <gtest/gtest.h>

#include "../../fuzz/calibration_table_entry.h"
#include "../../fuzz/replay.h"

namespace dyprof {
namespace {

TEST(FuzzRegression, CalibrationTableInputs) {
  fuzz::ReplayRegressions("calibration_table_fuzzer", &fuzz::CalibrationTableEntry);
}

}  // namespace
}  // namespace dyprof
