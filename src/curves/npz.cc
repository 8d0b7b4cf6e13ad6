#include "curves/npz.h"

#include <zlib.h>

#include <cstring>
#include <set>

#include <fmt/format.h>

namespace dyprof {

namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, what zipfile writes for no date

void Put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>(v >> 8));
}
void Put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void Put64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

uint32_t Crc32(const std::string& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; our arrays are far below 4 GiB, but chunk anyway.
  size_t off = 0;
  while (off < data.size()) {
    uInt n = static_cast<uInt>(std::min<size_t>(data.size() - off, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + off), n);
    off += n;
  }
  return static_cast<uint32_t>(crc);
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

// Value of `key` in the header dict text, up to the next top-level ',' or '}' (shape: the tuple).
Result<std::string> HeaderField(const std::string& header, const std::string& key) {
  std::string needle = "'" + key + "':";
  size_t at = header.find(needle);
  if (at == std::string::npos) return Status::InvalidArgument("npy header has no '" + key + "'");
  at += needle.size();
  while (at < header.size() && header[at] == ' ') ++at;
  size_t end = at;
  if (at < header.size() && header[at] == '(') {
    end = header.find(')', at);
    if (end == std::string::npos) return Status::InvalidArgument("npy header: unterminated shape");
    return header.substr(at, end - at + 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  std::string v = header.substr(at, end - at);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

}  // namespace

NpyArray NpyArray::Float64(std::vector<double> v) {
  NpyArray a;
  a.dtype = Dtype::kFloat64;
  a.shape = {static_cast<int64_t>(v.size())};
  a.f64 = std::move(v);
  return a;
}

NpyArray NpyArray::Int64(std::vector<int64_t> v) {
  NpyArray a;
  a.dtype = Dtype::kInt64;
  a.shape = {static_cast<int64_t>(v.size())};
  a.i64 = std::move(v);
  return a;
}

int64_t NpyArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string EncodeNpy(const NpyArray& array) {
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", array.descr(),
                                   ShapeText(array.shape));
  // magic(6) + version(2) + header_len(2) + header + '\n' padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  header.append(padded - total, ' ');
  header.push_back('\n');
  std::string out(kNpyMagic, 6);
  out.push_back('\x01');
  out.push_back('\x00');
  Put16(out, static_cast<uint16_t>(header.size()));
  out += header;
  if (array.dtype == NpyArray::Dtype::kFloat64) {
    for (double d : array.f64) {
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      Put64(out, bits);
    }
  } else {
    for (int64_t v : array.i64) Put64(out, static_cast<uint64_t>(v));
  }
  return out;
}

Result<NpyArray> DecodeNpy(const std::string& bytes) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kNpyMagic, 6) != 0) return Status::InvalidArgument("not a .npy file");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, data_at;
  if (major == 1) {
    header_len = GetLe(bytes, 8, 2);
    data_at = 10 + header_len;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Status::InvalidArgument("truncated .npy header");
    header_len = GetLe(bytes, 8, 4);
    data_at = 12 + header_len;
  } else {
    return Status::InvalidArgument(fmt::format(".npy version {} not supported", major));
  }
  if (data_at > bytes.size()) return Status::InvalidArgument("truncated .npy header");
  std::string header = bytes.substr(data_at - header_len, header_len);
  DYPROF_ASSIGN_OR_RETURN(std::string descr, HeaderField(header, "descr"));
  DYPROF_ASSIGN_OR_RETURN(std::string fortran, HeaderField(header, "fortran_order"));
  DYPROF_ASSIGN_OR_RETURN(std::string shape, HeaderField(header, "shape"));
  NpyArray a;
  if (descr == "'<f8'") {
    a.dtype = NpyArray::Dtype::kFloat64;
  } else if (descr == "'<i8'") {
    a.dtype = NpyArray::Dtype::kInt64;
  } else {
    return Status::InvalidArgument("unsupported .npy dtype " + descr + " (only <f8 and <i8)");
  }
  if (fortran != "False") return Status::InvalidArgument("fortran_order .npy arrays are not supported");
  // "(3,)", "(2, 3)", "()".
  std::string inner = shape.substr(1, shape.size() - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t comma = inner.find(',', pos);
    std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t b = part.find_first_not_of(' '), e = part.find_last_not_of(' ');
    if (b != std::string::npos) {
      part = part.substr(b, e - b + 1);
      try {
        a.shape.push_back(std::stoll(part));
      } catch (...) {
        return Status::InvalidArgument("bad .npy shape " + shape);
      }
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  int64_t n = a.size();
  if (n < 0 || data_at + static_cast<size_t>(n) * 8 != bytes.size())
    return Status::InvalidArgument(fmt::format(".npy data is {} bytes, shape {} needs {}", bytes.size() - data_at,
                                               shape, n * 8));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits = GetLe(bytes, data_at + 8 * i, 8);
    if (a.dtype == NpyArray::Dtype::kFloat64) {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      a.f64.push_back(d);
    } else {
      a.i64.push_back(static_cast<int64_t>(bits));
    }
  }
  return a;
}

Result<std::string> EncodeNpz(const NpzEntries& entries) {
  std::string out, central;
  std::set<std::string> seen;
  for (const auto& [key, array] : entries) {
    if (key.empty() || key.find('/') != std::string::npos || !seen.insert(key).second)
      return Status::InvalidArgument("bad or duplicate npz key '" + key + "'");
    size_t n = array.dtype == NpyArray::Dtype::kFloat64 ? array.f64.size() : array.i64.size();
    if (array.size() != static_cast<int64_t>(n))
      return Status::InvalidArgument(fmt::format("npz '{}': {} values for shape of {}", key, n, array.size()));
    std::string name = key + ".npy";
    std::string data = EncodeNpy(array);
    if (data.size() >= 0xffffffffu || out.size() >= 0xffffffffu)
      return Status::InvalidArgument("npz entry too large (no zip64 support)");
    uint32_t crc = Crc32(data);
    uint32_t offset = static_cast<uint32_t>(out.size());
    auto common = [&](std::string& s) {
      Put16(s, 20);            // version needed: 2.0
      Put16(s, 0);             // flags
      Put16(s, 0);             // method: stored
      Put16(s, 0);             // time 00:00:00
      Put16(s, kDosDate1980);  // date
      Put32(s, crc);
      Put32(s, static_cast<uint32_t>(data.size()));  // compressed
      Put32(s, static_cast<uint32_t>(data.size()));  // uncompressed
      Put16(s, static_cast<uint16_t>(name.size()));
      Put16(s, 0);  // extra length
    };
    Put32(out, kLocalSig);
    common(out);
    out += name;
    out += data;
    Put32(central, kCentralSig);
    Put16(central, 0x0314);  // made by: Unix, 2.0
    common(central);
    Put16(central, 0);  // comment length
    Put16(central, 0);  // disk number
    Put16(central, 0);  // internal attributes
    Put32(central, 0644u << 16);  // external attributes: -rw-r--r--
    Put32(central, offset);
    central += name;
  }
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  Put32(out, kEndSig);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<uint16_t>(entries.size()));
  Put16(out, static_cast<uint16_t>(entries.size()));
  Put32(out, static_cast<uint32_t>(central.size()));
  Put32(out, cd_offset);
  Put16(out, 0);  // comment length
  return out;
}

Result<NpzEntries> DecodeNpz(const std::string& bytes) {
  if (bytes.size() < 22) return Status::InvalidArgument("not a zip archive (too short)");
  size_t end = std::string::npos;
  for (size_t i = bytes.size() - 22 + 1; i-- > 0 && bytes.size() - i <= 22 + 0xffff;) {
    if (GetLe(bytes, i, 4) == kEndSig) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos) return Status::InvalidArgument("not a zip archive (no end of central directory)");
  uint64_t count = GetLe(bytes, end + 10, 2);
  uint64_t cd_offset = GetLe(bytes, end + 16, 4);
  NpzEntries out;
  size_t at = cd_offset;
  for (uint64_t e = 0; e < count; ++e) {
    if (at + 46 > bytes.size() || GetLe(bytes, at, 4) != kCentralSig)
      return Status::InvalidArgument("corrupt zip central directory");
    uint64_t method = GetLe(bytes, at + 10, 2);
    uint32_t crc = static_cast<uint32_t>(GetLe(bytes, at + 16, 4));
    uint64_t csize = GetLe(bytes, at + 20, 4), usize = GetLe(bytes, at + 24, 4);
    size_t name_len = GetLe(bytes, at + 28, 2), extra_len = GetLe(bytes, at + 30, 2), comment_len = GetLe(bytes, at + 32, 2);
    uint64_t local = GetLe(bytes, at + 42, 4);
    if (at + 46 + name_len + extra_len > bytes.size()) return Status::InvalidArgument("corrupt zip central directory");
    std::string name = bytes.substr(at + 46, name_len);
    // Zip64 extra field (np.savez forces zip64): sizes / offset that read 0xffffffff live there.
    for (size_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
      uint64_t id = GetLe(bytes, x, 2), len = GetLe(bytes, x + 2, 2);
      if (id == 1) {
        size_t f = x + 4;
        if (usize == 0xffffffffu) usize = GetLe(bytes, f, 8), f += 8;
        if (csize == 0xffffffffu) csize = GetLe(bytes, f, 8), f += 8;
        if (local == 0xffffffffu) local = GetLe(bytes, f, 8), f += 8;
      }
      x += 4 + len;
    }
    at += 46 + name_len + extra_len + comment_len;
    if (method != 0) return Status::InvalidArgument("npz entry '" + name + "' is compressed (only stored supported)");
    if (csize != usize) return Status::InvalidArgument("npz entry '" + name + "': size mismatch");
    if (local + 30 > bytes.size() || GetLe(bytes, local, 4) != kLocalSig)
      return Status::InvalidArgument("corrupt zip local header for '" + name + "'");
    size_t data_at = local + 30 + GetLe(bytes, local + 26, 2) + GetLe(bytes, local + 28, 2);
    if (data_at + csize > bytes.size()) return Status::InvalidArgument("truncated zip entry '" + name + "'");
    std::string data = bytes.substr(data_at, csize);
    if (Crc32(data) != crc) return Status::InvalidArgument("CRC mismatch in npz entry '" + name + "'");
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      return Status::InvalidArgument("npz entry '" + name + "' is not a .npy file");
    auto array = DecodeNpy(data);
    if (!array.ok()) return Status::InvalidArgument("npz entry '" + name + "': " + array.status().message());
    out.emplace_back(name.substr(0, name.size() - 4), std::move(*array));
  }
  return out;
}

}  // namespace dyprof
