#include "common/document.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <sstream>

#include "common/strings.h"

namespace dyprof {

namespace {

constexpr int kMaxDepth = 128;
// Limits on what one document may expand to. YAML aliases share nodes, so a small text can name
// an exponential tree ("billion laughs"); conversion stops at these budgets instead.
constexpr size_t kMaxNodes = 1'000'000;
constexpr size_t kMaxScalarBytes = 64u << 20;

struct ConvertBudget {
  size_t nodes = 0;
  size_t scalar_bytes = 0;
};

// strtod without exceptions: out-of-range magnitudes become ±inf (or 0), which the spec reader
// then rejects as "expected a finite number" rather than failing the whole parse.
double ToDouble(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// Resolves an untagged plain YAML scalar to a typed value (YAML 1.2 core schema).
Json ResolvePlainScalar(const std::string& s) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kHex(R"(0x[0-9a-fA-F]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.size() < 40 && std::regex_match(s, kInt)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE) return ToDouble(s);  // out of int64 range: keep magnitude
    return static_cast<int64_t>(v);
  }
  if (s.size() < 40 && std::regex_match(s, kHex)) {
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), nullptr, 16);
    if (errno == ERANGE || v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()))
      return std::ldexp(1.0, 4 * static_cast<int>(s.size() - 2));  // magnitude only; no int64 holds it
    return static_cast<int64_t>(v);
  }
  if (s.size() < 400 && std::regex_match(s, kFloat)) return ToDouble(s);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

Status ConvertNode(const YAML::Node& node, Json& out, int depth, ConvertBudget& budget) {
  if (depth > kMaxDepth) return Status::InvalidSpec("document is nested deeper than 128 levels");
  if (++budget.nodes > kMaxNodes)
    return Status::InvalidSpec("document expands to more than 1000000 nodes (aliases repeating a large anchor?)");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = nullptr;
      return Status::Ok();
    case YAML::NodeType::Scalar:
      budget.scalar_bytes += node.Scalar().size();
      if (budget.scalar_bytes > kMaxScalarBytes)
        return Status::InvalidSpec("document expands to more than 64 MiB of text (aliases repeating a large anchor?)");
      out = node.Tag() == "!" ? Json(node.Scalar()) : ResolvePlainScalar(node.Scalar());
      return Status::Ok();
    case YAML::NodeType::Sequence: {
      out = Json::array();
      for (const auto& item : node) {
        Json child;
        DYPROF_RETURN_IF_ERROR(ConvertNode(item, child, depth + 1, budget));
        out.push_back(std::move(child));
      }
      return Status::Ok();
    }
    case YAML::NodeType::Map: {
      out = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return Status::InvalidSpec("mapping keys must be scalars");
        Json child;
        DYPROF_RETURN_IF_ERROR(ConvertNode(kv.second, child, depth + 1, budget));
        out[kv.first.Scalar()] = std::move(child);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// YAML text must be printable Unicode (YAML 1.2 §5.1, §5.2); yaml-cpp passes stray bytes through,
// and they would later break JSON output (pick.json) far from the cause. C0 control characters
// other than tab, LF and CR are refused too: yaml-cpp takes 0x04 for end of stream, and LoadAll
// then loops forever (found by fuzz/spec_fuzzer). Names the first offending byte.
Status CheckYamlText(const std::string& text) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= text.size() && !(n == 2 && c < 0xC2) && !(n == 4 && c > 0xF4);
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (ok && n == 3) {
      unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && n == 4) {
      unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (!ok)
      return Status::InvalidSpec(fmt::format("invalid YAML at line {}, column {}: not UTF-8 text (byte 0x{:02x})", line,
                                             col, c));
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
      return Status::InvalidSpec(fmt::format(
          "invalid YAML at line {}, column {}: control character 0x{:02x} is not allowed in YAML text", line, col, c));
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += n;
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
    // nlohmann parses iteratively, but everything downstream (dump, ToYaml, merges) recurses:
    // refuse documents deeper than the YAML reader allows.
    bool too_deep = false;
    Json::parser_callback_t depth_guard = [&too_deep](int depth, Json::parse_event_t, Json&) {
      if (depth > kMaxDepth) too_deep = true;
      return !too_deep;
    };
    Json doc = Json::parse(text, depth_guard);
    if (too_deep) return Status::InvalidSpec("invalid JSON: document is nested deeper than 128 levels");
    return doc;
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidSpec(std::string("invalid JSON: ") + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidSpec(std::string("invalid JSON: ") + e.what());
  }
}

Result<Json> ParseYaml(const std::string& text) {
  DYPROF_RETURN_IF_ERROR(CheckYamlText(text));
  try {
    YAML::Node node = YAML::Load(text);
    Json out;
    ConvertBudget budget;
    DYPROF_RETURN_IF_ERROR(ConvertNode(node, out, 0, budget));
    return out;
  } catch (const YAML::Exception& e) {
    return Status::InvalidSpec(YamlErrorMessage(e));
  } catch (const std::exception& e) {
    return Status::InvalidSpec(std::string("invalid YAML: ") + e.what());
  }
}

Result<std::vector<Json>> ParseYamlAll(const std::string& text) {
  DYPROF_RETURN_IF_ERROR(CheckYamlText(text));
  // yaml-cpp 0.7's LoadAll can loop forever on a malformed document (found by fuzz/spec_fuzzer:
  // a stray quote after a mapping value, then an over-indented key). Split the stream at its
  // document markers instead - a line starting with "---" or "..." is a marker wherever it occurs
  // (YAML 1.2 §9.1) - and load each document on its own. Lines before the first document that
  // hold only directives, comments or blanks travel with it.
  std::vector<std::string> chunks(1);
  bool chunk_has_content = false;
  size_t line_no = 0;
  std::vector<size_t> first_line(1, 0);
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    auto is_marker = [&](std::string_view m) {
      return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
    };
    bool start = is_marker("---"), stop = is_marker("...");
    if ((start || stop) && chunk_has_content) {
      chunks.emplace_back();
      first_line.push_back(line_no);
      chunk_has_content = false;
    }
    if (!stop) {
      chunks.back().append(line);
      chunks.back() += '\n';
      std::string_view t = line.substr(std::min(line.find_first_not_of(" \t\r"), line.size()));
      if (start || (!t.empty() && t[0] != '#' && t[0] != '%')) chunk_has_content = true;
    }
    pos = end + 1;
    ++line_no;
  }
  std::vector<Json> docs;
  ConvertBudget budget;
  for (size_t i = 0; i < chunks.size(); ++i) {
    try {
      YAML::Node node = YAML::Load(chunks[i]);
      if (!node.IsDefined() || node.IsNull()) {  // as LoadAll: an empty document ends the stream
        if (docs.empty()) continue;                // (leading directives or comments only)
        break;
      }
      Json out;
      DYPROF_RETURN_IF_ERROR(ConvertNode(node, out, 0, budget));
      docs.push_back(std::move(out));
    } catch (const YAML::Exception& e) {
      YAML::Exception shifted = e;
      if (!shifted.mark.is_null()) shifted.mark.line += static_cast<int>(first_line[i]);
      return Status::InvalidSpec(YamlErrorMessage(shifted));
    } catch (const std::exception& e) {
      return Status::InvalidSpec(std::string("invalid YAML: ") + e.what());
    }
  }
  return docs;
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

std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsTrueField(const Json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
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
