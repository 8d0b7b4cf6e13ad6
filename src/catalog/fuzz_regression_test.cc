// Replays every input under fuzz/regressions/<fuzzer>/ through the fuzzers' entry points
// (fuzz/fuzz_entry.h): inputs that once crashed, hung or leaked must now be handled, in the
// ordinary (gcc) build and under the sanitizers (make test-sanitize).
#include <gtest/gtest.h>

#include "../../fuzz/fuzz_entry.h"
#include "../../fuzz/replay.h"

namespace dyprof {
namespace {

TEST(FuzzRegression, SpecInputs) { fuzz::ReplayRegressions("spec_fuzzer", &fuzz::SpecEntry); }
TEST(FuzzRegression, HfConfigInputs) { fuzz::ReplayRegressions("hf_config_fuzzer", &fuzz::HfConfigEntry); }

}  // namespace
}  // namespace dyprof
