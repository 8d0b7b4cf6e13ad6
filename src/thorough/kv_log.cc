#include "thorough/kv_log.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace dyprof {

namespace {

std::string NoCommas(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ','), s.end());
  return s;
}

int64_t ParseVllm(const std::string& line) {
  static const std::regex re(R"(Maximum concurrency for ([\d,]+) tokens per request: ([\d.,]+)x)");
  std::smatch m;
  if (!std::regex_search(line, m, re)) return -1;
  double tokens = std::stod(NoCommas(m[1]));
  double conc = std::stod(NoCommas(m[2]));
  return static_cast<int64_t>(tokens * conc);
}

int64_t ParseSglang(const std::string& line) {
  if (line.find("KV Cache is allocated") == std::string::npos) return -1;
  static const std::regex re(R"(#tokens:\s*([\d,]+))");
  std::smatch m;
  if (!std::regex_search(line, m, re)) return -1;
  return std::stoll(NoCommas(m[1]));
}

int64_t ParseTrtllm(const std::string& line) {
  if (line.find("Allocated") == std::string::npos || line.find("for max tokens in paged KV cache") == std::string::npos)
    return -1;
  static const std::regex re(R"(paged KV cache \(([\d,]+)\))");
  std::smatch m;
  if (!std::regex_search(line, m, re)) return -1;
  return std::stoll(NoCommas(m[1]));
}

}  // namespace

int64_t ParseKvCapacityFromLog(Backend backend, const std::string& log, int attention_dp_size) {
  int dp = std::max(1, attention_dp_size);
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    int64_t v = -1;
    try {
      if (backend == Backend::kVllm || backend == Backend::kAuto) v = ParseVllm(line);
      if (v < 0 && (backend == Backend::kSglang || backend == Backend::kAuto)) v = ParseSglang(line);
      if (v < 0 && (backend == Backend::kTrtllm || backend == Backend::kAuto)) v = ParseTrtllm(line);
    } catch (...) {
      v = -1;
    }
    if (v >= 0) return v * dp;
  }
  return 0;
}

std::string KvCapacityLogLine(Backend backend, int64_t kv_tokens, int max_model_len, double kv_gib) {
  switch (backend) {
    case Backend::kSglang:
      return fmt::format("KV Cache is allocated. #tokens: {}, K size: {:.2f} GB, V size: {:.2f} GB", kv_tokens,
                         kv_gib / 2, kv_gib / 2);
    case Backend::kTrtllm:
      return fmt::format("[TensorRT-LLM][INFO] [MemUsageChange] Allocated {:.2f} GiB for max tokens in paged KV cache ({}).",
                         kv_gib, kv_tokens);
    default: {
      double conc = max_model_len > 0 ? static_cast<double>(kv_tokens) / max_model_len : 0;
      // Round up in the second decimal so int(tokens * conc) does not lose a whole request.
      conc = std::ceil(conc * 100.0) / 100.0;
      return fmt::format("INFO [kv_cache_utils.py] GPU KV cache size: {} tokens\n"
                         "INFO [kv_cache_utils.py] Maximum concurrency for {} tokens per request: {:.2f}x",
                         kv_tokens, max_model_len, conc);
    }
  }
}

std::vector<int> DecodeConcurrencySweep(int attention_dp, int engine_max_concurrency, int granularity) {
  constexpr int kDecodeMaxConcurrency = 2000;
  int dp = std::max(1, attention_dp);
  int g = std::max(1, granularity);
  int c = std::min(engine_max_concurrency, kDecodeMaxConcurrency);
  int p = c / dp;
  std::vector<int> out;
  if (p <= 0) return out;
  if (p < g) {
    for (int i = 1; i <= p; ++i) out.push_back(i * dp);
    return out;
  }
  if (g == 1) return {dp};
  double step = static_cast<double>(p - 1) * dp / (g - 1);
  for (int i = 0; i < g; ++i) out.push_back(dp + static_cast<int>(std::floor(i * step)) * dp);
  return out;
}

}  // namespace dyprof
