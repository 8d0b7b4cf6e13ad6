// The files under data/ compiled into the binary (cmake/embed_files.cmake generates the definition).
// Keys are paths relative to data/, e.g. "models/Qwen--Qwen3-32B.json"; README.md files are not embedded.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace dyprof {

const std::map<std::string, std::string_view>& EmbeddedFiles();

}  // namespace dyprof
