#include "common/document.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>
#include <sstream>

#include "common/strings.h"

namespace dyprof {

namespace {

constexpr int kMaxDepth = 128;

// Resolves an untagged plain YAML scalar to a typed value (YAML 1.2 core schema).
Json ResolvePlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kHex(R"(0x[0-9a-fA-F]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.size() < 40 && std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return std::stod(s);  // out of int64 range: keep magnitude
    }
  }
  if (s.size() < 40 && std::regex_match(s, kHex)) return static_cast<int64_t>(std::stoull(s, nullptr, 16));
  if (s.size() < 400 && std::regex_match(s, kFloat)) return std::stod(s);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

Status ConvertNode(const YAML::Node& node, Json& out, int depth) {
  if (depth > kMaxDepth) return Status::InvalidSpec("document is nested deeper than 128 levels");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = nullptr;
      return Status::Ok();
    case YAML::NodeType::Scalar:
      out = node.Tag() == "!" ? Json(node.Scalar()) : ResolvePlainScalar(node.Scalar());
      return Status::Ok();
    case YAML::NodeType::Sequence: {
      out = Json::array();
      for (const auto& item : node) {
        Json child;
        DYPROF_RETURN_IF_ERROR(ConvertNode(item, child, depth + 1));
        out.push_back(std::move(child));
      }
      return Status::Ok();
    }
    case YAML::NodeType::Map: {
      out = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return Status::InvalidSpec("mapping keys must be scalars");
        Json child;
        DYPROF_RETURN_IF_ERROR(ConvertNode(kv.second, child, depth + 1));
        out[kv.first.Scalar()] = std::move(child);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::string YamlErrorMessage(const YAML::Exception& e) {
  if (e.mark.is_null()) return "invalid YAML: " + e.msg;
  return "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
         std::to_string(e.mark.column + 1) + ": " + e.msg;
}

void Emit(YAML::Emitter& em, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: em << YAML::Null; break;
    case Json::value_t::boolean: em << v.get<bool>(); break;
    case Json::value_t::number_integer: em << v.get<int64_t>(); break;
    case Json::value_t::number_unsigned: em << v.get<uint64_t>(); break;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) em << ".nan";
      else if (std::isinf(d)) em << (d > 0 ? ".inf" : "-.inf");
      else em << FormatPyFloat(d);
      break;
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      Json resolved = ResolvePlainScalar(s);
      bool needs_quotes = !resolved.is_string() || s.empty() || s != Trim(s);
      if (needs_quotes) em << YAML::DoubleQuoted << s;
      else em << s;
      break;
    }
    case Json::value_t::array:
      if (v.empty()) {
        em << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      em << YAML::BeginSeq;
      for (const auto& item : v) Emit(em, item);
      em << YAML::EndSeq;
      break;
    case Json::value_t::object:
      if (v.empty()) {
        em << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      em << YAML::BeginMap;
      for (const auto& [k, item] : v.items()) {
        em << YAML::Key << k << YAML::Value;
        Emit(em, item);
      }
      em << YAML::EndMap;
      break;
    default: em << YAML::Null; break;
  }
}

}  // namespace

Result<Json> ParseJson(const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidSpec(std::string("invalid JSON: ") + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidSpec(std::string("invalid JSON: ") + e.what());
  }
}

Result<Json> ParseYaml(const std::string& text) {
  try {
    YAML::Node node = YAML::Load(text);
    Json out;
    DYPROF_RETURN_IF_ERROR(ConvertNode(node, out, 0));
    return out;
  } catch (const YAML::Exception& e) {
    return Status::InvalidSpec(YamlErrorMessage(e));
  } catch (const std::exception& e) {
    return Status::InvalidSpec(std::string("invalid YAML: ") + e.what());
  }
}

Result<std::vector<Json>> ParseYamlAll(const std::string& text) {
  try {
    std::vector<Json> docs;
    for (const auto& node : YAML::LoadAll(text)) {
      Json out;
      DYPROF_RETURN_IF_ERROR(ConvertNode(node, out, 0));
      docs.push_back(std::move(out));
    }
    return docs;
  } catch (const YAML::Exception& e) {
    return Status::InvalidSpec(YamlErrorMessage(e));
  } catch (const std::exception& e) {
    return Status::InvalidSpec(std::string("invalid YAML: ") + e.what());
  }
}

std::string ToYaml(const Json& doc) {
  YAML::Emitter em;
  em.SetIndent(2);
  em.SetSeqFormat(YAML::Block);
  Emit(em, doc);
  std::string out = em.c_str();
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

std::string ToYamlAll(const std::vector<Json>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i) out += "---\n";
    out += ToYaml(docs[i]);
  }
  return out;
}

std::string DescribeJsonType(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "a mapping";
    default: return "a value";
  }
}

std::string ShortValue(const Json& v) {
  std::string s;
  if (v.is_number_float()) s = FormatPyFloat(v.get<double>());
  else s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

}  // namespace dyprof
