// The built-in systems catalog (data/systems/*.json, embedded in the binary).
#pragma once

#include <string>
#include <vector>

#include "catalog/system.h"
#include "common/status.h"

namespace dyprof {

// Every catalog system id (the DGDR hardware.gpuSku spelling, e.g. "h200_sxm"), sorted.
std::vector<std::string> CatalogSystemIds();

// Looks a system up by id or alias, case-insensitively ("H100_SXM", "gb200" ≡ "gb200_sxm").
// Unknown → kNotFound listing the known ids.
Result<SystemSpec> FindSystem(const std::string& sku);

// Applies hardware.vramMb (MiB per GPU): replaces the memory capacity.
void ApplyVramOverride(SystemSpec& system, double vram_mb);

}  // namespace dyprof
