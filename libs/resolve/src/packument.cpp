#include "tarn/resolve/packument.hpp"

#include <algorithm>

namespace tarn::resolve {

const PackageVersion* Packument::find(const Version& v) const {
  auto it = std::lower_bound(versions.begin(), versions.end(), v,
                             [](const PackageVersion& pv, const Version& x) { return pv.version < x; });
  return it != versions.end() && it->version == v ? &*it : nullptr;
}

}  // namespace tarn::resolve
