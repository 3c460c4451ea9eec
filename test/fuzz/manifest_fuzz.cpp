// libFuzzer harness for tarn::Manifest::parse (package.json): any bytes give a manifest or
// an error naming the file, never an exception or a crash; a parsed manifest survives the
// frozen-lockfile diff against an empty importer (one "+" line per wanted dependency).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tarn/lockfile/manifest.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = tarn::Manifest::parse(in, "/fuzz/package.json");
  if (!m) {
    check(m.error().message.find("/fuzz/package.json") != std::string_view::npos);
    return 0;
  }
  tarn::Importer empty;
  auto diff = tarn::diff_importer(*m, empty);
  for (auto& line : diff) check(!line.empty() && line[0] == '+');
  return 0;
}
