// Status and StatusOr<T>: how library code in orch reports failure. A failed Status
// carries one message that names what the user can fix, and a code (as LevelDB's) that
// lets a caller tell the machine's faults (a full disk, no descriptors left, a busy
// database) from bad input or a bad worker; code that wraps a throwing library
// (yaml-cpp, SQLite, CLI11) converts at that boundary. Value types, no shared state:
// safe to use from any thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace orch {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kError,         // anything not classified below
    kInvalidInput,  // bad spec, bad file contents, bad usage: the user can fix it
    kCorruption,    // data that should be whole is not (a database, a cache file)
    kIOError,       // reading or writing failed
    kBusy,          // the database stayed locked past the timeout
    kResource,      // the machine ran out of something: disk, descriptors, processes, memory
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(Code::kError, std::move(message)); }
  static Status InvalidInput(std::string message) {
    return Status(Code::kInvalidInput, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status IOError(std::string message) { return Status(Code::kIOError, std::move(message)); }
  static Status Busy(std::string message) { return Status(Code::kBusy, std::move(message)); }
  static Status Resource(std::string message) {
    return Status(Code::kResource, std::move(message));
  }

  bool ok() const { return !message_.has_value(); }
  Code code() const { return code_; }
  bool IsResource() const { return code_ == Code::kResource; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  const std::string& message() const {
    static const std::string kEmpty;
    return message_ ? *message_ : kEmpty;
  }
  // Prefixes context ("loading x.json: ") to a failed status; no-op when ok.
  Status WithContext(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + *message_);
  }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::optional<std::string> message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT: must be an error

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace orch
