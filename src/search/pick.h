// The picked deployment: what the search hands to rendering and curves.
#pragma once

#include <string>
#include <vector>

#include "catalog/parallel.h"
#include "common/document.h"
#include "spec/spec.h"

namespace dyprof {

// One engine's parallel layout, batch limits and replica count as picked.
struct EnginePick {
  ParallelSplit split;
  int replicas = 1;
  int max_batch_size = 0;  // 0: backend default
  int max_num_tokens = 0;  // 0: backend default (prefill token budget / chunk size)
  int NumGpus() const { return split.NumGpus(); }
};

// An EnginePick with at least one replica.
inline EnginePick MakeEnginePick(const ParallelSplit& split, int replicas, int max_batch_size, int max_num_tokens) {
  EnginePick p;
  p.split = split;
  p.replicas = replicas < 1 ? 1 : replicas;
  p.max_batch_size = max_batch_size;
  p.max_num_tokens = max_num_tokens;
  return p;
}

struct Decision {
  Backend backend = Backend::kVllm;  // resolved (never kAuto)
  bool disagg = false;
  EnginePick agg;       // when !disagg
  EnginePick prefill;   // when disagg
  EnginePick decode;    // when disagg
  bool produced = true; // false: no configuration (→ "Profiler did not produce a DGD config.")
  bool naive = false;   // memory-fit fallback, SLA unverified
  Json pick_json = Json::object();
};

}  // namespace dyprof
