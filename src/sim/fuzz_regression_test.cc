// Replays every input under fuzz/regressions/silicon_rows_fuzzer/ through that fuzzer's entry
// point (fuzz/silicon_rows_entry.h): rows that once crashed, hung or overflowed must now be
// handled, in the ordinary build and under the sanitizers (make test-sanitize).
#include <gtest/gtest.h>

#include "../../fuzz/replay.h"
#include "../../fuzz/silicon_rows_entry.h"

namespace dyprof {
namespace {

TEST(FuzzRegression, SiliconRowsInputs) {
  fuzz::ReplayRegressions("silicon_rows_fuzzer", &fuzz::SiliconRowsEntry);
}

}  // namespace
}  // namespace dyprof
