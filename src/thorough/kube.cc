#include "thorough/kube.h"

#include <fmt/format.h>

namespace dyprof {

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<HttpResponse> RestKubeClient::Call(const std::string& method, const std::string& path, const std::string& body) {
  HttpHeaders headers{{"Accept", "application/json"}};
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  return http_->Send(method, api_ + path, body, headers, nullptr, 60);
}

std::string RestKubeClient::ObjectsPath(const std::string& ns, const CustomResource& cr) const {
  return fmt::format("/apis/{}/{}/namespaces/{}/{}", cr.group, cr.version, ns, cr.plural);
}

namespace {
Status ApiError(const std::string& what, const HttpResponse& r) {
  std::string msg = r.body.substr(0, 300);
  if (auto j = ParseJson(r.body); j.ok() && j->is_object() && j->contains("message") && (*j)["message"].is_string())
    msg = (*j)["message"].get<std::string>();
  return Status::Deployment(fmt::format("{}: HTTP {}: {}", what, r.status, msg));
}
}  // namespace

Status RestKubeClient::CreateCustomObject(const std::string& ns, const CustomResource& cr, const Json& object) {
  DYPROF_ASSIGN_OR_RETURN(HttpResponse r, Call("POST", ObjectsPath(ns, cr), object.dump()));
  if (r.status == 409 || (r.status >= 200 && r.status < 300)) return Status::Ok();
  return ApiError("create " + cr.plural, r);
}

Result<Json> RestKubeClient::GetCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) {
  DYPROF_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", ObjectsPath(ns, cr) + "/" + name));
  if (r.status == 404) return Status::NotFound(name + " not found");
  if (r.status < 200 || r.status >= 300) return ApiError("get " + name, r);
  return ParseJson(r.body);
}

Status RestKubeClient::DeleteCustomObject(const std::string& ns, const CustomResource& cr, const std::string& name) {
  DYPROF_ASSIGN_OR_RETURN(HttpResponse r, Call("DELETE", ObjectsPath(ns, cr) + "/" + name));
  if (r.status == 404 || (r.status >= 200 && r.status < 300)) return Status::Ok();
  return ApiError("delete " + name, r);
}

Result<std::vector<std::string>> RestKubeClient::ListPods(const std::string& ns, const std::string& label_selector) {
  DYPROF_ASSIGN_OR_RETURN(HttpResponse r,
                          Call("GET", fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}", ns, UrlEncode(label_selector))));
  if (r.status < 200 || r.status >= 300) return ApiError("list pods", r);
  DYPROF_ASSIGN_OR_RETURN(Json j, ParseJson(r.body));
  std::vector<std::string> names;
  if (j.contains("items") && j["items"].is_array())
    for (const auto& item : j["items"])
      if (item.contains("metadata") && item["metadata"].contains("name"))
        names.push_back(item["metadata"]["name"].get<std::string>());
  return names;
}

Result<std::string> RestKubeClient::PodLogs(const std::string& ns, const std::string& pod) {
  DYPROF_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", fmt::format("/api/v1/namespaces/{}/pods/{}/log", ns, pod)));
  if (r.status < 200 || r.status >= 300) return ApiError("logs of " + pod, r);
  return r.body;
}

}  // namespace dyprof
