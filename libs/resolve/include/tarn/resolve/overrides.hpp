#pragma once
// What pnpm-workspace.yaml changes in manifests before and during resolution, as pnpm 12.21
// does it: `catalog:` specifiers (catalogs-resolver), `overrides`
// (config-parse-overrides, package-manager/src/overrides.rs) and `packageExtensions`
// (package_extender.rs). The rewritten manifests are what the walk reads and what the
// lockfile's importers record; the frozen check compares with the same rewrite.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tarn/core/error.hpp"
#include "tarn/core/package_extension.hpp"
#include "tarn/lockfile/manifest.hpp"
#include "tarn/resolve/packument.hpp"

namespace tarn::resolve {

using Pairs = std::vector<std::pair<std::string, std::string>>;
using Catalogs = std::map<std::string, std::map<std::string, std::string>>;  // catalog -> alias -> spec

// "catalog:" -> "default", "catalog:next" -> "next"; nothing for other specifiers.
std::optional<std::string> catalog_name(std::string_view spec);

// pnpm's resolve_from_catalog: the catalog entry `spec` names for `alias`, nothing when
// `spec` is not `catalog:`, an ERR_PNPM_CATALOG_* error when the entry is missing or is
// itself catalog:, workspace:, link: or file:.
Result<std::optional<std::string>> from_catalog(const Catalogs& catalogs, const std::string& alias,
                                                std::string_view spec);

struct OverrideSelector {
  std::string name;
  std::optional<std::string> range;  // "" for a convergence override ("pkg@")
};

struct VersionOverride {
  std::string selector;  // the key as written
  std::optional<OverrideSelector> parent;
  OverrideSelector target;
  std::string value;  // after $name and catalog: resolution; "-" removes the dependency
  bool converge = false;
};

// pnpm's parse_overrides_iter, after config's resolve_version_references: `$name` values take
// the root manifest's spec for `name` (optional > prod > dev), `catalog:` values the entry.
Result<std::vector<VersionOverride>> parse_overrides(const Pairs& raw, const Catalogs& catalogs,
                                                     const Manifest* root);
// The `overrides:` the lockfile records: selector -> resolved value, declared order.
Pairs resolved_overrides(const std::vector<VersionOverride>& parsed);

class ManifestRewriter {
 public:
  // `root_dir`: the workspace root, against which relative link:/file: values are written.
  ManifestRewriter(std::vector<VersionOverride> overrides, std::vector<PackageExtension> extensions,
                   std::string root_dir);
  // An importer's manifest (pnpm's effective importer manifest): packageExtensions, then
  // overrides; link:/file: values relative to `dir`.
  void apply(Manifest& m, const std::string& dir) const;
  // The overrides alone (what pnpm's frozen check applies before comparing specifiers).
  void apply_overrides(Manifest& m, const std::string& dir) const;
  // A resolved package's manifest: packageExtensions, then overrides; nothing when neither
  // changes it.
  std::optional<PackageVersion> apply(const PkgName& name, const PackageVersion& pv) const;
  // pnpm's override_for_undeclared_dependency: the spec an auto-installed peer takes ("-":
  // none), from the generic overrides only.
  std::optional<std::string> for_undeclared(const std::string& name, const std::string& range) const;
  bool empty() const { return overrides_.empty() && extensions_.empty(); }

 private:
  struct Groups;
  void extend(Groups& g, const std::string& name, const std::string& version) const;
  void override_all(Groups& g, const std::string& name, const std::string& version, const std::string* dir) const;
  void override_group(Pairs& deps, const std::vector<const VersionOverride*>& scoped, const std::string* dir) const;
  void override_peers(Groups& g, const std::vector<const VersionOverride*>& scoped, const std::string* dir) const;
  const VersionOverride* choose(const std::vector<const VersionOverride*>& scoped, const std::string& name,
                                const std::string& spec) const;
  std::optional<std::string> converge(const std::string& name, const std::string& spec) const;
  std::string value_for(const VersionOverride& o, const std::string* dir) const;

  std::vector<VersionOverride> overrides_;
  std::vector<PackageExtension> extensions_;
  std::string root_dir_;
  // Names a rewrite can concern (override targets and parents, extended packages): a
  // manifest naming none of them is left as is without a copy.
  std::set<std::string, std::less<>> names_;
};

// The lockfile's `catalogs:`: for every importer dependency whose specifier is catalog:, the
// catalog's specifier and the version it resolved to.
std::map<std::string, std::map<std::string, CatalogEntry>> catalog_snapshots(const std::vector<Importer>& importers,
                                                                             const Catalogs& catalogs);

}  // namespace tarn::resolve
