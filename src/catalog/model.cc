#include "catalog/model.h"

namespace dyprof {

std::string_view QuantName(Quant q) {
  switch (q) {
    case Quant::kBf16: return "bf16";
    case Quant::kFp16: return "fp16";
    case Quant::kFp8: return "fp8";
    case Quant::kFp8Block: return "fp8_block";
    case Quant::kNvfp4: return "nvfp4";
    case Quant::kMxfp4: return "mxfp4";
    case Quant::kInt4Wo: return "int4_wo";
  }
  return "bf16";
}

double QuantBytes(Quant q) {
  switch (q) {
    case Quant::kBf16:
    case Quant::kFp16: return 2.0;
    case Quant::kFp8: return 1.0;
    case Quant::kFp8Block: return 1.0 + 4.0 / (128.0 * 128.0);  // one fp32 scale per 128x128 block
    case Quant::kNvfp4: return 0.5 + 1.0 / 16.0;                // one fp8 scale per 16 elements
    case Quant::kMxfp4: return 0.5 + 1.0 / 32.0;                // one e8m0 scale per 32 elements
    case Quant::kInt4Wo: return 0.5 + 2.0 / 128.0;              // one bf16 scale per 128-group
  }
  return 2.0;
}

}  // namespace dyprof
