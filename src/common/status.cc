#include "common/status.h"

namespace dyprof {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kInvalidSpec: return "InvalidSpec";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kUnsupported: return "Unsupported";
    case StatusCode::kInfeasible: return "Infeasible";
    case StatusCode::kIoError: return "IoError";
    case StatusCode::kDeployment: return "DeploymentError";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kInterrupted: return "Interrupted";
    case StatusCode::kInternal: return "InternalError";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace dyprof
