#include "cli/cli.h"

#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/file_system.h"
#include "common/log.h"
#include "common/strings.h"
#include "pipeline/profiler.h"
#include "pipeline/status_file.h"

namespace dyprof {

void AddSpeculativeFlags(CLI::App* app, SpeculativeFlags* flags) {
  app->add_option("--mtp-draft-tokens", flags->draft_tokens,
                  "Speculative decoding: MTP draft tokens verified per decode step (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 8));
  app->add_option("--mtp-acceptance", flags->acceptance,
                  "Comma-separated acceptance rate of draft token 1, 2, ... given the earlier ones were accepted "
                  "(missing = 0; default 0.85: DeepSeek-V3 report, 85-90 % for its MTP token)")
      ->capture_default_str();
}

namespace {

Result<SpeculativeDecoding> ToSpeculative(const SpeculativeFlags& flags) {
  SpeculativeDecoding s;
  s.draft_tokens = flags.draft_tokens;
  auto acceptance = SpeculativeDecoding::ParseAcceptance(flags.acceptance);
  if (!acceptance.ok()) return Status::InvalidArgument("--mtp-acceptance: " + acceptance.status().message());
  s.acceptance = *std::move(acceptance);
  if (Status st = s.Validate(); !st.ok()) return Status::InvalidArgument("--mtp-acceptance: " + st.message());
  return s;
}

}  // namespace

CLI::Range GpuCountRange(bool allow_zero) { return CLI::Range(allow_zero ? 0 : 1, static_cast<int>(kMaxGpus)); }

void AddMoeA2aFlag(CLI::App* app, std::string* moe_a2a_backend) {
  app->add_option("--moe-a2a-backend", *moe_a2a_backend,
                  "SGLang's MoE all-to-all: none (default: attention-DP ranks gather every token, as the rendered "
                  "deployments run) or deepep (multi-node wide-EP engines send each token to its experts' ranks; "
                  "8-bit experts on DeepGEMM)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "deepep"}));
}

Result<PerfOptions> EstimatorOptions(const std::string& latency_model, const SpeculativeFlags& flags,
                                     std::string_view moe_a2a_backend) {
  PerfOptions opts;
  if (latency_model == "aic") opts.composition = PerfOptions::Composition::kAic;
  opts.moe_all_to_all = moe_a2a_backend == "deepep";
  DYPROF_ASSIGN_OR_RETURN(opts.speculative, ToSpeculative(flags));
  return opts;
}

std::vector<CommandRegistrar> AllCommands() {
  std::vector<CommandRegistrar> commands = CatalogCommands();
  commands.push_back(EstimateCommand());
  commands.push_back(AccuracyCommand());
  commands.push_back(BenchCommand());
  commands.push_back(EmulateCommand());
  return commands;
}

namespace {

// The --output-dir value as written on the command line (used when parsing failed).
std::string ScanOutputDir(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--output-dir" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--output-dir=", 0) == 0) return a.substr(13);
  }
  return "profiling_results";
}

int WriteArgumentFailure(int argc, char** argv, int exit_code, const std::string& detail) {
  PosixFileSystem fs;
  SystemClock clock;
  std::string out = ScanOutputDir(argc, argv);
  if (fs.MakeDirs(out).ok()) {
    StatusWriter(&fs, &clock, out)
        .Write({RunStatus::kFailed, "Config validation failed",
                "Argument parsing failed (exit code " + std::to_string(exit_code) + "): " + detail, std::nullopt,
                false});
  }
  return exit_code;
}

}  // namespace

int RunCli(int argc, char** argv) {
  // `dynamo-profiler profile ...` is the explicit spelling of the default command.
  std::vector<char*> args(argv, argv + argc);
  if (args.size() > 1 && std::string(args[1]) == "profile") args.erase(args.begin() + 1);
  int n = static_cast<int>(args.size());

  CLI::App app{"dynamo-profiler: SLA-driven deployment profiler for NVIDIA Dynamo.\n"
               "Reads a DynamoGraphDeploymentRequest spec and writes a DynamoGraphDeployment (final_config.yaml)."};
  app.name("dynamo-profiler");
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "dynamo-profiler 0.1.0");

  ProfileOptions options;
  std::string config;
  bool quiet = false;
  app.add_option("--config", config, "DGDR spec: path to a .yaml/.yml/.json file, or inline JSON (bare spec or whole DGDR)");
  app.add_option("--output-dir", options.output_dir, "Directory for all outputs")->capture_default_str();
  app.add_option("--deployment-timeout", options.deployment_timeout_s, "Seconds to wait for each thorough deployment to become ready")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--prefill-interpolation-granularity", options.prefill_interpolation_granularity,
                 "Number of ISL samples in the prefill curve")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--decode-interpolation-granularity", options.decode_interpolation_granularity,
                 "Number of context-length and of concurrency samples in the decode curve")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--dry-run", options.dry_run, "Skip deployments and benchmarking; picks become tp=1 and no DGD is produced");
  app.add_option("--dgd-api-version", options.dgd_api_version, "API version of the generated DGD")
      ->capture_default_str()->check(CLI::IsMember({"v1beta1", "v1alpha1"}));
  app.add_option("--top-n", options.top_n, "Alternatives shown per serving mode in the summary")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rerank-top", options.rerank_top,
                 "Re-rank the top N candidates of each mode by a scheduler simulation under their own load; 0 = off")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            int n = 0;
            if (!CLI::detail::lexical_cast(v, n) || n < 0)
              return "must be a whole number >= 0 (0 = off), got '" + v + "'";
            return {};
          },
          "NONNEGATIVE"));
  app.add_option("--calibration", options.calibration,
                 "Correct the aggregated candidates' TTFT and TPOT by the shipped silicon calibration where it has "
                 "their family (shipped), or not (none)")
      ->capture_default_str()->check(CLI::IsMember({"shipped", "none"}));
  app.add_option("--calibration-table", options.calibration_table,
                 "Calibration table to apply instead of the shipped one (written by accuracy --write-calibration from "
                 "your own measured rows)");
  app.add_option("--gpu-sku", options.gpu_sku, "Fill hardware.gpuSku when the spec leaves it to discovery");
  app.add_option("--num-gpus-per-node", options.num_gpus_per_node, "Fill hardware.numGpusPerNode when unset")
      ->check(CLI::PositiveNumber);
  app.add_option("--total-gpus", options.total_gpus, "Fill hardware.totalGpus when unset")->check(CLI::PositiveNumber);
  app.add_option("--deployer", options.deployer, "Thorough mode: where candidates are deployed")
      ->capture_default_str()->check(CLI::IsMember({"local", "kubernetes"}));
  app.add_option("--deploy-command", options.deploy_command,
                 "Thorough local deployer: engine command template with {model} {tp} {pp} {dp} {moe_tp} {moe_ep} "
                 "{port} {host} {backend} {system} {max_batch_size} {max_num_tokens} {speedup} {self} placeholders "
                 "(run without a shell; default: this binary's emulate)");
  app.add_option("--emulator-speedup", options.emulator_speedup,
                 "Thorough local deployer: {speedup} of the template; measured times are multiplied by it")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--kube-api", options.kube_api, "Thorough kubernetes deployer: API server URL (http)");
  app.add_option("--kube-namespace", options.kube_namespace,
                 "Thorough kubernetes deployer: namespace (default env DGDR_NAMESPACE or dynamo-sla-profiler)");
  app.add_option("--kube-token-file", options.kube_token_file, "Thorough kubernetes deployer: bearer token file");
  app.add_flag("--exhaustive", options.exhaustive,
               "Thorough mode: deploy every candidate instead of only those the performance engine ranks as possible winners");
  app.add_option("--benchmark-client", options.benchmark_client, "Thorough mode: native load generator or aiperf on PATH")
      ->capture_default_str()->check(CLI::IsMember({"native", "aiperf"}));
  app.add_flag("--quiet", quiet, "Only warnings and errors on stderr; no summary on stdout");
  bool json = false, verbose = false;
  app.add_flag("--json", json, "Print the pick (pick.json) on stdout instead of the summary table");
  app.add_flag("--verbose", verbose, "Every log line on stderr, also on a terminal");

  std::vector<CommandRegistration> commands;
  for (const auto& reg : AllCommands()) commands.push_back(reg(app));

  try {
    app.parse(n, args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message
    bool is_profile = true;
    for (int i = 1; i < n; ++i) {
      for (const auto& c : commands)
        if (c.app && c.app->get_name() == args[i]) is_profile = false;
    }
    // Every argument error exits 2 as documented (CLI11's own codes, 101-115, are not a contract).
    if (is_profile) WriteArgumentFailure(n, args.data(), 2, e.what());
    return 2;
  }

  for (const auto& c : commands) {
    if (c.app && c.app->parsed()) {
      try {
        return c.action();
      } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
      }
    }
  }

  if (config.empty()) {
    std::cerr << "error: --config is required\n" << app.help();
    WriteArgumentFailure(n, args.data(), 2, "--config is required");
    return 2;
  }
  PosixFileSystem fs;
  SystemClock clock;
  Logger log(&clock);
  const bool tty = ::isatty(2) == 1;
  if (quiet || (tty && !verbose)) log.SetStderrMinLevel(LogLevel::kWarning);
  ProfileEnv env{&fs, &clock, &log, ProcessEnv(), nullptr};
  if (tty && !quiet) {
    env.progress = [](const std::string& message, double elapsed_s) {
      std::cerr << fmt::format("[{:6.2f}s] {}\n", elapsed_s, message);
    };
  }
  options.summary = quiet ? SummaryStyle::kNone : json ? SummaryStyle::kJson : SummaryStyle::kTable;
  Status st = RunProfile(config, options, env);
  return ExitCodeFor(st);
}

}  // namespace dyprof
