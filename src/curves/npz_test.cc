#include "curves/npz.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <unistd.h>

namespace dyprof {
namespace {

uint64_t Le(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

TEST(NpyTest, HeaderIsVersion1PaddedTo64WithNumpyDictText) {
  std::string b = EncodeNpy(NpyArray::Float64({1.0, 2.5, -3.0}));
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.substr(0, 6), std::string("\x93NUMPY", 6));
  EXPECT_EQ(b[6], '\x01');
  EXPECT_EQ(b[7], '\x00');
  size_t header_len = Le(b, 8, 2);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  std::string header = b.substr(10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 0), 0u) << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(b.size(), 10 + header_len + 3 * 8);
  // Little-endian IEEE-754: 1.0 = 0x3ff0000000000000.
  EXPECT_EQ(Le(b, 10 + header_len, 8), 0x3ff0000000000000ull);
}

TEST(NpyTest, Int64AndEmptyShapes) {
  std::string b = EncodeNpy(NpyArray::Int64({412000}));
  EXPECT_NE(b.find("'descr': '<i8'"), std::string::npos);
  EXPECT_NE(b.find("'shape': (1,)"), std::string::npos);
  auto back = DecodeNpy(b);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->dtype, NpyArray::Dtype::kInt64);
  EXPECT_EQ(back->i64, std::vector<int64_t>{412000});

  auto empty = DecodeNpy(EncodeNpy(NpyArray::Float64({})));
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->shape, std::vector<int64_t>{0});
  EXPECT_TRUE(empty->f64.empty());
}

TEST(NpyTest, RejectsUnsupportedAndTruncated) {
  EXPECT_FALSE(DecodeNpy("hello").ok());
  std::string b = EncodeNpy(NpyArray::Float64({1, 2}));
  EXPECT_FALSE(DecodeNpy(b.substr(0, b.size() - 1)).ok());
  std::string f4 = b;
  f4.replace(f4.find("<f8"), 3, "<f4");
  EXPECT_FALSE(DecodeNpy(f4).ok());
  std::string fortran = b;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_FALSE(DecodeNpy(fortran).ok());
}

NpzEntries Sample() {
  return {{"x_kv_usage", NpyArray::Float64({0.01, 0.5, 0.999})},
          {"y_context_length", NpyArray::Float64({350.0, 350.0, 2850.0})},
          {"z_itl", NpyArray::Float64({7.5, 9.0, std::numeric_limits<double>::min()})},
          {"z_thpt_per_gpu", NpyArray::Float64({33.3, 420.0, 1e300})},
          {"max_kv_tokens", NpyArray::Int64({412000})}};
}

TEST(NpzTest, RoundTripKeepsKeysOrderDtypesAndBits) {
  auto bytes = EncodeNpz(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto back = DecodeNpz(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  NpzEntries want = Sample();
  ASSERT_EQ(back->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*back)[i].first, want[i].first);
    EXPECT_EQ((*back)[i].second.dtype, want[i].second.dtype);
    EXPECT_EQ((*back)[i].second.shape, want[i].second.shape);
    EXPECT_EQ((*back)[i].second.f64, want[i].second.f64);
    EXPECT_EQ((*back)[i].second.i64, want[i].second.i64);
  }
}

TEST(NpzTest, ZipStructureIsStoredWithZlibCrc) {
  auto bytes = EncodeNpz({{"a", NpyArray::Float64({1, 2, 3})}});
  ASSERT_TRUE(bytes.ok());
  const std::string& z = *bytes;
  EXPECT_EQ(Le(z, 0, 4), 0x04034b50u);  // local file header
  EXPECT_EQ(Le(z, 8, 2), 0u);           // stored
  size_t size = Le(z, 18, 4);
  EXPECT_EQ(Le(z, 22, 4), size);
  EXPECT_EQ(z.substr(30, Le(z, 26, 2)), "a.npy");
  std::string data = z.substr(30 + 5, size);
  EXPECT_EQ(Le(z, 14, 4), crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  EXPECT_EQ(Le(z, z.size() - 22, 4), 0x06054b50u);  // end of central directory
  EXPECT_EQ(Le(z, z.size() - 22 + 10, 2), 1u);
}

TEST(NpzTest, DetectsCorruptionAndBadInput) {
  auto bytes = EncodeNpz(Sample());
  ASSERT_TRUE(bytes.ok());
  std::string bad = *bytes;
  bad[180] ^= 0x55;  // inside the first entry's data (local header 44 + npy header 128)
  auto r = DecodeNpz(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("CRC"), std::string::npos) << r.status().message();
  EXPECT_FALSE(DecodeNpz("PK").ok());
  EXPECT_FALSE(EncodeNpz({{"a", NpyArray::Float64({1})}, {"a", NpyArray::Float64({2})}}).ok());
  EXPECT_FALSE(EncodeNpz({{"", NpyArray::Float64({1})}}).ok());
  NpyArray wrong = NpyArray::Float64({1, 2});
  wrong.shape = {3};
  EXPECT_FALSE(EncodeNpz({{"a", wrong}}).ok());
}

// ---- numpy interoperability (skipped when python3 with numpy is not installed) -------------------

std::string FindPythonWithNumpy() {
  for (const char* py : {"python3", "/usr/bin/python3"}) {
    std::string cmd = std::string(py) + " -c \"import numpy\" >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

std::string RunCapture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class NumpyInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = FindPythonWithNumpy();
    if (python_.empty()) GTEST_SKIP() << "python3 with numpy not installed (Debian: apt-get install python3-numpy); "
                                         "skipping the numpy interoperability check";
    dir_ = std::filesystem::temp_directory_path() / ("dyprof_npz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string python_;
  std::filesystem::path dir_;
};

TEST_F(NumpyInteropTest, NumpyLoadsOurArchive) {
  auto bytes = EncodeNpz(Sample());
  ASSERT_TRUE(bytes.ok());
  std::string path = (dir_ / "raw_data.npz").string();
  std::ofstream(path, std::ios::binary) << *bytes;
  std::string script =
      "import numpy as np, sys\n"
      "d = np.load(sys.argv[1])\n"
      "for k in d.files:\n"
      "    a = d[k]\n"
      "    print(k, a.dtype.str, a.shape, repr(a.tolist()))\n";
  std::string script_path = (dir_ / "load.py").string();
  std::ofstream(script_path) << script;
  std::string out = RunCapture(python_ + " " + script_path + " " + path + " 2>&1");
  EXPECT_EQ(out,
            "x_kv_usage <f8 (3,) [0.01, 0.5, 0.999]\n"
            "y_context_length <f8 (3,) [350.0, 350.0, 2850.0]\n"
            "z_itl <f8 (3,) [7.5, 9.0, 2.2250738585072014e-308]\n"
            "z_thpt_per_gpu <f8 (3,) [33.3, 420.0, 1e+300]\n"
            "max_kv_tokens <i8 (1,) [412000]\n");
}

TEST_F(NumpyInteropTest, WeReadNumpySavez) {
  std::string path = (dir_ / "np.npz").string();
  std::string cmd = python_ + " -c \"import numpy as np; np.savez('" + path +
                    "', prefill_isl=np.array([100.0, 2600.0]), max_kv_tokens=np.array([7], dtype=np.int64))\" 2>&1";
  ASSERT_EQ(RunCapture(cmd), "");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto back = DecodeNpz(ss.str());
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].first, "prefill_isl");
  EXPECT_EQ((*back)[0].second.f64, (std::vector<double>{100.0, 2600.0}));
  EXPECT_EQ((*back)[1].first, "max_kv_tokens");
  EXPECT_EQ((*back)[1].second.i64, std::vector<int64_t>{7});
}

}  // namespace
}  // namespace dyprof
