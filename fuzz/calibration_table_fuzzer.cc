// libFuzzer target: arbitrary bytes as a calibration table, as `estimate --calibration-table` reads it.
#include "calibration_table_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dyprof::fuzz::CalibrationTableEntry(data, size);
  return 0;
}
