#pragma once
// The install plan: every path, slot name and link target fixed up front, so the write
// passes run in parallel with no locks and no decisions left to make.
#include <optional>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarn/config/config.hpp"
#include "tarn/core/semver.hpp"
#include "tarn/core/types.hpp"
#include "tarn/lockfile/lockfile.hpp"

namespace tarn {

struct Platform {
  std::string os, cpu, libc;
  static Platform host();
};

// Which dependency groups to install (--prod, --dev, --no-optional).
struct Include {
  bool prod = true, dev = true, optional = true;
};

// A symlink, relative to the project's node_modules directory.
struct LinkSpec {
  std::string path;    // where the link is created
  std::string target;  // the text written into the link (relative to its parent)
};

struct PlannedPackage {
  const Snapshot* snapshot = nullptr;
  const PackageMeta* meta = nullptr;
  SlotName slot;            // directory name under node_modules/.pnpm
  std::string modules_dir;  // geometry::slot_modules(slot)
  std::string pkg_dir;      // geometry::package_dir(slot, name)
  std::vector<std::string> dirs;  // to create, parents first (relative to the workspace root)
  std::vector<LinkSpec> links;    // this slot's dependency links
  TarballUrl tarball_url;   // filled by the install's store check
  StoreKey store_key;       // likewise
  bool has_bin = false;
};

enum class HoistKind { Private, Public };

// Packages whose bins go into one .bin directory.
struct BinTarget {
  std::string bin_dir;  // relative to the workspace root
  struct Source {
    static constexpr size_t kLinked = SIZE_MAX;
    size_t package = kLinked;  // index into InstallPlan::packages, or kLinked
    std::string location;      // where the package is visible from this .bin's owner
    bool hoisted = false;      // pnpm lets a direct dependency's bin win over a hoisted one
    std::string linked_dir;    // kLinked: the linked project's directory (link:, workspace:)
  };
  std::vector<Source> sources;
  // A package with bundledDependencies: the packages inside its own node_modules
  // (relative to node_modules' parent) also contribute bins.
  std::string bundled_dir;
};

// One importer (the root project or a workspace package) and what it links directly.
struct PlannedImporter {
  ImporterId id;
  std::string modules_dir;  // geometry::importer_modules(id)
  struct Direct {
    DepGroup group;
    PkgName alias;
    std::string version;  // as pnpm's summary prints it
  };
  std::vector<Direct> direct;
};

struct InstallPlan {
  std::vector<PlannedPackage> packages;                 // snapshots that get a slot
  std::unordered_map<std::string, size_t> by_dep_path;  // snapshot key -> index
  std::vector<std::string> skipped;                     // optional snapshots left out for this platform
  std::vector<std::string> top_dirs;                    // scope dirs etc., parents first
  std::vector<LinkSpec> top_links;                      // root and hoisted links
  std::vector<BinTarget> bins;
  bool private_hoisting = false;  // hoist-pattern non-empty: shims get the hoisted dir on NODE_PATH
  // .modules.yaml's hoistedDependencies: dep path -> alias -> kind, in pnpm's order.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, HoistKind>>>> hoisted;
  std::vector<PlannedImporter> importers;  // sorted by id; the root first
  std::vector<std::string> engine_issues;  // installed packages whose engines the host misses
};

struct PlanOptions {
  Include include;
  Platform platform = Platform::host();
  std::string project_dir;  // absolute workspace root; link: targets resolve against it
  // The workspace's projects (importer id, package name), for hoistWorkspacePackages.
  std::vector<std::pair<ImporterId, PkgName>> workspace_packages;
  // The host's node version for `engines` checks, asked only when one needs it.
  // Unset: `node --version` is run.
  std::function<std::string()> node_version;
};

// Builds the plan. Fails only on lockfile shapes that cannot be laid out safely.
Result<InstallPlan> make_plan(const Lockfile& lf, const Settings& settings, const PlanOptions& opt);

// pnpm's installability rules, exposed for tests.
bool platform_supported(const std::vector<std::string>& wanted, const std::vector<std::string>* supported,
                        std::string_view current);

// `node --version` without the "v"; kUnknownNodeVersion when no node answers (every
// engines range then passes, as pnpm does without a detectable node).
inline constexpr const char* kUnknownNodeVersion = "99999.0.0";
// The pnpm version tarn stands in for in `engines.pnpm` checks.
inline constexpr const char* kPnpmVersion = "12.21.0";
std::string detect_node_version();

}  // namespace tarn
