#include "search/rows.h"

#include <fmt/format.h>

namespace dyprof {

std::string ConfigRow::Describe() const {
  if (!disagg) return fmt::format("agg {} bs{}", split.Label(), bs);
  return fmt::format("{}P {} bs{} + {}D {} bs{}", prefill_workers, prefill.split.Label(), prefill.bs, decode_workers,
                     decode.split.Label(), decode.bs);
}

}  // namespace dyprof
