// The dynamo-profiler command line: `dynamo-profiler --config SPEC [flags]` (the reference's form),
// `dynamo-profiler profile ...` (the same, explicit), and the tool subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace dyprof {

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
