// Documents: YAML or JSON text to one tree type (nlohmann::json) and back. Both parsers are real
// libraries (yaml-cpp, nlohmann-json); this file only maps YAML scalars to typed JSON values
// (YAML 1.2 core schema: null, bool, int, float; quoted scalars stay strings).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/status.h"

namespace dyprof {

using Json = nlohmann::ordered_json;

// Parses JSON text. Error message names the byte offset.
Result<Json> ParseJson(const std::string& text);
// Parses one YAML document. Error message names line and column.
Result<Json> ParseYaml(const std::string& text);
// Parses every document of a multi-document YAML stream.
Result<std::vector<Json>> ParseYamlAll(const std::string& text);

// Emits `doc` as block-style YAML, keys in insertion order. Strings that would read back as
// another type ("true", "1.0", "") are quoted.
std::string ToYaml(const Json& doc);
// Emits several documents separated by "---".
std::string ToYamlAll(const std::vector<Json>& docs);

// JSON type name as a user would say it: "a string", "a number", "a mapping", ...
std::string DescribeJsonType(const Json& v);
// Short rendering of a value for messages, truncated to ~60 characters.
std::string ShortValue(const Json& v);

// Typed reads of one field of user-supplied documents (nlohmann's value() throws on a type
// mismatch): the string at `key` of a mapping, "" when `obj` is not a mapping or the field is absent
// or not a string; whether `key` holds the boolean true.
std::string StringField(const Json& obj, const char* key);
bool IsTrueField(const Json& obj, const char* key);

}  // namespace dyprof
