// libFuzzer target: arbitrary bytes as silicon-format CSV rows, predicted as `estimate --from-csv` does.
#include "silicon_rows_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dyprof::fuzz::SiliconRowsEntry(data, size);
  return 0;
}
