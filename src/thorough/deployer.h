// Deployers: bring up one candidate engine, report its URL and logs, remove it. Local (processes
// from a command template on this host) and Kubernetes (a DynamoGraphDeployment via the API
// server). Every deployment a deployer made is removed by RemoveAll(), which the thorough pipeline
// calls on every path (success, failure, timeout, SIGINT/SIGTERM).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/parallel.h"
#include "common/document.h"
#include "common/status.h"
#include "spec/spec.h"
#include "thorough/http.h"
#include "thorough/kube.h"
#include "thorough/process.h"

namespace dyprof {

struct DeploymentRequest {
  std::string name;           // base name, e.g. "prefill-tp2"
  std::string role;           // "prefill" | "decode"
  std::string model;          // served / catalog model
  std::string system;         // gpu sku
  Backend backend = Backend::kVllm;
  ParallelSplit split;
  int max_batch_size = 0;     // 0: engine default
  int max_num_tokens = 0;     // 0: engine default
  std::string work_dir;       // candidate work dir; logs go to {work_dir}/{name}/{component}/{i}.log
  Json dgd;                   // the candidate DGD (Kubernetes)
};

struct LiveDeployment {
  std::string name;           // actual name (with suffix)
  std::string url;            // frontend base URL
  std::string log_path;       // the worker log (first worker pod / the process log)
  int pid = 0;                // local only
};

class Deployer {
 public:
  virtual ~Deployer() = default;
  // Creates the deployment and waits until it serves (or deployment timeout → kTimeout, after
  // removing it). `cancel` is polled.
  virtual Result<LiveDeployment> Deploy(const DeploymentRequest& request, const std::atomic<bool>* cancel) = 0;
  // Writes worker logs under the work dir; returns the worker log text.
  virtual Result<std::string> FetchLogs(const DeploymentRequest& request, const LiveDeployment& d) = 0;
  virtual bool IsHealthy(const LiveDeployment& d) = 0;
  virtual Status Remove(const LiveDeployment& d) = 0;
  // Removes everything still deployed. Safe to call repeatedly.
  virtual void RemoveAll() = 0;
  // Multiplier from measured wall time to engine time (local emulator speedup), 1 otherwise.
  virtual double TimeScale() const { return 1.0; }
};

// ---- Local ----------------------------------------------------------------------------------------

// The default template: this binary's `emulate`.
std::string DefaultLocalCommandTemplate();

// Splits a template into argv (whitespace separated; '...' and "..." group, backslash escapes in
// double quotes; no other shell syntax) and replaces {name} placeholders in every argument.
// Unknown placeholders are an error.
Result<std::vector<std::string>> ExpandCommandTemplate(const std::string& tmpl,
                                                       const std::map<std::string, std::string>& values);

struct LocalDeployerOptions {
  std::string command_template;  // "" → DefaultLocalCommandTemplate()
  double timeout_s = 3600;       // readiness
  double poll_interval_s = 0.1;
  double speedup = 1.0;          // {speedup} placeholder and TimeScale()
  std::string host = "127.0.0.1";
};

class LocalDeployer : public Deployer {
 public:
  LocalDeployer(LocalDeployerOptions options, ProcessRunner* runner, HttpClient* http)
      : options_(std::move(options)), runner_(runner), http_(http) {}
  ~LocalDeployer() override { RemoveAll(); }
  Result<LiveDeployment> Deploy(const DeploymentRequest& request, const std::atomic<bool>* cancel) override;
  Result<std::string> FetchLogs(const DeploymentRequest& request, const LiveDeployment& d) override;
  bool IsHealthy(const LiveDeployment& d) override;
  Status Remove(const LiveDeployment& d) override;
  void RemoveAll() override;
  double TimeScale() const override { return options_.speedup; }

 private:
  LocalDeployerOptions options_;
  ProcessRunner* runner_;
  HttpClient* http_;
  std::vector<int> live_;
};

// ---- Kubernetes -----------------------------------------------------------------------------------

struct KubeDeployerOptions {
  std::string ns = "dynamo-sla-profiler";
  double timeout_s = 3600;
  double poll_interval_s = 20;  // the reference polls every 20 s
  int frontend_port = 8000;
  std::string protocol = "http";
  CustomResource resource;
  // Optional owner reference (DGDR_NAME / DGDR_NAMESPACE / DGDR_UID).
  std::string owner_name, owner_namespace, owner_uid;
};

class KubeDeployer : public Deployer {
 public:
  KubeDeployer(KubeDeployerOptions options, KubeClient* kube, HttpClient* http)
      : options_(std::move(options)), kube_(kube), http_(http) {}
  ~KubeDeployer() override { RemoveAll(); }
  Result<LiveDeployment> Deploy(const DeploymentRequest& request, const std::atomic<bool>* cancel) override;
  Result<std::string> FetchLogs(const DeploymentRequest& request, const LiveDeployment& d) override;
  bool IsHealthy(const LiveDeployment& d) override { return true; }
  Status Remove(const LiveDeployment& d) override;
  void RemoveAll() override;

 private:
  KubeDeployerOptions options_;
  KubeClient* kube_;
  HttpClient* http_;
  std::vector<std::string> live_;
};

// Ready condition true and state "successful".
bool DgdReady(const Json& object);

}  // namespace dyprof
