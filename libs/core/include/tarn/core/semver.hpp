#pragma once
// node-semver versions and ranges, as pnpm evaluates them.
#include <string_view>

namespace tarn {

// Whether `version` satisfies `range` (engines checks; prerelease tags are ignored).
bool semver_satisfies(std::string_view version, std::string_view range);

}  // namespace tarn
