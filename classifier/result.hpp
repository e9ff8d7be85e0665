// Result type for operations that can fail at run time (docs/ARCHITECTURE.md, "Code rules").
//
// A Result<T> holds either a value or an Error whose message says what failed and
// where ("read /proc/42/task/43/stat: No such file or directory"). Startup errors
// throw instead; run-time errors travel as Results so that one failing target or
// collector never takes the agent down.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace boundwise {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // Precondition: !ok().
  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// For operations that produce nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace boundwise
