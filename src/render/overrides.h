// overrides.dgd (behaviour reference §3.7): a partial DGD merged into the generated one.
//  - apiVersion and kind of the override are ignored; metadata.name replaces the DGD name;
//    metadata labels/annotations are merged.
//  - Topology is fixed: services/components that the generated DGD lacks are skipped with a warning.
//  - v1alpha1-style overrides (`spec.services` map; also any override without apiVersion/kind, the
//    legacy form) deep-merge per service, appending worker extraPodSpec.mainContainer.args to the
//    generated args and replacing every other leaf. Applied to a v1beta1 DGD, each service fragment
//    is first translated into a component fragment (ConvertServiceToComponent).
//  - v1beta1 overrides (`spec.components` list) merge structurally: maps recursively, lists of named
//    objects (containers, env, volumes, ...) by name, other lists atomically.
#pragma once

#include <string>
#include <vector>

#include "common/document.h"
#include "common/status.h"

namespace dyprof {

// Merges `overrides` into the DGD document `dgd` (either API version). Non-fatal findings go to
// `warnings`. Errors: the override is not a mapping, or it is v1beta1-only and `dgd` is v1alpha1.
Status ApplyDgdOverrides(Json& dgd, const Json& overrides, std::vector<std::string>* warnings);

// One v1alpha1 service fragment as the equivalent v1beta1 component fragment (no name): replicas,
// multinode, scalingAdapter, sharedMemory.size → sharedMemorySize, resources (gpu →
// nvidia.com/gpu), envs, envFromSecret, volumeMounts (PVC), extraPodSpec (mainContainer → the `main`
// container, the rest → podTemplate.spec), extraPodMetadata/labels/annotations → podTemplate.metadata.
Json ConvertServiceToComponent(const Json& service, const std::string& service_name,
                               std::vector<std::string>* warnings);

}  // namespace dyprof
