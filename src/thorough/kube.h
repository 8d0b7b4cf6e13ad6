// Kubernetes API seam for the Kubernetes deployer: custom objects (DynamoGraphDeployments), pods
// by label and pod logs, over the API server's REST API (bearer token; no kubeconfig parsing).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/document.h"
#include "common/status.h"
#include "thorough/http.h"

namespace dyprof {

struct CustomResource {
  std::string group = "nvidia.com";
  std::string version = "v1alpha1";
  std::string plural = "dynamographdeployments";
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;
  // 409 (already exists) is success, as the reference.
  virtual Status CreateCustomObject(const std::string& ns, const CustomResource& cr, const Json& object) = 0;
  virtual Result<Json> GetCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) = 0;
  // 404 is success.
  virtual Status DeleteCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) = 0;
  virtual Result<std::vector<std::string>> ListPods(const std::string& ns, const std::string& label_selector) = 0;
  virtual Result<std::string> PodLogs(const std::string& ns, const std::string& pod) = 0;
};

class RestKubeClient : public KubeClient {
 public:
  // api_url like "https://kubernetes.default.svc" (http only here) and the bearer token ("" none).
  RestKubeClient(HttpClient* http, std::string api_url, std::string token)
      : http_(http), api_(std::move(api_url)), token_(std::move(token)) {
    while (!api_.empty() && api_.back() == '/') api_.pop_back();
  }
  Status CreateCustomObject(const std::string& ns, const CustomResource& cr, const Json& object) override;
  Result<Json> GetCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) override;
  Status DeleteCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) override;
  Result<std::vector<std::string>> ListPods(const std::string& ns, const std::string& label_selector) override;
  Result<std::string> PodLogs(const std::string& ns, const std::string& pod) override;

 private:
  Result<HttpResponse> Call(const std::string& method, const std::string& path, const std::string& body = "");
  std::string ObjectsPath(const std::string& ns, const CustomResource& cr) const;
  HttpClient* http_;
  std::string api_;
  std::string token_;
};

// Percent-encodes a query value.
std::string UrlEncode(const std::string& s);

}  // namespace dyprof
