// The dynamo-profiler command line: `dynamo-profiler --config SPEC [flags]` (the reference's form),
// `dynamo-profiler profile ...` (the same, explicit), and the tool subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "perf/engine.h"

namespace dyprof {

// --mtp-draft-tokens / --mtp-acceptance, shared by estimate and accuracy.
struct SpeculativeFlags {
  int draft_tokens = 0;
  std::string acceptance = "0.85";
};
void AddSpeculativeFlags(CLI::App* app, SpeculativeFlags* flags);
// `--moe-a2a-backend none|deepep` (SGLang's flag of that name): deepep asks the model for DeepEP's
// expert all-to-all on the engines that can use it (PerfOptions::moe_all_to_all).
void AddMoeA2aFlag(CLI::App* app, std::string* moe_a2a_backend);
// The performance-engine options of estimate and accuracy: AIC's composition under
// `--latency-model aic`, speculative decoding from the flags, the MoE all-to-all under
// `--moe-a2a-backend deepep`. InvalidArgument naming the flag when the acceptance list is not
// numbers in [0, 1] or the draft count is out of range.
Result<PerfOptions> EstimatorOptions(const std::string& latency_model, const SpeculativeFlags& flags,
                                     std::string_view moe_a2a_backend);

// The range of a parallel-degree or GPU-count flag: 1 (0 with `allow_zero`, "derive") up to
// kMaxGpus (catalog/parallel.h), so the GPU counts derived from the flags stay inside `int`.
CLI::Range GpuCountRange(bool allow_zero = false);

// A subcommand: registers its flags on `app` and returns the action to run when it was chosen.
// The action returns the process exit code.
using CommandAction = std::function<int()>;
struct CommandRegistration {
  CLI::App* app = nullptr;
  CommandAction action;
};
using CommandRegistrar = std::function<CommandRegistration(CLI::App& parent)>;

// Every subcommand beside profile. Each lives in its own cmd_*.cc file.
std::vector<CommandRegistrar> AllCommands();
std::vector<CommandRegistrar> CatalogCommands();  // models, systems, memory: cmd_catalog.cc
CommandRegistrar BenchCommand();                  // bench: cmd_thorough.cc
CommandRegistrar EmulateCommand();                // emulate: cmd_thorough.cc
CommandRegistrar EstimateCommand();               // estimate: cmd_estimate.cc
CommandRegistrar AccuracyCommand();               // accuracy: cmd_accuracy.cc

// Entry point used by main(). Never throws.
int RunCli(int argc, char** argv);

}  // namespace dyprof
