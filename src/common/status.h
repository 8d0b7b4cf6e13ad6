// Status and Result<T>: expected failures as values. No exception crosses a stage boundary;
// wrappers around third-party libraries catch and convert.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dyprof {

// What went wrong, coarse enough to map to an exit code.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad command-line flag or value
  kInvalidSpec,      // the DGDR spec is malformed or fails validation
  kNotFound,         // unknown model, GPU or file
  kUnsupported,      // an architecture or feature we cannot model
  kInfeasible,       // no configuration meets the constraints
  kIoError,          // file system failure
  kDeployment,       // a deployment or benchmark failed (thorough mode)
  kTimeout,
  kInterrupted,      // SIGINT / SIGTERM
  kInternal,
};

// Success, or a code plus a human message ("where: what (found X)"). Cheap to copy.
class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status InvalidSpec(std::string m) { return {StatusCode::kInvalidSpec, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status Infeasible(std::string m) { return {StatusCode::kInfeasible, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Deployment(std::string m) { return {StatusCode::kDeployment, std::move(m)}; }
  static Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status Interrupted(std::string m) { return {StatusCode::kInterrupted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidSpec: message" style text for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Name of a code, e.g. "InvalidSpec".
std::string_view StatusCodeName(StatusCode code);

// A T, or the Status saying why there is none. Shaped like std::expected.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit on purpose
  Result(Status error) : error_(std::move(error)) {}   // REQUIRES: !error.ok()

  bool ok() const { return value_.has_value(); }
  const T& value() const& { return *value_; }  // REQUIRES: ok()
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const Status& status() const { return error_; }  // OK when ok()

 private:
  std::optional<T> value_;
  Status error_;
};

}  // namespace dyprof

// Propagates a non-OK Status from an expression returning Status.
#define DYPROF_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::dyprof::Status _st = (expr);            \
    if (!_st.ok()) return _st;                \
  } while (0)

#define DYPROF_CONCAT_INNER(a, b) a##b
#define DYPROF_CONCAT(a, b) DYPROF_CONCAT_INNER(a, b)
// Declares `lhs` from a Result expression, or returns its Status.
#define DYPROF_ASSIGN_OR_RETURN(lhs, expr)                              \
  auto DYPROF_CONCAT(_res_, __LINE__) = (expr);                         \
  if (!DYPROF_CONCAT(_res_, __LINE__).ok())                             \
    return DYPROF_CONCAT(_res_, __LINE__).status();                     \
  lhs = std::move(DYPROF_CONCAT(_res_, __LINE__)).value()
