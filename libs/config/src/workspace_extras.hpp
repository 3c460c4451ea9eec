#pragma once
// pnpm-workspace.yaml sections that shape resolution rather than the install: catalogs and
// packageExtensions (with pnpm's checksum of the latter).
#include <yaml-cpp/yaml.h>

#include "tarn/config/config.hpp"

namespace tarn {

Result<void> read_catalogs(Settings& s, const YAML::Node& root, const std::string& path);
void read_package_extensions(Settings& s, const YAML::Node& root);

// pnpm's hashObjectNullableWithPrefix(packageExtensions): object-hash (sorted keys) of the
// map, sha256, base64, "sha256-" prefix; none for an empty map.
std::optional<std::string> package_extensions_checksum(const std::vector<PackageExtension>& exts);

}  // namespace tarn
