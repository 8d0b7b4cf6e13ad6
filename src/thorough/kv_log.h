// KV-cache capacity from a worker's log, per backend (reference §2.11), and the line each backend
// prints (the emulator prints the same line so parsing is exercised end to end).
#pragma once

#include <cstdint>
#include <string>

#include "spec/spec.h"

namespace dyprof {

// vLLM:    "Maximum concurrency for <tokens> tokens per request: <conc>x" → int(tokens·conc)·dp
// SGLang:  "KV Cache is allocated. #tokens: <n>"                         → n·dp
// TRT-LLM: "Allocated ... for max tokens in paged KV cache (<n>)"        → n·max(1, dp)
// 0 when no line matches. Commas in numbers are ignored. kAuto tries every backend's line.
int64_t ParseKvCapacityFromLog(Backend backend, const std::string& log, int attention_dp_size);

// The line `backend` logs for a KV pool of `kv_tokens` per attention-DP rank.
std::string KvCapacityLogLine(Backend backend, int64_t kv_tokens, int max_model_len, double kv_gib);

// get_num_request_range: decode concurrency samples (reference §4.3), cap 2000.
std::vector<int> DecodeConcurrencySweep(int attention_dp, int engine_max_concurrency, int granularity);

}  // namespace dyprof
