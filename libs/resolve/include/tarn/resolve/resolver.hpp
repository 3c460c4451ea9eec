#pragma once
// Resolution: from the projects' package.json files and registry metadata to the graph a
// lockfile records. Metadata first and breadth-first: every packument the walk knows it
// needs is in flight at once; a picked version's tarball can start downloading at once
// (on_picked), while the walk resolves the next level.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/lockfile/lockfile.hpp"
#include "tarn/lockfile/manifest.hpp"
#include "tarn/resolve/packument.hpp"
#include "tarn/resolve/pick.hpp"
#include "tarn/resolve/spec.hpp"

namespace tarn::resolve {

enum class ResolutionMode { Highest, LowestDirect, TimeBased };

struct ResolveInput {
  struct Project {
    ImporterId id;
    std::string dir;  // absolute
    Manifest manifest;
  };
  std::vector<Project> projects;  // the root first
  const Lockfile* existing = nullptr;  // versions it locks are preferred (kept)
  std::map<std::string, std::string> overrides;
  bool auto_install_peers = true;
  bool dedupe_peer_dependents = true;
  bool strict_peer_dependencies = false;
  ResolutionMode mode = ResolutionMode::Highest;
  std::optional<std::chrono::minutes> minimum_release_age;  // pnpm 12 default: 1440
  std::vector<std::string> minimum_release_age_exclude;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // Called on the resolving thread for every (name, version) the first time it is picked.
  std::function<void(const PkgName&, const PackageVersion&)> on_picked;
};

// One resolved package version: a node of the dependency graph before peers are resolved.
struct ResolvedPackage {
  PkgName name;
  std::shared_ptr<const Packument> doc;  // keeps `meta` alive
  const PackageVersion* meta = nullptr;
  struct Edge {
    PkgName alias;
    size_t target;
    bool optional;
  };
  std::vector<Edge> children;  // dependencies then optionalDependencies, manifest order
  bool optional_only = true;   // reached only through optional edges
};

struct ResolvedImporter {
  ImporterId id;
  struct Direct {
    PkgName alias;
    std::string specifier;
    DepGroup group;
    size_t target;
  };
  std::vector<Direct> deps;
};

struct ResolvedTree {
  std::vector<ResolvedPackage> packages;
  std::vector<ResolvedImporter> importers;
  std::vector<std::string> warnings;
};

// Walks the graph. Errors: ERR_PNPM_NO_MATCHING_VERSION, ERR_PNPM_FETCH_404, ... every
// failure of the walk is collected and reported together.
Result<ResolvedTree> resolve_tree(const ResolveInput& in, PackumentSource& source);

}  // namespace tarn::resolve
