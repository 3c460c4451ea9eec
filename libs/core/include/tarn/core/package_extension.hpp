#pragma once
// One pnpm-workspace.yaml `packageExtensions` entry: fields a package forgot to declare,
// added under its own (`{...extension, ...manifest}`). Read by the config, applied by the
// resolver; shared here because neither library depends on the other.
#include <map>
#include <optional>
#include <string>

namespace tarn {

struct PackageExtension {
  std::string selector;  // "name" or "name@range"
  // Absent and empty differ: pnpm hashes a present empty map (packageExtensionsChecksum).
  using Deps = std::optional<std::map<std::string, std::string>>;
  Deps dependencies, optional_dependencies, peer_dependencies;
  // peerDependenciesMeta: name -> `optional` (absent when the entry has no `optional`).
  std::optional<std::map<std::string, std::optional<bool>>> peer_dependencies_meta;
};

}  // namespace tarn
