// A small NumPy .npz writer and reader (what np.savez / np.load produce and read): a zip archive of
// stored (uncompressed) entries named "<key>.npy", each a .npy v1.0 file with a little-endian
// float64 ('<f8') or int64 ('<i8') C-order array. CRC-32 from zlib. Enough for the planner
// interpolation files (reference §4); not a general NumPy format implementation.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dyprof {

struct NpyArray {
  enum class Dtype { kFloat64, kInt64 };
  Dtype dtype = Dtype::kFloat64;
  std::vector<int64_t> shape;  // C order; {n} for a 1-D array
  std::vector<double> f64;     // when dtype == kFloat64
  std::vector<int64_t> i64;    // when dtype == kInt64

  static NpyArray Float64(std::vector<double> v);  // 1-D
  static NpyArray Int64(std::vector<int64_t> v);   // 1-D
  int64_t size() const;                             // product of shape
  std::string_view descr() const { return dtype == Dtype::kFloat64 ? "<f8" : "<i8"; }
};

// Ordered (key, array) pairs: the archive keeps this order.
using NpzEntries = std::vector<std::pair<std::string, NpyArray>>;

// The .npy v1.0 bytes of one array: magic, version 1.0, header dict
// "{'descr': '<f8', 'fortran_order': False, 'shape': (n,), }" space-padded and '\n'-terminated so
// that the data starts at a multiple of 64 bytes, then the raw little-endian data.
std::string EncodeNpy(const NpyArray& array);
Result<NpyArray> DecodeNpy(const std::string& bytes);

// The .npz bytes (zip, stored entries, "<key>.npy"). kInvalidArgument on a bad or duplicate key or
// an array whose data does not match its shape.
Result<std::string> EncodeNpz(const NpzEntries& entries);
// Reads an archive EncodeNpz wrote (or np.savez without compression): stored entries only, CRC
// checked, keys without ".npy", in archive order.
Result<NpzEntries> DecodeNpz(const std::string& bytes);

}  // namespace dyprof
