#include "thorough/deployer.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "common/file_system.h"
#include "common/strings.h"

namespace dyprof {

namespace {

bool Cancelled(const std::atomic<bool>* c) { return c && c->load(); }

std::string RandomSuffix() {
  static std::mt19937 rng(std::random_device{}());
  return fmt::format("{:04x}", rng() & 0xffff);
}

void SleepFor(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

}  // namespace

std::string DefaultLocalCommandTemplate() {
  return "{self} emulate --model {model} --system {system} --backend {backend} --tp {tp} --pp {pp} --dp {dp} "
         "--moe-tp {moe_tp} --moe-ep {moe_ep} --max-num-seqs {max_batch_size} --max-num-tokens {max_num_tokens} "
         "--host {host} --port {port} --speedup {speedup}";
}

Result<std::vector<std::string>> ExpandCommandTemplate(const std::string& tmpl,
                                                       const std::map<std::string, std::string>& values) {
  std::vector<std::string> words;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (quote == '"' && c == '\\' && i + 1 < tmpl.size()) {
        cur += tmpl[++i];
      } else {
        cur += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      have = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (have) words.push_back(cur);
      cur.clear();
      have = false;
    } else if (c == '\\' && i + 1 < tmpl.size()) {
      cur += tmpl[++i];
      have = true;
    } else {
      cur += c;
      have = true;
    }
  }
  if (quote) return Status::InvalidArgument("unterminated quote in command template: " + tmpl);
  if (have) words.push_back(cur);
  if (words.empty()) return Status::InvalidArgument("empty command template");
  static const std::regex re(R"(\{([a-z_]+)\})");
  for (auto& w : words) {
    std::string out;
    auto begin = std::sregex_iterator(w.begin(), w.end(), re);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      out += w.substr(last, it->position() - last);
      auto v = values.find((*it)[1]);
      if (v == values.end()) return Status::InvalidArgument("unknown placeholder {" + (*it)[1].str() + "} in command template");
      out += v->second;
      last = it->position() + it->length();
    }
    out += w.substr(last);
    w = out;
  }
  return words;
}

// ---- Local ----------------------------------------------------------------------------------------

Result<LiveDeployment> LocalDeployer::Deploy(const DeploymentRequest& r, const std::atomic<bool>* cancel) {
  DYPROF_ASSIGN_OR_RETURN(int port, FreeLocalPort());
  LiveDeployment d;
  d.name = r.name + "-" + RandomSuffix();
  d.url = fmt::format("http://{}:{}", options_.host, port);
  std::string log_dir = JoinPath(JoinPath(r.work_dir, d.name), r.role + "worker");
  PosixFileSystem fs;
  DYPROF_RETURN_IF_ERROR(fs.MakeDirs(log_dir));
  d.log_path = JoinPath(log_dir, "0.log");
  std::map<std::string, std::string> v = {
      {"self", SelfExecutable()},
      {"model", r.model},
      {"system", r.system},
      {"backend", std::string(BackendName(r.backend))},
      {"tp", std::to_string(r.split.tp)},
      {"pp", std::to_string(r.split.pp)},
      {"dp", std::to_string(r.split.dp)},
      {"moe_tp", std::to_string(r.split.moe_tp)},
      {"moe_ep", std::to_string(r.split.moe_ep)},
      {"num_gpus", std::to_string(r.split.NumGpus())},
      {"max_batch_size", std::to_string(r.max_batch_size > 0 ? r.max_batch_size : 256)},
      {"max_num_tokens", std::to_string(r.max_num_tokens > 0 ? r.max_num_tokens : 0)},
      {"port", std::to_string(port)},
      {"host", options_.host},
      {"role", r.role},
      {"name", d.name},
      {"work_dir", r.work_dir},
      {"speedup", fmt::format("{}", options_.speedup)},
  };
  std::string tmpl = options_.command_template.empty() ? DefaultLocalCommandTemplate() : options_.command_template;
  DYPROF_ASSIGN_OR_RETURN(std::vector<std::string> argv, ExpandCommandTemplate(tmpl, v));
  DYPROF_ASSIGN_OR_RETURN(d.pid, runner_->Start(argv, d.log_path));
  live_.push_back(d.pid);
  Json info = {{"name", d.name}, {"pid", d.pid}, {"url", d.url}, {"argv", argv}, {"log", d.log_path}};
  fs.WriteFileAtomic(JoinPath(r.work_dir, "deployment.json"), info.dump(2) + "\n");
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (Cancelled(cancel)) {
      Remove(d);
      return Status::Interrupted("interrupted while waiting for " + d.name);
    }
    if (!runner_->IsAlive(d.pid)) {
      Remove(d);
      auto log_or = fs.ReadFile(d.log_path);
      std::string log = log_or.ok() ? *log_or : std::string();
      if (log.size() > 600) log = log.substr(log.size() - 600);
      return Status::Deployment(fmt::format("{} exited before becoming ready: {}", d.name, Trim(log)));
    }
    auto res = http_->Send("GET", d.url + "/v1/models", "", {}, nullptr, 2);
    if (res.ok() && res->status == 200) return d;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > options_.timeout_s) {
      Remove(d);
      return Status::Timeout(fmt::format("{} not ready within {} s", d.name, options_.timeout_s));
    }
    SleepFor(options_.poll_interval_s);
  }
}

Result<std::string> LocalDeployer::FetchLogs(const DeploymentRequest&, const LiveDeployment& d) {
  PosixFileSystem fs;
  return fs.ReadFile(d.log_path);
}

bool LocalDeployer::IsHealthy(const LiveDeployment& d) { return runner_->IsAlive(d.pid); }

Status LocalDeployer::Remove(const LiveDeployment& d) {
  auto it = std::find(live_.begin(), live_.end(), d.pid);
  if (it == live_.end()) return Status::Ok();
  live_.erase(it);
  return runner_->Stop(d.pid, 5);
}

void LocalDeployer::RemoveAll() {
  auto pids = live_;
  live_.clear();
  for (int pid : pids) runner_->Stop(pid, 5);
}

// ---- Kubernetes -----------------------------------------------------------------------------------

bool DgdReady(const Json& o) {
  if (!o.is_object() || !o.contains("status") || !o["status"].is_object()) return false;
  const Json& st = o["status"];
  bool ready = false;
  if (st.contains("conditions") && st["conditions"].is_array())
    for (const auto& c : st["conditions"])
      if (c.is_object() && c.value("type", "") == "Ready" && c.value("status", "") == "True") ready = true;
  return ready && st.value("state", "") == "successful";
}

Result<LiveDeployment> KubeDeployer::Deploy(const DeploymentRequest& r, const std::atomic<bool>* cancel) {
  LiveDeployment d;
  d.name = r.name + "-" + RandomSuffix();
  Json obj = r.dgd.is_object() ? r.dgd : Json::object();
  obj["apiVersion"] = options_.resource.group + "/" + options_.resource.version;
  obj["kind"] = "DynamoGraphDeployment";
  obj["metadata"]["name"] = d.name;
  obj["metadata"]["namespace"] = options_.ns;
  if (!options_.owner_uid.empty() && options_.owner_namespace == options_.ns) {
    obj["metadata"]["ownerReferences"] = Json::array({Json{{"apiVersion", "nvidia.com/v1alpha1"},
                                                            {"kind", "DynamoGraphDeploymentRequest"},
                                                            {"name", options_.owner_name},
                                                            {"uid", options_.owner_uid},
                                                            {"controller", false},
                                                            {"blockOwnerDeletion", true}}});
  }
  DYPROF_RETURN_IF_ERROR(kube_->CreateCustomObject(options_.ns, options_.resource, obj));
  live_.push_back(d.name);
  d.url = fmt::format("{}://{}-frontend.{}.svc.cluster.local:{}", options_.protocol, d.name, options_.ns,
                      options_.frontend_port);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    if (Cancelled(cancel)) {
      Remove(d);
      return Status::Interrupted("interrupted while waiting for " + d.name);
    }
    auto got = kube_->GetCustomObject(options_.ns, options_.resource, d.name);  // errors are swallowed
    if (got.ok() && DgdReady(*got)) return d;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > options_.timeout_s) {
      Remove(d);
      return Status::Timeout(fmt::format("{} not ready within {} s", d.name, options_.timeout_s));
    }
    // Sleep in small slices so an interrupt is seen promptly.
    double left = options_.poll_interval_s;
    while (left > 0 && !Cancelled(cancel)) {
      SleepFor(std::min(left, 0.1));
      left -= 0.1;
    }
  }
}

Result<std::string> KubeDeployer::FetchLogs(const DeploymentRequest& r, const LiveDeployment& d) {
  std::vector<std::string> components;
  if (r.dgd.is_object() && r.dgd.contains("spec") && r.dgd["spec"].contains("services") &&
      r.dgd["spec"]["services"].is_object())
    for (const auto& [name, _] : r.dgd["spec"]["services"].items()) components.push_back(ToLower(name));
  if (components.empty()) components.push_back(r.role + "worker");
  PosixFileSystem fs;
  std::string worker_log;
  for (const auto& comp : components) {
    auto pods = kube_->ListPods(options_.ns, "nvidia.com/selector=" + d.name + "-" + comp);
    if (!pods.ok()) continue;
    std::string dir = JoinPath(JoinPath(r.work_dir, d.name), comp);
    fs.MakeDirs(dir);
    for (size_t i = 0; i < pods->size(); ++i) {
      auto log = kube_->PodLogs(options_.ns, (*pods)[i]);
      if (!log.ok()) continue;
      fs.WriteFileAtomic(JoinPath(dir, std::to_string(i) + ".log"), *log);
      if (comp.find("frontend") == std::string::npos && comp.find("planner") == std::string::npos && worker_log.empty())
        worker_log = *log;
    }
  }
  return worker_log;
}

Status KubeDeployer::Remove(const LiveDeployment& d) {
  auto it = std::find(live_.begin(), live_.end(), d.name);
  if (it != live_.end()) live_.erase(it);
  return kube_->DeleteCustomObject(options_.ns, options_.resource, d.name);
}

void KubeDeployer::RemoveAll() {
  auto names = live_;
  live_.clear();
  for (const auto& n : names) kube_->DeleteCustomObject(options_.ns, options_.resource, n);
}

}  // namespace dyprof
