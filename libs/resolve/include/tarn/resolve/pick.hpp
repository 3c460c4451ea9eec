#pragma once
// Choosing one version of a packument for a wanted spec, as pnpm 12's
// pick_package_from_meta does: exact versions and dist-tags directly; ranges prefer the
// `latest` tag when it satisfies, then the highest match, avoiding a deprecated top pick.
// A minimumReleaseAge cutoff hides versions published after it first.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tarn/resolve/packument.hpp"
#include "tarn/resolve/spec.hpp"

namespace tarn::resolve {

// A preferred selector and its weight (pnpm's VersionSelectors): versions it selects are
// tried first, heaviest group first.
struct Preferred {
  enum class Kind { Version, Range, Tag } kind = Kind::Version;
  std::string selector;
  unsigned weight = 1;
};

struct PickOptions {
  bool lowest = false;  // resolutionMode lowest-direct, for direct dependencies
  // Versions published after this instant are not candidates (minimumReleaseAge).
  std::optional<std::chrono::system_clock::time_point> published_by;
  std::vector<std::string> trusted_versions;  // minimumReleaseAgeExclude "name@version" hits
  const std::vector<Preferred>* preferred = nullptr;
};

// The version picked, or nullptr when none matches (the caller reports
// ERR_PNPM_NO_MATCHING_VERSION with what the registry has).
const PackageVersion* pick_version(const Packument& doc, const WantedSpec& spec, const PickOptions& opts);

// Parses an ISO-8601 registry timestamp ("2020-01-01T00:00:00.000Z").
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s);

}  // namespace tarn::resolve
