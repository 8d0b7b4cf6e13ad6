// The two emitters of the deployment model (model.h): nvidia.com/v1beta1 (the operator's storage
// version: `spec.components` list, `podTemplate` with container `main`) and nvidia.com/v1alpha1
// (`spec.services` map). Key order is fixed, so output is stable.
#pragma once

#include <string>

#include "common/document.h"
#include "common/status.h"
#include "render/model.h"

namespace dyprof {

enum class DgdApiVersion { kV1beta1, kV1alpha1 };

// "v1beta1" / "nvidia.com/v1beta1" / "v1alpha1" / "nvidia.com/v1alpha1".
Result<DgdApiVersion> ParseDgdApiVersion(std::string_view s);
std::string DgdApiVersionString(DgdApiVersion v);  // "nvidia.com/v1beta1"

// The DynamoGraphDeployment document for `d` in API version `v`.
Json EmitDgd(const Deployment& d, DgdApiVersion v);
Json EmitV1beta1(const Deployment& d);
Json EmitV1alpha1(const Deployment& d);

// A v1beta1 ConfigMap document {apiVersion: v1, kind: ConfigMap, metadata.name, data}.
Json ConfigMapDocument(const std::string& name, const Json& data);

}  // namespace dyprof
