#pragma once
// Resolution: from the projects' package.json files and registry metadata to the graph a
// lockfile records, as pnpm 12.21 resolves it (docs/design.md, "Resolution").
//
// Metadata first and breadth-first: the walk settles one level of edges at a time, and the
// moment a version is picked its children's packuments are requested and its tarball can
// start downloading (on_picked), so metadata, content and the next level overlap.
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
#include "tarn/resolve/overrides.hpp"
#include "tarn/resolve/packument.hpp"
#include "tarn/resolve/pick.hpp"
#include "tarn/resolve/spec.hpp"

namespace tarn::resolve {

enum class ResolutionMode { Highest, LowestDirect, TimeBased };

// What the install fetches for a specifier the registry does not serve (pnpm's tarball and
// git resolvers). The resolver owns the pnpm rules (ids, paths, refs); these do the I/O.
struct ExoticIo {
  struct Tarball {
    std::string manifest;  // package/package.json
    Integrity integrity;   // sha512 of the bytes
  };
  // A tarball by URL ("http://...") or absolute path (a file: tarball).
  std::function<Result<Tarball>(const std::string& url_or_path)> tarball;
  // `git ls-remote <repo>`'s output; and the package.json at `commit` (under `path`).
  std::function<Result<std::string>(const std::string& repo)> git_ls_remote;
  std::function<Result<std::string>(const std::string& repo, const std::string& commit, const std::string& path)>
      git_manifest;
};

struct ResolveInput {
  struct Project {
    ImporterId id;
    std::string dir;  // absolute
    Manifest manifest;
  };
  std::vector<Project> projects;       // any order; resolved in importer-id order
  const Lockfile* existing = nullptr;  // versions it locks are preferred (kept)
  // pnpm-workspace.yaml `overrides` (declared order, values as written until prepare_input
  // resolves $name and catalog: values), catalogs and packageExtensions.
  std::vector<std::pair<std::string, std::string>> overrides;
  Catalogs catalogs;
  std::vector<PackageExtension> package_extensions;
  std::optional<std::string> package_extensions_checksum;  // recorded in the lockfile
  // Set by prepare_input: rewrites every resolved manifest (packageExtensions, overrides).
  std::shared_ptr<const ManifestRewriter> rewriter;
  // The registry a package is fetched from ("https://registry.npmjs.org/"): a tarball at
  // its standard path is recorded by integrity alone.
  std::function<std::string(const PkgName&)> registry_for;
  bool auto_install_peers = true;
  bool dedupe_peer_dependents = true;
  bool compat_db = true;  // !ignoreCompatibilityDb
  bool strict_peer_dependencies = false;
  ResolutionMode mode = ResolutionMode::Highest;
  std::optional<std::chrono::minutes> minimum_release_age = std::chrono::minutes(1440);
  std::vector<std::string> minimum_release_age_exclude;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // Tarball URLs, file: tarballs and git repositories; unset: those specifiers fail.
  ExoticIo exotic;
  // pnpm's blockExoticSubdeps (default true): a package's own dependency on a tarball URL or
  // a git repository is ERR_PNPM_EXOTIC_SUBDEP.
  bool block_exotic_subdeps = true;
  // Called on the resolving thread for every (name, version) the first time it is picked.
  std::function<void(const PkgName&, const PackageVersion&)> on_picked;
};

// One resolved package version (pnpm's pkg id), before peers are resolved.
struct ResolvedPackage {
  PkgName name;
  std::shared_ptr<const Packument> doc;  // keeps `meta` alive
  std::shared_ptr<const PackageVersion> extended;  // the manifest with compat-database fields
  const PackageVersion* meta = nullptr;            // into `doc`, or `extended`
  struct Edge {
    PkgName alias;
    size_t target = SIZE_MAX;  // SIZE_MAX: dropped (cycle lap, failed optional edge)
    bool optional = false;
  };
  std::vector<Edge> children;  // sorted by (name, range, optional), as pnpm walks them
  struct Peer {
    std::string name, range;
    bool optional = false;
  };
  std::vector<Peer> peers;  // sorted by name
  // A package from a tarball URL, file: or git: the depPath's part after "name@" ("file:dir",
  // the URL, "git+<repo>#<commit>"), its packages: entry, and a file: directory's absolute
  // path (its own file: dependencies resolve from there). Empty/null for registry picks.
  std::string ref;
  std::shared_ptr<const PackageMeta> exotic;
  std::string dir;
  std::string id() const { return name.str() + "@" + (ref.empty() ? meta->version.str() : ref); }
};

struct ResolvedImporter {
  ImporterId id;
  struct Direct {
    PkgName alias;
    std::string specifier;  // as in package.json
    DepGroup group;
    size_t target = SIZE_MAX;
    bool declared = true;  // false: a peer auto-installed here (not written in importers:)
    bool optional = false;
    std::string link;  // a workspace project or link: directory, relative to this importer
    // A peer provider appended by pnpm's append_resolved_peer_providers: the aliases from
    // the importer down to the occurrence it is (empty for a leaf package, whose key is its
    // id wherever it is).
    std::vector<PkgName> provider_at;
  };
  std::vector<Direct> deps;
};

struct ResolvedTree {
  std::vector<ResolvedPackage> packages;
  std::vector<ResolvedImporter> importers;  // importer-id order
  std::vector<std::string> warnings;
  // Picks younger than minimumReleaseAge because nothing older matched: "name@version" ->
  // its publish time (pnpm then adds them to minimumReleaseAgeExclude, or fails if strict).
  std::map<std::string, std::string> immature;
  // resolutionMode time-based: the direct dependencies' publish times, "name@version" ->
  // ISO timestamp (the lockfile's `time:`).
  std::map<std::string, std::string> time;
};

// pnpm's manifest transforms, once before the walk: overrides parsed (the lockfile records
// their resolved values), the rewriter set, the projects' manifests rewritten. resolve()
// calls it; resolve_tree and build_lockfile expect its output.
Result<ResolveInput> prepare_input(ResolveInput in);

// Walks the graph: the BFS of importer dependencies, then the rounds that auto-install
// missing peers. Every failure of the walk is collected and reported together.
Result<ResolvedTree> resolve_tree(const ResolveInput& in, PackumentSource& source);

// pnpm's peer pass and lockfile construction (peers.cpp): snapshot keys with peer
// suffixes, transitive peers, dedupePeerDependents, optional flags, importers.
struct PeerIssues {
  std::vector<std::string> missing, bad;  // "importer > a > b: peer@range"
};
Result<Lockfile> build_lockfile(const ResolvedTree& tree, const ResolveInput& in, PeerIssues* issues = nullptr);

// Both, and what the install reports after resolving.
struct ResolveReport {
  std::vector<std::string> warnings;
  std::map<std::string, std::string> immature;
};
Result<Lockfile> resolve(const ResolveInput& in, PackumentSource& source, ResolveReport* report);

}  // namespace tarn::resolve
