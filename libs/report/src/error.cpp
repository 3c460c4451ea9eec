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

void throw_exception_from_error(Error const& e, boost::source_location const& loc) {
  boost::throw_exception(ErrorException(e), loc);
}

}  // namespace tarn
