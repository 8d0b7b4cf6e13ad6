// libFuzzer target: arbitrary bytes as a Hugging Face config.json, read into a ModelArch.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dyprof::fuzz::HfConfigEntry(data, size);
  return 0;
}
