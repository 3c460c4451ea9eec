#pragma once
// package.json: the parts an install reads.
#include <optional>
#include <string>
#include <vector>

#include "tarn/lockfile/lockfile.hpp"
#include "tarn/core/error.hpp"

namespace tarn {

struct Manifest {
  std::string name, version;
  // In file order within each group.
  std::vector<std::pair<std::string, std::string>> dependencies, dev_dependencies,
      optional_dependencies, peer_dependencies, scripts;
  // What pnpm copies into the lockfile importer: dependenciesMeta (when a non-empty
  // object) as the JSON value serde makes of it, and publishConfig.directory.
  std::optional<YamlValue> dependencies_meta;
  std::optional<std::string> publish_directory;

  static Result<Manifest> load(const std::string& path);
  static Result<Manifest> parse(std::string_view text, const std::string& path);
};

// pnpm's frozen-lockfile check: the importer's specifiers must equal the manifest's.
// Returns the list of differences (empty when up to date).
std::vector<std::string> diff_importer(const Manifest& m, const Importer& imp);

}  // namespace tarn
