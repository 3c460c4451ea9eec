#pragma once
// Errors are values: a pnpm-compatible code (where pnpm has one), a message in the
// form "failed to <verb> <what>: <why>", and whether the thing was simply absent.
#include <boost/system/result.hpp>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace tarn {

enum class ErrorKind { Failed, NotFound };

struct Error {
  // Not an aggregate on purpose: Result<std::string> must not be constructible as an error.
  Error() = default;
  Error(std::string c, std::string m, ErrorKind k = ErrorKind::Failed)
      : code(std::move(c)), message(std::move(m)), kind(k) {}

  std::string code;     // e.g. "ERR_PNPM_OUTDATED_LOCKFILE"; empty when pnpm has none
  std::string message;  // one line, names the file or package
  ErrorKind kind = ErrorKind::Failed;

  static Error failed(std::string code, std::string message) {
    return Error{std::move(code), std::move(message), ErrorKind::Failed};
  }
  static Error not_found(std::string code, std::string message) {
    return Error{std::move(code), std::move(message), ErrorKind::NotFound};
  }
  bool is_not_found() const { return kind == ErrorKind::NotFound; }
  // "ERR_PNPM_X  message" as pnpm prints it.
  std::string render() const;
};

// Thrown only inside a pass (e.g. out of a TBB task); passes convert it back to a value.
struct ErrorException : std::exception {
  Error error;
  explicit ErrorException(Error e) : error(std::move(e)) {}
  const char* what() const noexcept override { return error.message.c_str(); }
};

// Several errors collected by a parallel pass, reported together.
struct Errors {
  std::vector<Error> items;
  bool empty() const { return items.empty(); }
  std::string render() const;
};

// Collects the errors of a parallel pass from many threads; reported together at its end.
class ErrorSink {
 public:
  void add(Error e);
  void add_all(Errors es);
  bool empty() const;
  Errors take();
  // One error as is; several folded into one whose message lists them all.
  Error merged(const std::string& pass) const;

 private:
  mutable std::mutex mu_;
  Errors errs_;
};

template <class T>
using Result = boost::system::result<T, Error>;

[[noreturn]] void throw_exception_from_error(Error const& e, boost::source_location const& loc);

}  // namespace tarn
