#include "tarn/report/error.hpp"

#include <boost/throw_exception.hpp>

namespace tarn {

std::string Error::render() const {
  if (code.empty()) return message;
  return code + "  " + message;
}

std::string Errors::render() const {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += '\n';
    out += items[i].render();
  }
  return out;
}

void ErrorSink::add(Error e) {
  std::lock_guard lk(mu_);
  errs_.items.push_back(std::move(e));
}

void ErrorSink::add_all(Errors es) {
  for (auto& e : es.items) add(std::move(e));
}

bool ErrorSink::empty() const {
  std::lock_guard lk(mu_);
  return errs_.empty();
}

Errors ErrorSink::take() {
  std::lock_guard lk(mu_);
  return std::move(errs_);
}

Error ErrorSink::merged(const std::string& pass) const {
  std::lock_guard lk(mu_);
  if (errs_.items.size() == 1) return errs_.items[0];
  Error e = errs_.items.at(0);
  e.message = std::to_string(errs_.items.size()) + " errors while " + pass + ":";
  for (auto& x : errs_.items) e.message += "\n  " + x.render();
  return e;
}

void throw_exception_from_error(Error const& e, boost::source_location const& loc) {
  boost::throw_exception(ErrorException(e), loc);
}

}  // namespace tarn
