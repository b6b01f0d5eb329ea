// Error reporting for the Tipline native core.
//
// The core never throws: functions that can fail return a Status or a
// Result<T>. It is compiled with exceptions enabled only because the standard
// library may still throw std::bad_alloc when memory runs out; the binding
// turns that into MemoryError. Exceptions otherwise appear only at the binding
// edge (python/src/status_error.cc).
#ifndef TIPLINE_STATUS_H_
#define TIPLINE_STATUS_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tipline {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kDecryptionFailed,
  kNotFound,
  kFailedPrecondition,
  kInternal,
};

// Stable snake_case name, e.g. "invalid_argument"; the binding exposes it as
// the `code` of tipline_core._native.Error.
const char* StatusCodeName(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "invalid_argument: <message>" (or "ok").
  std::string ToString() const;

  // Explicitly discards a status where failure truly does not matter.
  void IgnoreError() const noexcept {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

[[nodiscard]] inline Status InvalidArgumentError(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
[[nodiscard]] inline Status DecryptionFailedError(std::string message) {
  return Status(StatusCode::kDecryptionFailed, std::move(message));
}
[[nodiscard]] inline Status NotFoundError(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
[[nodiscard]] inline Status FailedPreconditionError(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
[[nodiscard]] inline Status InternalError(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}

// Holds either a T or a non-ok Status (like absl::StatusOr / std::expected).
// value() requires ok(): calling it on an error is a programming bug and
// aborts, since the core does not throw.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>,
                "Result<Status> is meaningless; return Status");

 public:
  Result(const T& value) : data_(value) {}  // NOLINT: implicit by design
  Result(T&& value) : data_(std::move(value)) {}  // NOLINT
  Result(Status status)  // NOLINT: implicit by design
      : data_(status.ok() ? InternalError("Result constructed from an ok "
                                          "Status without a value")
                          : std::move(status)) {}

  bool ok() const noexcept { return std::holds_alternative<T>(data_); }

  const Status& status() const& noexcept {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }

  const T& value() const& {
    CheckOk();
    return *std::get_if<T>(&data_);
  }
  T& value() & {
    CheckOk();
    return *std::get_if<T>(&data_);
  }
  T&& value() && {
    CheckOk();
    return std::move(*std::get_if<T>(&data_));
  }

 private:
  void CheckOk() const noexcept {
    if (!ok()) {
      std::fprintf(stderr, "tipline: Result::value() on error: %s\n",
                   std::get<Status>(data_).ToString().c_str());
      std::abort();
    }
  }

  std::variant<T, Status> data_;
};

}  // namespace tipline

#endif  // TIPLINE_STATUS_H_
