// libFuzzer harness for tarn::resolve::parse_packument (a registry's metadata document):
// any bytes give a trimmed packument or an error naming the package, never an exception
// or a crash; a parsed packument is sorted ascending, and survives the cache's round trip
// (serialize, then parse as a cache body) with the same versions and fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "packument_json.hpp"
#include "tarn/resolve/packument.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool same(const tarn::resolve::PackageVersion& a, const tarn::resolve::PackageVersion& b) {
  return a.version == b.version && a.version.build() == b.version.build() && a.dependencies == b.dependencies &&
         a.optional_dependencies == b.optional_dependencies && a.peer_dependencies == b.peer_dependencies &&
         a.optional_peers == b.optional_peers && a.engines == b.engines && a.os == b.os && a.cpu == b.cpu && a.libc == b.libc &&
         a.bundle_all == b.bundle_all && (a.bundle_all || a.bundled_dependencies == b.bundled_dependencies) &&
         a.has_bin == b.has_bin && a.has_install_script == b.has_install_script && a.deprecated == b.deprecated &&
         a.tarball == b.tarball && a.integrity.has_value() == b.integrity.has_value() &&
         (!a.integrity || a.integrity->str() == b.integrity->str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto name = *tarn::PkgName::parse("@fuzz/pkg");
  auto p = tarn::resolve::parse_packument(in, name);
  if (!p) {
    check(p.error().message.find("@fuzz/pkg") != std::string_view::npos);
    return 0;
  }
  for (size_t i = 1; i < p->versions.size(); ++i) check(!(p->versions[i].version < p->versions[i - 1].version));
  auto back = tarn::resolve::detail::parse(tarn::resolve::detail::serialize(*p), name,
                                           tarn::resolve::detail::Source::Cache);
  check(back.has_value());
  check(back->versions.size() == p->versions.size());
  for (size_t i = 0; i < p->versions.size(); ++i) check(same(p->versions[i], back->versions[i]));
  check(back->dist_tags == p->dist_tags && back->time == p->time && back->modified == p->modified);
  return 0;
}
