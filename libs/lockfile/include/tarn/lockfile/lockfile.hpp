#pragma once
// The pnpm-lock.yaml v9 model: importers, packages (metadata) and snapshots (graph).
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/core/error.hpp"

namespace tarn {

// A dependency reference inside a snapshot or importer: a version of the same name
// ("1.0.0(peer@2)"), an npm alias ("string-width@4.2.3"), or a link ("link:../pkg").
struct DepRef {
  enum class Kind { Version, Alias, Link };
  Kind kind = Kind::Version;
  DepPath target;    // Version and Alias: the snapshot key it points to
  std::string link;  // Link: the path after "link:"

  // Parses `value` as found under the alias `alias`.
  static Result<DepRef> parse(const PkgName& alias, std::string_view value);
  bool is_link() const { return kind == Kind::Link; }
};

struct Dependency {
  PkgName alias;
  DepRef ref;
};

struct Snapshot {
  DepPath key;
  std::vector<Dependency> dependencies;
  std::vector<Dependency> optional_dependencies;
  bool optional = false;
};

// A `resolution:` entry's kind: registry (integrity only), tarball URL, or the kinds
// tarn cannot fetch yet.
enum class ResolutionKind { Registry, Tarball, Directory, Git, Other };
std::string_view resolution_kind_name(ResolutionKind k);

struct PackageMeta {
  std::optional<Integrity> integrity;
  TarballUrl tarball;  // resolution.tarball, when the lockfile names one
  ResolutionKind resolution = ResolutionKind::Registry;
  std::string version;          // the `version:` field (tarball-URL packages)
  bool has_bin = false;
  bool requires_build = false;
  bool bundled = false;
  std::vector<std::string> os, cpu, libc;
  std::vector<std::pair<std::string, std::string>> engines;
  std::vector<std::string> peer_dependencies;  // declared peer names
};

enum class DepGroup { Prod, Dev, Optional };
std::string_view group_field(DepGroup g);  // "dependencies", ...

struct ImporterDep {
  PkgName alias;
  std::string specifier;
  std::string version;  // as written, e.g. "16.14.0(react@16.14.0)" or "link:../x"
  DepRef ref;
  DepGroup group;
};

struct Importer {
  ImporterId id;
  std::vector<ImporterDep> deps;
};

struct Lockfile {
  std::string lockfile_version;
  std::vector<Importer> importers;
  std::vector<Snapshot> snapshots;
  std::unordered_map<std::string, size_t> snapshot_index;  // DepPath text -> index
  std::unordered_map<std::string, PackageMeta> packages;   // name@version (no peers) -> meta
  bool auto_install_peers = true;
  std::vector<std::string> patched_dependencies;  // keys of patchedDependencies
  std::map<std::string, std::string> overrides;   // the overrides it was resolved with

  // Reads and validates `path`: lockfileVersion, every key and every reference. A snapshot
  // whose metadata is missing from `packages:` is an error (ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY).
  static Result<Lockfile> load(const std::string& path);
  static Result<Lockfile> parse(std::string_view text, const std::string& path);

  const Snapshot* find(const DepPath& p) const;
  const PackageMeta* meta(const DepPath& p) const;
  const Importer* importer(std::string_view id) const;
};

// What pnpm writes as node_modules/.pnpm/lock.yaml after a filtered install: `text` (the
// lockfile `lf` was parsed from) with only the importers `keep` names, and only the
// packages and snapshots those reach; every other byte as in `text`. Keeping every
// importer returns `text` unchanged.
std::string lockfile_text_for_importers(std::string_view text, const Lockfile& lf,
                                        const std::vector<ImporterId>& keep);

// The importer ids a lockfile text lists, read without parsing the rest (the previous
// install's copy, to know which projects it installed).
std::vector<std::string> lockfile_importer_ids(std::string_view text);

}  // namespace tarn
