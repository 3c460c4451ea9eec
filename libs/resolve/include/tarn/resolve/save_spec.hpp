#pragma once
// The specifier `add` and `update` write into package.json for a picked version, as pnpm
// 12 computes it: the operator the previous or requested specifier already pinned to
// (^ ~ = or exact), else the save prefix; a prerelease is pinned exactly.
#include <optional>
#include <string>
#include <string_view>

#include "tarn/core/semver.hpp"

namespace tarn::resolve {

enum class RangeStyle { None, Major, Minor, Patch, Exact };

// pnpm's infer_range_spec_style: the single pin a specifier expresses, if any
// ("^1.2.3" Major, "~1.2" Minor, "1.2.3" Patch, "=1.2.3" Exact, "*" None, ">=1 <2" nothing).
std::optional<RangeStyle> infer_range_style(std::string_view spec);

// pnpm's calc_version_range.
std::string version_range(const Version& v, std::optional<RangeStyle> prev, std::optional<RangeStyle> requested,
                          RangeStyle default_style);

// The save prefix setting ("^", "~", "=", "") as a style.
RangeStyle style_of_prefix(std::string_view prefix);

}  // namespace tarn::resolve
