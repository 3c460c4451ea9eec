// libFuzzer harness for tarn::Version and tarn::Range: the input is parsed as a version and as
// a range (and, split at its first newline, as a version and a range to test together), and
// the invariants a resolver relies on are checked. A broken invariant aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tarn/core/semver.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// A parsed version prints in a form that parses back to an equal version, and compares
// equal to itself.
void check_version(const tarn::Version& v) {
  auto again = tarn::Version::parse(v.str());
  check(again.has_value());
  check(again->compare(v) == 0 && v.compare(*again) == 0);
  check(again->str() == v.str());
  check(v.str().size() <= tarn::kSemverMaxVersionLength);
}

// compare is antisymmetric, and consistent with the prerelease/release order.
void check_pair(const tarn::Version& a, const tarn::Version& b) {
  int ab = a.compare(b), ba = b.compare(a);
  check(ab >= -1 && ab <= 1);
  check(ab == -ba);
  check((ab == 0) == (a == b));
  if (a.major() == b.major() && a.minor() == b.minor() && a.patch() == b.patch() && a.is_prerelease() != b.is_prerelease())
    check(ab == (a.is_prerelease() ? -1 : 1));
}

// A range's desugared form is itself a range with the same meaning.
void check_range(const tarn::Range& r, const tarn::Version* v) {
  auto again = tarn::Range::parse(r.str());
  check(again.has_value());
  check(again->str() == r.str());
  if (!v) return;
  check(again->satisfies(*v) == r.satisfies(*v));
  // Without includePrerelease a release is judged the same way; with it, nothing matched is lost.
  if (!v->is_prerelease()) check(r.satisfies(*v, true) == r.satisfies(*v));
  if (r.satisfies(*v)) check(r.satisfies(*v, true));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto whole = tarn::Version::parse(in);
  if (whole) check_version(*whole);
  if (auto r = tarn::Range::parse(in)) check_range(*r, whole ? &*whole : nullptr);

  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  auto first = tarn::Version::parse(in.substr(0, nl));
  std::string_view rest = in.substr(nl + 1);
  auto second = tarn::Version::parse(rest);
  if (first && second) check_pair(*first, *second);
  if (first && second && first->compare(*second) == 0) check(first->str() == second->str());
  if (first)
    if (auto r = tarn::Range::parse(rest)) check_range(*r, &*first);
  // intersects is symmetric, and true whenever some version (here the first line, as a
  // version) satisfies both.
  auto ra = tarn::Range::parse(in.substr(0, nl)), rb = tarn::Range::parse(rest);
  if (ra && rb) {
    check(ra->intersects(*rb) == rb->intersects(*ra));
    if (first && ra->satisfies(*first) && rb->satisfies(*first)) check(ra->intersects(*rb));
  }
  return 0;
}
