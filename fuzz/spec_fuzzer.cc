// libFuzzer target: arbitrary bytes as a DGDR spec (YAML and JSON), parsed and validated.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dyprof::fuzz::SpecEntry(data, size);
  return 0;
}
