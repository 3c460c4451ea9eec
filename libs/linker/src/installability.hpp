#pragma once
// pnpm's installability rules (platform, libc, engines), internal to the planner.
#include <algorithm>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tarn/linker/plan.hpp"

namespace tarn {

inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Unique directories, parents before children (shorter paths first).
inline void order_dirs(std::vector<std::string>& d) {
  std::sort(d.begin(), d.end());
  d.erase(std::unique(d.begin(), d.end()), d.end());
  std::stable_sort(d.begin(), d.end(), [](auto& a, auto& b) { return a.size() < b.size(); });
}

class Installability {
 public:
  Installability(const Settings& s, const Platform& p, const std::function<std::string()>& node_version)
      : s_(s), p_(p), node_version_fn_(node_version) {}
  bool ok(const DepPath& key, const PackageMeta& m, bool optional);
  // pnpm's "Unsupported engine for <id>: wanted: {...} (current: {...})" when the host's
  // node (or tarn standing in for pnpm 12) does not satisfy the package's engines.
  std::optional<std::string> engine_issue(const DepPath& key, const PackageMeta& m);

 private:
  const std::string& node_version();
  const Settings& s_;
  const Platform& p_;
  const std::function<std::string()>& node_version_fn_;
  std::once_flag once_;
  std::string node_;
};

}  // namespace tarn
