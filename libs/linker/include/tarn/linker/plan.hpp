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
  std::string slot;         // directory name under .pnpm
  std::string modules_dir;  // ".pnpm/<slot>/node_modules"
  std::string pkg_dir;      // ".pnpm/<slot>/node_modules/<name>"
  std::vector<std::string> dirs;  // to create, parents first (relative to node_modules)
  std::vector<LinkSpec> links;    // this slot's dependency links
  std::string tarball_url;
  std::string store_rel;  // StoreKey text; filled by the install pass
  bool has_bin = false;
};

enum class HoistKind { Private, Public };

// Packages whose bins go into one .bin directory.
struct BinTarget {
  std::string bin_dir;  // relative to node_modules
  struct Source {
    size_t package;        // index into InstallPlan::packages
    std::string location;  // where the package is visible from this .bin's owner
    bool hoisted = false;  // pnpm lets a direct dependency's bin win over a hoisted one
  };
  std::vector<Source> sources;
  // A package with bundledDependencies: the packages inside its own node_modules
  // (relative to node_modules' parent) also contribute bins.
  std::string bundled_dir;
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
  struct Direct {
    DepGroup group;
    std::string alias, version;
  };
  std::vector<Direct> direct;
};

struct PlanOptions {
  Include include;
  Platform platform = Platform::host();
  std::string project_dir;  // absolute; link: targets resolve against it
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
std::string detect_node_version();

}  // namespace tarn
