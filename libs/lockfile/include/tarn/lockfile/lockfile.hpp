#pragma once
// The pnpm-lock.yaml v9 model: importers, packages (metadata) and snapshots (graph), and
// everything else a pnpm 12 lockfile records (settings, catalogs, overrides, checksums,
// patches, time, the env document). Lockfile::parse reads it; write_lockfile writes it
// byte for byte as pnpm 12 does. Where pnpm sorts on write (almost every map), the model
// may hold any order; where pnpm keeps an order (overrides, every list), so does the model.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tarn/core/types.hpp"
#include "tarn/core/error.hpp"
#include "tarn/lockfile/yaml_value.hpp"

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
  // The value as written under `alias`: the inverse of parse.
  std::string text(const PkgName& alias) const;
};

struct Dependency {
  PkgName alias;
  DepRef ref;
};

// A `snapshots:` entry. Empty lists are not written.
struct Snapshot {
  DepPath key;
  std::vector<Dependency> dependencies;           // written sorted
  std::vector<Dependency> optional_dependencies;  // written sorted
  bool optional = false;                          // `optional: true`: reached only through optional edges
  std::optional<std::string> id;
  std::vector<std::string> transitive_peer_dependencies;  // written in this order
  std::optional<bool> patched;
};

// A `resolution:` entry's kind: registry (integrity only), tarball URL, or the kinds
// tarn cannot fetch yet.
enum class ResolutionKind { Registry, Tarball, Directory, Git, Other };
std::string_view resolution_kind_name(ResolutionKind k);

// A `packages:` entry. Optional fields are written when set, lists and maps when not empty.
struct PackageMeta {
  // resolution: Registry {integrity}; Tarball {integrity?, tarball, gitHosted?, path?};
  // Directory {directory}; Git {repo, commit, path?}; Other: `other_resolution` verbatim.
  std::optional<Integrity> integrity;
  std::string integrity_text;  // as the lockfile wrote it; empty: integrity->str() is written
  TarballUrl tarball;          // resolution.tarball, when the lockfile names one
  ResolutionKind resolution = ResolutionKind::Registry;
  // resolution.directory (Directory: relative to the lockfile's directory), and a git
  // resolution's repo, commit and path (the package's directory inside the repository;
  // a git-hosted Tarball resolution's `path` too).
  std::string directory;
  std::string git_repo, git_commit, git_path;
  std::optional<bool> git_hosted;   // Tarball: gitHosted (set on read for git-host archive URLs)
  std::optional<YamlValue> other_resolution;  // Other (binary, variations, custom): the whole map

  std::string version;  // `version:` (tarball-URL, git and directory packages); empty: not written
  std::vector<std::pair<std::string, std::string>> engines;  // written sorted
  std::vector<std::string> cpu, os, libc;
  bool libc_scalar = false;  // `libc: musl` rather than `libc: [musl]`
  std::optional<std::string> deprecated;
  bool has_bin = false;
  std::optional<bool> prepare;
  bool requires_build = false;  // read from older lockfiles; pnpm 12 does not write it
  bool bundled = false;         // bundledDependencies present (true, or a list)
  std::vector<std::string> bundled_dependencies;  // the list form; empty with `bundled`: `true`
  std::vector<std::pair<std::string, std::string>> peer_dependencies;  // name -> range, written sorted
  std::vector<std::pair<std::string, bool>> peer_dependencies_meta;    // name -> optional, written sorted

  std::string integrity_str() const { return !integrity_text.empty() ? integrity_text : integrity ? integrity->str() : ""; }
  bool has_peer(std::string_view name) const;
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
  std::vector<ImporterDep> deps;  // written per group, each sorted; `version` as given
  std::optional<YamlValue> dependencies_meta;  // package.json dependenciesMeta, verbatim
  std::optional<std::string> publish_directory;  // package.json publishConfig.directory
};

// One `catalogs:` entry: the catalog's specifier and the version it resolved to.
struct CatalogEntry {
  std::string specifier, version;
};

// The env document pnpm writes ahead of the project lockfile (configDependencies and the
// packageManager bootstrap), as `---\n<env>\n---\n<lockfile>`.
struct EnvImporter {
  ImporterId id;
  std::map<std::string, CatalogEntry> config_dependencies;  // always written, even empty
  std::optional<std::map<std::string, CatalogEntry>> package_manager_dependencies;
};

struct EnvLockfile {
  std::string lockfile_version = "9.0";
  std::vector<EnvImporter> importers;
  std::unordered_map<std::string, PackageMeta> packages;
  std::vector<Snapshot> snapshots;
};

struct Lockfile {
  std::string lockfile_version = "9.0";
  std::vector<Importer> importers;
  std::vector<Snapshot> snapshots;
  std::unordered_map<std::string, size_t> snapshot_index;  // DepPath text -> index (see reindex)
  std::unordered_map<std::string, PackageMeta> packages;   // name@version (no peers) -> meta

  // settings: (pnpm writes it always; has_settings is false only for a file without it)
  bool has_settings = true;
  bool auto_install_peers = true;
  std::optional<bool> dedupe_peers;  // pnpm records `true` when dedupePeers is on, else nothing
  bool exclude_links_from_lockfile = false;
  bool inject_workspace_packages = false;          // written only when true
  std::optional<uint64_t> peers_suffix_max_length;  // pnpm leaves it unset at its default 1000

  std::map<std::string, std::map<std::string, CatalogEntry>> catalogs;  // catalog -> alias -> entry
  std::vector<std::pair<std::string, std::string>> overrides;  // the overrides it was resolved with, declared order
  std::optional<std::string> package_extensions_checksum;
  std::optional<std::string> pnpmfile_checksum;
  // patchedDependencies: selector ("name@1.0.0", "name@^1", "name") -> sha256 hex of the
  // patch file (CRLF read as LF), as the project's patches were when it was resolved.
  std::map<std::string, std::string> patched_dependencies;
  std::vector<std::string> ignored_optional_dependencies;
  // Publish times of direct dependencies (resolutionMode: time-based), "name@version" ->
  // ISO-8601; written pruned to what the importers depend on directly, as pnpm does.
  std::map<std::string, std::string> time;
  std::optional<EnvLockfile> env;

  // Reads and validates `path`: lockfileVersion, every key and every reference. A snapshot
  // whose metadata is missing from `packages:` is an error (ERR_PNPM_LOCKFILE_MISSING_DEPENDENCY).
  static Result<Lockfile> load(const std::string& path);
  static Result<Lockfile> parse(std::string_view text, const std::string& path);

  const Snapshot* find(const DepPath& p) const;
  const PackageMeta* meta(const DepPath& p) const;
  const Importer* importer(std::string_view id) const;
  // Rebuilds snapshot_index after `snapshots` was filled or changed.
  void reindex();
};

// The text pnpm 12 writes for `lf`: the env document first when there is one.
std::string write_lockfile(const Lockfile& lf);

// Writes write_lockfile(lf) to `path` as pnpm does: nothing when the file already holds
// exactly that text; a symlinked path is refused; otherwise a temporary file in the same
// directory, fsync'd, carrying the old file's mode, renamed over `path`. When `lf` has
// no env document and the file on disk has one, that document is kept.
Result<void> save_lockfile(const Lockfile& lf, const std::string& path);

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
