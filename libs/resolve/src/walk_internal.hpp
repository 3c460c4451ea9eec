#pragma once
// Shared between the walk (walk.cpp) and the peer pass (peers.cpp).
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tarn/resolve/resolver.hpp"

namespace tarn::resolve {

// A missing peer found under one importer: the ranges its consumers asked for.
struct MissingPeer {
  std::vector<std::string> ranges;  // of non-optional consumers, first-seen order
  std::vector<std::string> optional_ranges;
  bool required() const { return !ranges.empty(); }
};

// The peer walk without building a graph: which peers nothing provides under importer `i`.
std::map<std::string, MissingPeer> discover_missing_peers(const ResolvedTree& tree, size_t importer);

// The pkg ids ("name@version") in `ancestors` contain the sequence parent ... id: the
// edge parent -> id would start the second lap of a cycle (pnpm keeps the first).
bool closes_second_lap(const std::vector<size_t>& ancestors, size_t parent, size_t id);

// A package a file:, tarball-URL or git specifier names (exotic.cpp): a one-version document
// of its manifest, its depPath part after "name@", its packages: entry and, for a file:
// directory, the directory.
struct ExoticPick {
  std::shared_ptr<const Packument> doc;
  std::string ref;
  std::shared_ptr<const PackageMeta> meta;
  std::string dir;
};

// The package's name and manifest (package.json text), as a one-version document the walk
// can hold; `what` names the specifier in errors.
Result<ExoticPick> pick_from_manifest(const std::string& text, const std::string& what);

// pnpm's is_tarball_filename (.tgz, .tar.gz, .tar).
bool is_tarball_filename(std::string_view s);
// A tarball URL at the npm layout of the package's own registry, as the registry version it
// names (pnpm's parse_npm_tarball_url); nothing for any other specifier.
std::optional<WantedSpec> registry_tarball(const ResolveInput& in, const WantedSpec& ws);
// file: paths resolve from `base_dir` and are recorded relative to `lockfile_dir`.
Result<ExoticPick> resolve_exotic(const ResolveInput& in, const WantedSpec& ws, const std::string& base_dir,
                                  const std::string& lockfile_dir);
Result<ExoticPick> resolve_git(const ResolveInput& in, const WantedSpec& ws);

}  // namespace tarn::resolve
